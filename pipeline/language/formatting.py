"""Numbers and dates for people: the percentages of the tables (one decimal, halves rounded up as Excel
and SPSS do), and their Dutch writing in the templates (13%; 3 oktober 2018; € 3.000), with Babel.

The report writes every percentage in whole percents: of a few dozen networks a decimal suggests a
precision the counts do not have, and one rule keeps "83%" from standing beside "50%". The tables' files
(CSV, tables.xlsx) keep the one decimal, to calculate with."""

from __future__ import annotations

import re

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "nl_NL"


def number(value, digits: int = 0) -> str:
    """A number the Dutch way: 1.234 or 12,5; empty for a missing value."""
    if value in (None, ""):
        return ""
    value = float(value)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def percent(value) -> str:
    """A percentage (0-100) the Dutch way, in whole percents, halves rounded up: 12,5 -> 13%."""
    if value in (None, ""):
        return ""
    whole = Decimal(str(float(value))).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return number(int(whole)) + "%"


# A whole amount with the euro sign before it or "euro" after it; amounts with cents are left as written.
_WHOLE = r"(\d{1,3}(?:\.\d{3})+|\d+)(?!\d)(?![.,]\d)"
_AMOUNT = re.compile(rf"€\s?{_WHOLE}(?:,-)?|(?<![\w.,]){_WHOLE}\s?(?:euro|EUR)(?![\w-])", re.IGNORECASE)


def amounts(text: str) -> str:
    """Amounts of money in the Dutch style: "3000 euro", "€3000" and "€ 3000,-" become "€ 3.000"."""
    def dutch(match: re.Match) -> str:
        digits = (match.group(1) or match.group(2)).replace(".", "")
        return "€\u00a0" + number(int(digits))
    return _AMOUNT.sub(dutch, text)


def long_date(value) -> str:
    """3 oktober 2018."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    assert isinstance(value, date)
    return format_date(value, format="d MMMM y", locale=LOCALE)


def month_year(value) -> str:
    """oktober 2018."""
    if value in (None, ""):
        return ""
    return format_date(value, format="MMMM y", locale=LOCALE)


def count_word(n, singular: str, plural: str) -> str:
    """'1 netwerk', '3 netwerken'."""
    n = int(n)
    return f"{number(n)} {singular if n == 1 else plural}"


FILTERS = {"number": number, "percent": percent, "amounts": amounts, "long_date": long_date, "month_year": month_year,
           "count_word": count_word}


def rounded_percent(part: int, whole: int) -> float | None:
    """100 * part / whole with one decimal, halves rounded up as Excel and SPSS do (9 of 16: 56.3, where
    Python's round gives 56.2); None when there is no whole."""
    if not whole:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
