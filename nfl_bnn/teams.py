"""Historical team codes -> today's franchise codes, so a franchise's history joins across eras.

nflverse schedules keep the code of the era (OAK, SD, STL) while nflverse player stats use today's;
nflgame writes Jacksonville as JAC in some seasons. Everything in the warehouse uses today's codes.
"""
from __future__ import annotations

import pandas as pd

from nfl_bnn.errors import DataError

#: The 32 current franchise codes (nflverse spelling).
CURRENT: frozenset[str] = frozenset(
    "ARI ATL BAL BUF CAR CHI CIN CLE DAL DEN DET GB HOU IND JAX KC LA LAC LV MIA MIN NE NO NYG NYJ "
    "PHI PIT SEA SF TB TEN WAS".split()
)

#: Old or alternative code -> today's code.
HISTORICAL: dict[str, str] = {
    "OAK": "LV",   # Raiders moved to Las Vegas in 2020
    "SD": "LAC",   # Chargers moved to Los Angeles in 2017
    "SDG": "LAC",
    "STL": "LA",   # Rams moved to Los Angeles in 2016
    "LAR": "LA",
    "JAC": "JAX",  # nflgame spelling
    "WSH": "WAS",
    "ARZ": "ARI",
    "BLT": "BAL",
    "CLV": "CLE",
    "HST": "HOU",
}


def to_current(code: str) -> str:
    """Today's code for ``code``; raises DataError for a code that is no NFL franchise."""
    c = str(code).strip().upper()
    c = HISTORICAL.get(c, c)
    if c not in CURRENT:
        raise DataError(f"unknown team code {code!r}; expected one of {', '.join(sorted(CURRENT))} or an old code "
                        f"({', '.join(sorted(HISTORICAL))})")
    return c


def map_series(codes: pd.Series, where: str) -> pd.Series:
    """Vectorised :func:`to_current`; the error names ``where`` (file and column) and the bad code."""
    s = codes.astype("string").str.strip().str.upper()
    s = s.replace(HISTORICAL)
    bad = s.isna() | ~s.isin(CURRENT)
    if bad.any():
        example = codes[bad].iloc[0]
        raise DataError(
            f"{where}: unknown team code {example!r} in {int(bad.sum())} row(s); expected today's codes "
            f"({', '.join(sorted(CURRENT))}) or old ones ({', '.join(sorted(HISTORICAL))})"
        )
    return s.astype(object)
