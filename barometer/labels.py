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
# Read through source_label, so the mapping can change home without touching the page.
SOURCE_LABELS = {
    "employment": "Danmarks Statistik, Statistikbanken (tabel RAS201 til 2016, KAS201 fra 2017)",
    "grades": "Folkeskolens afgangsprøve (karakterer)",
    "youth_education": "Ungdomsuddannelsesstatus pr. 1. oktober",
    "school_enrolment": "Elevregisteret (folkeskoler)",
    "childcare": "Pladsanvisningen (dagtilbud, fritidshjem og klubber)",
    "survey": "Inklusionsundersøgelsen",
    "safety": "Tryghedsindekset",
    "workforce": "Kommunens HR-udtræk",
}
DELIVERY_STATUS_LABELS = {"loaded": "indlæst", "superseded": "erstattet", "rejected": "afvist"}


def source_label(name: str) -> str:
    """A source's Danish label; an unknown source shows as its name rather than failing the page."""
    return SOURCE_LABELS.get(name, name)
