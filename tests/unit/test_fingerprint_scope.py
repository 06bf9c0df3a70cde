"""A source's fingerprint covers what computes it and nothing else: its own code (the import
closure of its modules), its configuration and its deliveries in the order staging ranks them.
Each case hashes a copy of the packages, edited, never the working tree."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from barometer.flows.inputs import fingerprint, installed_directory, source_version
from barometer.sources.landing import find_deliveries

SOURCE = "grades"
PACKAGES = ["config", "sources", "validations", "transforms", "flows"]


def version_after(tmp_path: Path, edit: Callable[[Path], None] = lambda root: None) -> str:
    """Grades' code version computed from a copy of the packages that `edit` has changed."""
    root = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
    for package in PACKAGES:
        shutil.copytree(installed_directory(f"barometer.{package}"), root / package, ignore=ignore_caches)
    edit(root)
    return source_version(SOURCE, lambda package: root / package.rpartition(".")[2])


def ignore_caches(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def append(relative: str, text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        with (root / relative).open("a", encoding="utf-8") as file:
            file.write(text)

    return edit


def replace_first(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} no longer holds {old!r}: pick another edit"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def change_yaml(relative: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / relative
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(content)
        path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")

    return edit


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory) -> str:
    return version_after(tmp_path_factory.mktemp("unchanged"))


def test_a_copy_of_the_packages_hashes_as_the_installed_ones(unchanged):
    assert unchanged == source_version(SOURCE)


@pytest.mark.parametrize(
    "edit",
    [
        append("sources/survey.py", "\n\ndef another_source_edited():\n    return 1\n"),
        append("transforms/survey.py", "\nEDITED = 1\n"),
        append("flows/fanout.py", "\nEDITED = 1\n"),
        append("transforms/grades.py", "\n# a comment, and formatting:\n\n\n"),
        replace_first("transforms/grades.py", '"""', '"""A docstring reworded. '),
        change_yaml("config/columns.yaml", lambda columns: columns.update(extra_view={"column": "Meaning."})),
        change_yaml("config/sources.yaml", lambda entries: entries["survey"].update(confidence=0.9)),
        change_yaml("config/indicators.yaml", lambda raw: raw["indicators"]["1.1"].update(name_en="Renamed")),
        change_yaml("config/indicators.yaml", lambda raw: raw["indicators"]["1.1"].update(parity=99)),
        change_yaml("config/indicators.yaml", lambda raw: raw["indicators"]["6.1"].update(source="survey, workforce")),
    ],
    ids=[
        "another source's module",
        "another source's transform",
        "flows/fanout.py",
        "a comment",
        "a docstring",
        "config/columns.yaml",
        "another source's config",
        "its indicator's name",
        "its indicator's parity",
        "another indicator's source",
    ],
)
def test_what_does_not_compute_grades_leaves_its_version(tmp_path, edit, unchanged):
    assert version_after(tmp_path, edit) == unchanged


@pytest.mark.parametrize(
    "edit",
    [
        append("transforms/grades.py", "\nEDITED = 1\n"),
        append("transforms/common.py", "\nEDITED = 1\n"),
        append("sources/parsing.py", "\nEDITED = 1\n"),
        append("transforms/disclosure.py", "\nEDITED = 1\n"),
        change_yaml("config/sources.yaml", lambda entries: entries["grades"].update(encoding="utf-8")),
        change_yaml("config/sources.yaml", lambda entries: entries["disclosure"].update(min_persons=3)),
        change_yaml("config/sources.yaml", lambda entries: entries["ignore_patterns"].append("*.tmp")),
        change_yaml("config/indicators.yaml", lambda raw: raw["indicators"]["1.1"].update(measured=False)),
        change_yaml("config/indicators.yaml", lambda raw: raw["indicators"]["6.1"].update(source="survey, grades")),
        append("config/copenhagen_districts.geojson", "\n"),
    ],
    ids=[
        "its transform",
        "a shared transform it imports",
        "a shared reader it imports",
        "disclosure control the flows apply",
        "its sources.yaml entry",
        "disclosure",
        "ignore_patterns",
        "its indicator measured",
        "an indicator drawing on it",
        "the district map it loads",
    ],
)
def test_what_computes_grades_changes_its_version(tmp_path, edit, unchanged):
    assert version_after(tmp_path, edit) != unchanged


def test_modules_added_and_removed_are_followed_through_imports(tmp_path, unchanged):
    """A module of its own removed, or a new one imported, changes the version; a new module
    that nothing of it imports does not."""
    assert version_after(tmp_path, lambda root: (root / "transforms/grades.py").unlink()) != unchanged

    def add_module(root: Path) -> None:
        (root / "sources/grades_rules.py").write_text("PASS_MARK = 2\n", encoding="utf-8")

    assert version_after(tmp_path, add_module) == unchanged
    imported = append("sources/grades.py", "\nfrom barometer.sources.grades_rules import PASS_MARK  # noqa\n")
    with_module = version_after(tmp_path, lambda root: (add_module(root), imported(root)))
    assert with_module != unchanged

    def edit_module(root: Path) -> None:
        add_module(root)
        imported(root)
        (root / "sources/grades_rules.py").write_text("PASS_MARK = 4\n", encoding="utf-8")

    assert version_after(tmp_path, edit_module) != with_module


def deliveries(folder: Path):
    return find_deliveries(SOURCE, folder, ignore=[])


def checksum(folder: Path) -> str:
    return fingerprint(SOURCE, deliveries(folder), date(2012, 12, 31), "101", "key-1", {})


def test_touching_a_delivery_keeps_the_fingerprint_and_reordering_changes_it(tmp_path):
    """Staging puts in force the newest delivery of a reference date by (modified, name): a file
    touched without overtaking another is the same input; two swapped are not."""
    folder = tmp_path / "grades"
    folder.mkdir()
    first, second = folder / "karakterer_a.csv", folder / "karakterer_b.csv"
    first.write_bytes(b"reference_date;grade\n2012-06-30;7\n")
    second.write_bytes(b"reference_date;grade\n2012-06-30;10\n")
    os.utime(first, (1_000_000, 1_000_000))
    os.utime(second, (2_000_000, 2_000_000))
    before = checksum(folder)

    os.utime(second, (3_000_000, 3_000_000))  # re-sent: a new time, still the newer of the two
    assert checksum(folder) == before

    os.utime(first, (4_000_000, 4_000_000))  # now the older file is the newer one: it is in force
    assert checksum(folder) != before


def test_a_version_kept_from_an_earlier_process_holds_only_while_its_files_do(tmp_path, monkeypatch):
    """The cross-process cache of code checksums: reused for the same bytes, never for edited ones."""
    from barometer.flows import inputs

    monkeypatch.setattr(inputs, "CODE_CACHE", lambda: tmp_path / "cache" / "code-checksums.json")
    root = tmp_path / "tree"
    for package in PACKAGES:
        shutil.copytree(installed_directory(f"barometer.{package}"), root / package, ignore=ignore_caches)
    directory_of = lambda package: root / package.rpartition(".")[2]  # noqa: E731
    first = inputs.code_version(SOURCE, directory_of)
    assert (tmp_path / "cache" / "code-checksums.json").exists()
    monkeypatch.setattr(inputs, "code_checksum", lambda *args: pytest.fail("recomputed although unchanged"))
    assert inputs.code_version(SOURCE, directory_of) == first
    monkeypatch.undo()
    monkeypatch.setattr(inputs, "CODE_CACHE", lambda: tmp_path / "cache" / "code-checksums.json")
    inputs.read_module.cache_clear()
    replace_first("transforms/grades.py", "def ", "def _added_for_the_test():\n    return 1\n\n\ndef ")(root)
    assert inputs.code_version(SOURCE, directory_of) != first
