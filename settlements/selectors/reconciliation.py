"""A month's reconciliation: the month's usage against what the engine settled and reported.

Per record currency, the month's usage splits exactly into: the basis the month's statements
settled (their rule lines' traces, in the record currency), the usage the runs reported as
unsettled (by reason), usage of a frozen month that arrived late (settled, or waiting to be
settled, by a later month), and usage no run has read yet. The difference must be zero to the
last minor unit: anything else is usage the engine lost. Per settlement (plan) currency, the
statements' basis, shares, adjustments and late usage, with the check that each statement's
basis total is its settled basis rounded once. Seven queries whatever the data; no usage row is
loaded into Python. See docs/settlement.md, "Reconciliation".
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q

from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner
from settlements.currencies import currency_minor_units
from settlements.models import SettlementRun, Statement
from settlements.selectors.plans import NO_AGREEMENT, NO_PLAN
from settlements.services.statements_build import (
    LATE_LOOKBACK_MONTHS,
    REASON_NO_FX,
    REASON_NO_RULE,
    REASON_UNKNOWN_PARTNER,
    add_months,
    month_bounds,
)

ZERO = Decimal(0)
ACTIVE = (SettlementRun.Status.QUEUED, SettlementRun.Status.RUNNING)
REASONS: dict[str, str] = {
    REASON_UNKNOWN_PARTNER: "Unknown partner",
    NO_AGREEMENT: "No active agreement",
    NO_PLAN: "No plan",
    REASON_NO_RULE: "No rule for the product",
    REASON_NO_FX: "Missing FX rate",
}

# The month's usage per partner, product, currency and import, with what the settlement key
# says of it: covered by the partner's statement of the month, read by no run yet (a draft's
# run came before the import), late (its month's statement was frozen before it arrived) and
# then settled by a later month or still waiting, or of a partner without a statement.
_USAGE_SQL = """
WITH st AS (
    SELECT s.partner_id, s.status, s.covered_imports, (v.content->>'basis') = 'net' AS net
    FROM settlements_statement s
    JOIN settlements_revenueshareplanversion v ON v.id = s.plan_version_id
    WHERE s.tenant_id = %(tenant)s AND s.month = %(month)s
), later AS (
    SELECT DISTINCT s.partner_id, imp
    FROM settlements_statement s CROSS JOIN LATERAL unnest(s.late_imports) AS imp
    WHERE s.tenant_id = %(tenant)s AND s.month > %(month)s AND s.month <= %(last_late)s
), raw AS (
    SELECT u.partner_id, u.product_code, u.currency, COALESCE(u.usage_import_id, 0) AS imp,
           count(*) AS n, sum(u.quantity) AS qty, sum(u.gross_amount) AS gross,
           sum(u.tax_amount) AS tax
    FROM settlements_usagerecord u
    WHERE u.tenant_id = %(tenant)s AND u.event_time >= %(t0)s AND u.event_time < %(t1)s
    GROUP BY 1, 2, 3, 4
)
SELECT r.partner_id, r.product_code, r.currency, r.imp,
       CASE WHEN st.partner_id IS NULL THEN 'no_statement'
            WHEN r.imp = ANY(st.covered_imports) THEN 'covered'
            WHEN st.status = 'draft' THEN 'not_run'
            WHEN l.imp IS NOT NULL THEN 'late_settled'
            ELSE 'late_pending' END,
       r.n, r.qty, r.gross, r.tax, r.gross - CASE WHEN st.net THEN r.tax ELSE 0 END
