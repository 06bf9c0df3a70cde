"""Statistics Denmark's origin categories as the sources spell them, mapped to the barometer's
groups: 'danish', 'western' (immigrants/descendants, Western) and 'non_western'."""

from __future__ import annotations

import pandas as pd
from barometer.sources.parsing import stripped

ORIGIN_GROUPS = {
    "Dansk oprindelse": "danish",
    "Indvandrer, vestlig": "western",
    "Efterkommer, vestlig": "western",
    "Indvandrer, ikke-vestlig": "non_western",
    "Efterkommer, ikke-vestlig": "non_western",
}


def origin_group(herkomst: pd.Series) -> pd.Series:
    """'danish' | 'western' | 'non_western'; an unknown category gives <NA> (validation names it)."""
    return stripped(herkomst).map(ORIGIN_GROUPS).astype("string")
