"""Numbers, dates and lists in Danish, as the report writes them: Babel with CLDR's da_DK, so the
page reads the same whatever the machine's locale."""

from __future__ import annotations

import math

import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "da_DK"
NUMBER_WORDS = ["nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv"]


def missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def danish_number(value, decimals: int = 1, signed: bool = False) -> str:
    """1234.56 -> '1.234,6', with a real minus sign (CLDR's Danish one is the hyphen), '–' for no
    value. Rounded as everywhere else in the barometer (Python's round, half to even on the float)
    before Babel formats it. A signed change keeps its sign when it rounds to zero ('−0,0'), so it
    agrees with its status."""
    if missing(value):
        return "–"
    rounded = round(float(value), decimals)
    negative = value < 0 if signed else rounded < 0
    sign = "−" if negative else "+" if signed and value > 0 else ""
    return sign + format_decimal(abs(rounded), format="#,##0." + "0" * decimals if decimals else "#,##0", locale=LOCALE)


def decimals_of(unit: str) -> int:
    return 0 if unit == "count" else 1


def danish_date(day) -> str:
    """'1. okt. 2012': CLDR's medium Danish date."""
    return "–" if missing(day) else format_date(day, format="medium", locale=LOCALE)


def number_word(number: int) -> str:
    """Small counts in words, as Danish prose writes them."""
    return NUMBER_WORDS[number] if number < len(NUMBER_WORDS) else str(number)


def danish_list(words: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b og c'."""
    return " og ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0]
