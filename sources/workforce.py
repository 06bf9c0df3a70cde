"""workforce: the payroll/HR system's annual staff extract (CSV, UTF-8, `;`).

There is no CPR number, but the employee number identifies a person just as well: it is replaced
by a keyed pseudonym as each chunk is read and never exists beyond the reader.
"""

from __future__ import annotations

import pandas as pd
from barometer.sources.csv_export import read_csv
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import single_reference_date
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import ROW, Delivery, StagedDelivery

NAME = "workforce"
TABLES = ["employees"]
COLUMNS = ["medarbejder_nr", "forvaltning", "stillingsbetegnelse", "leder", "herkomst", "opgoerelsesdato"]
EMPLOYEE_NUMBER = "medarbejder_nr"
# The extract's origin codes mapped to the barometer's groups; 'uoplyst' (unknown) has none.
ORIGIN_GROUPS = {"dansk": "danish", "vestlig": "western", "ikke-vestlig": "non_western", "uoplyst": None}
MANAGER_FLAGS = ["J", "N"]


def read(delivery: Delivery, key: PseudonymKey, municipality_code: str = "101") -> StagedDelivery:
    def pseudonymise(chunk: pd.DataFrame) -> pd.DataFrame:
        number = chunk[EMPLOYEE_NUMBER].str.strip()
        if (number == "").any():
            raise DeliveryError(
                delivery.name, "employee number is given", EMPLOYEE_NUMBER, chunk.loc[number == "", ROW].tolist()
            )
        return chunk.drop(columns=EMPLOYEE_NUMBER).assign(person_id=key.pseudonymise(number))

    raw = read_csv(delivery.path, delivery.name, COLUMNS, prepare=pseudonymise)
    reference_date = single_reference_date(raw["opgoerelsesdato"], delivery.name, "opgoerelsesdato", raw[ROW])
    origin = raw["herkomst"].str.strip()
    table = pd.DataFrame(
        {
            ROW: raw[ROW],
            "person_id": raw["person_id"],
            "department": raw["forvaltning"].str.strip(),
            "job_title": raw["stillingsbetegnelse"].str.strip(),
            "manager_flag": raw["leder"].str.strip(),
            "is_manager": raw["leder"].str.strip() == "J",
            "origin": origin,
            "origin_group": origin.map(ORIGIN_GROUPS).astype("string"),
            "reference_date": reference_date,
        }
    )
    return StagedDelivery(delivery, reference_date, {TABLES[0]: table}, key.version)
