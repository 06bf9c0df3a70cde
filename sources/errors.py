"""The one error a bad delivery raises: it names file, rule, column and example rows, never values."""

from __future__ import annotations

from collections.abc import Iterable


class DeliveryError(Exception):
    """A delivery broke a rule. The message is safe to print: it never holds a cell's value."""

    def __init__(
        self, file: str, rule: str, column: str | None = None, rows: Iterable[int] = (), detail: str = ""
    ) -> None:
        self.file = file
        self.rule = rule
        self.column = column
        self.rows = sorted({int(r) for r in rows})
        self.detail = detail
        super().__init__(self.summary())

    def summary(self) -> str:
        parts = [f"{self.file}: rule '{self.rule}' broken"]
        if self.column:
            parts.append(f"in column '{self.column}'")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            parts.append(f"at row{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        text = " ".join(parts)
        return f"{text}: {self.detail}" if self.detail else text


class MissingKeyError(Exception):
    """Personal data may not be read without the pseudonymisation key."""

    def __init__(self, secret_block: str | None = None) -> None:
        block = f" or store it in the Prefect Secret block '{secret_block}'" if secret_block else ""
        super().__init__(
            "BAROMETER_PSEUDONYM_KEY is not set: the barometer refuses to read personal data "
            "(CPR numbers) without the secret key that pseudonymises them. Set "
            f"BAROMETER_PSEUDONYM_KEY to the municipality's key{block} (or run `barometer demo`, "
            "which generates a local key for the demo data)."
        )
