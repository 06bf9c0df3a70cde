"""The indicator catalogue and source parameters, read from the YAML files beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Catalogue:
    goals: dict[int, dict[str, Any]]
    groups: dict[str, dict[str, str]]
    indicators: dict[str, dict[str, Any]]

    def measured(self) -> list[str]:
        return [code for code, ind in self.indicators.items() if ind.get("measured", True)]

    def sources_of(self, code: str) -> list[str]:
        """The sources an indicator is computed from ('workforce, employment' -> two)."""
        return [s.strip() for s in str(self.indicators[code]["source"]).split(",") if s.strip() != "none"]

    def indicators_of(self, source: str) -> list[str]:
        """The indicators `source`'s transform computes: those it is the first source of."""
        return [code for code in self.indicators if self.sources_of(code)[:1] == [source]]


@cache
def load_catalogue() -> Catalogue:
    raw = read_yaml(CONFIG_DIR / "indicators.yaml")
    indicators = {str(code): ind for code, ind in raw["indicators"].items()}
    for code, ind in indicators.items():
        if ind["direction"] not in ("higher", "lower"):
            raise ValueError(f"{code}: direction must be higher or lower")
        if ind["goal"] not in raw["goals"]:
            raise ValueError(f"{code}: unknown goal {ind['goal']}")
    return Catalogue(goals=raw["goals"], groups=raw["groups"], indicators=indicators)


@cache
def sources_file() -> dict[str, Any]:
    """The whole of sources.yaml."""
    return read_yaml(CONFIG_DIR / "sources.yaml")


def source_config(name: str) -> Any:
    """One top-level entry of sources.yaml (a source's parameters, or 'disclosure' …)."""
    return sources_file()[name]


def read_yaml(path: Path) -> Any:
    """Parsed with libyaml where it is built in: ten times the pure-Python parser's speed, which
    every process pays for at start."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
