"""Reading fast and in bounded memory changes no result: the keyed hash is RFC 2104's HMAC, the
reference date is checked over the whole file however it is stored, and a file read chunk by
chunk gives the same table and the same errors as one read at once."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from barometer.sources import childcare, csv_export
from barometer.sources.errors import DeliveryError
from barometer.sources.parsing import single_reference_date
from barometer.sources.pseudonym import PseudonymKey
from barometer.sources.staged import ROW, Delivery
from barometer.sources.workbook import read_xlsx

CHILD_HEADER = '"cpr","foedselsdato","herkomst","bopaelsbydel","institution_id","opgoerelsesdato"'
INSTITUTIONS = '"institution_id","navn","type","bydel"\n"I1","Myretuen","Vuggestue","Valby"\n'


@pytest.mark.parametrize("secret", ["k", "x" * 64, "a longer key than one SHA-256 block, " * 3, "nøgle"])
def test_pseudonyms_are_the_standard_hmac_sha256_in_hex(secret):
    values = pd.Series(["0101901234", "3112995678", "0101901234", ""])
    expected = [hmac.new(secret.encode(), v.encode(), hashlib.sha256).hexdigest() for v in values]
    assert PseudonymKey(secret).pseudonymise(values).tolist() == expected


@pytest.mark.parametrize("dtype", ["str", "category", "object"])
def test_one_reference_date_is_found_whatever_the_column_holds(dtype):
    dates = pd.Series(["2013-11-01", "2013-11-01 ", "2013-11-01"], dtype=dtype).str.strip().astype(dtype)
    assert single_reference_date(dates, "f.csv", "d", pd.Series([2, 3, 4])) == date(2013, 11, 1)


@pytest.mark.parametrize("dtype", ["str", "category"])
def test_unreadable_and_second_reference_dates_name_their_rows(dtype):
    rows = pd.Series([2, 3, 4, 5])
    unreadable = pd.Series(["2013-11-01", "01.11.2013", "2013-11-01", "01.11.2013"], dtype=dtype)
    with pytest.raises(DeliveryError, match="reference date is a date") as error:
        single_reference_date(unreadable, "f.csv", "d", rows)
    assert error.value.rows == [3, 5]
    several = pd.Series(["2013-11-01", "2013-11-01", "2014-02-01", "2013-11-01"], dtype=dtype)
    with pytest.raises(DeliveryError, match="one reference date per delivery") as error:
        single_reference_date(several, "f.csv", "d", rows)
    assert error.value.rows == [4] and "2 different reference dates" in str(error.value)


def children_delivery(tmp_path: Path, rows: list[str]) -> Delivery:
    folder = tmp_path / "pladsanvisning"
    folder.mkdir()
    (folder / "institutioner.csv").write_text(INSTITUTIONS, encoding="utf-8")
    (folder / "boern.csv").write_text("\n".join([CHILD_HEADER, *rows]) + "\n", encoding="utf-8")
    return Delivery("childcare", folder, "childcare/pladsanvisning", sha256="", modified=0.0)


CHILDREN = [
    '"0101104234","","Dansk oprindelse","Valby","I1","2013-11-01"',
    '"020211-1235","2011-02-02","Indvandrer, vestlig","Valby ","","2013-11-01"',
    '"0311124236","","Efterkommer, ikke-vestlig","Nørrebro","I1","2013-11-01"',
    '"0412131237","2013-12-04","Dansk oprindelse","Vanløse","","2013-11-01"',
    '"0501091238","2009-01-05","Indvandrer, ikke-vestlig","Ukendt","I1","2013-11-01"',
]


def test_children_read_in_chunks_are_the_children_read_at_once(tmp_path, monkeypatch):
    delivery, key = children_delivery(tmp_path, CHILDREN), PseudonymKey("k")
    at_once = childcare.read(delivery, key, "101").tables["children"]
    monkeypatch.setattr(csv_export, "CHUNK_ROWS", 2)
    in_chunks = childcare.read(delivery, key, "101").tables["children"]
    pd.testing.assert_frame_equal(in_chunks, at_once)
    assert at_once["_row"].tolist() == [2, 3, 4, 5, 6]
    assert at_once["age"].tolist() == [3, 2, 0, -1, 4]  # on 1 November 2013; row 5 born after it
    assert at_once["birth_date"].tolist()[:2] == [date(2010, 1, 1), date(2011, 2, 2)]
    assert at_once["district_name"].tolist()[1] == "Valby"
    assert at_once["institution_id"].isna().tolist() == [False, True, False, True, False]
    assert at_once["reference_date"].tolist() == [date(2013, 11, 1)] * 5


def test_unreadable_birth_dates_in_every_chunk_are_named_together(tmp_path, monkeypatch):
    rows = list(CHILDREN)
    rows[0] = rows[0].replace('"",', '"01.01.2010",', 1)
    rows[4] = rows[4].replace("2009-01-05", "2009-13-05")
    monkeypatch.setattr(csv_export, "CHUNK_ROWS", 2)
    with pytest.raises(DeliveryError, match="date of birth is empty or a date") as error:
        childcare.read(children_delivery(tmp_path, rows), PseudonymKey("k"), "101")
    assert error.value.rows == [2, 6] and error.value.column == "foedselsdato"


def test_a_second_reference_date_is_named_before_unreadable_birth_dates(tmp_path, monkeypatch):
    rows = list(CHILDREN)
    rows[0] = rows[0].replace('"",', '"01.01.2010",', 1)
    rows[3] = rows[3].replace('"2013-11-01"', '"2014-02-01"')
    monkeypatch.setattr(csv_export, "CHUNK_ROWS", 2)
    with pytest.raises(DeliveryError, match="one reference date per delivery") as error:
        childcare.read(children_delivery(tmp_path, rows), PseudonymKey("k"), "101")
    assert error.value.rows == [5]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_rows_with_the_wrong_field_count_are_counted_on_bytes_as_the_csv_module_counts_them(
    tmp_path, monkeypatch, encoding
):
    """The byte counter, not the slow csv-module pass, checks every ASCII-compatible encoding
    (utf-8-sig included: its BOM is not part of the separator), with the csv module's rows."""
    path = tmp_path / "export.csv"
    lines = ["a;b;c", '1;"x;y";3', "1;2", "", '"quoted\nline";2;3', "1;2;3;4", "æ;ø;å"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    expected = csv_export._ragged_rows_by_csv(path, encoding, ";", 3)
    assert expected == [(3, 2), (5, 4)]

    def slow(*args):
        raise AssertionError("the csv-module pass ran on a regular file")

    monkeypatch.setattr(csv_export, "_ragged_rows_by_csv", slow)
    assert csv_export._ragged_rows(path, encoding, ";", 3) == expected


@pytest.mark.parametrize("seed", range(4))
def test_the_byte_counter_counts_generated_exports_as_the_csv_module_does(tmp_path, seed):
    """Exports as csv.writer quotes them (separators, quotes and line ends inside fields), some
    rows short or long, read in blocks of a few bytes so that quoted fields, doubled quotes and
    CR LF straddle blocks: wherever the byte counter answers, it is the csv module's answer."""
    import csv
    import io
    import random

    generator, answered, block = random.Random(seed), 0, 7
    for number in range(60):
        text = io.StringIO()
        quoting = generator.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
        writer = csv.writer(text, delimiter=";", quoting=quoting, lineterminator=generator.choice(["\n", "\r\n"]))
        for _ in range(generator.randint(1, 12)):
            fields = 3 if generator.random() > 0.2 else generator.randint(1, 5)
            writer.writerow(["".join(generator.choices('ab ";\n', k=generator.randint(0, 5))) for _ in range(fields)])
        path = tmp_path / f"export{number}.csv"
        path.write_bytes(text.getvalue().encode())
        counter, content = csv_export._FieldCounter(ord(";"), 3), path.read_bytes()
        for start in range(0, len(content), block):
            counter.feed(content[start : start + block])
        counter.finish()
        if counter.regular:
            answered += 1
            assert counter.ragged == csv_export._ragged_rows_by_csv(path, "utf-8", ";", 3), text.getvalue()
    assert answered >= 50, "the byte counter handed most exports to the csv module"


def test_a_sheet_is_read_as_text_from_its_header_to_the_first_empty_row(tmp_path):
    """Title rows above, column A empty, notes below an empty (or blank) row: the table is what
    lies between, with Excel's row numbers; cells arrive as text, empty ones missing."""
    from datetime import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Ark1"
    for row in [
        [None, "Tryghedsindeks 2013"],
        [],
        [None, "Område", "År", "Dato", "Note  "],
        [None, "Valby", 2013, datetime(2013, 10, 1), None],
        [None, " Nord ", 12.5, "2013-10-01", "x"],
        [None, "  ", None, None, None],
        [None, "Kilde: Politiet", None, None, None],
    ]:
        sheet.append(row)
    path = tmp_path / "tryghed.xlsx"
    workbook.save(path)
    frame = read_xlsx(path, "tryghed.xlsx", "Ark1", ["Område", "År", "Dato", "Note"], header_first_cell="Område")
    assert frame[ROW].tolist() == [4, 5]
    assert frame["Område"].tolist() == ["Valby", " Nord "]
    assert frame["År"].tolist() == ["2013", "12.5"]
    assert pd.to_datetime(frame["Dato"], format="ISO8601").tolist() == [pd.Timestamp(2013, 10, 1)] * 2
    assert frame["Note"].isna().tolist() == [True, False]
    with pytest.raises(DeliveryError, match="missing column"):  # without header_first_cell, row 1 is the header
        read_xlsx(path, "tryghed.xlsx", "Ark1", ["Område"])
