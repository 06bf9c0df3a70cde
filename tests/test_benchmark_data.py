"""The refresh benchmark's inputs: scaled demo deliveries of the sizes it claims, and a bound
that pseudonymises exactly as the barometer does (else its cost would not be the same work)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from barometer.sources.pseudonym import PseudonymKey

SCALE = 0.1


def benchmark_module():
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "refresh.py"
    spec = importlib.util.spec_from_file_location("refresh_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_scaled_landing_has_the_claimed_sizes(tmp_path: Path) -> None:
    benchmark = benchmark_module()
    landing, statbank = benchmark.write_landing(tmp_path, SCALE)
    for source, rows in benchmark.COPENHAGEN.items():
        latest = max(benchmark.delivery_rows(d) for d in (landing / source).iterdir())
        per_pupil = 7.5 if source == "grades" else 1  # the grades file has a row per exam
        assert latest == pytest.approx(SCALE * rows * per_pupil, rel=0.15), source  # "about"
    schools = [benchmark.delivery_rows(f) for f in (landing / "school_enrolment").glob("*/skoler*.csv")]
    assert max(schools) == benchmark.FEWEST_PUBLIC_SCHOOLS + benchmark.OTHER_SCHOOLS
    assert (statbank / "KAS201.bulk.csv").exists()


def test_bound_pseudonyms_are_the_barometers() -> None:
    duckdb = pytest.importorskip("duckdb")
    benchmark = benchmark_module()
    numbers = ["0101001234", "3112994567", "1506104321"]
    for secret in ["short", "k" * 100]:  # a key longer than SHA-256's block is hashed first
        connection = duckdb.connect()
        connection.execute(benchmark.hmac_macro(secret))
        ours = [connection.execute("SELECT pseudonym(?)", [number]).fetchone()[0] for number in numbers]
        assert ours == PseudonymKey(secret).pseudonymise(pd.Series(numbers)).tolist()
