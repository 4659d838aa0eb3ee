"""The nightly KPI-drift job for the active tenant: load every series in one query, run the
vectorised detector (kpis/drift.py), insert DriftAlert rows idempotently, notify owners.

Entry points: ``kpi_drift_detect(day=...)`` for one date and ``kpi_drift_detect_range(start=...,
end=...)`` for a backfill, both for the tenant of the surrounding ``tenant_context``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse

from kpis import drift
from kpis.models import Aggregation, Direction, DriftAlert, DriftMethod, KpiDefinition, Unit
from kpis.periods import Period, days_in_month
from kpis.selectors.definitions import TARGET_LATERAL_SQL
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner, PartnerStatus

logger = logging.getLogger(__name__)

# An open or acknowledged alert of the same partner, KPI and kind detected in the previous
# DEDUP_DAYS days suppresses a new one: an ongoing shift is reported once, not every night.
DEDUP_DAYS = 14
# Target at risk: the projection must miss the target by more than this share of it...
TARGET_TOLERANCE = 0.05
# ...and the month must be at least this old (with this many observed days) to project it.
MIN_ELAPSED_DAYS = 7
MAX_HISTORY_DAYS = 366

_AGGREGATION_CODE = {
    Aggregation.SUM: drift.AGG_SUM,
    Aggregation.MEAN: drift.AGG_MEAN,
    Aggregation.LAST: drift.AGG_LAST,
    Aggregation.RATIO: drift.AGG_MEAN,  # the daily ratio's mean: a close, cheap projection
}

# Fixed-width rows of a binary COPY: field count, then (length, value) per column.
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("l1", ">i4"),
        ("kpi", ">i8"),
        ("l2", ">i4"),
        ("partner", ">i8"),
        ("l3", ">i4"),
        ("day", ">i4"),
        ("l4", ">i4"),
        ("value", ">f8"),
    ]
)
_COPY_HEADER = 19  # signature (11) + flags (4) + header extension length (4)

SERIES_SQL = """
COPY (
    SELECT s.kpi_id::int8, s.partner_id::int8, (s.date - {start})::int4, s.value::float8
      FROM (
            SELECT m.kpi_id, m.partner_id, m.date, m.value
              FROM kpis_kpimeasurement m
             WHERE m.tenant_id = {tenant} AND m.kpi_id = ANY({plain}::int8[])
               AND m.date BETWEEN {start} AND {day}
            UNION ALL
            -- Ratio KPIs per day: one pass over both operands (no self-join), pivoted.
            SELECT r.kpi_id, r.partner_id, r.date, r.num / r.den * r.scale
              FROM (
                    SELECT d.id AS kpi_id, m.partner_id, m.date, d.scale,
                           max(m.value) FILTER (WHERE m.kpi_id = d.numerator_id) AS num,
                           max(m.value) FILTER (WHERE m.kpi_id = d.denominator_id) AS den
                      FROM kpis_kpidefinition d
                      JOIN kpis_kpimeasurement m
                        ON m.tenant_id = d.tenant_id
                       AND m.kpi_id IN (d.numerator_id, d.denominator_id)
                     WHERE d.tenant_id = {tenant} AND d.id = ANY({ratio}::int8[])
                       AND m.date BETWEEN {start} AND {day}
                     GROUP BY d.id, m.partner_id, m.date, d.scale
                   ) r
             WHERE r.num IS NOT NULL AND r.den IS NOT NULL AND r.den <> 0
           ) s
      JOIN partners_partner p ON p.id = s.partner_id AND p.tenant_id = {tenant}
     WHERE p.status = {active}
     ORDER BY 1, 2, 3
) TO STDOUT (FORMAT BINARY)
"""

TARGETS_SQL = f"""
SELECT p.id, d.id, tg.target_value
  FROM partners_partner p
  JOIN kpis_kpidefinition d ON d.tenant_id = p.tenant_id
  {TARGET_LATERAL_SQL}
 WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(partners)s::bigint[])
   AND d.id = ANY(%(kpis)s::bigint[])
   AND tg.target_id IS NOT NULL
"""  # noqa: S608 - constant fragments, values are parameters


@dataclass
class DriftRun:
    """What one date's run saw and did."""

    day: date
    series: int = 0
    candidates: int = 0
    suppressed: int = 0  # an open/acknowledged alert from the last DEDUP_DAYS days exists
    created: list[DriftAlert] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # load / detect / write


