"""FX rates per tenant and day: single, bulk (JSON) and CSV loads, upserted set-based."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from partnerhub.tenancy.context import require_current_tenant
from settlements.currencies import is_iso_currency
from settlements.models import FxRate

FX_COLUMNS = ("date", "base", "quote", "rate")
FX_MAX_ROWS = 100_000


def _parse_row(index: int, row: Mapping[str, Any]) -> tuple[date, str, str, Decimal]:
    errors: dict[str, str] = {}
    day: date | None = None
    rate: Decimal | None = None
    raw_day = row.get("date")
    try:
        day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
    except ValueError:
        errors["date"] = f"is not an ISO date (YYYY-MM-DD): {raw_day!r}"
    for column in ("base", "quote"):
        if not is_iso_currency(row.get(column)):
            errors[column] = f"{row.get(column)!r} is not an ISO 4217 currency code"
    raw_rate = row.get("rate")
    if isinstance(raw_rate, float):
        errors["rate"] = "must be a decimal string, not a float"
    else:
        try:
            rate = Decimal(str(raw_rate))
            if not rate.is_finite() or rate <= 0:
                errors["rate"] = "must be a positive number"
            elif rate.as_tuple().exponent < -10 or rate.adjusted() >= 14:  # type: ignore[operator]
                errors["rate"] = "must have at most 14 digits before and 10 after the point"
        except (InvalidOperation, ValueError):
            errors["rate"] = f"is not a number: {raw_rate!r}"
    if not errors and row.get("base") == row.get("quote"):
        errors["quote"] = "must differ from base"
    if errors:
        raise ValidationError({f"row {index}: {col}": msg for col, msg in errors.items()})
    assert day is not None and rate is not None
    return day, str(row["base"]), str(row["quote"]), rate


@transaction.atomic
def fx_rates_upsert(*, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace the active tenant's rates for (date, base, quote); all or nothing.

    Every row is checked first (errors name the row, counted from 1, and the column), then
    the rates are written in one ``INSERT ... ON CONFLICT DO UPDATE``.
    """
    tenant = require_current_tenant()
    parsed: dict[tuple[date, str, str], Decimal] = {}
    errors: dict[str, Any] = {}
    for index, row in enumerate(rows, start=1):
        if index > FX_MAX_ROWS:
            raise ValidationError(f"At most {FX_MAX_ROWS} rates per load.")
        try:
            day, base, quote, rate = _parse_row(index, row)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        parsed[(day, base, quote)] = rate
    if errors:
        raise ValidationError(errors)
    if not parsed:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO settlements_fxrate (tenant_id, date, base, quote, rate, created_at)
            SELECT %s, d, b, q, r, now()
            FROM unnest(%s::date[], %s::text[], %s::text[], %s::numeric[]) AS x(d, b, q, r)
            ON CONFLICT (tenant_id, date, base, quote) DO UPDATE SET rate = EXCLUDED.rate""",
            [
                tenant.pk,
                [k[0] for k in parsed],
                [k[1] for k in parsed],
                [k[2] for k in parsed],
                list(parsed.values()),
            ],
        )
    return len(parsed)


@transaction.atomic
def fx_rate_create(*, date: date, base: str, quote: str, rate: Decimal) -> FxRate:
    """One rate (replacing the day's rate for the pair if there is one)."""
    fx_rates_upsert(rows=[{"date": date, "base": base, "quote": quote, "rate": str(rate)}])
    return FxRate.objects.get(date=date, base=base, quote=quote)


def fx_rates_import_csv(*, stream: IO[bytes]) -> int:
    """Load rates from a CSV file with the header ``date,base,quote,rate``."""
    try:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in FX_COLUMNS if c not in header]
        if missing:
            raise ValidationError(
                f"Missing column(s): {', '.join(missing)}. The header must be date,base,quote,rate."
            )
        reader.fieldnames = header
        return fx_rates_upsert(rows=reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(f"This is not a CSV file: {exc}.") from None
