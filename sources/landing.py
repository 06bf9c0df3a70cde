"""Finding deliveries in a landing folder and checksumming them.

Landing files are only ever opened for reading: never modified, moved or deleted.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from barometer.sources.errors import DeliveryError
from barometer.sources.staged import Delivery

log = logging.getLogger(__name__)

# A file changed this recently may change again within its file system's timestamp tick
# (2 s on FAT, one clock tick on most others) without its identity changing: hash it every time.
SETTLED_SECONDS = 2.0


def file_system_error(file: str, error: OSError) -> DeliveryError:
    """What the file system refused, as a rule the delivery broke (no path, no traceback)."""
    if isinstance(error, FileNotFoundError):
        return DeliveryError(
            file,
            "file exists until it is read",
            detail="it disappeared before it was read (moved or deleted meanwhile?)",
        )
    if isinstance(error, PermissionError):
        return DeliveryError(file, "file is readable", detail="permission denied for the barometer's user")
    if isinstance(error, IsADirectoryError):
        return DeliveryError(file, "delivery is a file", detail="a folder was found where a file is expected")
    return DeliveryError(
        file, "file is readable", detail=f"the file system failed to read it ({error.strerror or type(error).__name__})"
    )


@contextmanager
def file_system_errors(file: str) -> Iterator[None]:
    """Turns an OS error while `file` is read into its DeliveryError."""
    try:
        yield
    except OSError as error:
        raise file_system_error(file, error) from None


def _raise(error: OSError) -> None:
    raise error


def _files(path: Path) -> list[Path]:
    """A delivery's files in name order: the file itself, or every file under a folder (an
    unreadable subfolder raises instead of being skipped silently)."""
    if not path.is_dir():
        return [path]
    found = [Path(folder, name) for folder, _, names in os.walk(path, onerror=_raise) for name in names]
    return sorted(found)


def sha256_of(path: Path, name: str | None = None) -> str:
    """Checksum of a file, or of a folder's files (names and contents, in name order).

    Raises only DeliveryError (named `name`, default the file name) when it cannot be read.
    """
    digest = hashlib.sha256()
    with file_system_errors(name or path.name):
        for file in _files(path):
            if path.is_dir():
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def file_identity(path: Path, now: float) -> str:
    """A delivery's files as the file system describes them: names, sizes, inodes, modification
    and change times, taken before its checksum. A later refresh that finds the same identity
    trusts the checksum it recorded instead of reading the bytes again, as git's index and DVC's
    state do. The change time is set by the file system on every write, rename or restore of
    an old modification time, and cannot be set back, so the identity changes with the content.
    '' (never trusted) while any file changed less than SETTLED_SECONDS before `now`: a write
    later in the same timestamp tick could leave its identity as it was; and on Windows, whose
    st_ctime is the creation time, which a write leaves as it was.
    """
    if os.name == "nt":
        return ""
    parts, folder = [], path.is_dir()
    for file in _files(path):
        status = file.stat()
        if status.st_ctime_ns > (now - SETTLED_SECONDS) * 1e9:
            return ""
        name = file.relative_to(path).as_posix() if folder else ""
        parts.append(
            f"{name}:{status.st_size}:{status.st_dev}:{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"
        )
    return "/".join(parts)


def verify_unchanged(delivery: Delivery) -> None:
    """The delivery still has the checksum it was found with: a file rewritten or removed while
    it was read (an upload still under way) must not be loaded half old, half new."""
    if delivery.path is None:
        return
    rule = "file did not change while it was read"
    try:
        now = sha256_of(delivery.path, delivery.name)
    except DeliveryError:
        raise DeliveryError(
            delivery.name, rule, detail="it disappeared or became unreadable while it was read"
        ) from None
    if now != delivery.sha256:
        raise DeliveryError(delivery.name, rule, detail="its checksum changed: was it still being written?")


def is_ignored(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def find_deliveries(
    source: str, folder: Path, ignore: Iterable[str], known: Mapping[str, Sequence[str]] | None = None
) -> list[Delivery]:
    """Every delivery in a landing folder, oldest first; owner files and litter are skipped.
    `known` (name -> (identity, SHA-256), as the last refresh found them) spares reading again
    the bytes of a delivery whose files' identity is unchanged.

    Never raises for a bad entry: what cannot be read becomes a Delivery with its `problem`.
    """
    try:
        if not folder.is_dir():
            return []
        entries = sorted(folder.iterdir())
    except OSError as error:
        return [unreadable(source, folder, folder.name, file_system_error(folder.name, error))]
    found = []
    for entry in entries:
        if is_ignored(entry.name, ignore):
            log.info("ignoring %s/%s: not a delivery", folder.name, entry.name)
            continue
        name = f"{folder.name}/{entry.name}"
        found.append(delivery_at(source, entry, name, zone=folder.parent, known=(known or {}).get(name)))
    return sorted(found, key=lambda d: (d.modified, d.name))


def delivery_at(source: str, entry: Path, name: str, zone: Path, known: Sequence[str] | None = None) -> Delivery:
    """The delivery a landing entry is, checksummed, or with the problem that stops it being
    read; `zone` is the landing zone its files (links followed) must stay inside. `known` is
    the (identity, SHA-256) it was last found with: its checksum while its identity holds."""
    try:
        _check_inside(entry, name, zone)
        modified = _stat(entry, name).st_mtime
        with file_system_errors(name):
            identity = file_identity(entry, time.time())
        sha256 = known[1] if known and identity and known[0] == identity else sha256_of(entry, name)
        return Delivery(source, entry, name, sha256, modified, identity=identity)
    except DeliveryError as problem:
        return unreadable(source, entry, name, problem)


def unreadable(source: str, entry: Path, name: str, problem: DeliveryError) -> Delivery:
    """A delivery rejected before reading; its time is the link's own, or 0 if even that is gone."""
    try:
        modified = entry.lstat().st_mtime
    except OSError:
        modified = 0.0
    return Delivery(source=source, path=entry, name=name, sha256="", modified=modified, problem=problem)


def _stat(entry: Path, name: str) -> os.stat_result:
    if entry.is_symlink() and not entry.exists():
        raise DeliveryError(name, "link points to an existing file", detail="a symbolic link whose target is missing")
    with file_system_errors(name):
        return entry.stat()


def _check_inside(entry: Path, name: str, zone: Path) -> None:
    """Links may point elsewhere inside the landing zone, never out of it (/etc, a home folder)."""
    with file_system_errors(name):
        root = zone.resolve()
        paths = [entry, *(_files(entry) if entry.is_dir() else [])]
        if any(not path.resolve().is_relative_to(root) for path in paths):
            raise DeliveryError(
                name, "delivery stays inside the landing zone", detail="a symbolic link points outside the landing zone"
            )


def folder_file(delivery: Delivery, pattern: str) -> tuple[Path, str]:
    """The one file in a folder delivery whose name matches `pattern` (case-insensitive glob),
    with its name as shown in errors: '<delivery name>/<file name>'.

    The sender names the files; the pattern only tells the folder's two (or more) tables apart.
    """
    rule = f"folder holds exactly one file matching '{pattern}'"
    if delivery.path is None or not delivery.is_folder:
        raise DeliveryError(delivery.name, rule, detail="the delivery is not a folder")
    matches = sorted(
        p for p in delivery.path.iterdir() if p.is_file() and fnmatch.fnmatch(p.name.casefold(), pattern.casefold())
    )
    if len(matches) != 1:
        raise DeliveryError(delivery.name, rule, detail=f"{len(matches)} files match")
    return matches[0], f"{delivery.name}/{matches[0].name}"
