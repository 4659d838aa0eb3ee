"""Reads of statements: the filtered list, one statement with everything its page shows, the
usage behind a line (each a constant number of queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from partnerhub.audit.models import AuditEntry
from partners.models import Partner
from settlements.models import (
    Statement,
    StatementAdjustment,
    StatementDispute,
    StatementLine,
    UsageRecord,
)
from settlements.services.statements_build import add_months, month_bounds


def statement_list() -> QuerySet[Statement]:
    """Statements with what a list row shows (one query; filter it with ``StatementFilter``)."""
    return (
        Statement.objects.select_related("partner", "plan_version__plan", "approved_by")
        .annotate(
            open_disputes=Count(
                "disputes", filter=Q(disputes__dispute__status__in=["open", "investigating"])
            )
        )
        .order_by("-month", "partner__legal_name", "pk")
    )


def statement_detail_queryset() -> QuerySet[Statement]:
    return Statement.objects.select_related(
        "partner", "plan_version__plan", "approved_by", "paid_by", "run"
    ).prefetch_related(
        Prefetch("lines", queryset=StatementLine.objects.order_by("position")),
        Prefetch(
            "adjustments",
            queryset=StatementAdjustment.objects.select_related(
                "corrects_statement", "created_by", "updated_by"
            ),
        ),
        Prefetch(
            "corrections",
            queryset=StatementAdjustment.objects.select_related(
                "settled_in", "created_by", "updated_by"
            ),
        ),
        Prefetch(
            "disputes",
            queryset=StatementDispute.objects.select_related(
                "dispute", "line", "dispute__raised_by"
            ),
        ),
    )


def statement_audit_trail(*, statement: Statement, limit: int = 100) -> list[AuditEntry]:
    """Audit entries of the statement, its lines, its adjustments and dispute links, newest
    first (one query; the ids come from the prefetched relations)."""
    types = ContentType.objects.get_for_models(
        Statement, StatementLine, StatementAdjustment, StatementDispute
    )
    lines = [str(line.pk) for line in statement.lines.all()]
    adjustments = [str(a.pk) for a in (*statement.adjustments.all(), *statement.corrections.all())]
    links = [str(d.pk) for d in statement.disputes.all()]
    query = (
        Q(content_type=types[Statement], object_pk=str(statement.pk))
        | Q(content_type=types[StatementLine], object_pk__in=lines)
        | Q(content_type=types[StatementAdjustment], object_pk__in=adjustments)
        | Q(content_type=types[StatementDispute], object_pk__in=links)
    )
    return list(
        AuditEntry.objects.filter(query)
        .select_related("content_type")
        .order_by("-timestamp", "-id")[:limit]
    )


@dataclass(frozen=True)
class LineUsage:
    """Which usage rows a line settled: partner, time window, products, imports."""

    partner_id: int
    start: datetime
    end: datetime
    products: list[str]
    imports: list[int] | None  # late usage: only rows of these imports


def line_usage_scope(*, line: StatementLine, statement: Statement, tz: str) -> LineUsage | None:
    """The usage behind a rule or late-usage line (None for lines without usage)."""
    if line.kind not in (StatementLine.Kind.RULE, StatementLine.Kind.LATE_USAGE):
        return None
    products = sorted(line.trace.get("products", {})) or (
        [line.product_code] if line.product_code else []
    )
    start, end = month_bounds(statement.month, tz)
    if line.kind == StatementLine.Kind.LATE_USAGE:
        # Rows of earlier frozen months, from the imports this statement settled late.
        return LineUsage(
            statement.partner_id,
            month_bounds(add_months(statement.month, -12), tz)[0],
            start,
            products,
            list(statement.late_imports),
        )
    return LineUsage(statement.partner_id, start, end, products, None)


def line_usage_records(scope: LineUsage) -> QuerySet[UsageRecord]:
    records = UsageRecord.objects.filter(
        partner_id=scope.partner_id,
        event_time__gte=scope.start,
        event_time__lt=scope.end,
        product_code__in=scope.products,
    )
    if scope.imports is not None:
        keyed = [i for i in scope.imports if i]
        if 0 in scope.imports:
            records = records.filter(Q(usage_import_id__in=keyed) | Q(usage_import__isnull=True))
        else:
            records = records.filter(usage_import_id__in=keyed)
    return records.order_by("event_time", "id")


def partner_options() -> list[tuple[int, str]]:
    """Partners to filter statements by: those with statements (a tenant may have thousands of
    partners, most without any, and every option is rendered into the page)."""
    with_statements = Statement.objects.filter(partner_id=OuterRef("pk"))
    return list(
        Partner.objects.filter(Exists(with_statements))
        .order_by("legal_name")
        .values_list("pk", "legal_name")
    )


# What a partner may see of its own statements (portal pages, downloads, partner exports).
PARTNER_VISIBLE_STATUSES = (
    Statement.Status.APPROVED,
    Statement.Status.PAID,
    Statement.Status.DISPUTED,
)


def portal_statement_list(*, partner: Partner) -> QuerySet[Statement]:
    """A partner's own statements as the portal shows them: never drafts."""
    return (
        Statement.objects.filter(partner=partner, status__in=PARTNER_VISIBLE_STATUSES)
        .select_related("partner")
        .order_by("-month", "-pk")
    )
