"""`barometer validate PATH`: one delivery checked against its source's rules without Prefect
and without the warehouse; exit 0 if valid, 1 if not, 2 for usage errors. The broken corpus is
in test_broken_deliveries.py; these are the command's own behaviours, on the same small
deliveries in the real formats (helpers/delivery_builders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_builders import VALID, assert_safe, cell
from typer.testing import CliRunner

from barometer.cli import app


def validate(*arguments: str):
    return CliRunner().invoke(app, ["validate", *arguments])


@pytest.fixture
def isolated(monkeypatch, tmp_path) -> Path:
    """No key, a Prefect API nobody answers and a warehouse that must not appear: `validate`
    needs none of them."""
    monkeypatch.delenv("BAROMETER_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("BAROMETER_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'untouched.sqlite'}")
    return tmp_path / "landing"


@pytest.mark.parametrize("source", VALID)
def test_a_valid_delivery_exits_0_and_says_what_it_holds(isolated, source):
    spec = VALID[source]()
    result = validate(str(spec.write(isolated)))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{spec.shown()}: valid (")
    assert "reference date 2012-" in result.output
    assert_safe(result.output)
    assert not (isolated.parent / "untouched.sqlite").exists()


def test_a_file_inside_a_folder_delivery_validates_the_whole_folder(isolated):
    spec = VALID["childcare"]()
    folder = spec.write(isolated)
    result = validate(str(folder / "boern_nov.csv"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{spec.shown()}: valid (6 rows")


def test_the_source_can_be_given_for_a_file_outside_the_landing_zone(isolated, tmp_path):
    spec = VALID["workforce"]()
    cell(0, "leder", "Ja")(spec)
    path = tmp_path / "downloads" / spec.entry
    path.parent.mkdir()
    spec.files[spec.entry].write(path)
    assert validate(str(path)).exit_code == 2
    result = validate(str(path), "--source", "workforce")
    assert result.exit_code == 1
    assert result.output.startswith("workforce/personale.csv: rule 'leder is J or N' broken in column 'leder' at row 2")


def test_the_municipality_key_gives_the_same_verdict(isolated, monkeypatch):
    spec = VALID["grades"]()
    cell(4, "institutionsnummer", "101002")(spec)
    path = str(spec.write(isolated))
    without_key = validate(path)
    monkeypatch.setenv("BAROMETER_PSEUDONYM_KEY", "the-municipality's-key")
    assert validate(path).output == without_key.output
    assert without_key.exit_code == 1 and "one school per pupil" in without_key.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.csv"], "does not exist"),
        (["grades/~$karakterer.xlsx"], "is not a delivery"),
        (["elsewhere/data.csv"], "is not inside a landing folder"),
        (["grades/data.csv", "--source", "weather"], "unknown source 'weather'"),
        (["grades/data.csv", "--source", "employment"], "fetched from StatBank"),
    ],
)
def test_usage_errors_exit_2_with_a_reason(isolated, arguments, message):
    for name in ("grades/~$karakterer.xlsx", "elsewhere/data.csv", "grades/data.csv"):
        (isolated / name).parent.mkdir(parents=True, exist_ok=True)
        (isolated / name).write_bytes(b"x")
    path, *options = arguments
    result = validate(str(isolated / path), *options)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_validate_is_documented_in_the_help():
    result = CliRunner().invoke(app, ["validate", "--help"])
    assert result.exit_code == 0 and "--source" in result.output
