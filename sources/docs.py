"""The docs' tables of sources, made from their specs: docs/privacy.md holds the output of
`python -m barometer.sources.docs` between its markers (a test keeps them in step)."""

from __future__ import annotations

from barometer.sources.registry import SOURCES

BEGIN, END = "<!-- sources table: python -m barometer.sources.docs -->", "<!-- end of sources table -->"


def privacy_table() -> str:
    rows = [
        "| source | delivered as | personal data in it | identifier handling |",
        "|---|---|---|---|",
        *(
            f"| `{s.SPEC.name}` | {s.SPEC.delivered_as} | {s.SPEC.privacy} | {s.SPEC.identifiers} |"
            for s in sorted(SOURCES, key=lambda s: s.SPEC.name == "employment")
        ),
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(BEGIN, privacy_table(), END, sep="\n")
