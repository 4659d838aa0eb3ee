"""Settlement runs: start (one at a time per tenant and month), chunks, finalize, resume, nightly.

A run snapshots the FX rates it needs into ``SettlementRun.fx_rates`` at start (re-using those of
the month's previous run, so a later rate change never silently changes a recomputed statement),
splits the month's partners into chunks and computes each chunk in one transaction
(``statements_build``). A chunk marks itself done in that same transaction, so a worker killed
half-way leaves no trace and the redelivered (or resumed) chunk recomputes it; the last chunk
finalizes the run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner
from settlements.models import FxRate, SettlementRun, SettlementRunChunk, Statement
from settlements.selectors.plans import month_last_day
from settlements.services.statements_build import (
    LATE_LOOKBACK_MONTHS,
    REASON_UNKNOWN_PARTNER,
    add_months,
    month_bounds,
    statements_build,
)

# Partners per chunk (one task, one aggregation over the month's rows of its partners). Each
# chunk reads the month's partition pages its partners' rows are on, and usage of many partners
# interleaves on every page: fewer, larger chunks read it fewer times; smaller chunks spread a
# big month over more workers. See docs/scaling.md.
DEFAULT_CHUNK_SIZE = 1000
INVERSE_PLACES = Decimal("1e-12")
ACTIVE = (SettlementRun.Status.QUEUED, SettlementRun.Status.RUNNING)


def close_day() -> int:
    return int(getattr(settings, "SETTLEMENT_CLOSE_DAY", 5))


def _lock(month: date) -> None:
    """Transaction-scoped advisory lock on (tenant, month): starts of one month serialise."""
    key = f"settlement-run:{require_current_tenant().pk}:{month.isoformat()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _run_partners() -> list[int]:
    """Every partner of the tenant: a superset of those with usage in the month, a plan in force
    or a frozen month that may have late usage, read from the small partner table instead of a
    scan of the month's usage (a partner with none of these makes no statement and no line)."""
    return sorted(Partner.objects.values_list("pk", flat=True))


def fx_rates_resolve(
    *, month: date, previous: dict[str, dict[str, str]] | None = None
) -> dict[str, dict[str, str]]:
    """The rates a run of ``month`` may need: {day: {"SRC/DST": rate}} for every day from the
    earliest frozen month it may settle late usage of to the month's end, every currency that
    has a rate on those days (and every plan currency), into every plan currency. Rates of
    ``previous`` win; others come from the tenant's FxRate table: identity, direct, inverse
    (1/rate, 12 decimals) or across the tenant's default currency. A pair with no rate is left
    out (its usage is unsettled).

    Resolved up front from the small rate table, so that no scan of the usage is needed to know
    the days: every chunk of the run then converts with the same snapshot. When the run is done,
    ``settlement_run_finalize`` keeps only the days and currencies the usage had (the rates used).
    """
    from settlements.models import RevenueSharePlanVersion

    tenant = require_current_tenant()
    earliest = month
    frozen_months = (
        Statement.objects.filter(
            month__lt=month, month__gte=add_months(month, -LATE_LOOKBACK_MONTHS)
        )
        .exclude(status=Statement.Status.DRAFT)
        .order_by()
        .values_list("month", flat=True)
    )
    if frozen_months:
        earliest = min(frozen_months)
    last = month_last_day(month)
    days = [earliest + timedelta(days=i) for i in range((last - earliest).days + 1)]
    targets = set(RevenueSharePlanVersion.objects.values_list("currency", flat=True).distinct())
    table: dict[tuple[date, str, str], Decimal] = {
        (d, b, q): r
        for d, b, q, r in FxRate.objects.filter(date__gte=earliest, date__lte=last).values_list(
            "date", "base", "quote", "rate"
        )
    }
    pivot = tenant.default_currency
    sources = {b for _, b, _ in table} | {q for _, _, q in table} | targets
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for key, pairs in (previous or {}).items():
        out[key].update(pairs)

    def direct(day: date, src: str, dst: str) -> Decimal | None:
        if src == dst:
            return Decimal(1)
        if (day, src, dst) in table:
            return table[(day, src, dst)]
        if (day, dst, src) in table:
            with localcontext() as ctx:
                ctx.prec = 40
                return (Decimal(1) / table[(day, dst, src)]).quantize(INVERSE_PLACES)
        return None

    for day in days:
        known = out.get(day.isoformat(), {})
        for src in sorted(sources):
            for dst in sorted(targets):
                pair = f"{src}/{dst}"
                if pair in known:
                    continue
                rate = direct(day, src, dst)
                if rate is None and pivot not in (src, dst):
                    first, second = direct(day, src, pivot), direct(day, pivot, dst)
                    if first is not None and second is not None:
                        rate = first * second
                if rate is not None:
                    out[day.isoformat()][pair] = format(rate.normalize(), "f")
    return dict(out)