FROM raw r
LEFT JOIN st ON st.partner_id = r.partner_id
LEFT JOIN later l ON l.partner_id = r.partner_id AND l.imp = r.imp
"""

# The month's usage basis per record currency converted to each plan currency at the rate of
# the record's day from the run's stored rates; what has no rate stays apart.
_CONVERTED_SQL = """
WITH st AS (
    SELECT s.partner_id, (v.content->>'basis') = 'net' AS net
    FROM settlements_statement s
    JOIN settlements_revenueshareplanversion v ON v.id = s.plan_version_id
    WHERE s.tenant_id = %(tenant)s AND s.month = %(month)s
), fx AS (
    SELECT * FROM jsonb_to_recordset(%(fx)s::jsonb) AS x(day date, src text, dst text, rate numeric)
), t AS (
    SELECT unnest(%(targets)s::text[]) AS ccy
), d AS (
    SELECT u.currency, (u.event_time AT TIME ZONE %(tz)s)::date AS day,
           sum(u.gross_amount - CASE WHEN st.net THEN u.tax_amount ELSE 0 END) AS basis
    FROM settlements_usagerecord u
    LEFT JOIN st ON st.partner_id = u.partner_id
    WHERE u.tenant_id = %(tenant)s AND u.event_time >= %(t0)s AND u.event_time < %(t1)s
    GROUP BY 1, 2
)
SELECT d.currency, t.ccy, COALESCE(sum(d.basis * fx.rate), 0),
       COALESCE(sum(d.basis) FILTER (WHERE fx.rate IS NULL), 0)
FROM d CROSS JOIN t
LEFT JOIN fx ON fx.day = d.day AND fx.src = d.currency AND fx.dst = t.ccy
GROUP BY 1, 2
"""

# What the month's statements settled of the month's own usage, per record currency: the
# original-currency basis in the traces of their rule lines.
_SETTLED_SQL = """
SELECT fx.key, sum((fx.value->>'basis')::numeric)
FROM settlements_statementline l
JOIN settlements_statement s ON s.id = l.statement_id
CROSS JOIN LATERAL jsonb_each(COALESCE(l.trace->'products', '{}'::jsonb)) AS p
CROSS JOIN LATERAL jsonb_each(COALESCE(p.value->'fx', '{}'::jsonb)) AS fx
WHERE s.tenant_id = %(tenant)s AND s.month = %(month)s AND l.kind = 'rule'
GROUP BY 1
"""

# The month's statements per settlement currency; ``basis_difference`` is each statement's
# basis total minus its settled basis (rule and late-usage lines, exact) rounded once.
_STATEMENTS_SQL = """
WITH ccy(code, minor) AS (SELECT * FROM unnest(%(codes)s::text[], %(minor)s::int[])),
lines AS (
    SELECT l.statement_id,
           sum(l.amount) FILTER (WHERE l.kind = 'adjustment') AS adjustments,
           sum(l.amount) FILTER (WHERE l.kind = 'late_usage') AS late_amount,
           sum((l.trace->>'basis')::numeric) FILTER (WHERE l.kind = 'late_usage') AS late_basis,
           sum((l.trace->>'basis')::numeric) FILTER (WHERE l.kind IN ('rule', 'late_usage'))
               AS settled
    FROM settlements_statementline l
    JOIN settlements_statement s ON s.id = l.statement_id
    WHERE s.tenant_id = %(tenant)s AND s.month = %(month)s
    GROUP BY 1
)
SELECT s.currency, count(*),
       count(*) FILTER (WHERE s.status = 'draft'),
       COALESCE(sum(s.basis_total), 0),
       COALESCE(sum(s.partner_share) FILTER (WHERE s.direction = 'payable'), 0),
       COALESCE(sum(s.partner_share) FILTER (WHERE s.direction = 'receivable'), 0),
       COALESCE(sum(s.csp_share), 0),
       COALESCE(sum(l.adjustments), 0),
       COALESCE(sum(l.late_basis), 0),
       COALESCE(sum(l.late_amount), 0),
       COALESCE(sum(s.basis_total - round(COALESCE(l.settled, 0), COALESCE(c.minor, 2))), 0),
       COALESCE(sum(s.basis_total - s.partner_share - s.csp_share), 0)
