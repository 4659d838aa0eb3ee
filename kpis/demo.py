"""KPI demo data for `make run`: a year of daily values, targets that changed, planted drifts.

Idempotent and set-based: values are generated with numpy, copied into a temporary table and
inserted with ``ON CONFLICT DO NOTHING``; targets are created once. Two drifts are planted:
StreamWave Media's complaints climb over the last three weeks, and the first active channel
partner's revenue falls a third below its target over the last four weeks.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection

from kpis.models import KpiDefinition, KpiTarget, PeriodKind
from kpis.periods import Period, tenant_today
from partnerhub.tenancy.models import Tenant
from partners.models import Partner, PartnerStatus, PartnerType

DAYS = 365
COMPLAINTS_PARTNER = "StreamWave Media"
COMPLAINT_RAMP_DAYS = 21
REVENUE_DROP_DAYS = 28
DRIFT_BACKFILL_DAYS = 5

# Day-of-week multipliers (Monday first): consumer services peak at the weekend.
WEEKLY_CONSUMER = np.array([0.92, 0.94, 0.96, 1.0, 1.06, 1.08, 1.04])
WEEKLY_BUSINESS = np.array([1.08, 1.1, 1.08, 1.06, 1.02, 0.82, 0.84])


def _rng(partner: Partner, kpi_key: str) -> np.random.Generator:
    # Stable per partner and KPI: re-running the loader regenerates the same values. Seeded by
    # the partner's name, not its id, so every installation (and every test run, whatever ids
    # the database hands out) gets the same series and the planted drifts stand out as much.
    return np.random.default_rng(zlib.crc32(f"{partner.legal_name}:{kpi_key}".encode()))


def _partner_scale(partner: Partner) -> float:
    return 0.4 + (zlib.crc32(partner.legal_name.encode()) % 1000) / 400  # 0.4 .. 2.9


def _series(partner: Partner, days: list[date], planted: dict[str, int]) -> dict[str, np.ndarray]:
    """Daily values of every KPI this partner reports (numpy arrays over ``days``)."""
    n = len(days)
    scale = _partner_scale(partner)
    dow = np.array([d.weekday() for d in days])
    t = np.arange(n)
    kind = partner.partner_type.key
    out: dict[str, np.ndarray] = {}
    weekly = (
        WEEKLY_BUSINESS if kind in ("technology_vendor", "service_integrator") else WEEKLY_CONSUMER
    )

    subs_rng = _rng(partner, "active_subscribers")
    subs0 = 20_000 * scale
    # Slow growth and day-to-day noise (no random walk: the drift job would rightly flag one).
    growth = 1 + 0.03 * t / n + subs_rng.normal(0, 0.01, n)
    subscribers = np.round(subs0 * growth)
    if kind != "infrastructure_provider":
        out["active_subscribers"] = subscribers

    rev_rng = _rng(partner, "revenue")
    revenue = 9.5 * subscribers / 30 * weekly[dow] * rev_rng.normal(1, 0.06, n)
    if planted.get("revenue_drop") == partner.pk:
        ramp = np.clip((t - (n - REVENUE_DROP_DAYS)) / 7, 0, 1)
        revenue = revenue * (1 - 0.35 * ramp)
    out["revenue"] = np.round(revenue, 2)

    comp_rng = _rng(partner, "complaints")
    rate = subscribers * 2.2 / 1000 / 30 * weekly[dow]
    if planted.get("complaints") == partner.pk:
        ramp = np.clip((t - (n - COMPLAINT_RAMP_DAYS)) / COMPLAINT_RAMP_DAYS, 0, 1)
        rate = rate * (1 + 1.6 * ramp)
    out["complaints"] = comp_rng.poisson(rate).astype(float)

    out["csat"] = np.round(np.clip(_rng(partner, "csat").normal(4.25, 0.12, n), 1, 5), 2)
    if kind == "infrastructure_provider":
        avail = 99.95 - np.abs(_rng(partner, "availability").normal(0, 0.05, n))
        out["availability"] = np.round(avail, 3)
    else:
        act_rng = _rng(partner, "activations")
        out["activations"] = act_rng.poisson(subscribers * 0.0035 * weekly[dow]).astype(float)
        out["churn"] = np.round(np.abs(_rng(partner, "churn").normal(1.6, 0.15, n)), 3)
    return out


def _load_measurements(tenant: Tenant, partners: list[Partner], days: list[date]) -> None:
    definitions = dict(KpiDefinition.objects.values_list("key", "id"))
    planted: dict[str, int] = {}
    complaints = next(
        (p for p in partners if COMPLAINTS_PARTNER in (p.trading_name, p.legal_name)), None
    )
    complaints = complaints or next(
        (p for p in partners if p.partner_type.key == "content_provider"), None
    )
    reseller = next((p for p in partners if p.partner_type.key == "channel_partner"), None)
    if complaints:
        planted["complaints"] = complaints.pk
    if reseller:
        planted["revenue_drop"] = reseller.pk
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS kpi_demo")
        cursor.execute(
            "CREATE TEMPORARY TABLE kpi_demo (partner_id bigint, kpi_id bigint, date date,"
            " value numeric(20, 6)) ON COMMIT DROP"
        )
        raw = cursor.cursor  # psycopg cursor: COPY
        with raw.copy("COPY kpi_demo (partner_id, kpi_id, date, value) FROM STDIN") as copy:
            iso = [d.isoformat() for d in days]
            for partner in partners:
                for key, values in _series(partner, days, planted).items():
                    if key not in definitions:
                        continue
                    prefix = f"{partner.pk}\t{definitions[key]}\t"
                    copy.write(
                        "".join(f"{prefix}{d}\t{v:.6f}\n" for d, v in zip(iso, values, strict=True))
                    )
        cursor.execute(
            """
            INSERT INTO kpis_kpimeasurement
                (tenant_id, partner_id, kpi_id, date, value, origin, submitted_at)
            SELECT %s, partner_id, kpi_id, date, value, 'api', now() FROM kpi_demo
            ON CONFLICT (tenant_id, partner_id, kpi_id, date) DO NOTHING
            """,
            [tenant.pk],
        )


def _load_targets(tenant: Tenant, partners: list[Partner], today: date) -> None:
    if KpiTarget.objects.exists():
        return
    kpis = {d.key: d for d in KpiDefinition.objects.all()}
    first = Period.containing(today - timedelta(days=DAYS)).start
    change = Period.containing(today - timedelta(days=DAYS // 2)).start
    rows: list[KpiTarget] = []

    def pair(value_then: Decimal, value_now: Decimal, weight: str = "1", **scope: object) -> None:
        common = {"tenant": tenant, "period_kind": PeriodKind.MONTH, "weight": Decimal(weight)}
        rows.append(
            KpiTarget(
                value=value_then, effective_from=first, effective_to=change, **common, **scope
            )
        )
        rows.append(KpiTarget(value=value_now, effective_from=change, **common, **scope))

    pair(Decimal("3.0"), Decimal("2.5"), "1.5", kpi=kpis["complaints_per_1000"])
    pair(Decimal("4.0"), Decimal("4.2"), kpi=kpis["csat"])
    pair(Decimal("2.0"), Decimal("1.8"), kpi=kpis["churn"])
    infra = PartnerType.objects.filter(key="infrastructure_provider").first()
    if infra:
        pair(Decimal("99.5"), Decimal("99.9"), "2", kpi=kpis["availability"], partner_type=infra)
    for partner in partners:
        scale = Decimal(str(round(_partner_scale(partner), 4)))
        if partner.partner_type.key == "infrastructure_provider":
            continue
        # Roughly what the partner delivers; the bar was raised half-way through the year.
        revenue = (scale * 20_000 * Decimal("9.5")).quantize(Decimal(1000))
        pair(
            revenue * Decimal("0.95"),
            revenue,
            "2",
            kpi=kpis["revenue"],
            partner=partner,
        )
        subs = (scale * 20_000).quantize(Decimal(100))
        pair(subs, subs * Decimal("1.02"), kpi=kpis["active_subscribers"], partner=partner)
        acts = (scale * 20_000 * Decimal("0.0035") * 30).quantize(Decimal(10))
        pair(acts * Decimal("0.95"), acts, kpi=kpis["activations"], partner=partner)
    KpiTarget.objects.bulk_create(rows)


def _detect_drift(today: date) -> None:
    """The alerts of the nightly job for the last weeks (K2's backfill), when it exists."""
    try:
        from kpis.services import drift
    except ImportError:
        return
    detect = getattr(drift, "kpi_drift_detect_range", None)
    if detect is not None:
        # A few nights only: the job runs day by day and the demo must load fast.
        detect(start=today - timedelta(days=DRIFT_BACKFILL_DAYS - 1), end=today)


def load_kpi_demo(tenant: Tenant) -> None:
    """Idempotent: the same day's re-run adds nothing; a later run adds the new days."""
    if tenant.slug != "demo":
        return
    partners = list(
        Partner.objects.filter(status=PartnerStatus.ACTIVE)
        .select_related("partner_type")
        .order_by("legal_name")
    )
    if not partners:
        return
    today = tenant_today()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    _load_targets(tenant, partners, today)
    _load_measurements(tenant, partners, days)
    _detect_drift(today)
