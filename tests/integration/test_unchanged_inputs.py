"""Checksums decide what reruns: a refresh whose inputs for a source are unchanged since the last
load reuses that source's stored observations, and the warehouse ends exactly as a fresh one.

The pipeline runs in this process without Prefect (as a local CLI run does), against the demo
landing zone and the StatBank stand-in on 127.0.0.1, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date

import pandas as pd
import pytest
from barometer.config import RunRequest
from barometer.flows.context import RunContext
from barometer.flows.pipeline import refresh
from barometer.flows.steps import LocalSteps
from barometer.sources import landing as landing_zone
from barometer.sources.registry import all_sources
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration

EDITION = "2012-S2"
GRADE, OTHER_GRADE = "12", "10"  # two marks of the 7-point scale, written with as many characters
VIEWS = ["barometer_observation", "barometer_edition", "barometer_delivery", "indicator_catalogue"]


def run(landing, warehouse_url: str, statbank_url: str):
    steps = LocalSteps(RunContext())
    request = RunRequest.build(
        os.environ, edition=EDITION, landing_dir=landing, warehouse_url=warehouse_url, statbank_url=statbank_url
    )
    try:
        return refresh(request, steps)
    finally:
        steps.close()


def views(url: str, without_run_ids: bool = False) -> dict[str, pd.DataFrame]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            frames = {v: pd.read_sql(text(f"SELECT * FROM {v}"), connection) for v in VIEWS}
    finally:
        engine.dispose()
    for name, frame in frames.items():
        frame = frame.drop(columns=[c for c in frame.columns if without_run_ids and c == "run_id"])
        # PostgreSQL answers booleans and dates as such, SQLite as numbers and text: compare values.
        frame = frame.map(comparable)
        frames[name] = frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


def comparable(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "NULL"
    if isinstance(value, (bool, int, float)):
        return repr(float(value))
    return str(value)[:10] if isinstance(value, date) else str(value)


def assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame], names=VIEWS) -> None:
    for name in names:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


def test_unchanged_inputs_are_not_read_again_and_a_touched_delivery_recomputes_only_its_source(
    pseudonym_key, landing, statbank_url, demo_warehouse_copy
):
    """The warehouse is the session's fresh refresh of these same inputs (conftest), on both
    databases: every source was computed there, so each rerun must end exactly as a fresh one."""
    published = views(demo_warehouse_copy)

    again = run(landing, demo_warehouse_copy, statbank_url)
    assert sorted(again.reused) == sorted(all_sources()), again.text()
    assert again.observations == 0, "nothing was recomputed"
    assert not again.failed and set(again.loaded) == set(all_sources()) - set(again.skipped), again.text()
    assert_same(views(demo_warehouse_copy), published)  # byte-identical, run ids included

    # The newest delivery re-sent (same content, new modification time, still the newest): the
    # order staging ranks deliveries in is unchanged, so nothing is read again.
    resend(by_age(landing / "grades")[-1], after=by_age(landing / "grades")[-1])
    touched = run(landing, demo_warehouse_copy, statbank_url)
    assert sorted(touched.reused) == sorted(all_sources()), touched.text()

    # The oldest re-sent, so that it is now the newest: only its source is read again.
    resend(by_age(landing / "grades")[0], after=by_age(landing / "grades")[-1])
    touched = run(landing, demo_warehouse_copy, statbank_url)
    assert sorted(set(all_sources()) - set(touched.reused)) == ["grades"], touched.text()
    assert_same(views(demo_warehouse_copy), published)

    # Staff data re-sent: 3.1 is recomputed from it and StatBank's unchanged cells, not left out.
    resend(by_age(landing / "workforce")[0], after=by_age(landing / "workforce")[-1])
    touched = run(landing, demo_warehouse_copy, statbank_url)
    assert sorted(set(all_sources()) - set(touched.reused)) == ["workforce"], touched.text()
    staff = published["barometer_observation"]["indicator_code"].isin(["3.1", "3.2"])
    assert touched.observations == staff.sum(), "3.1 and 3.2 both recomputed"
    assert_same(views(demo_warehouse_copy), published)


def by_age(folder):
    """A landing folder's deliveries as staging ranks them: by (modification time, name)."""
    return sorted(folder.iterdir(), key=lambda path: (path.stat().st_mtime, path.name))


def resend(delivery, after) -> None:
    """`delivery` re-sent with its content unchanged, a minute after `after` was."""
    os.utime(delivery, (delivery.stat().st_atime, after.stat().st_mtime + 60))


def test_a_rejected_delivery_is_reported_again_when_nothing_changed(pseudonym_key, landing, statbank_url, tmp_path):
    """Reusing a source keeps its outcome: the rerun still names the rejected file and fails.
    The safety folder alone (and StatBank) keeps both refreshes short."""
    warehouse, safety = f"sqlite:///{tmp_path / 'warehouse.sqlite'}", tmp_path / "safety-only"
    shutil.copytree(landing / "safety", safety / "safety")
    (safety / "safety" / "broken.xlsx").write_bytes(b"not a workbook")
    first = run(safety, warehouse, statbank_url)
    again = run(safety, warehouse, statbank_url)
    assert "safety" in again.reused
    assert first.failed and again.failed
    assert again.rejected == first.rejected and any("safety/broken.xlsx" in m for m in again.rejected)


def test_a_delivery_rewritten_with_its_old_size_and_time_is_read_again(
    pseudonym_key, landing, statbank_url, demo_warehouse_copy, monkeypatch
):
    """A rerun trusts the checksums it recorded while the files' identity holds. Other bytes of
    the same size, the modification time put back, still change the change time: the source is
    read again; the delivery restored, the numbers are the published ones again, and the record
    of deliveries (which keeps every delivery seen) shows the version that was briefly there as
    superseded: one delivery in force per reference date."""
    monkeypatch.setattr(landing_zone, "SETTLED_SECONDS", 0.0)  # this copy of the demo landing zone is new
    published = views(demo_warehouse_copy, without_run_ids=True)  # grades' rows change and change back
    assert "grades" in run(landing, demo_warehouse_copy, statbank_url).reused  # records identities
    [delivery] = [d for d in (landing / "grades").iterdir() if f";{GRADE};".encode() in d.read_bytes()][-1:]
    original, status = delivery.read_bytes(), delivery.stat()
    changed = original.replace(f";{GRADE};".encode(), f";{OTHER_GRADE};".encode(), 1)
    for content in (changed, original):
        delivery.write_bytes(content)
        os.utime(delivery, ns=(status.st_atime_ns, status.st_mtime_ns))
        rerun = run(landing, demo_warehouse_copy, statbank_url)
        assert sorted(set(all_sources()) - set(rerun.reused)) == ["grades"], rerun.text()
        checksums = set(views(demo_warehouse_copy)["barometer_delivery"]["sha256"])
        assert hashlib.sha256(content).hexdigest() in checksums
    now = views(demo_warehouse_copy, without_run_ids=True)
    assert_same(now, published, [name for name in VIEWS if name != "barometer_delivery"])
    records = now["barometer_delivery"]
    [briefly] = records[records["sha256"] == hashlib.sha256(changed).hexdigest()].to_dict("records")
    assert (briefly["status"], briefly["message"]) == ("superseded", "replaced by a later version of the same file")
    assert_same(
        {"d": records[records["sha256"] != briefly["sha256"]].reset_index(drop=True)},
        {"d": published["barometer_delivery"]},
        ["d"],
    )
    in_force = records[records["status"] == "loaded"]
    assert not in_force.duplicated(["municipality_code", "source", "reference_date"]).any()
