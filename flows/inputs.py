"""What a source's observations were computed from, as one checksum (OWID's etl does the same).

A source's checksum covers its deliveries (name and SHA-256, in the order staging ranks them),
the edition's end, the municipality, the pseudonym key's version, the checksums of the other
sources its indicators draw on, and what computes it: its entry of sources.yaml with the shared
entries that change its numbers, the computing fields of its indicators in indicators.yaml,
and the code it runs, the import closure of its own modules within the packages that compute
observations, with the data files that code loads. Nothing else: editing another source, the
flows, a comment or documentation metadata recomputes nothing, nor does a file's modification
time that leaves the order of its deliveries as it was. A refresh whose checksum for a source
matches the last load's reuses that source's stored observations instead of reading its files
again; only aggregates are kept for this, which the warehouse already holds.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from barometer.config import Catalogue, catalogue
from barometer.sources.staged import Delivery

# A source's own modules: where following its imports starts (a missing one is skipped).
ENTRY_MODULES = ("barometer.sources.{}", "barometer.validations.{}", "barometer.transforms.{}")
# Code the flows apply to every source's observations, which no module of a source imports.
APPLIED_TO_EVERY_SOURCE = ("barometer.transforms.disclosure",)
# The packages whose code decides observations; imports elsewhere (flows, warehouse) are not followed.
CODE_PACKAGES = ("barometer.sources", "barometer.validations", "barometer.transforms", "barometer.config")
CONFIG_PACKAGE = "barometer.config"
# Entries of sources.yaml every source's numbers depend on.
SHARED_CONFIG = ("disclosure", "ignore_patterns")
# The fields of an indicator that decide what is computed (the rest is what a reader is told).
COMPUTING_FIELDS = ("source", "measured")
# Kinds of data file a module loads from beside it when its code names one (YAML is configuration,
# covered above entry by entry).
DATA_SUFFIXES = (".geojson", ".csv")
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)  # what may open with a docstring


def installed_directory(package: str) -> Path:
    return Path(str(files(package)))


@cache
def source_version(source: str, directory_of: Callable[[str], Path] = installed_directory) -> str:
    """Checksum of the configuration and code that compute `source`'s observations (once per
    process); `directory_of` says where each of CODE_PACKAGES is read from."""
    configured = configuration(source, directory_of(CONFIG_PACKAGE))
    return hashlib.sha256(f"{configured}\0{code_version(source, directory_of)}".encode()).hexdigest()


def code_version(source: str, directory_of: Callable[[str], Path]) -> str:
    """The checksum of `source`'s code, as `code_checksum` computes it; reused from the last
    process that computed it (CODE_CACHE) while every file it was computed from has the same
    bytes, so a rerun does not parse the code again (a changed import changes its importer)."""
    key = f"{source}\0" + "\0".join(str(directory_of(package)) for package in CODE_PACKAGES)
    cache_file, known = CODE_CACHE(), {}
    try:
        known = json.loads(cache_file.read_text(encoding="utf-8"))
        entry = known[key]
        if all(file_checksum(Path(path)) == checksum for path, checksum in entry["files"].items()):
            return entry["version"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or one from another layout: compute
    version, read = code_checksum(source, directory_of)
    known[key] = {"version": version, "files": {str(path): file_checksum(path) for path in read}}
    write_atomically(cache_file, {k: v for k, v in known.items() if Path(k.split("\0")[1]).is_dir()})
    return version


def write_atomically(path: Path, content: dict) -> None:
    """Replace the file whole (processes side by side may write it at once); entries of trees
    that are gone are dropped. A read-only home only means the next process computes again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(content), encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass


def code_checksum(source: str, directory_of: Callable[[str], Path]) -> tuple[str, list[Path]]:
    """The import closure's code as syntax trees without docstrings, with the data files it
    loads; and every file read for it."""
    digest, read = hashlib.sha256(), []
    for name, path in sorted(import_closure(source, directory_of).items()):
        digest.update(f"\0{name}\0{read_module(path).code}".encode())
        read.append(path)
        for data in data_files(path):
            digest.update(f"\0{data.name}\0".encode() + data.read_bytes())
            read.append(data)
    return digest.hexdigest(), read


def file_checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_code_cache() -> Path:
    """Where code checksums are kept between processes: the user's cache folder (no personal
    data: module paths and checksums of code)."""
    return Path.home() / ".cache" / "barometer" / "code-checksums.json"


CODE_CACHE: Callable[[], Path] = default_code_cache


