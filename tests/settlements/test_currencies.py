import pytest

from settlements.currencies import is_iso_currency, minor_units


@pytest.mark.parametrize(("code", "units"), [("JPY", 0), ("EUR", 2), ("USD", 2), ("BHD", 3)])
def test_minor_units_follow_iso_4217(code: str, units: int) -> None:
    assert minor_units(code) == units
    assert is_iso_currency(code)


@pytest.mark.parametrize("code", ["eur", "XXX", "XAU", "ABC", "", None, 12])
def test_unknown_or_unusable_codes_are_refused(code: object) -> None:
    assert not is_iso_currency(code)
    with pytest.raises(ValueError, match="ISO 4217"):
        minor_units(code)  # type: ignore[arg-type]