FROM settlements_statement s
LEFT JOIN lines l ON l.statement_id = s.id
LEFT JOIN ccy c ON c.code = s.currency
WHERE s.tenant_id = %(tenant)s AND s.month = %(month)s
GROUP BY 1
ORDER BY 1
"""


@dataclass
class UsageCurrency:
    """The month's usage in one record currency and where each part of it went."""

    currency: str
    record_count: int = 0
    quantity: Decimal = ZERO
    gross: Decimal = ZERO
    tax: Decimal = ZERO
    basis: Decimal = ZERO  # gross, or net for partners whose plan settles on net
    settled: Decimal = ZERO
    unsettled: dict[str, Decimal] = field(default_factory=dict)
    late_settled: Decimal = ZERO
    late_pending: Decimal = ZERO
    not_run: Decimal = ZERO
    converted: dict[str, Decimal] = field(default_factory=dict)  # plan currency → amount
    not_converted: dict[str, Decimal] = field(default_factory=dict)  # no rate on the day

    @property
    def unsettled_total(self) -> Decimal:
        return sum(self.unsettled.values(), ZERO)

    @property
    def difference(self) -> Decimal:
        return (
            self.basis
            - self.settled
            - self.unsettled_total
            - self.late_settled
            - self.late_pending
            - self.not_run
        )


@dataclass(frozen=True)
class SettlementCurrency:
    """The month's statements in one settlement (plan) currency."""

    currency: str
    statements: int
    drafts: int
    basis_total: Decimal
    partner_share_payable: Decimal
    partner_share_receivable: Decimal
    csp_share: Decimal
    adjustments: Decimal
    late_usage_basis: Decimal
    late_usage_amount: Decimal
    basis_difference: Decimal  # basis total - settled basis rounded once: zero
    share_difference: Decimal  # basis total - partner share - CSP share: zero


@dataclass(frozen=True)
class UnsettledGroup:
    reason: str
    partner_id: int
    partner_name: str
    product_code: str
    currency: str
    record_count: int
    basis: Decimal
    quantity: Decimal
    late: bool  # usage of an earlier frozen month that this month's run could not settle

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)


@dataclass
class Reconciliation:
    month: date
    run: SettlementRun | None
    usage: list[UsageCurrency]
    statements: list[SettlementCurrency]
    unsettled: list[UnsettledGroup]
    run_in_progress: bool = False  # figures move until it is done

    @property
    def has_run(self) -> bool:
        return self.run is not None

    @property
    def is_balanced(self) -> bool:
        return all(u.difference == 0 for u in self.usage) and all(
            s.basis_difference == 0 and s.share_difference == 0 for s in self.statements
        )

    @property
    def unsettled_by_reason(self) -> list[tuple[str, str, str, Decimal, int]]:
        """(reason, label, currency, basis, records) of the month's own unsettled usage."""
        totals: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [ZERO, 0])
        for group in self.unsettled:
            if not group.late:
                totals[(group.reason, group.currency)][0] += group.basis
                totals[(group.reason, group.currency)][1] += group.record_count
        order = list(REASONS)
        return [
            (reason, REASONS.get(reason, reason), ccy, basis, count)
            for (reason, ccy), (basis, count) in sorted(
                totals.items(),
                key=lambda kv: (
                    order.index(kv[0][0]) if kv[0][0] in order else len(order),
                    kv[0][1],
                ),
            )
        ]


