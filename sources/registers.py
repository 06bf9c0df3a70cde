"""Columns the person registers share (youth education, day care, staff): origin as Statistics
Denmark's five categories and the barometer's group of it, and the district lived in."""

from __future__ import annotations

from barometer.sources.origin import ORIGIN_GROUPS
from barometer.sources.spec import Column


def origin_columns(file: str) -> tuple[Column, Column]:
    """`origin` as delivered, and `origin_group` (danish, western, non_western) derived from it."""
    return (
        Column(
            "origin",
            file,
            "origin as Statistics Denmark's five categories",
            required=f"origin ({file}) is given",
            allowed=tuple(ORIGIN_GROUPS),
            allowed_rule=f"origin ({file}) is one of Statistics Denmark's five categories",
        ),
        Column("origin_group", file, "danish, western or non_western", derived=True, computed=True),
    )


def district_columns(file: str, computed: bool = True) -> tuple[Column, Column]:
    """`district_name` as sent and `district`, its official number (checked by
    `validations.common.check_districts`); empty where the municipality has no district list.
    `computed=False` for a table whose district is checked, not computed from (an institutions
    or schools file), or that its transforms read whole."""
    return (
        Column("district_name", file, "district name as sent"),
        Column("district", file, "official district number", type="district", derived=True, computed=computed),
    )
