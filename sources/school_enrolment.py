"""school_enrolment: the November pupil register, a folder of two UTF-8-with-BOM `;` CSVs.

`skoler*.csv` lists the schools, `elever*.csv` every resident child aged 6-16 with the school
they attend (empty: none known). The reference date is the pupils' `opgoerelsesdato`; the
school list carries none, so it takes the pupils' date.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from barometer.config import source_config
from barometer.sources.csv_export import read_csv
from barometer.sources.landing import folder_file
from barometer.sources.parsing import age_on, blank_as_missing, district_columns, single_reference_date
from barometer.sources.pseudonym import PseudonymKey, pseudonymise_cpr
from barometer.sources.staged import ROW, Delivery, StagedDelivery

NAME = "school_enrolment"
TABLES = ["schools", "pupils"]
SCHOOL_COLUMNS = ["institutionsnummer", "skolenavn", "bydel", "skoletype"]
PUPIL_COLUMNS = ["cpr", "institutionsnummer", "bopaelsbydel", "tosproget", "opgoerelsesdato"]
BILINGUAL_CODES = {"J": True, "N": False}


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    config = source_config(NAME)
    pupils_path, pupils_file = folder_file(delivery, config["files"]["pupils"])
    schools_path, schools_file = folder_file(delivery, config["files"]["schools"])
    pupils = _read_pupils(pupils_path, pupils_file, key, config["encoding"], municipality_code)
    reference_date = pupils["reference_date"].iloc[0]
    schools = _read_schools(schools_path, schools_file, config["encoding"], municipality_code, reference_date)
    return StagedDelivery(delivery, reference_date, {"schools": schools, "pupils": pupils}, key.version)


def _read_pupils(path: Path, file: str, key: PseudonymKey, encoding: str, municipality_code: str) -> pd.DataFrame:
    raw = read_csv(path, file, PUPIL_COLUMNS, encoding=encoding, prepare=pseudonymise_cpr("cpr", file, key))
    reference_date = single_reference_date(raw["opgoerelsesdato"], file, "opgoerelsesdato", raw[ROW])
    bilingual_code = blank_as_missing(raw["tosproget"])
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "birth_date": raw["cpr_birth_date"],
            "age": age_on(raw["cpr_birth_date"], reference_date),
            "school_number": blank_as_missing(raw["institutionsnummer"]),
            **district_columns(raw["bopaelsbydel"], municipality_code, blank_as_missing),
            "bilingual_code": bilingual_code,
            "bilingual": bilingual_code.map(BILINGUAL_CODES).astype("boolean"),
            "reference_date": reference_date,
        }
    )


def _read_schools(path: Path, file: str, encoding: str, municipality_code: str, reference_date: date) -> pd.DataFrame:
    raw = read_csv(path, file, SCHOOL_COLUMNS, encoding=encoding)
    return pd.DataFrame(
        {
            ROW: raw[ROW],
            "school_number": blank_as_missing(raw["institutionsnummer"]),
            "school_name": blank_as_missing(raw["skolenavn"]),
            **district_columns(raw["bydel"], municipality_code, blank_as_missing),
            "school_type": blank_as_missing(raw["skoletype"]),
            "reference_date": reference_date,
        }
    )
