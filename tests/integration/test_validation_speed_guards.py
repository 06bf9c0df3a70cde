"""What keeps validation cheap, checked by behaviour (no timings): Great Expectations is not
imported until something is validated, each table is validated in one suite run on a frame that
shares the staged columns and holds no personal value, in dtypes GX compares vectorised, the
suite's result holds counts (only the reported rule is run again, alone, for its rows), and the
Data Docs keep counts, not lists of rows."""

import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest
from barometer.sources.errors import DeliveryError
from barometer.sources.youth_education import SPEC
from barometer.validations import common, data_docs
from barometer.validations.columns import table_expectations


def expectations() -> list:
    return table_expectations(SPEC.table("youth_education"))


MODULES = [
    "barometer.validations.common",
    "barometer.validations.data_docs",
    "barometer.flows.refresh",
    "barometer.sources.registry",
    *(
        f"barometer.validations.{source}"
        for source in [
            "employment",
        ]
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_importing_does_not_import_great_expectations(name):
    """Its import takes seconds: a process that validates nothing never pays it."""
    code = f"import sys, {name}; print('great_expectations' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"


def youth_table(ages: list[int | None]) -> pd.DataFrame:
    size = len(ages)
    return pd.DataFrame(
        {
            "_row": np.arange(2, size + 2),
            "person_id": pd.array([f"pseudonym-{i}" for i in range(size)], dtype="string"),
            "birth_date": [date(1995, 6, 5)] * size,
            "age": pd.array(ages, dtype="Int64"),
            "origin": pd.array(["Dansk oprindelse"] * size, dtype="string"),
            "origin_group": pd.array(["danish"] * size, dtype="string"),
            "district_name": pd.array(["Amager Øst"] * size, dtype="string"),
            "district": pd.array([1] * size, dtype="Int64"),
            "status": pd.array(["Ikke i gang"] * size, dtype="string"),
            "reference_date": [date(2012, 10, 1)] * size,
            "unread": np.arange(size, dtype="int64"),
        }
    )


def text_buffer(column: pd.Series) -> int:
    """The address of an Arrow-backed text column's character data."""
    return column.array.__arrow_array__().chunk(0).buffers()[-1].address


def test_the_batch_frame_holds_codes_numpy_dtypes_and_the_staged_columns_themselves():
    table = youth_table([17, None, 18])
    batch = common.batch_frame(table, expectations())
    assert batch.index.name == "_row" and batch.index.tolist() == [2, 3, 4]
    assert "unread" not in batch and "district_name" not in batch, "only the columns the suite reads"
    assert batch["person_id"].tolist() == [0, 1, 2], "pseudonyms replaced by codes"
    assert batch["age"].dtype == np.float64 and batch["age"].isna().tolist() == [False, True, False]
    assert pd.api.types.is_datetime64_any_dtype(batch["birth_date"])
    assert text_buffer(batch["status"]) == text_buffer(table["status"]), "a column passed on as it is is not copied"
    assert table["person_id"].dtype == "string" and table["age"].dtype == "Int64", "the staged frame is untouched"


def test_a_table_is_validated_in_one_suite_run(monkeypatch):
    runs = []
    validate = common._validate
    monkeypatch.setattr(common, "_validate", lambda frame, suite: runs.append(suite) or validate(frame, suite))
    common.check(youth_table([17, 18]), expectations(), "uu.xlsx", "youth_education")
    assert len(runs) == 1 and len(runs[0].expectations) == len(expectations())


def test_a_rule_broken_in_many_rows_names_them_and_the_data_docs_keep_only_counts():
    table = youth_table([99] * 2000)
    validated = []
    with pytest.raises(DeliveryError) as raised:
        common.check(
            table, expectations(), "uu.xlsx", "youth_education", {"age": "Fødselsdato"}, record=recorder(validated)
        )
    assert raised.value.rows == list(range(2, 2002)) and raised.value.column == "Fødselsdato"
    [entry] = validated
    [broken] = [outcome for outcome in entry.result.results if not outcome.success]
    assert broken.result["unexpected_count"] == 2000 and "unexpected_index_list" not in broken.result


def recorder(validated: list):
    """A Data Docs recorder keeping each result in `validated`."""
    return lambda file, result: validated.append(data_docs.Validated(file, result))


@pytest.fixture
def suite_runs(monkeypatch) -> list:
    """Every suite run's expectation types, in order."""
    runs = []
    validate = common._validate

    def spy(frame, suite, *result_format):
        runs.append([expectation.expectation_type for expectation in suite.expectations])
        return validate(frame, suite, *result_format)

    monkeypatch.setattr(common, "_validate", spy)
    return runs


def test_a_valid_table_is_recorded_with_counts_only(suite_runs):
    validated = []
    common.check(youth_table([17, 18, 19]), expectations(), "uu.xlsx", "youth_education", record=recorder(validated))
    [entry] = validated
    assert len(suite_runs) == 1
    for outcome in entry.result.results:
        assert outcome.success and outcome.result["unexpected_count"] == 0 and outcome.result["element_count"] == 3
        assert not {"unexpected_index_list", "partial_unexpected_list"} & set(outcome.result)


def test_only_the_first_broken_rule_is_run_again_for_its_rows(suite_runs):
    table = youth_table([99, 17, 12, 18])
    table.loc[[0, 2], "status"] = "Ukendt"
    with pytest.raises(DeliveryError) as raised:
        common.check(table, expectations(), "uu.xlsx", "youth_education", {"status": "Status"})
    assert raised.value.rule == "status is completed, enrolled or not enrolled", "the first in the suite's order"
    assert raised.value.column == "Status" and raised.value.rows == [2, 4]
    assert raised.value.detail == "2 row(s) break it"
    assert suite_runs[1:] == [["expect_column_values_to_be_in_set"]], "the age rule, broken too, is not re-run"