def _previous_fx_rates(month: date, exclude: int | None = None) -> dict[str, dict[str, str]] | None:
    return (
        SettlementRun.objects.filter(month=month, status=SettlementRun.Status.DONE)
        .exclude(pk=exclude)
        .order_by("-created_at")
        .values_list("fx_rates", flat=True)
        .first()
    )


def _fx_rates_used(run: SettlementRun, fx_days: set[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The run's snapshot cut down to the (day, source currency) pairs its usage had, plus every
    rate it re-used from the month's previous run: what the original per-usage resolution kept."""
    kept = {
        (d, p) for d, pairs in (_previous_fx_rates(run.month, run.pk) or {}).items() for p in pairs
    }
    out: dict[str, dict[str, str]] = {}
    for day, pairs in run.fx_rates.items():
        used = {
            pair: rate
            for pair, rate in pairs.items()
            if (day, pair.split("/")[0]) in fx_days or (day, pair) in kept
        }
        if used:
            out[day] = used
    return out


@transaction.atomic
def settlement_run_start(
    *,
    month: date,
    user: User | None = None,
    is_close: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    enqueue: bool = True,
) -> SettlementRun:
    """Create a run for ``month`` with its chunks and FX snapshot; enqueue the chunks on commit.

    Refused while another run of the month is queued or running (advisory lock, then the
    partial unique index ``settlementrun_one_active`` as the last word).
    """
    month = month.replace(day=1)
    _lock(month)
    active = SettlementRun.objects.filter(month=month, status__in=ACTIVE).first()
    if active is not None:
        raise ValidationError(
            {
                "month": [
                    f"A settlement run for {month:%Y-%m} is already in progress (#{active.pk})."
                ]
            }
        )
    tenant = require_current_tenant()
    previous = _previous_fx_rates(month)
    run = SettlementRun(
        month=month,
        is_close=is_close,
        started_by=user,
        fx_rates=fx_rates_resolve(month=month, previous=previous),
    )
    run.full_clean(exclude=["tenant", "started_by"])
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        raise ValidationError(
            {"month": [f"A settlement run for {month:%Y-%m} is already in progress."]}
        ) from None
    partners = _run_partners()
    chunks = [
        SettlementRunChunk(
            tenant=tenant, run=run, index=i, partner_ids=partners[start : start + chunk_size]
        )
        for i, start in enumerate(range(0, len(partners), max(1, chunk_size)))
    ]
    SettlementRunChunk.objects.bulk_create(chunks)
    run.chunks_total = len(chunks)
    run.save(update_fields=["chunks_total"])
    if not chunks:
        settlement_run_finalize(run=run)
    elif enqueue:
        _enqueue(run, [c.pk for c in chunks])
    return run


def _enqueue(run: SettlementRun, chunk_ids: list[int]) -> None:
    from settlements.run_tasks import settlement_run_chunk

    tenant_id = run.tenant_id
    # A deployment may give settlement its own queue (and workers); None = the default queue.
    options = {"queue": queue} if (queue := getattr(settings, "SETTLEMENT_RUN_QUEUE", None)) else {}

    def send() -> None:
        for chunk_id in chunk_ids:
            settlement_run_chunk.apply_async((tenant_id, chunk_id), **options)

    transaction.on_commit(send)


@transaction.atomic
def settlement_run_chunk_execute(*, chunk_id: int) -> bool:
    """Compute one chunk (idempotent: a done chunk is skipped); returns whether it ran.

    Only the chunk's row is locked while it computes (a redelivered task waits for it, then
    skips it), not the run's: locking the run too made the fan-out's chunks wait for each other
    from start to commit, one worker at a time. The run's row is locked at the end, to count
    the chunk and let the last one finalize.
    """
    chunk = (
        SettlementRunChunk.objects.select_for_update(of=("self",))
        .select_related("run")
        .filter(pk=chunk_id)
        .first()
    )
    if chunk is None or chunk.done:
        return False
    run = chunk.run
    if run.status not in ACTIVE:
        return False
    result = statements_build(run=run, partner_ids=chunk.partner_ids)
    chunk.done = True
    chunk.unsettled = result.unsettled
    chunk.fx_days = result.fx_days
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["done", "unsettled", "fx_days", "finished_at"])
    counted = SettlementRun.objects.filter(pk=run.pk, status__in=ACTIVE).update(
        chunks_done=F("chunks_done") + 1, status=SettlementRun.Status.RUNNING
    )
    if not counted:
        # The run failed (another chunk's error) while this chunk computed: leave no trace.
        transaction.set_rollback(True)
        return False
    run = SettlementRun.objects.select_for_update().get(pk=run.pk)
    if run.chunks_done >= run.chunks_total:
        settlement_run_finalize(run=run)
    return True


_UNKNOWN_PARTNER_SQL = """
SELECT u.partner_id, u.product_code, u.currency, count(*), sum(u.quantity), sum(u.gross_amount),
       array_agg(DISTINCT COALESCE(u.usage_import_id, 0) ORDER BY COALESCE(u.usage_import_id, 0))
FROM settlements_usagerecord u
WHERE u.tenant_id = %(tenant)s AND u.partner_id = ANY(%(partners)s::bigint[])
  AND u.event_time >= %(t0)s AND u.event_time < %(t1)s
GROUP BY 1, 2, 3
"""


def _unknown_partner_usage(*, run: SettlementRun, known: set[int]) -> list[dict[str, Any]]:
    """The month's usage of partners the run did not know (created after it started): no chunk
    read it, so it is reported (gross basis, record currency) instead of silently left out."""
    others = sorted(set(Partner.objects.values_list("pk", flat=True)) - known)
    if not others:
        return []
    t0, t1 = month_bounds(run.month, require_current_tenant().timezone)
    with connection.cursor() as cursor:
        cursor.execute(
            _UNKNOWN_PARTNER_SQL,
            {"tenant": run.tenant_id, "partners": others, "t0": t0, "t1": t1},
        )
        rows = cursor.fetchall()
    return [
        {
            "partner_id": pid,
            "product_code": product,
            "currency": ccy,
            "reason": REASON_UNKNOWN_PARTNER,
            "record_count": count,
            "basis": str(gross),
            "quantity": str(qty),
            "late": False,
            "imports": list(imps),
        }
        for pid, product, ccy, count, qty, gross, imps in rows
    ]


@transaction.atomic
def settlement_run_finalize(*, run: SettlementRun) -> SettlementRun:
    """Merge the chunks' unsettled usage into the run (grouped by reason) and mark it done."""
    unsettled: list[dict[str, Any]] = []
    fx_days: set[tuple[str, str]] = set()
    known: set[int] = set()
    for items, days, partner_ids in run.chunks.order_by("index").values_list(
        "unsettled", "fx_days", "partner_ids"
    ):
        unsettled.extend(items)
        fx_days.update((day, ccy) for day, ccy in days)
        known.update(partner_ids)
    unsettled.extend(_unknown_partner_usage(run=run, known=known))
    unsettled.sort(key=lambda u: (u["reason"], u["partner_id"], u["product_code"], u["currency"]))
    run.unsettled = json.loads(json.dumps(unsettled))
    run.fx_rates = _fx_rates_used(run, fx_days)
    run.status = SettlementRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["unsettled", "fx_rates", "status", "finished_at"])
    return run


