"""Synthetic youth guidance register extracts for 1 October 2010-2013, one .xlsx per year, in the
register's layout: sheet `Status`, header in the first row, dates as Excel dates.

Calibrated by construction: the 15-19 year-olds of Danish and of non-Western origin hold exactly
the status counts in COHORTS, whose shares round to the published 1.2 table (2013 continues the
trend). The seeded generator only decides who they are (age, district and its spelling, birth
date, CPR number, row order) and adds the residents the pipeline must leave out: Western origin,
and the register's 14 and 20-25 year-olds.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from string import ascii_uppercase
from xml.sax.saxutils import escape
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import numpy as np
import pandas as pd
from barometer.demo.common import (
    COPENHAGEN,
    apportion,
    birth_dates,
    cpr_numbers,
    has_districts,
    landing_folder,
    spell,
)
from barometer.sources.youth_education import NAME, SPEC, STATUSES

# (completed, enrolled, persons) among the 15-19 year-olds of each origin group: for 2010-2012 the
# shares round to the published table in indicators.md (84.8 = 9,845 of 11,610, …) with room to spare.
COHORTS = {
    2010: {"danish": (2194, 7651, 11610), "non_western": (478, 2586, 3679)},
    2011: {"danish": (2264, 7762, 11978), "non_western": (546, 2495, 3820)},
    2012: {"danish": (2318, 7952, 12329), "non_western": (567, 2492, 3962)},
    2013: {"danish": (2380, 8195, 12671), "non_western": (611, 2608, 4105)},
}
# Indre By's non-Western 15-19 year-olds in 2011: a cell below the disclosure threshold.
SMALL_CELL = {"year": 2011, "group": "non_western", "district": 1, "persons": 4}
# Each group's spread over 'no district known' (index 0) and districts 1-10.
DISTRICT_WEIGHTS = {
    "danish": [0.5, 7, 13, 9, 8, 11, 8, 11, 8, 11, 14],
    "non_western": [0.5, 0.25, 6, 20, 8, 10, 5, 11, 18, 7, 15],
    "western": [0.5, 14, 16, 10, 10, 9, 7, 7, 6, 10, 11],
}
# The Statistics Denmark categories of each group, with their shares within it.
ORIGINS = {
    "danish": {"Dansk oprindelse": 1.0},
    "non_western": {"Indvandrer, ikke-vestlig": 0.35, "Efterkommer, ikke-vestlig": 0.65},
    "western": {"Indvandrer, vestlig": 0.6, "Efterkommer, vestlig": 0.4},
}
# Residents the 1.2 cohort leaves out: persons per year, and P(completed, enrolled, not) by age.
WESTERN_TEENAGERS = 500
OTHER_AGE_PERSONS = 150
OTHER_AGE_STATUS = {
    14: (0.0, 0.04, 0.96),
    20: (0.55, 0.30, 0.15),
    21: (0.62, 0.22, 0.16),
    22: (0.68, 0.15, 0.17),
    23: (0.72, 0.10, 0.18),
    24: (0.75, 0.06, 0.19),
    25: (0.77, 0.04, 0.19),
}
TEENAGER_STATUS = (0.17, 0.66, 0.17)
OTHER_AGE_ORIGINS = {
    "Dansk oprindelse": 0.72,
    "Indvandrer, ikke-vestlig": 0.09,
    "Efterkommer, ikke-vestlig": 0.11,
    "Indvandrer, vestlig": 0.05,
    "Efterkommer, vestlig": 0.03,
}
HYPHENATED = 0.5  # share of CPR numbers written with the hyphen
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial day 0 of Excel's 1900 date system
DATE_STYLE = 1  # the cell format (in _package's styles) that shows a serial number as a date
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
FILE_NAMES = ["UU-udtræk.xlsx", "status_eksport_endelig.xlsx", "Statusliste (2).xlsx", "uu data.xlsx"]


def write(
    landing: Path, seed: int = 2013, size: float = 1.0, *, municipality: str = COPENHAGEN, cohorts: dict = COHORTS
) -> None:
    """One workbook per 1 October into the source's landing folder, each stamped with its send time.
    `size` multiplies the number of residents (benchmarks); only size 1 reproduces the published
    figures, other sizes keep the shares of each group. Another municipality's `cohorts` (COHORTS'
    form) give it its own levels; its district cells are empty."""
    rng = np.random.default_rng(seed)
    folder = landing_folder(landing, NAME)
    for year, file_name in zip(cohorts, FILE_NAMES, strict=False):
        reference_date = date(year, 10, 1)
        persons = pd.concat(
            [_calibrated(cohorts[year], year, rng, size, has_districts(municipality)), _left_out(rng, size)],
            ignore_index=True,
        )
        rows = _register_rows(
            persons.sample(frac=1, random_state=rng, ignore_index=True), reference_date, rng, municipality
        )
        _write_xlsx(rows, folder / file_name, SPEC.format.sheet, sent=datetime(year, 11, 3, 9, 30))


def _calibrated(
    cohort: dict[str, tuple[int, int, int]], year: int, rng: np.random.Generator, size: float, small_cell: bool
) -> pd.DataFrame:
    """The 15-19 year-olds of the two reported groups, with their exact status counts (and
    SMALL_CELL, where there are districts)."""
    parts = []
    for group, counts in cohort.items():
        completed, enrolled, persons = (round(count * size) for count in counts)
        statuses = np.repeat(STATUSES, [completed, enrolled, persons - completed - enrolled])
        parts.append(
            pd.DataFrame(
                {
                    "age": rng.integers(15, 20, persons),
                    "origin": _draw(ORIGINS[group], persons, rng),
                    "district": np.repeat(np.arange(11), _district_sizes(year, group, persons, small_cell)),
                    "status": rng.permutation(statuses),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _left_out(rng: np.random.Generator, size: float) -> pd.DataFrame:
    """Western 15-19 year-olds and the register's other ages (spread over districts like Danish
    residents), drawn freely: 1.2 never counts them."""
    teenagers, per_age = round(WESTERN_TEENAGERS * size), round(OTHER_AGE_PERSONS * size)
    western = pd.DataFrame(
        {
            "age": rng.integers(15, 20, teenagers),
            "origin": _draw(ORIGINS["western"], teenagers, rng),
            "district": rng.choice(11, teenagers, p=_shares(DISTRICT_WEIGHTS["western"])),
            "status": rng.choice(STATUSES, teenagers, p=TEENAGER_STATUS),
        }
    )
    others = pd.DataFrame(
        {
            "age": np.repeat(list(OTHER_AGE_STATUS), per_age),
            "origin": _draw(OTHER_AGE_ORIGINS, per_age * len(OTHER_AGE_STATUS), rng),
            "district": rng.choice(11, per_age * len(OTHER_AGE_STATUS), p=_shares(DISTRICT_WEIGHTS["danish"])),
            "status": np.concatenate([rng.choice(STATUSES, per_age, p=p) for p in OTHER_AGE_STATUS.values()]),
        }
    )
    return pd.concat([western, others], ignore_index=True)


def _draw(shares: dict[str, float], size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(list(shares), size, p=_shares(list(shares.values())))


def _shares(weights: list[float]) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


def _district_sizes(year: int, group: str, persons: int, small_cell: bool) -> np.ndarray:
    """Persons per district (index 0: none known), adding up to `persons` exactly."""
    weights = _shares(DISTRICT_WEIGHTS[group])
    if not small_cell or (year, group) != (SMALL_CELL["year"], SMALL_CELL["group"]):
        return apportion(persons, weights)
    weights[SMALL_CELL["district"]] = 0
    sizes = apportion(persons - SMALL_CELL["persons"], weights)
    sizes[SMALL_CELL["district"]] = SMALL_CELL["persons"]
    return sizes


def _register_rows(
    persons: pd.DataFrame, reference_date: date, rng: np.random.Generator, municipality: str
) -> pd.DataFrame:
    """The register's columns: a birth date that gives each person their age on the reference
    date, a CPR number that agrees with it, a district spelling (none known: an empty cell) and
    the reference date."""
    birth = birth_dates(persons["age"].to_numpy(), reference_date, rng)
    return pd.DataFrame(
        SPEC.table("youth_education").as_delivered(
            {
                "person_id": cpr_numbers(birth, rng, HYPHENATED),
                "birth_date": birth,
                "origin": persons["origin"],
                "district_name": spell(persons["district"], rng, missing=None, municipality=municipality),
                "status": persons["status"],
                "reference_date": pd.Timestamp(reference_date),
            }
        )
    )


def _write_xlsx(rows: pd.DataFrame, path: Path, sheet_name: str, sent: datetime) -> None:
    """A one-sheet workbook as Excel writes it: text in a shared-string table, dates as serial
    numbers in a date format, the sheet's dimension up front. Built as text, column by column:
    openpyxl's per-cell writer (without lxml) takes seconds per 20,000 rows, and its inline
    strings are as slow to read back. Zip timestamps are the send time, so a seed always gives
    the same bytes (landing files are checksummed)."""
    sheet, strings = _sheet_xml(rows)
    parts = {**_package(sheet_name), "xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": strings}
    with ZipFile(path, "w", ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(ZipInfo(name, sent.timetuple()[:6]), text.encode("utf-8"), ZIP_DEFLATED)
    os.utime(path, (sent.timestamp(), sent.timestamp()))


def _sheet_xml(rows: pd.DataFrame) -> tuple[str, str]:
    """The worksheet and its shared strings; datetime columns become date cells, None no cell."""
    text = [c for c in rows.columns if not pd.api.types.is_datetime64_any_dtype(rows[c])]
    strings = pd.Index(pd.unique(pd.concat([pd.Series(rows.columns), *(rows[c].dropna() for c in text)])))
    numbers = pd.Series(np.arange(2, len(rows) + 2), index=rows.index).astype(str)
    row_xml = '<row r="' + numbers + '">'
    for letter, column in zip(ascii_uppercase, rows.columns, strict=False):
        values = rows[column]
        if column in text:
            code = pd.Series(strings.get_indexer(values), index=rows.index).astype(str)
            cell = f'<c r="{letter}' + numbers + '" t="s"><v>' + code + "</v></c>"
            row_xml += cell.where(values.notna(), "")
        else:
            serial = (values - EXCEL_EPOCH).dt.days.astype(str)
            row_xml += f'<c r="{letter}' + numbers + f'" s="{DATE_STYLE}"><v>' + serial + "</v></c>"
    header = "".join(
        f'<c r="{letter}1" t="s"><v>{code}</v></c>' for code, letter in enumerate(ascii_uppercase[: len(rows.columns)])
    )
    last_cell = f"{ascii_uppercase[len(rows.columns) - 1]}{len(rows) + 1}"
    body = (row_xml + "</row>").str.cat()
    sheet = (
        f'{XML}<worksheet xmlns="{MAIN}"><dimension ref="A1:{last_cell}"/><sheetData>'
        f'<row r="1">{header}</row>{body}</sheetData></worksheet>'
    )
    shared = ('<si><t xml:space="preserve">' + strings.to_series().map(escape) + "</t></si>").str.cat()
    return sheet, f'{XML}<sst xmlns="{MAIN}" uniqueCount="{len(strings)}">{shared}</sst>'


def _package(sheet_name: str) -> dict[str, str]:
    """The parts around a one-sheet workbook's sheet and strings; style 1 is a date format."""
    relationship = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    content = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = {
        "workbook.xml": "sheet.main",
        "worksheets/sheet1.xml": "worksheet",
        "styles.xml": "styles",
        "sharedStrings.xml": "sharedStrings",
    }
    targets = {"worksheet": "worksheets/sheet1.xml", "styles": "styles.xml", "sharedStrings": "sharedStrings.xml"}
    return {
        "[Content_Types].xml": (
            f'{XML}<Types xmlns="{package}/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(
                f'<Override PartName="/xl/{part}" ContentType="{content}.{kind}+xml"/>'
                for part, kind in overrides.items()
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            f'{XML}<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Type="{relationship}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'{XML}<workbook xmlns="{MAIN}" xmlns:r="{relationship}"><sheets>'
            f'<sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{XML}<Relationships xmlns="{package}/relationships">'
            + "".join(
                f'<Relationship Id="rId{number}" Type="{relationship}/{kind}" Target="{target}"/>'
                for number, (kind, target) in enumerate(targets.items(), start=1)
            )
            + "</Relationships>"
        ),
        "xl/styles.xml": (
            f'{XML}<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
            '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
            '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>'
            '<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" '
            'borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle '
            'name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
        ),
    }