@dataclass(frozen=True)
class SeriesBlock:
    """All series of the window: ``values`` is series x days from ``start`` to the run date."""

    start: date
    kpi_ids: np.ndarray
    partner_ids: np.ndarray
    values: np.ndarray


def series_load(
    *, tenant_id: int, kpis: list[KpiDefinition], start: date, day: date
) -> SeriesBlock:
    """Every (KPI, partner) daily series of the window in one binary COPY, as a NaN-gapped array."""
    from psycopg import sql

    plain = [k.pk for k in kpis if k.aggregation != Aggregation.RATIO]
    ratio = [k.pk for k in kpis if k.aggregation == Aggregation.RATIO]
    statement = sql.SQL(SERIES_SQL).format(
        start=sql.Literal(start),
        day=sql.Literal(day),
        tenant=sql.Literal(tenant_id),
        plain=sql.Literal(plain),
        ratio=sql.Literal(ratio),
        active=sql.Literal(str(PartnerStatus.ACTIVE)),
    )
    chunks: list[bytes] = []
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor
        with raw.copy(statement) as copy:
            for block in copy:
                chunks.append(bytes(block))
    data = b"".join(chunks)
    rows = np.frombuffer(data[_COPY_HEADER:-2], dtype=_COPY_ROW) if len(data) > 21 else None
    width = (day - start).days + 1
    if rows is None or not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return SeriesBlock(start, empty, empty, np.zeros((0, width)))
    kpi = rows["kpi"].astype(np.int64)
    partner = rows["partner"].astype(np.int64)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (kpi[1:] != kpi[:-1]) | (partner[1:] != partner[:-1])
    index = np.cumsum(first) - 1
    values = np.full((int(first.sum()), width), np.nan)
    values[index, rows["day"].astype(np.int64)] = rows["value"].astype(np.float64)
    return SeriesBlock(start, kpi[first], partner[first], values)


def _targets(
    *, tenant_id: int, partner_ids: list[int], kpi_ids: list[int], day: date
) -> dict[tuple[int, int], float]:
    """The monthly target of each (partner, KPI) as judged on the month's first day (one query)."""
    period = Period.containing(day)
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "partners": partner_ids,
        "kpis": kpi_ids,
        "on": period.start,
        "kind": period.kind,
    }
    with connection.cursor() as cursor:
        cursor.execute(TARGETS_SQL, params)
        return {(p, k): float(v) for p, k, v in cursor.fetchall()}


def _number(value: float, kpi: KpiDefinition) -> str:
    magnitude = abs(value)
    places = 0 if magnitude >= 100 else 1 if magnitude >= 1 else 2
    text = f"{value:,.{places}f}"
    if kpi.unit == Unit.PERCENT:
        return f"{text}%"
    if kpi.unit == Unit.CURRENCY and kpi.currency:
        return f"{kpi.currency} {text}"
    return text


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")


def _shift_explanation(
    kpi: KpiDefinition,
    direction: int,
    baseline: float,
    recent: float,
    days: int,
    target: float | None,
) -> str:
    verb = "rose" if direction > 0 else "fell"
    per_day = (
        " a day"
        if kpi.aggregation == Aggregation.SUM
        else " a month"
        if kpi.ratio_accumulates
        else ""
    )
    text = (
        f"{kpi.name} {verb} from {_number(baseline, kpi)} to {_number(recent, kpi)}{per_day} "
        f"over the last {days} day{'s' if days != 1 else ''}"
    )
    if target is not None and kpi.aggregation != Aggregation.SUM:
        text += f"; target {_number(target, kpi)}"
    return text + "."


def _target_explanation(kpi: KpiDefinition, projected: float, target: float, low: bool) -> str:
    gap = abs(projected - target) / abs(target) * 100 if target else 0.0
    if kpi.direction == Direction.WITHIN_BAND:
        side = "below the band's floor" if low else "above the band's ceiling"
        return (
            f"{kpi.name} is heading for {_number(projected, kpi)} this month, {side} of "
            f"{_number(target, kpi)}."
        )
    word = "short" if low else "over"
    return (
        f"{kpi.name} is on pace for {_number(projected, kpi)} this month against a target of "
        f"{_number(target, kpi)} ({gap:.0f}% {word})."
    )


def _alert_url(pk: int) -> str:
    try:
        return reverse("kpis:alert-detail", args=[pk])
    except NoReverseMatch:  # pages not mounted (e.g. a stripped-down deployment)
        return ""


