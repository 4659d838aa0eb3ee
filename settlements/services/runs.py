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
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from settlements.models import FxRate, SettlementRun, SettlementRunChunk, Statement
from settlements.selectors.plans import month_last_day, plan_partner_ids_for_month
from settlements.services.statements_build import (
    LATE_LOOKBACK_MONTHS,
    add_months,
    month_bounds,
    statements_build,
)

DEFAULT_CHUNK_SIZE = 200
INVERSE_PLACES = Decimal("1e-12")
ACTIVE = (SettlementRun.Status.QUEUED, SettlementRun.Status.RUNNING)


def close_day() -> int:
    return int(getattr(settings, "SETTLEMENT_CLOSE_DAY", 5))


def _lock(month: date) -> None:
    """Transaction-scoped advisory lock on (tenant, month): starts of one month serialise."""
    key = f"settlement-run:{require_current_tenant().pk}:{month.isoformat()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _run_partners(*, month: date, tz: str) -> list[int]:
    """Partners with usage in the month, a plan in force, or a frozen month that may have late
    usage (one scan of the month's partition plus two small queries)."""
    t0, t1 = month_bounds(month, tz)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT partner_id FROM settlements_usagerecord"
            " WHERE tenant_id = %s AND event_time >= %s AND event_time < %s",
            [require_current_tenant().pk, t0, t1],
        )
        ids = {r[0] for r in cursor.fetchall()}
    ids |= plan_partner_ids_for_month(month=month)
    ids |= set(
        Statement.objects.filter(
            month__lt=month, month__gte=add_months(month, -LATE_LOOKBACK_MONTHS)
        )
        .exclude(status=Statement.Status.DRAFT)
        .values_list("partner_id", flat=True)
    )
    return sorted(ids)


def fx_rates_resolve(
    *, month: date, previous: dict[str, dict[str, str]] | None = None
) -> dict[str, dict[str, str]]:
    """The rates a run of ``month`` needs: {day: {"SRC/DST": rate}} for every (day, currency) of
    the usage it may settle and every plan currency. Rates of ``previous`` win; others come from
    the tenant's FxRate table: identity, direct, inverse (1/rate, 12 decimals) or across the
    tenant's default currency. A pair with no rate is left out (its usage is unsettled)."""
    tenant = require_current_tenant()
    tz = tenant.timezone
    earliest = month
    frozen_months = (
        Statement.objects.filter(
            month__lt=month, month__gte=add_months(month, -LATE_LOOKBACK_MONTHS)
        )
        .exclude(status=Statement.Status.DRAFT)
        .values_list("month", flat=True)
    )
    if frozen_months:
        earliest = min(frozen_months)
    t0, _ = month_bounds(earliest, tz)
    _, t1 = month_bounds(month, tz)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT (event_time AT TIME ZONE %s)::date, currency"
            " FROM settlements_usagerecord"
            " WHERE tenant_id = %s AND event_time >= %s AND event_time < %s",
            [tz, tenant.pk, t0, t1],
        )
        needed = set(cursor.fetchall())
    # period_end plans take the rate of the month's last day.
    needed |= {(month_last_day(day.replace(day=1)), ccy) for day, ccy in needed}
    from settlements.models import RevenueSharePlanVersion

    targets = set(RevenueSharePlanVersion.objects.values_list("currency", flat=True).distinct())
    days = {day for day, _ in needed}
    table: dict[tuple[date, str, str], Decimal] = {
        (d, b, q): r
        for d, b, q, r in FxRate.objects.filter(date__in=days).values_list(
            "date", "base", "quote", "rate"
        )
    }
    pivot = tenant.default_currency
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

    for day, src in sorted(needed):
        for dst in sorted(targets):
            pair = f"{src}/{dst}"
            if pair in out.get(day.isoformat(), {}):
                continue
            rate = direct(day, src, dst)
            if rate is None and pivot not in (src, dst):
                first, second = direct(day, src, pivot), direct(day, pivot, dst)
                if first is not None and second is not None:
                    rate = first * second
            if rate is not None:
                out[day.isoformat()][pair] = format(rate.normalize(), "f")
    return dict(out)


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
    previous = (
        SettlementRun.objects.filter(month=month, status=SettlementRun.Status.DONE)
        .order_by("-created_at")
        .values_list("fx_rates", flat=True)
        .first()
    )
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
    partners = _run_partners(month=month, tz=tenant.timezone)
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
    """Compute one chunk (idempotent: a done chunk is skipped); returns whether it ran."""
    chunk = (
        SettlementRunChunk.objects.select_for_update()
        .select_related("run")
        .filter(pk=chunk_id)
        .first()
    )
    if chunk is None or chunk.done:
        return False
    run = chunk.run
    if run.status not in ACTIVE:
        return False
    unsettled = statements_build(run=run, partner_ids=chunk.partner_ids)
    chunk.done = True
    chunk.unsettled = unsettled
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["done", "unsettled", "finished_at"])
    SettlementRun.objects.filter(pk=run.pk).update(
        chunks_done=F("chunks_done") + 1, status=SettlementRun.Status.RUNNING
    )
    run = SettlementRun.objects.select_for_update().get(pk=run.pk)
    if run.chunks_done >= run.chunks_total:
        settlement_run_finalize(run=run)
    return True


@transaction.atomic
def settlement_run_finalize(*, run: SettlementRun) -> SettlementRun:
    """Merge the chunks' unsettled usage into the run (grouped by reason) and mark it done."""
    unsettled: list[dict[str, Any]] = []
    for items in run.chunks.order_by("index").values_list("unsettled", flat=True):
        unsettled.extend(items)
    unsettled.sort(key=lambda u: (u["reason"], u["partner_id"], u["product_code"], u["currency"]))
    run.unsettled = json.loads(json.dumps(unsettled))
    run.status = SettlementRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["unsettled", "status", "finished_at"])
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
