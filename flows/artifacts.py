"""The edition and the run summary as Prefect artifacts, on the flow run and under Artifacts."""

from __future__ import annotations

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact

COLUMNS = ["indicator_code", "group_code", "reference_date", "value", "previous_value", "change", "status"]


def publish_artifacts(edition: pd.DataFrame, report) -> None:
    rows = edition[COLUMNS].astype(object).where(edition[COLUMNS].notna(), None)
    rows["reference_date"] = rows["reference_date"].map(lambda d: None if d is None else str(d)[:10])
    create_table_artifact(
        key="barometer-edition",
        table=rows.to_dict("records"),
        description=f"Inklusionsbarometer {report.edition}, city-wide",
    )
    create_markdown_artifact(
        key="barometer-run-summary", markdown=report.markdown(), description=f"Refresh of {report.edition}"
    )
