"""Benchmark: the person-level steps at national scale (millions of rows), measured and printed.

Run: .venv/bin/python benchmarks/national_scale.py [--persons 5000000]
Prints seconds and peak memory for pseudonymisation, the age derivation and the 1.2 transform on
synthetic youth-education rows. Targets live here, not in unit tests: a benchmark measures on
the machine it runs on; a timed unit test only flakes.
"""

from __future__ import annotations

import argparse
import resource
import time
from contextlib import contextmanager
from datetime import date

import numpy as np
import pandas as pd
from barometer.sources.parsing import age_on
from barometer.sources.pseudonym import PseudonymKey, split_cpr
from barometer.transforms.youth_education import COMPLETED, ENROLLED
from barometer.transforms.youth_education import compute as compute_youth_education

ORIGINS = np.array(["danish", "western", "non_western"])
STATUSES = np.array([COMPLETED, ENROLLED, "Ikke i gang"])


@contextmanager
def measured(step: str, rows: int):
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{step:<32} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s  peak {peak_mib:,.0f} MiB")


def synthetic_cprs(rng: np.random.Generator, persons: int) -> pd.Series:
    """Valid-looking CPR numbers (born 1985-2011), half written with a hyphen."""
    birth = pd.Timestamp("1985-01-01") + pd.to_timedelta(rng.integers(0, 26 * 365, persons), unit="D")
    serial = rng.integers(0, 10_000, persons)
    seventh = np.where(birth.year >= 2000, 4, 0)
    serial = seventh * 1000 + serial % 1000
    text = birth.strftime("%d%m%y").to_numpy().astype(str)
    digits = pd.Series(np.char.add(text, np.char.zfill(serial.astype(str), 4)))
    hyphenated = digits.str[:6] + "-" + digits.str[6:]
    return digits.where(rng.random(persons) < 0.5, hyphenated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5_000_000, help="person rows (default 5,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    persons = parser.parse_args().persons
    rng = np.random.default_rng(parser.parse_args().seed)
    cprs = synthetic_cprs(rng, persons)
    rows = pd.Series(np.arange(2, persons + 2))
    with measured("pseudonymise CPR (HMAC-SHA256)", persons):
        people = split_cpr(cprs, "benchmark", "cpr", rows, PseudonymKey("benchmark-key"))
    del cprs
    reference = date(2012, 10, 1)
    with measured("age on the reference date", persons):
        people["age"] = age_on(people["cpr_birth_date"], reference)
    people["origin_group"] = ORIGINS[rng.integers(0, 3, persons)]
    people["status"] = STATUSES[rng.integers(0, 3, persons)]
    people["district"] = pd.array(rng.integers(1, 11, persons), dtype="Int64")
    people["reference_date"] = reference
    with measured("indicator 1.2 (city + districts)", persons):
        observations = compute_youth_education({"youth_education": people}, "101")
    print(f"{len(observations)} observations")


if __name__ == "__main__":
    main()
