"""Demo usage for `make run`: products, three months of usage in EUR/USD/GBP, daily FX rates.

Idempotent: products are looked up by code, FX rates upserted, and usage rows carry
deterministic external ids, so a second run inserts nothing (the key table sees duplicates).
Rows are generated set-based in SQL (about 20,000 for the demo tenant's active partners).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from partnerhub.tenancy.models import Tenant
from partners.models import Partner, PartnerStatus
from settlements.models import Product
from settlements.services.fx import fx_rates_upsert

DEMO_TENANT_SLUG = "demo"
DEMO_PRODUCTS = [
    ("video", "Video streaming bundle", "subscription"),
    ("music", "Music streaming", "subscription"),
    ("gaming", "Cloud gaming", "subscription"),
    ("sms-a2p", "A2P SMS", "message"),
    ("storage", "Cloud storage", "GB"),
    ("tower", "Tower rent", "site-month"),
]
CURRENCIES = ["EUR", "USD", "GBP"]
# One EUR in each currency; a small daily wobble keeps the rates realistic.
EUR_RATES = {"USD": Decimal("1.0850"), "GBP": Decimal("0.8550"), "JPY": Decimal("161.20")}
ROWS_TARGET = 20_000


def demo_months(today: date | None = None) -> list[date]:
    """First days of the three complete months before ``today``'s month, oldest first."""
    first = (today or timezone.localdate()).replace(day=1)
    months = []
    for _ in range(3):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return months[::-1]


def _fx_rows(start: date, end: date) -> list[dict[str, str]]:
    rows = []
    day = start
    while day <= end:
        wobble = Decimal((day.toordinal() * 37) % 41 - 20) / Decimal(10000)
        for quote, base_rate in EUR_RATES.items():
            rate = (base_rate * (1 + wobble)).quantize(Decimal("0.000001"))
            rows.append({"date": day.isoformat(), "base": "EUR", "quote": quote, "rate": str(rate)})
        day += timedelta(days=1)
    return rows


def load(tenant: Tenant) -> None:
    """Runs inside tenant_context(tenant) after the partner demo."""
    if tenant.slug != DEMO_TENANT_SLUG:
        return
    for code, name, unit in DEMO_PRODUCTS:
        if not Product.objects.filter(code=code).exists():
            Product.objects.create(tenant=tenant, code=code, name=name, unit=unit)
    months = demo_months()
    start = months[0]
    end = timezone.localdate()
    fx_rates_upsert(rows=_fx_rows(start, end))
    partner_ids = list(
        Partner.objects.filter(status=PartnerStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not partner_ids:
        return
    per_partner_month = max(1, ROWS_TARGET // (len(partner_ids) * len(months)))
    with connection.cursor() as cursor:
        for month in months:
            cursor.execute("SELECT settlements_usage_partition(%s)", [month])
        cursor.execute(
            """
            WITH src AS (
                SELECT p.pid, p.ord, m.month, g.n,
                    abs(hashtext(p.pid || ':' || m.month || ':' || g.n)) AS h
                FROM unnest(%(partners)s::bigint[]) WITH ORDINALITY AS p(pid, ord)
                CROSS JOIN unnest(%(months)s::date[]) AS m(month)
                CROSS JOIN generate_series(1, %(per)s) AS g(n)
            ), rows AS (
                SELECT src.*, (%(products)s::text[])[1 + h %% %(nproducts)s] AS product_code,
                    (%(currencies)s::text[])[1 + ord %% 3] AS currency,
                    'demo-' || pid || '-' || to_char(month, 'YYYYMM') || '-' || n AS external_id,
                    (month::timestamp + (h %% 2419200) * interval '1 second')
                        AT TIME ZONE %(tz)s AS event_time,
                    round((h %% 9000 + 100)::numeric / 100, 2) AS gross
                FROM src
            ), k AS (
                INSERT INTO settlements_usagekey (tenant_id, external_id)
                SELECT %(tenant)s, external_id FROM rows
                ON CONFLICT DO NOTHING RETURNING external_id
            )
            INSERT INTO settlements_usagerecord (tenant_id, partner_id, product_code, event_time,
                quantity, gross_amount, tax_amount, currency, external_id, created_at)
            SELECT %(tenant)s, pid, product_code, event_time, 1 + h %% 5, gross,
                round(gross * 0.19 / 1.19, 2), currency, external_id, now()
            FROM rows JOIN k USING (external_id)
            """,
            {
                "partners": partner_ids,
                "months": months,
                "per": per_partner_month,
                "products": [p[0] for p in DEMO_PRODUCTS],
                "nproducts": len(DEMO_PRODUCTS),
                "currencies": CURRENCIES,
                "tz": tenant.timezone,
                "tenant": tenant.pk,
            },
        )
