"""The Danish words the report shows for the warehouse's codes: statuses, units, directions,
frequencies, sources and delivery states. Kept apart from the page so each mapping has one home."""

from __future__ import annotations

STATUS_LABELS = {
    "progress": "Fremgang",
    "regress": "Tilbagegang",
    "unchanged": "Uændret",
    "first_measurement": "Første måling",
    "not_measured": "Ikke målt",
    "suppressed": "Diskretioneret",
    "no_comparison": "Ingen sammenligning",
}
UNIT_LABELS = {
    "percent": "procent",
    "percentage points": "procentpoint",
    "index points": "indekspoint",
    "count": "antal",
    "none": "",
}
DIRECTION_LABELS = {"higher": "Højere er bedre", "lower": "Lavere er bedre"}
FREQUENCY_LABELS = {"annual": "årligt", "half-yearly": "halvårligt"}
DELIVERY_STATUS_LABELS = {"loaded": "indlæst", "superseded": "erstattet", "rejected": "afvist"}


def source_label(name: str) -> str:
    """A source's Danish label, as its spec has it; an unknown source shows as its name rather
    than failing the page."""
    from barometer.sources.registry import by_name

    try:
        return by_name(name).SPEC.label
    except ValueError:
        return name
