"""The refresh benchmark's inputs: scaled demo deliveries of the sizes it claims, and a bound
that really pseudonymises (a keyed hash per number, else it would skip work the barometer does)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

SCALE = 0.1


def benchmark_module():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "refresh.py"
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


def test_bound_pseudonyms_are_keyed_sha256() -> None:
    """One SHA-256 of key || number: the spec's keyed hash at its cheapest (the barometer's HMAC
    costs two); the benchmark's check compares values, never these pseudonyms."""
    duckdb = pytest.importorskip("duckdb")
    benchmark = benchmark_module()
    numbers = ["0101001234", "3112994567", "1506104321"]
    by_key = {}
    for secret in ["short", "nøgle-" + "k" * 100]:
        connection = duckdb.connect()
        connection.execute(benchmark.pseudonym_macro(secret))
        by_key[secret] = [connection.execute("SELECT pseudonym(?)", [number]).fetchone()[0] for number in numbers]
        assert by_key[secret] == [hashlib.sha256((secret + number).encode()).hexdigest() for number in numbers]
    assert not set(by_key["short"]) & set(by_key["nøgle-" + "k" * 100])  # keyed: another key, other pseudonyms
