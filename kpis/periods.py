"""Reporting periods: a calendar month ("2026-10") or quarter ("2026-Q4")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

from kpis.models import PeriodKind

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12 and 2000 <= year <= 2100:
                return cls.month(year, month)
        elif m := _QUARTER.match(text):
            year, quarter = int(m[1]), int(m[2])
            if 2000 <= year <= 2100:
                return cls.quarter(year, quarter)
        raise ValidationError(
            {"period": f"{text!r} is not a period: use YYYY-MM (2026-10) or YYYY-Qn (2026-Q4)."}
        )

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        end = date(year + (month == 12), month % 12 + 1, 1)
        return cls(PeriodKind.MONTH, date(year, month, 1), end)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        end = date(year + (quarter == 4), (first + 2) % 12 + 1, 1)
        return cls(PeriodKind.QUARTER, date(year, first, 1), end)

    @classmethod
    def containing(cls, day: date, kind: str = PeriodKind.MONTH) -> Period:
        if kind == PeriodKind.QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.month(day.year, day.month)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def months(self) -> int:
        return 3 if self.kind == PeriodKind.QUARTER else 1

    def previous(self) -> Period:
        if self.kind == PeriodKind.QUARTER:
            q = (self.start.month - 1) // 3 + 1
            return Period.quarter(self.start.year - (q == 1), 4 if q == 1 else q - 1)
        m = self.start.month
        return Period.month(self.start.year - (m == 1), 12 if m == 1 else m - 1)

    def next(self) -> Period:
        return Period.containing(self.end, self.kind)

    def __str__(self) -> str:
        return self.label


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def tenant_today() -> date:
    """Today in the active tenant's time zone (measurements may not lie after it)."""
    import zoneinfo

    from django.utils import timezone

    from partnerhub.tenancy.context import get_current_tenant

    tenant = get_current_tenant()
    zone = zoneinfo.ZoneInfo(tenant.timezone) if tenant else None
    return timezone.localdate(timezone=zone)
