"""A delivered column renamed by its sender is renamed in the source's spec alone: the reader,
the rules and their messages follow (issue 23)."""

from dataclasses import replace
from datetime import date

import pytest
from barometer.sources import youth_education
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import delivery_at
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.spec import SourceSpec
from openpyxl import Workbook

KEY = PseudonymKey("a test key, never a real one")


def renamed(spec: SourceSpec, header: str, new: str) -> SourceSpec:
    """The spec with one delivered header renamed, wherever a column is read or derived from it."""
    tables = tuple(
        replace(table, columns=tuple(replace(c, file=new) if c.file == header else c for c in table.columns))
        for table in spec.tables
    )
    return replace(spec, tables=tables)


def deliver(tmp_path, spec: SourceSpec, origin: str):
    table = spec.table("youth_education")
    person = {
        "person_id": "050695-1231",
        "birth_date": date(1995, 6, 5),
        "origin": origin,
        "district_name": "Amager Øst",
        "status": youth_education.COMPLETED,
        "reference_date": date(2012, 10, 1),
    }
    workbook = Workbook()
    workbook.active.title = spec.format.sheet
    workbook.active.append(table.headers)
    workbook.active.append(list(table.as_delivered(person).values()))
    folder = tmp_path / spec.folder
    folder.mkdir(parents=True)
    workbook.save(folder / "status.xlsx")
    return delivery_at(spec.name, folder / "status.xlsx", f"{spec.folder}/status.xlsx", zone=tmp_path)


def test_a_header_renamed_in_the_spec_is_read_and_named_in_errors(tmp_path, monkeypatch):
    spec = renamed(youth_education.SPEC, "Herkomst", "Oprindelse")
    monkeypatch.setattr(youth_education, "SPEC", spec)
    assert (
        "Oprindelse" in spec.table("youth_education").headers
        and "Herkomst" not in spec.table("youth_education").headers
    )
    staged = youth_education.read(deliver(tmp_path, spec, "Dansk oprindelse"), KEY, "101")
    youth_education.validate(staged)
    assert staged.tables["youth_education"]["origin_group"].tolist() == ["danish"]

    broken = youth_education.read(deliver(tmp_path / "again", spec, "Udlænding"), KEY, "101")
    with pytest.raises(DeliveryError) as raised:
        youth_education.validate(broken)
    assert raised.value.column == "Oprindelse"