def configuration(source: str, config_dir: Path) -> str:
    """The parts of sources.yaml and indicators.yaml that change `source`'s numbers, as text."""
    entries, raw = read_yaml(config_dir / "sources.yaml"), read_yaml(config_dir / "indicators.yaml")
    catalogue = Catalogue(raw["goals"], raw["groups"], {str(code): ind for code, ind in raw["indicators"].items()})
    indicators = {
        code: {field: indicator[field] for field in COMPUTING_FIELDS if field in indicator}
        for code, indicator in catalogue.indicators.items()
        if source in catalogue.sources_of(code)
    }
    own = {name: entries.get(name) for name in (source, *SHARED_CONFIG)}
    return json.dumps({"sources": own, "indicators": indicators}, sort_keys=True, default=str)


@cache
def read_yaml(path: Path) -> Any:
    return catalogue.read_yaml(path)


def import_closure(source: str, directory_of: Callable[[str], Path]) -> dict[str, Path]:
    """Module name -> file, for `source`'s own modules (and disclosure control) and every module
    of CODE_PACKAGES they import, directly or not (read with `ast`, nothing is imported)."""
    closure: dict[str, Path] = {}
    pending = [*(entry.format(source) for entry in ENTRY_MODULES), *APPLIED_TO_EVERY_SOURCE]
    while pending:
        name = pending.pop()
        path = None if name in closure else module_file(name, directory_of)
        if path is not None:
            closure[name] = path
            pending += imported_names(name, path, directory_of)
    return closure


@cache
def module_file(name: str, directory_of: Callable[[str], Path]) -> Path | None:
    """The file of module `name`, if it is in one of CODE_PACKAGES and exists."""
    package = next((p for p in CODE_PACKAGES if name == p or name.startswith(f"{p}.")), None)
    if package is None:
        return None
    path = directory_of(package).joinpath(*name.split(".")[package.count(".") + 1 :])
    return next((file for file in (path / "__init__.py", path.with_suffix(".py")) if file.is_file()), None)


@cache
def imported_names(name: str, path: Path, directory_of: Callable[[str], Path]) -> tuple[str, ...]:
    """The modules `name` imports, anywhere in its code; `from package import thing` names the
    module `thing` comes from (a re-export in the package's __init__ is followed to its origin)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = []
    for node in read_module(path).imports:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        else:
            base = absolute(node, package)
            names += [origin(base, alias.name, directory_of) for alias in node.names]
    return tuple(names)


def absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a `from … import` reads from, relative imports resolved against `package`."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*parts, *filter(None, [node.module])])


def origin(base: str, thing: str, directory_of: Callable[[str], Path]) -> str:
    """The module `from base import thing` depends on: the submodule `thing`, else the module
    a package's __init__ re-exports `thing` from, else `base` itself."""
    if module_file(f"{base}.{thing}", directory_of):
        return f"{base}.{thing}"
    path = module_file(base, directory_of)
    if path is not None and path.name == "__init__.py":
        for node in (node for node in read_module(path).imports if isinstance(node, ast.ImportFrom)):
            for alias in [] if node.level else node.names:
                if (alias.asname or alias.name) == thing:
                    return origin(node.module or "", alias.name, directory_of)
    return base


@dataclass(frozen=True)
class ModuleCode:
    """What the checksum and the following of imports need of one module, read once a process."""

    code: str  # its syntax tree without docstrings: comments, formatting and documentation change nothing
    imports: tuple[ast.Import | ast.ImportFrom, ...]
    texts: frozenset[str]  # its string constants


@cache
def read_module(path: Path) -> ModuleCode:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imports, texts = [], set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.add(node.value)
        elif isinstance(node, DOCUMENTED) and node.body and is_docstring(node.body[0]):
            node.body = node.body[1:]
    return ModuleCode(ast.dump(tree), tuple(imports), frozenset(texts))


def is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def data_files(path: Path) -> list[Path]:
    """The data files a module loads from beside it: every file of a kind its code names (a
    district map by name or by pattern: all maps)."""
    texts = read_module(path).texts
    named = [suffix for suffix in DATA_SUFFIXES if any(text.endswith(suffix) for text in texts)]
    return sorted(file for suffix in named for file in path.parent.glob(f"*{suffix}") if file.is_file())


def fingerprint(
    source: str,
    deliveries: list[Delivery],
    until: date,
    municipality_code: str,
    key_version: str,
    dependencies: dict[str, str | None],
) -> str:
    """One checksum of everything `source`'s observations depend on. Deliveries count in the
    order staging ranks them by (modified, name), not by their times: a file touched without
    overtaking another changes nothing that is computed."""
    parts = [source, until.isoformat(), municipality_code, key_version, source_version(source)]
    in_order = sorted(deliveries, key=lambda d: (d.modified, d.name))
    parts += [f"{d.name}\0{d.sha256}\0{d.problem is not None}" for d in in_order]
    parts += [f"{name}={checksum}" for name, checksum in sorted(dependencies.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
