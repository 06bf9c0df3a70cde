"""CPR numbers in, pseudonyms out: the raw number never leaves the function that reads a file.

A CPR number is normalised (hyphen dropped), its birth date and sex derived, and then replaced by
HMAC-SHA256 under the secret key. Since 2007 valid numbers may fail modulus 11: not checked.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
from barometer.sources.errors import DeliveryError, MissingKeyError
from barometer.sources.staged import ROW

from barometer import timing

PERSON_COLUMNS = ("person_id", "cpr_birth_date", "sex")  # what split_cpr derives from a CPR number
HEX_LENGTH = 2 * hashlib.sha256().digest_size  # a pseudonym's length in hex digits


class PseudonymKey:
    """The secret key, with a short public version id so deliveries record which key was used."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            raise MissingKeyError()
        self._secret = secret.encode("utf-8")
        self.version = hmac.new(self._secret, b"barometer-key-version", hashlib.sha256).hexdigest()[:8]
        self._inner, self._outer = _padded_states(self._secret)

    def __repr__(self) -> str:  # never show the secret
        return f"PseudonymKey(version={self.version})"

    def pseudonymise(self, values: pd.Series) -> pd.Series:
        """HMAC-SHA256 of each value's UTF-8 text (one C-level hash per distinct value)."""
        return self.pseudonyms(_arrow_text(values), values.index)

    def pseudonyms(self, values: pa.Array, index: pd.Index) -> pd.Series:
        """HMAC-SHA256 of each (binary or text) value as hex, computed on bytes once per distinct
        value and built as one Arrow string column: no Python string per row."""
        encoded = values.dictionary_encode()
        distinct = encoded.dictionary.cast(pa.binary()).to_pylist()
        digests = b"".join([self._digest(value) for value in distinct])
        offsets = np.arange(0, HEX_LENGTH * (len(distinct) + 1), HEX_LENGTH, dtype=np.int32)
        hexed = pa.StringArray.from_buffers(
            len(distinct), pa.py_buffer(offsets), pa.py_buffer(binascii.hexlify(digests))
        )
        return pd.Series(pd.arrays.ArrowStringArray(hexed.take(encoded.indices)), index=index)

    def _digest(self, value: bytes) -> bytes:
        """HMAC-SHA256 (RFC 2104) from the key's padded states, hashed once in __init__: per value
        this skips the key set-up `hmac.digest` repeats, which costs more than the hash itself."""
        inner = self._inner.copy()
        inner.update(value)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def _padded_states(secret: bytes) -> tuple:
    """SHA-256 states after the key XOR ipad and XOR opad blocks: HMAC's fixed first blocks."""
    block = hashlib.sha256().block_size
    key = (hashlib.sha256(secret).digest() if len(secret) > block else secret).ljust(block, b"\0")
    return (
        hashlib.sha256(bytes(byte ^ 0x36 for byte in key)),
        hashlib.sha256(bytes(byte ^ 0x5C for byte in key)),
    )


def _arrow_text(values: pd.Series) -> pa.Array:
    """A text column as one contiguous Arrow array (pandas may hold it in several chunks)."""
    array = pa.array(values.astype("string"))
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _century(year2: pd.Series, digit7: pd.Series) -> pd.Series:
    """Statistics Denmark's rule: the 7th digit and the two year digits give the century."""
    century = np.select(
        [
            digit7 <= 3,
            digit7.isin([4, 9]) & (year2 <= 36),
            digit7.isin([4, 9]),
            (digit7 >= 5) & (digit7 <= 8) & (year2 <= 57),
        ],
        [1900, 2000, 1900, 2000],
        default=1800,
    )
    return pd.Series(century, index=year2.index)


def split_cpr(raw: pd.Series, file: str, column: str, rows: pd.Series, key: PseudonymKey) -> pd.DataFrame:
    """Pseudonym, birth date and sex for a column of CPR numbers (with or without hyphen).

    Malformed numbers are a DeliveryError naming the rows, never the values.
    """
    with timing.stage("pseudonymise"):
        return _split_cpr(raw, file, column, rows, key)


def _split_cpr(raw: pd.Series, file: str, column: str, rows: pd.Series, key: PseudonymKey) -> pd.DataFrame:
    text = raw.astype("string").str.strip()
    well_formed = text.str.fullmatch(r"\d{6}-?\d{4}").fillna(False).astype(bool).to_numpy()
    digits = text.str.replace("-", "", regex=False).where(well_formed, "0101000000")
    # Ten digits as fixed-width bytes, then a (rows × 10) integer matrix: no parsing per row.
    numbers = _arrow_text(digits).cast(pa.binary(10))
    matrix = np.frombuffer(
        numbers.buffers()[1], dtype=np.uint8, count=10 * len(numbers), offset=10 * numbers.offset
    ).reshape(-1, 10) - ord("0")
    day = matrix[:, 0] * 10 + matrix[:, 1]
    month = matrix[:, 2] * 10 + matrix[:, 3]
    year2 = pd.Series(matrix[:, 4] * 10 + matrix[:, 5], index=raw.index)
    digit7 = pd.Series(matrix[:, 6], index=raw.index)
    year = _century(year2, digit7) + year2
    birth = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}, index=raw.index), errors="coerce")
    valid = well_formed & birth.notna().to_numpy()
    if not valid.all():
        raise DeliveryError(
            file, "CPR number has the form DDMMYY-SSSS or DDMMYYSSSS (a real date)", column, rows[~valid].tolist()
        )
    return pd.DataFrame(
        {
            "person_id": key.pseudonyms(numbers, raw.index),
            "cpr_birth_date": birth.dt.date,
            "sex": np.where(matrix[:, 9] % 2 == 1, "M", "K"),
        },
        index=raw.index,
    )


def pseudonymise_cpr(
    column: str, file: str, key: PseudonymKey, keep: tuple[str, ...] = PERSON_COLUMNS, label: str | None = None
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The `prepare=` callback of `read_csv`/`read_xlsx` that swaps each chunk's CPR column for
    the `keep` columns of `split_cpr`, so the raw numbers never outlive the chunk they came in.
    `label` is the file's name for the column in errors (default: `column`)."""

    def pseudonymise(chunk: pd.DataFrame) -> pd.DataFrame:
        person = split_cpr(chunk[column], file, label or column, chunk[ROW], key)
        return pd.concat([chunk.drop(columns=column), person[list(keep)]], axis=1)

    return pseudonymise
