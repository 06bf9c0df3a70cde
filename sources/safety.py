"""safety: the centre for crime prevention's annual safety index per area (.xlsx, sheet
`Tryghedsindeks`, title and notes above the table).

Area boundaries change between years, so an area is identified by its Område-ID within its year
only. No personal data: every row is an area.
"""

from __future__ import annotations

import pandas as pd
from barometer.config import source_config
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import decimal_number, district_columns, single_reference_date, stripped
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import ROW, Delivery, StagedDelivery
from barometer.sources.workbook import read_xlsx

NAME = "safety"
TABLES = ["safety_areas"]
COLUMNS = ["Område-ID", "Område", "Bydel", "År", "Indeks", "Anmeldelser pr. 1.000 indb.", "Utryghed (%)"]


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    """`key` is unused (no personal data) but kept so every reader has the same signature."""
    config = source_config(NAME)
    raw = read_xlsx(
        delivery.path, delivery.name, config["sheet"], COLUMNS, header_first_cell=config["header_first_cell"]
    )
    year = _year(raw, delivery.name)
    reference_date = single_reference_date(year.astype(str) + "-12-31", delivery.name, "År", raw[ROW])
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "area_id": stripped(raw["Område-ID"]),
            "area_name": stripped(raw["Område"]),
            **district_columns(raw["Bydel"], municipality_code),
            "year": year,
            "index": decimal_number(raw["Indeks"]),
            "reports_per_1000": decimal_number(raw["Anmeldelser pr. 1.000 indb."]),
            "insecure_percent": decimal_number(raw["Utryghed (%)"]),
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(delivery, reference_date, {TABLES[0]: table}, key_version=None)


def _year(raw: pd.DataFrame, file: str) -> pd.Series:
    """År as a whole number: the year the index describes (its reference date is 31 December)."""
    year = decimal_number(raw["År"])
    bad = year.isna() | (year % 1 != 0)
    if bad.any():
        raise DeliveryError(file, "year (År) is a whole number", "År", raw.loc[bad, ROW].tolist())
    return year.astype("int64")
