"""Run the KPI-drift job now, for one date or a range, for one tenant or all active ones."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kpis.services.drift import kpi_drift_detect_range
from kpis.services.settlement_usage import REFRESH_DAYS, kpi_settlement_measurements_refresh
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Detect KPI drift for a date (default: yesterday) or a range, synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD (end of a range)")
        parser.add_argument("--since", type=date.fromisoformat, help="Backfill from this date")
        parser.add_argument("--tenant", help="Tenant slug (default: every active tenant)")
        parser.add_argument("--notify", action="store_true", help="Notify account owners")

    def handle(self, *args: Any, **options: Any) -> None:
        end = options["date"] or timezone.now().date() - timedelta(days=1)
        start = options["since"] or end
        if start > end:
            raise CommandError("--since must not be after --date.")
        tenants = Tenant.objects.filter(is_active=True)
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No active tenant {options['tenant']!r}.")
        for tenant in tenants:
            with tenant_context(tenant):
                kpi_settlement_measurements_refresh(
                    start=start - timedelta(days=REFRESH_DAYS - 1), end=end
                )
                runs = kpi_drift_detect_range(start=start, end=end, notify_owners=options["notify"])
            created = sum(len(run.created) for run in runs)
            series = max((run.series for run in runs), default=0)
            self.stdout.write(
                f"{tenant.slug}: {start}..{end}: {series} series, {created} new alert(s)"
            )