@transaction.atomic
def kpi_drift_detect(*, day: date, notify_owners: bool = True) -> DriftRun:
    """Scan every enabled KPI series of the active tenant as of ``day`` and record new alerts.

    Idempotent: a second run for the same date creates nothing (the unique constraint plus
    ON CONFLICT DO NOTHING), and an ongoing shift is not re-alerted within DEDUP_DAYS.
    """
    tenant = require_current_tenant()
    run = DriftRun(day=day)
    kpis = list(
        KpiDefinition.objects.filter(is_active=True, drift_enabled=True)
        .exclude(aggregation=Aggregation.RATIO, numerator__isnull=True)
        .select_related("numerator", "denominator")
    )
    if not kpis:
        return run
    by_id = {k.pk: k for k in kpis}
    history = max(
        [drift.BASELINE_DAYS, *(min(k.drift_min_history_days, MAX_HISTORY_DAYS) for k in kpis)]
    )
    window_start = day - timedelta(days=history + drift.MONITOR_DAYS - 1)
    month_start = day.replace(day=1)
    start = min(window_start, month_start)
    clock = time.perf_counter()
    block = series_load(tenant_id=tenant.pk, kpis=kpis, start=start, day=day)
    run.seconds["load"] = time.perf_counter() - clock
    clock = time.perf_counter()
    run.series = len(block.kpi_ids)
    if not run.series:
        return run

    series_kpis = [by_id[int(k)] for k in block.kpi_ids]
    # An accumulating ratio (complaints per 1,000 subscribers) is judged as a monthly rate: the
    # daily ratio times the month's days, the unit of its target and of its scorecard.
    accumulates = np.array([k.ratio_accumulates for k in series_kpis], dtype=bool)
    if accumulates.any():
        block.values[accumulates] *= days_in_month(day)
    threshold = np.array([float(k.drift_sensitivity) for k in series_kpis])
    method = np.array(
        [
            drift.METHOD_EWMA if k.drift_method == DriftMethod.EWMA else drift.METHOD_CUSUM
            for k in series_kpis
        ]
    )
    min_history = np.array([k.drift_min_history_days for k in series_kpis])
    offset = (window_start - start).days
    shift = drift.detect_shift(
        block.values[:, offset:],
        first_weekday=window_start.weekday(),
        threshold=threshold,
        method=method,
        min_history=min_history,
    )
    targets = _targets(
        tenant_id=tenant.pk,
        partner_ids=sorted({int(p) for p in block.partner_ids}),
        kpi_ids=list(by_id),
        day=day,
    )

    candidates: list[DriftAlert] = []
    for i in np.flatnonzero(shift.alarm):  # one iteration per alarm, not per data point
        kpi, partner_id = series_kpis[i], int(block.partner_ids[i])
        began = window_start + timedelta(days=int(shift.change_start[i]))
        baseline, recent = float(shift.baseline_level[i]), float(shift.recent_level[i])
        target = targets.get((partner_id, kpi.pk))
        candidates.append(
            DriftAlert(
                tenant=tenant,
                partner_id=partner_id,
                kpi=kpi,
                detected_on=day,
                kind=DriftAlert.Kind.SHIFT,
                direction="up" if shift.direction[i] > 0 else "down",
                size=_decimal(recent - baseline),
                baseline_value=_decimal(baseline),
                recent_value=_decimal(recent),
                target_value=_decimal(target) if target is not None else None,
                change_started_on=began,
                explanation=_shift_explanation(
                    kpi, int(shift.direction[i]), baseline, recent, (day - began).days + 1, target
                ),
            )
        )

    elapsed = day.day
    if elapsed >= MIN_ELAPSED_DAYS:
        month = block.values[:, (month_start - start).days :]
        codes = np.array([_AGGREGATION_CODE[Aggregation(k.aggregation)] for k in series_kpis])
        pace = drift.project_period(
            month, aggregation=codes, elapsed_days=elapsed, period_days=days_in_month(day)
        )
        low = np.full(run.series, np.nan)
        high = np.full(run.series, np.nan)
        for row, kpi in enumerate(series_kpis):  # per series (not per data point): bounds only
            target = targets.get((int(block.partner_ids[row]), kpi.pk))
            if kpi.direction == Direction.WITHIN_BAND:
                low[row] = float(kpi.band_low) if kpi.band_low is not None else np.nan
                high[row] = float(kpi.band_high) if kpi.band_high is not None else np.nan
            elif target is not None and kpi.direction == Direction.HIGHER_BETTER:
                low[row] = target
            elif target is not None:
                high[row] = target
        with np.errstate(invalid="ignore"):
            enough = pace.observed_days >= MIN_ELAPSED_DAYS // 2 + 1
            short = enough & (pace.projected < low - TARGET_TOLERANCE * np.abs(low))
            over = enough & (pace.projected > high + TARGET_TOLERANCE * np.abs(high))
        for i in np.flatnonzero(short | over):
            kpi, partner_id = series_kpis[i], int(block.partner_ids[i])
            is_short = bool(short[i])
            bound = float(low[i] if is_short else high[i])
            projected = float(pace.projected[i])
            candidates.append(
                DriftAlert(
                    tenant=tenant,
                    partner_id=partner_id,
                    kpi=kpi,
                    detected_on=day,
                    kind=DriftAlert.Kind.TARGET_AT_RISK,
                    direction="down" if is_short else "up",
                    size=_decimal(projected - bound),
                    baseline_value=_decimal(bound),
                    recent_value=_decimal(projected),
                    target_value=_decimal(bound),
                    change_started_on=month_start,
                    explanation=_target_explanation(kpi, projected, bound, is_short),
                )
            )
    run.candidates = len(candidates)
    run.seconds["detect"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if not candidates:
        return run

    recent_alerts = set(
        DriftAlert.objects.filter(
            detected_on__gte=day - timedelta(days=DEDUP_DAYS), detected_on__lte=day
        )
        .filter(
            # the run date's own rows (any status) make a re-run a no-op
            status__in=[DriftAlert.Status.OPEN, DriftAlert.Status.ACKNOWLEDGED]
        )
        .values_list("partner_id", "kpi_id", "kind")
    ) | set(DriftAlert.objects.filter(detected_on=day).values_list("partner_id", "kpi_id", "kind"))
    fresh = [a for a in candidates if (a.partner_id, a.kpi_id, a.kind) not in recent_alerts]
    run.suppressed = len(candidates) - len(fresh)
    if not fresh:
        return run
    partners = {
        p.pk: p
        for p in Partner.objects.filter(pk__in={a.partner_id for a in fresh}).select_related(
            "account_owner"
        )
    }
    for alert in fresh:
        alert.owner = partners[alert.partner_id].account_owner
        alert.full_clean(exclude=["tenant", "partner", "kpi", "owner"], validate_constraints=False)
    DriftAlert.objects.bulk_create(fresh, ignore_conflicts=True)
    keys = {(a.partner_id, a.kpi_id, a.kind) for a in fresh}
    created = [
        a
        for a in DriftAlert.objects.filter(detected_on=day, partner_id__in=partners).select_related(
            "kpi", "partner"
        )
        if (a.partner_id, a.kpi_id, a.kind) in keys
    ]
    run.created = created
    if notify_owners:
        _notify(created, partners)
    run.seconds["write"] = time.perf_counter() - clock
    return run


def _notify(alerts: list[DriftAlert], partners: dict[int, Partner]) -> None:
    """Tell each partner's account owner once per alert (dedup key ``drift:<id>``)."""
    try:
        from partners.services.notifications import notify
    except ImportError:  # the partners app without notifications
        return
    for alert in alerts:
        owner = partners[alert.partner_id].account_owner
        if owner is None:
            continue
        notify(
            users=[owner],
            kind="kpi_drift",
            title=f"{alert.partner}: {alert.kpi.name} — {alert.get_kind_display().lower()}",
            body=alert.explanation,
            url=_alert_url(alert.pk),
            partner=partners[alert.partner_id],
            dedup_key=f"drift:{alert.pk}",
        )


def kpi_drift_detect_range(
    *, start: date, end: date, notify_owners: bool = False
) -> list[DriftRun]:
    """Backfill: run ``kpi_drift_detect`` for each day from ``start`` to ``end`` (inclusive).

    Days run in order so the de-duplication sees the earlier days' alerts; re-running a range
    creates nothing new. Owners are not notified by default (a backfill is history).
    """
    if end < start:
        raise ValidationError({"end": "The end date must not be before the start date."})
    runs = []
    day = start
    while day <= end:
        runs.append(kpi_drift_detect(day=day, notify_owners=notify_owners))
        day += timedelta(days=1)
    return runs
