"""CPR numbers in, pseudonyms out: the raw number never leaves the function that reads a file.

A CPR number is normalised (hyphen dropped), its birth date and sex derived, and then replaced by
HMAC-SHA256 under the secret key. Since 2007 valid numbers may fail modulus 11: not checked.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from sources.errors import DeliveryError, MissingKeyError


class PseudonymKey:
    """The secret key, with a short public version id so deliveries record which key was used."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            raise MissingKeyError()
        self._secret = secret.encode("utf-8")
        self.version = hmac.new(self._secret, b"barometer-key-version", hashlib.sha256).hexdigest()[:8]

    def __repr__(self) -> str:  # never show the secret
        return f"PseudonymKey(version={self.version})"

    def pseudonymise(self, digits: pd.Series) -> pd.Series:
        """HMAC-SHA256 of each normalised CPR number (one C-level hash per distinct value)."""
        distinct = digits.unique()
        hashed = [hmac.new(self._secret, str(d).encode(), hashlib.sha256).hexdigest() for d in distinct]
        return digits.map(dict(zip(distinct, hashed)))


def _century(year2: pd.Series, digit7: pd.Series) -> pd.Series:
    """Statistics Denmark's rule: the 7th digit and the two year digits give the century."""
    century = np.select(
        [digit7 <= 3, digit7.isin([4, 9]) & (year2 <= 36), digit7.isin([4, 9]),
         (digit7 >= 5) & (digit7 <= 8) & (year2 <= 57)],
        [1900, 2000, 1900, 2000],
        default=1800,
    )
    return pd.Series(century, index=year2.index)


def split_cpr(raw: pd.Series, file: str, column: str, rows: pd.Series,
              key: PseudonymKey) -> pd.DataFrame:
    """Pseudonym, birth date and sex for a column of CPR numbers (with or without hyphen).

    Malformed numbers are a DeliveryError naming the rows, never the values.
    """
    text = raw.astype("string").str.strip()
    well_formed = text.str.fullmatch(r"\d{6}-?\d{4}").fillna(False).astype(bool)
    digits = text.str.replace("-", "", regex=False)
    day = pd.to_numeric(digits.str[0:2], errors="coerce")
    month = pd.to_numeric(digits.str[2:4], errors="coerce")
    year2 = pd.to_numeric(digits.str[4:6], errors="coerce")
    digit7 = pd.to_numeric(digits.str[6:7], errors="coerce")
    year = _century(year2.fillna(0), digit7.fillna(0)) + year2.fillna(0)
    birth = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month.fillna(1), "day": day.fillna(1)}), errors="coerce"
    )
    valid = well_formed & birth.notna()
    if not valid.all():
        raise DeliveryError(file, "CPR number has the form DDMMYY-SSSS or DDMMYYSSSS (a real date)",
                            column, rows[~valid].tolist())
    last = pd.to_numeric(digits.str[9], errors="coerce")
    return pd.DataFrame({
        "person_id": key.pseudonymise(digits),
        "cpr_birth_date": birth.dt.date,
        "sex": np.where(last % 2 == 1, "M", "K"),
    }, index=raw.index)
