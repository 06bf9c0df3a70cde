"""The docs' sources table is the one the specs make: a source's privacy entry is written once."""

from pathlib import Path

from barometer.sources.docs import BEGIN, END, privacy_table

PRIVACY = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def test_the_privacy_docs_hold_the_table_the_specs_make():
    text = PRIVACY.read_text(encoding="utf-8")
    documented = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert documented == privacy_table(), "regenerate it: python -m barometer.sources.docs"
