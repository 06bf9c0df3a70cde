"""A refresh trusts the checksum it recorded for a delivery while the file system describes its
files as it did then (sizes, inodes, modification and change times), so a rerun does not read
every landing file again; any write changes the change time, so changed bytes are always hashed."""

from __future__ import annotations

import hashlib
import os

import pytest
from barometer.sources import landing
from barometer.sources.landing import find_deliveries

FOLDER = "grades"
NAME = f"{FOLDER}/export.csv"
NOT_ITS_CHECKSUM = "f" * 64


@pytest.fixture
def settled(monkeypatch):
    """Files written by the test count as settled at once (by default they must be 2 s old)."""
    monkeypatch.setattr(landing, "SETTLED_SECONDS", 0.0)


def found(tmp_path, known=None):
    [delivery] = find_deliveries("grades", tmp_path / FOLDER, ignore=[], known=known)
    return delivery


def write(tmp_path, content: bytes):
    path = tmp_path / FOLDER / "export.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def test_an_unchanged_file_keeps_its_recorded_checksum_without_being_read(tmp_path, settled):
    write(tmp_path, b"a;b\n1;2\n")
    first = found(tmp_path)
    assert first.sha256 == hashlib.sha256(b"a;b\n1;2\n").hexdigest() and first.identity
    # The recorded checksum is used as it stands: proof that the bytes were not hashed again.
    assert found(tmp_path, {NAME: (first.identity, NOT_ITS_CHECKSUM)}).sha256 == NOT_ITS_CHECKSUM


def test_other_bytes_of_the_same_size_with_the_old_modification_time_are_hashed(tmp_path, settled):
    path = write(tmp_path, b"a;b\n1;2\n")
    first, status = found(tmp_path), path.stat()
    path.write_bytes(b"a;b\n1;9\n")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size and path.stat().st_mtime_ns == status.st_mtime_ns
    again = found(tmp_path, {NAME: (first.identity, first.sha256)})
    assert again.identity != first.identity
    assert again.sha256 == hashlib.sha256(b"a;b\n1;9\n").hexdigest()


def test_a_file_added_to_a_folder_delivery_changes_its_identity(tmp_path, settled):
    folder = tmp_path / FOLDER / "export"
    folder.mkdir(parents=True)
    (folder / "pupils.csv").write_bytes(b"x\n")
    [first] = find_deliveries("grades", tmp_path / FOLDER, ignore=[])
    (folder / "schools.csv").write_bytes(b"y\n")
    [again] = find_deliveries(
        "grades", tmp_path / FOLDER, ignore=[], known={first.name: (first.identity, first.sha256)}
    )
    assert again.identity != first.identity and again.sha256 != first.sha256


def test_a_file_changed_moments_ago_is_never_trusted(tmp_path):
    """Within its file system's timestamp tick a second write could leave the identity as it was."""
    write(tmp_path, b"a;b\n1;2\n")
    delivery = found(tmp_path, {NAME: ("", NOT_ITS_CHECKSUM)})
    assert delivery.identity == "" and delivery.sha256 == hashlib.sha256(b"a;b\n1;2\n").hexdigest()