def settlement_run_execute(*, run: SettlementRun) -> SettlementRun:
    """Compute every pending chunk in this process (single-process mode, bench, tests)."""
    for chunk_id in run.chunks.filter(done=False).order_by("index").values_list("pk", flat=True):
        settlement_run_chunk_execute(chunk_id=chunk_id)
    run.refresh_from_db()
    return run


@transaction.atomic
def settlement_run_resume(*, run: SettlementRun) -> SettlementRun:
    """Re-enqueue the chunks of an unfinished run (after a worker died, say)."""
    if run.status not in ACTIVE:
        raise ValidationError({"run": ["Only a queued or running run can be resumed."]})
    pending = list(run.chunks.filter(done=False).values_list("pk", flat=True))
    if pending:
        _enqueue(run, pending)
    else:
        settlement_run_finalize(run=run)
    return run


@transaction.atomic
def settlement_run_fail(*, run_id: int, error: str) -> None:
    SettlementRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=SettlementRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def settlement_nightly(*, today: date | None = None) -> list[SettlementRun]:
    """The nightly job for the current tenant: refresh the open month's drafts and, after the
    close day, compute the previous month once (unless already done or in progress)."""
    from zoneinfo import ZoneInfo

    tenant = require_current_tenant()
    today = today or timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
    started: list[SettlementRun] = []
    open_month = today.replace(day=1)
    previous = add_months(open_month, -1)
    wanted: list[tuple[date, bool]] = [(open_month, False)]
    if (
        today.day > close_day()
        and not SettlementRun.objects.filter(
            month=previous, is_close=True, status=SettlementRun.Status.DONE
        ).exists()
    ):
        wanted.insert(0, (previous, True))
    for month, is_close in wanted:
        try:
            started.append(settlement_run_start(month=month, is_close=is_close))
        except ValidationError:
            continue  # a run of that month is in progress: tonight's refresh is that one
    return started
