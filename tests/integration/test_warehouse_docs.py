"""docs/warehouse.md cannot drift: it documents exactly the views and columns a freshly
initialised warehouse has, says of each column what the exported metadata (config/columns.yaml,
package data) says, and names every code analysts filter on and every schema revision."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.script import ScriptDirectory
from barometer.config import load_catalogue, load_districts
from barometer.warehouse.database import MIGRATIONS, connect, initialise
from sqlalchemy import inspect

from barometer.export import COLUMNS, column_meanings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def documented_columns() -> dict[str, dict[str, str]]:
    """view -> column -> meaning (Markdown), from the column tables of the "Views" section."""
    documented: dict[str, dict[str, str]] = {}
    view = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            view = None
        elif heading := re.match(r"^### `(\w+)`", line):
            view = heading.group(1)
            documented[view] = {}
        elif view and (row := re.match(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", line)):
            documented[view][row.group(1)] = row.group(2)
    return documented


def plain(markdown: str) -> str:
    """Markdown inline code and links as plain text, as the metadata holds them."""
    return re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown).replace("`", "")


def live_views(url: str) -> dict[str, list[str]]:
    engine = connect(url)
    try:
        initialise(engine)
        inspector = inspect(engine)
        return {view: [c["name"] for c in inspector.get_columns(view)] for view in inspector.get_view_names()}
    finally:
        engine.dispose()


def test_every_view_and_column_is_documented_and_nothing_else(warehouse_url):
    live = {view: set(columns) for view, columns in live_views(warehouse_url).items()}
    documented = {view: set(columns) for view, columns in documented_columns().items()}
    assert set(live) == set(documented), f"views live vs documented in {DOCS}"
    for view, columns in live.items():
        assert not columns - documented[view], f"{view}: columns missing from {DOCS}"
        assert not documented[view] - columns, f"{view}: documented in {DOCS} but not in the view"


def test_the_docs_say_what_the_exported_metadata_says():
    documented = {
        view: {column: plain(meaning) for column, meaning in columns.items()}
        for view, columns in documented_columns().items()
    }
    assert documented == column_meanings(), f"{DOCS} and {COLUMNS} differ: change both"
    for view, columns in documented.items():
        assert list(columns) == list(column_meanings()[view]), f"{view}: columns in the same order"


def test_codes_and_revisions_are_documented():
    text = DOCS.read_text(encoding="utf-8")
    catalogue = load_catalogue()
    assert not [code for code in catalogue.indicators if f"\n| {code} | " not in text], "indicators"
    assert not [code for code in catalogue.groups if f"\n| `{code}` | " not in text], "groups"
    districts = load_districts("101")
    areas = [districts.municipality_code] + [districts.area_code(n) for n in districts.names]
    assert not [code for code in areas if f"\n| `{code}` | " not in text], "areas"
    revisions = [r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()]
    assert not [r for r in revisions if f"\n| `{r}` | " not in text], "schema revisions"