def _fx_rows(fx_rates: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    return [
        {"day": day, "src": pair.split("/")[0], "dst": pair.split("/")[1], "rate": rate}
        for day, pairs in fx_rates.items()
        for pair, rate in pairs.items()
    ]


def settlement_reconciliation(*, month: date) -> Reconciliation:
    """The current tenant's reconciliation of ``month`` (seven queries, see the module doc)."""
    tenant = require_current_tenant()
    month = month.replace(day=1)
    t0, t1 = month_bounds(month, tenant.timezone)
    # The month's latest done run, and the runs that wrote the month's statements (a frozen
    # statement's unsettled usage is on the run that computed it, not on later runs).
    latest = (
        SettlementRun.objects.filter(month=month, status=SettlementRun.Status.DONE)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    runs = {
        r.pk: r
        for r in SettlementRun.objects.filter(
            Q(pk__in=latest)
            | Q(pk__in=Statement.objects.filter(month=month).values("run_id"), month=month)
            | Q(month=month, status__in=ACTIVE)
        )
    }
    statement_runs = dict(Statement.objects.filter(month=month).values_list("partner_id", "run_id"))
    done = [r for r in runs.values() if r.status == SettlementRun.Status.DONE]
    in_progress = any(r.status in ACTIVE for r in runs.values())
    run = max(done, key=lambda r: (r.created_at, r.pk)) if done else None

    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "month": month,
        "t0": t0,
        "t1": t1,
        "tz": tenant.timezone,
        "last_late": add_months(month, LATE_LOOKBACK_MONTHS),
    }
    targets = sorted(
        {pair.split("/")[1] for pairs in (run.fx_rates if run else {}).values() for pair in pairs}
    )
    codes = currency_minor_units()
    with connection.cursor() as cursor:
        cursor.execute(_USAGE_SQL, params)
        usage_rows = cursor.fetchall()
        cursor.execute(
            _CONVERTED_SQL,
            {
                **params,
                "fx": json.dumps(_fx_rows(run.fx_rates if run else {})),
                "targets": targets,
            },
        )
        converted_rows = cursor.fetchall()
        cursor.execute(_SETTLED_SQL, params)
        settled_rows = cursor.fetchall()
        cursor.execute(
            _STATEMENTS_SQL, {**params, "codes": list(codes), "minor": list(codes.values())}
        )
        statement_rows = cursor.fetchall()

    # Each partner's unsettled usage from the run that computed its statement (the latest run
    # for a partner without one): what the engine reported, as it reported it.
    latest_pk = run.pk if run else None
    entries = [
        entry
        for r in runs.values()
        for entry in r.unsettled
        if statement_runs.get(entry["partner_id"], latest_pk) == r.pk
    ]
    reported: dict[tuple[int, str, str], set[int] | None] = {}
    for entry in entries:
        if entry.get("late"):
            continue
        key = (entry["partner_id"], entry["product_code"], entry["currency"])
        imports = entry.get("imports")
        if imports is None or reported.get(key, set()) is None:
            reported[key] = None  # a run before imports were recorded: it read them all
        else:
            reported.setdefault(key, set()).update(imports)  # type: ignore[union-attr]

    by_ccy: dict[str, UsageCurrency] = {}

    def currency(code: str) -> UsageCurrency:
        return by_ccy.setdefault(code, UsageCurrency(code))

    for pid, product, ccy, imp, kind, n, qty, gross, tax, basis in usage_rows:
        u = currency(ccy)
        u.record_count += n
        u.quantity += qty
        u.gross += gross
        u.tax += tax
        u.basis += basis
        if kind == "no_statement":
            imports = reported.get((pid, product, ccy), set())
            kind = "reported" if imports is None or imp in imports else "not_run"
        if kind == "late_settled":
            u.late_settled += basis
        elif kind == "late_pending":
            u.late_pending += basis
        elif kind == "not_run":
            u.not_run += basis
    for ccy, settled in settled_rows:
        currency(ccy).settled += settled
    for entry in entries:
        if not entry.get("late"):
            u = currency(entry["currency"])
            u.unsettled[entry["reason"]] = u.unsettled.get(entry["reason"], ZERO) + Decimal(
                entry["basis"]
            )
    for ccy, target, amount, missing in converted_rows:
        currency(ccy).converted[target] = amount
        if missing:
            currency(ccy).not_converted[target] = missing

    names = {
        p.pk: str(p)
        for p in Partner.objects.filter(pk__in={e["partner_id"] for e in entries}).only(
            "pk", "legal_name", "trading_name"
        )
    }
    unsettled = sorted(
        (
            UnsettledGroup(
                reason=e["reason"],
                partner_id=e["partner_id"],
                partner_name=names.get(e["partner_id"], f"#{e['partner_id']}"),
                product_code=e["product_code"],
                currency=e["currency"],
                record_count=int(e["record_count"]),
                basis=Decimal(e["basis"]),
                quantity=Decimal(e.get("quantity") or 0),
                late=bool(e.get("late")),
            )
            for e in entries
        ),
        key=lambda g: (
            g.late,
            list(REASONS).index(g.reason) if g.reason in REASONS else len(REASONS),
            g.partner_name,
            g.product_code,
            g.currency,
        ),
    )
    return Reconciliation(
        month=month,
        run=run,
        usage=sorted(by_ccy.values(), key=lambda u: u.currency),
        statements=[SettlementCurrency(*row) for row in statement_rows],
        unsettled=unsettled,
        run_in_progress=in_progress,
    )
