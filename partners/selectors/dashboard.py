"""The partner manager's dashboard: a fixed number of queries whatever the data size."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet, Window
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from partners.models import (
    Dispute,
    Partner,
    PartnerStatus,
    PartnerType,
    StatusTransition,
)
from partners.selectors.agreements import agreements_due
from partners.selectors.relationship import OPEN_DISPUTE, open_tasks_of_user, partners_quiet

FUNNEL = (
    PartnerStatus.APPLIED,
    PartnerStatus.VETTING,
    PartnerStatus.DUE_DILIGENCE,
    PartnerStatus.CONTRACTING,
    PartnerStatus.INTEGRATION,
    PartnerStatus.ACTIVE,
)
DUE_DAYS = 30
LIST_LIMIT = 8

# Each stay in a status lasts from its transition to the partner's next one (LEAD); the median
# is over finished stays, per status. RLS and the explicit tenant filter both scope it.
_STAGE_MEDIANS_SQL = """
WITH stays AS (
    SELECT to_status,
           at,
           LEAD(at) OVER (PARTITION BY partner_id ORDER BY at, id) AS left_at
    FROM {table}
    WHERE tenant_id = %s
)
SELECT to_status,
       COUNT(*) AS stays,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM (left_at - at)) / 86400.0
       ) AS median_days
FROM stays
WHERE left_at IS NOT NULL
GROUP BY to_status
"""


def stage_median_days() -> dict[str, tuple[int, float | None]]:
    """Status -> (finished stays, median days spent in it), computed in SQL."""
    tenant = require_current_tenant()
    sql = _STAGE_MEDIANS_SQL.format(
        table=connection.ops.quote_name(StatusTransition._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk])
        rows = cursor.fetchall()
    return {
        status: (int(stays), float(median) if median is not None else None)
        for status, stays, median in rows
    }


def _limited(queryset: QuerySet[Any]) -> tuple[list[Any], int]:
    """The first rows and the total, in one query (a window COUNT over the same filter)."""
    rows = list(queryset.annotate(total_rows=Window(Count("pk")))[:LIST_LIMIT])
    total = rows[0].total_rows if rows else 0
    return rows, total


def dashboard_data(*, user: User, on: date | None = None) -> dict[str, Any]:
    """Everything the partner-manager cards show."""
    today = on or timezone.localdate()
    by_status_rows = dict(
        Partner.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    by_status = [
        {"status": s.value, "label": s.label, "count": by_status_rows.get(s.value, 0)}
        for s in PartnerStatus
    ]
    by_type_rows = dict(
        Partner.objects.order_by()
        .values_list("partner_type")
        .annotate(n=Count("pk"))
        .values_list("partner_type", "n")
    )
    by_type = [
        {"id": t.pk, "name": t.name, "count": by_type_rows.get(t.pk, 0)}
        for t in PartnerType.objects.order_by("name")
    ]
    medians = stage_median_days()
    funnel = [
        {
            "status": s.value,
            "label": s.label,
            "count": by_status_rows.get(s.value, 0),
            "median_days": medians.get(s.value, (0, None))[1],
            "finished": medians.get(s.value, (0, None))[0],
        }
        for s in FUNNEL
    ]
    due, due_total = _limited(agreements_due(on=today, days=DUE_DAYS))
    quiet, quiet_total = _limited(partners_quiet(on=today))
    disputes, disputes_total = _limited(
        Dispute.objects.filter(status__in=OPEN_DISPUTE)
        .select_related("partner", "owner")
        .order_by("opened_at", "id")
    )
    tasks, tasks_total = _limited(open_tasks_of_user(user))
    return {
        "today": today,
        "due_days": DUE_DAYS,
        "partners_total": sum(by_status_rows.values()),
        "active_total": by_status_rows.get(PartnerStatus.ACTIVE, 0),
        "by_status": by_status,
        "by_type": by_type,
        "funnel": funnel,
        "agreements_due": due,
        "agreements_due_total": due_total,
        "quiet_partners": quiet,
        "quiet_total": quiet_total,
        "open_disputes": disputes,
        "open_disputes_total": disputes_total,
        "tasks": tasks,
        "tasks_total": tasks_total,
        "due_until": today + timedelta(days=DUE_DAYS),
    }
