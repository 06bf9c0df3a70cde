"""Typing delivered text: reference dates, ages, stripped and missing text, district names,
numbers with a decimal comma."""

from __future__ import annotations

from datetime import date

import pandas as pd
from barometer.config import load_districts
from barometer.sources.errors import DeliveryError


def single_reference_date(dates: pd.Series, file: str, column: str, rows: pd.Series) -> date:
    """A delivery describes one reference date; several, or an unreadable one, is an error.

    Parsed once per distinct spelling: a column of one repeated date costs no object per row."""
    codes, spellings = pd.factorize(dates, use_na_sentinel=False)
    parsed = pd.to_datetime(pd.Series(spellings), errors="coerce", format="ISO8601")  # never guess day-first
    days = parsed.dt.normalize().to_numpy()[codes]
    bad = parsed.isna().to_numpy()[codes]
    if bad.any():
        raise DeliveryError(file, "reference date is a date (YYYY-MM-DD)", column, rows[bad].tolist())
    distinct = pd.unique(days)
    if len(distinct) != 1:
        raise DeliveryError(
            file,
            "one reference date per delivery",
            column,
            rows[days != days[0]].tolist(),
            detail=f"{len(distinct)} different reference dates",
        )
    return pd.Timestamp(distinct[0]).date()


def age_on(birth: pd.Series, on: pd.Series | date) -> pd.Series:
    """Exact age in whole years on a date: a birthday on the date itself counts."""
    birth = pd.to_datetime(birth)
    on = pd.to_datetime(pd.Series(on, index=birth.index)) if not isinstance(on, pd.Series) else pd.to_datetime(on)
    before_birthday = (on.dt.month < birth.dt.month) | ((on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day))
    return (on.dt.year - birth.dt.year - before_birthday.astype(int)).astype("Int64")


def stripped(values: pd.Series) -> pd.Series:
    """Cells as text without the spaces senders pad them with."""
    return values.astype("string").str.strip()


def blank_as_missing(values: pd.Series) -> pd.Series:
    """Stripped text with an empty cell as <NA>: the sender's 'not given', not a value."""
    return stripped(values).replace("", pd.NA)


def district_columns(names: pd.Series, municipality_code: str, clean=stripped) -> dict[str, pd.Series]:
    """`district_name` (as sent, cleaned) and `district` (the official number, nullable). A
    municipality without a district list (config/districts.py) is published city-wide only:
    whatever its deliveries say of districts is left out, not an error."""
    districts = load_districts(municipality_code)
    if not districts.names:
        missing = pd.Series(pd.NA, index=names.index, dtype="string")
        return {"district_name": missing, "district": pd.Series(pd.NA, index=names.index, dtype="Int64")}
    return {"district_name": clean(names), "district": districts.to_numbers(names)}


def decimal_number(values: pd.Series, *, strict: bool = False) -> pd.Series:
    """Numbers written with a decimal comma ('132,4') as floats; anything unreadable NaN, for
    validation to name its rows.

    Not strict, a decimal point is read too: Excel cells arrive as numbers, which read as
    '132.4'. Strict is for text exports, where only digits and one decimal comma are a number:
    a point there is a thousands separator or a foreign format, never silently a decimal.
    """
    text = stripped(values)
    if strict:
        text = text.where(text.str.fullmatch(r"-?\d+(,\d+)?").fillna(False).astype(bool))
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
