"""`barometer export`: the demo refreshed once for 2012-S2, exported as CSV, a workbook and
Parquet; each read back equals the public views, cell for cell."""

from __future__ import annotations

import csv
import hashlib
import math
import uuid
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from barometer.cli import app

pytestmark = pytest.mark.integration

EDITION = "2012-S2"
CODE_NAMES = {
    "indicator_code": ["indicator_name_da", "indicator_name_en", "unit"],
    "group_code": ["group_name_da", "group_name_en"],
    "area_code": ["area_name", "area_level"],
}


@pytest.fixture(scope="module")
def warehouse(demo_warehouse) -> str:
    """The session's demo warehouse, refreshed once for 2012-S2 (conftest): read-only here."""
    return demo_warehouse


def published(query, url: str) -> dict[str, pd.DataFrame]:
    """What the views hold for the edition, read with plain SQL (no barometer code)."""
    return {
        "edition": query(url, f"SELECT * FROM barometer_edition WHERE edition_code = '{EDITION}'"),
        "observations": query(url, "SELECT * FROM barometer_observation WHERE reference_date <= '2012-12-31'"),
    }


def canonical(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Cells as comparable text whatever the file format made of them: numbers and booleans as
    floats, dates as ISO text, NULL/NaN/empty as ''; rows in a fixed order."""

    def cell(value) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == "":
            return ""
        if isinstance(value, (date, datetime)):
            return value.isoformat()[:10]
        value = {"True": "1", "False": "0"}.get(str(value), str(value))
        try:
            return repr(float(value))
        except ValueError:
            return value

    out = frame[columns].map(cell)
    return out.sort_values(columns[:6]).reset_index(drop=True)


def export(url: str, file_format: str, out: Path) -> list[Path]:
    result = CliRunner().invoke(
        app, ["export", "--edition", EDITION, "--format", file_format, "--out", str(out), "--warehouse", url]
    )
    assert result.exit_code == 0, result.output
    return [Path(line) for line in result.output.splitlines()]


def assert_equals_views(tables: dict[str, pd.DataFrame], views: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        expected = views[name]
        assert len(frame) == len(expected), name
        pd.testing.assert_frame_equal(
            canonical(frame, list(expected.columns)), canonical(expected, list(expected.columns)), obj=name
        )


def test_csv_reads_back_as_the_views(warehouse, query, tmp_path):
    paths = export(warehouse, "csv", tmp_path)
    assert [p.name for p in paths] == [f"barometer_{EDITION}_edition.csv", f"barometer_{EDITION}_observations.csv"]
    tables = {
        name: pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        for name, path in zip(["edition", "observations"], paths, strict=True)
    }
    assert_equals_views(tables, published(query, warehouse))

    observations = tables["observations"]
    assert observations["reference_date"].max() == "2012-12-31", "every observation up to the edition's end"
    for code, names in CODE_NAMES.items():  # names and units right after their code
        at = list(observations.columns).index(code)
        assert list(observations.columns[at + 1 : at + 1 + len(names)]) == names
    youth = observations[(observations["indicator_code"] == "1.2") & (observations["area_code"] == "101")]
    assert set(youth["indicator_name_da"]) == {"Andel 15-19-årige i gang med eller færdige med en ungdomsuddannelse"}
    assert set(youth["unit"]) == {"percent"}
    assert set(youth.loc[youth["group_code"] == "non_western", "group_name_da"]) == {"Ikke-vestlig oprindelse"}

    # Spec 1.2, non-Western youth, October 2012: 77.2 %, previous 79.6, regress.
    edition = tables["edition"].set_index(["indicator_code", "group_code", "area_code"])
    youth_2012 = edition.loc[("1.2", "non_western", "101")]
    assert (round(float(youth_2012["value"]), 1), round(float(youth_2012["previous_value"]), 1)) == (77.2, 79.6)
    assert youth_2012["status"] == "regress" and youth_2012["goal_name_da"] == "Flere unge styrket ud af folkeskolen"
    assert edition.loc[("7.1", "all", "101"), "status"] == "not_measured"

    with paths[1].open(encoding="utf-8", newline="") as handle:  # suppressed: empty cells, with their status
        suppressed = [row for row in csv.DictReader(handle) if row["obs_status"] == "suppressed"]
    assert suppressed and all(
        row[c] == "" for row in suppressed for c in ["value", "numerator", "denominator", "n", "ci_low", "ci_high"]
    )


def test_workbook_has_a_sheet_per_table_and_one_describing_the_columns(warehouse, query, tmp_path):
    [path] = export(warehouse, "xlsx", tmp_path)
    sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    assert list(sheets) == ["edition", "observations", "columns"]
    assert_equals_views(
        {"edition": sheets["edition"], "observations": sheets["observations"]}, published(query, warehouse)
    )
    described = sheets["columns"]
    for table in ["edition", "observations"]:
        meanings = described[described["table"] == table].set_index("column")["meaning"]
        assert list(meanings.index) == list(sheets[table].columns)
        assert meanings.str.len().gt(5).all(), f"{table}: every column has a meaning"
    assert "`" not in "".join(described["meaning"]), "meanings are plain text"


def test_parquet_reads_back_as_the_views_with_column_meanings(warehouse, query, tmp_path):
    import pyarrow.parquet as pq

    paths = export(warehouse, "parquet", tmp_path)
    tables = {name: pq.read_table(path) for name, path in zip(["edition", "observations"], paths, strict=True)}
    assert_equals_views({name: table.to_pandas() for name, table in tables.items()}, published(query, warehouse))
    schema = tables["observations"].schema
    assert str(schema.field("reference_date").type) == "date32[day]"
    assert schema.field("obs_status").metadata[b"description"].decode().startswith("normal, or suppressed")


def test_unknown_edition_says_which_exist(warehouse, tmp_path):
    result = CliRunner().invoke(
        app, ["export", "--edition", "2013-S1", "--out", str(tmp_path), "--warehouse", warehouse]
    )
    assert result.exit_code == 1
    assert "Edition 2013-S1 is not in the warehouse (it has 2012-S2)" in result.output
    assert not list(tmp_path.iterdir()), "nothing written"


# Read-only access is enough -----------------------------------------------------------------------


def test_a_read_only_sqlite_url_exports_the_same_files(warehouse, read_only, tmp_path):
    database = Path(make_url(warehouse).database)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    for file_format in ["csv", "parquet"]:
        writable = export(warehouse, file_format, tmp_path / "writable")
        read_only_files = export(read_only(warehouse), file_format, tmp_path / "read-only")
        assert [p.read_bytes() for p in read_only_files] == [p.read_bytes() for p in writable], file_format
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before, "the warehouse is untouched"


def test_a_missing_file_behind_a_read_only_url_is_named(read_only, tmp_path):
    missing = tmp_path / "nowhere.sqlite"
    result = CliRunner().invoke(
        app, ["export", "--edition", EDITION, "--out", str(tmp_path), "--warehouse", read_only(f"sqlite:///{missing}")]
    )
    assert result.exit_code == 1
    assert f"There is no SQLite warehouse at '{missing}'" in result.output
    assert not list(tmp_path.iterdir()), "nothing written, not even an empty database"


@pytest.mark.postgres
def test_a_login_holding_only_the_analyst_role_exports_and_reports(demo_warehouse_postgresql, query, tmp_path):
    """As an analyst in production: a person's login granted barometer_analyst, which may read the
    public views and create or change nothing, so neither command may try to initialise or migrate."""
    from barometer.warehouse.roles import ANALYST_ROLE

    postgres_url = demo_warehouse_postgresql  # the demo refreshed once per session (conftest)
    analyst = f"barometer_test_analyst_{uuid.uuid4().hex[:12]}"
    administrator = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(administrator, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {analyst} LOGIN")
        admin.execute(f"GRANT {ANALYST_ROLE} TO {analyst}")
    try:
        as_analyst = make_url(postgres_url).set(username=analyst).render_as_string(hide_password=False)
        paths = export(as_analyst, "csv", tmp_path / "export")
        tables = {
            name: pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            for name, path in zip(["edition", "observations"], paths, strict=True)
        }
        assert_equals_views(tables, published(query, postgres_url))

        out = tmp_path / "report.html"
        result = CliRunner().invoke(app, ["report", "--edition", EDITION, "--warehouse", as_analyst, "--out", str(out)])
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        assert page.count('<article class="indicator"') == 15 and "77,2" in page
    finally:
        with psycopg.connect(administrator, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {analyst}")
