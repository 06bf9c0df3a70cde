"""The validation results of a refresh as Great Expectations Data Docs: one static HTML site
(the run request's data_docs_dir, BAROMETER_DATA_DOCS_DIR) an engineer opens in a browser to see, per
delivered file, which rules held and which broke in how many rows (the refresh's summary names
the rows).

Results hold no cell values: `validations.common` validates for counts only, with
`exclude_unexpected_values` and with pseudonyms swapped for integer codes, so no page can show a
value. Results are collected in the run's context (flows/context.py `RunContext.record`, handed to
`validations.common.check`) and written once, at the end of the refresh, by `build()`. They hold
counts, not lists of rows (the refresh's summary names the rows), so a rule broken in a million
rows costs no more to keep and to render than one broken in one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SITE = "barometer"


@dataclass(frozen=True)
class Validated:
    """One suite run on one file of a delivery."""

    file: str
    result: Any  # great_expectations ExpectationSuiteValidationResult


def build(directory: Path, validated: list[Validated], run_name: str) -> Path:
    """Write the results as pages of one Data Docs site in `directory`; returns its index.html.

    A fresh ephemeral context holds just these results, so the index lists this run's pages;
    pages of earlier runs stay in the folder under their own run name and time.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    run = RunIdentifier(run_name=run_name, run_time=datetime.now(timezone.utc))
    for entry in validated:
        entry.result.meta.update(run_id=run, batch_spec={"data_asset_name": entry.file})  # shown as the page title
        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(name=entry.result.suite_name),
            run,
            batch_identifier=re.sub(r"[^\w.-]+", "_", entry.file),
        )
        context.validation_results_store.set(key, entry.result)
    context.build_data_docs(site_names=[SITE])
    return directory / "index.html"
