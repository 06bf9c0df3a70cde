"""File-system faults are rejected deliveries naming the file, never a crash: unreadable files
and folders, broken links, links out of the landing zone, files that vanish or change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from barometer.sources.csv_export import read_csv
from barometer.sources.errors import DeliveryError
from barometer.sources.landing import file_system_error, find_deliveries, sha256_of, verify_unchanged
from barometer.sources.staged import Delivery
from barometer.sources.workbook import read_xlsx

SETPRIV = shutil.which("setpriv")


def landing_with(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "landing" / "survey"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text("a;b\n1;2\n", encoding="utf-8")
    return folder


def test_a_broken_link_is_a_delivery_with_a_problem(tmp_path):
    folder = landing_with(tmp_path, "good.csv")
    (folder / "broken.csv").symlink_to(folder / "gone.csv")
    by_name = {d.name: d for d in find_deliveries("survey", folder, ignore=[])}
    assert by_name["survey/good.csv"].problem is None and len(by_name["survey/good.csv"].sha256) == 64
    problem = by_name["survey/broken.csv"].problem
    assert isinstance(problem, DeliveryError) and problem.file == "survey/broken.csv"


def test_a_link_out_of_the_landing_zone_is_not_read(tmp_path):
    folder = landing_with(tmp_path)
    outside = tmp_path / "secret.csv"
    outside.write_text("a;b\n1;2\n", encoding="utf-8")
    (folder / "link.csv").symlink_to(outside)
    [delivery] = find_deliveries("survey", folder, ignore=[])
    assert delivery.problem.rule == "delivery stays inside the landing zone" and delivery.sha256 == ""


def test_a_link_inside_a_folder_delivery_out_of_the_landing_zone_is_not_read(tmp_path):
    folder = landing_with(tmp_path)
    (folder / "delivery").mkdir()
    (tmp_path / "elsewhere.csv").write_text("x", encoding="utf-8")
    (folder / "delivery" / "elever.csv").symlink_to(tmp_path / "elsewhere.csv")
    [delivery] = find_deliveries("survey", folder, ignore=[])
    assert delivery.problem.rule == "delivery stays inside the landing zone"


def test_a_link_inside_the_landing_zone_is_read(tmp_path):
    folder = landing_with(tmp_path, "good.csv")
    (folder / "again.csv").symlink_to(folder / "good.csv")
    assert all(d.problem is None for d in find_deliveries("survey", folder, ignore=[]))


def test_a_vanished_file_is_named_not_raised(tmp_path):
    with pytest.raises(DeliveryError, match="file exists until it is read"):
        sha256_of(tmp_path / "gone.csv", "survey/gone.csv")
    error = file_system_error("survey/x.csv", PermissionError(13, "Permission denied", "/secret/path"))
    assert error.rule == "file is readable" and "/secret/path" not in str(error)


def test_the_readers_name_a_vanished_file(tmp_path):
    for read in (
        lambda path: read_csv(path, "survey/gone.csv", ["a"]),
        lambda path: read_xlsx(path, "safety/gone.xlsx", "Ark1", ["a"]),
    ):
        with pytest.raises(DeliveryError, match="file exists until it is read"):
            read(tmp_path / "gone")


def test_a_file_changed_or_removed_while_read_is_rejected(tmp_path):
    folder = landing_with(tmp_path, "good.csv")
    [delivery] = find_deliveries("survey", folder, ignore=[])
    verify_unchanged(delivery)
    (folder / "good.csv").write_text("a;b\n1;3\n", encoding="utf-8")
    with pytest.raises(DeliveryError, match="file did not change while it was read"):
        verify_unchanged(delivery)
    (folder / "good.csv").unlink()
    with pytest.raises(DeliveryError, match="file did not change while it was read"):
        verify_unchanged(delivery)
    verify_unchanged(Delivery("employment", None, "StatBank KAS201", "", 0.0))


@pytest.mark.skipif(SETPRIV is None or os.geteuid() != 0, reason="needs root and setpriv to drop file-read rights")
def test_unreadable_files_and_folders_are_problems_under_a_service_user(tmp_path):
    """As root mode 000 is readable; without CAP_DAC_OVERRIDE it is not, as for a service user."""
    folder = landing_with(tmp_path, "good.csv", "locked.csv")
    (folder / "locked.csv").chmod(0)
    (folder / "locked_folder").mkdir()
    (folder / "locked_folder" / "elever.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "locked_folder").chmod(0)
    (tmp_path / "landing" / "grades").mkdir(mode=0)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from barometer.sources.csv_export import read_csv
        from barometer.sources.landing import find_deliveries
        from barometer.sources.errors import DeliveryError
        folder = Path({str(folder)!r})
        for d in find_deliveries("survey", folder, ignore=[]):
            print(d.name, d.problem.rule if d.problem else "ok")
        [d] = find_deliveries("grades", folder.parent / "grades", ignore=[])
        print(d.name, d.problem.rule)
        try:
            read_csv(folder / "locked.csv", "survey/locked.csv", ["a"])
        except DeliveryError as error:
            print("read:", error)
    """)
    result = subprocess.run(
        [
            SETPRIV,
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
            sys.executable,
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "survey/good.csv ok" in lines
    assert "survey/locked.csv file is readable" in lines
    assert "survey/locked_folder file is readable" in lines
    assert "grades file is readable" in lines
    assert (
        "read: survey/locked.csv: rule 'file is readable' broken: permission denied for the barometer's user" in lines
    )
    assert "Traceback" not in result.stdout + result.stderr
