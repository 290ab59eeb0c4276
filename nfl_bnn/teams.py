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


#: Full franchise names as sportsbook feeds write them (The Odds API's ``home_team``/``away_team``),
#: old names included, -> today's code.
FULL_NAMES: dict[str, str] = {
    "Arizona Cardinals": "ARI", "Atlanta Falcons": "ATL", "Baltimore Ravens": "BAL", "Buffalo Bills": "BUF",
    "Carolina Panthers": "CAR", "Chicago Bears": "CHI", "Cincinnati Bengals": "CIN", "Cleveland Browns": "CLE",
    "Dallas Cowboys": "DAL", "Denver Broncos": "DEN", "Detroit Lions": "DET", "Green Bay Packers": "GB",
    "Houston Texans": "HOU", "Indianapolis Colts": "IND", "Jacksonville Jaguars": "JAX",
    "Kansas City Chiefs": "KC", "Los Angeles Rams": "LA", "St. Louis Rams": "LA", "St Louis Rams": "LA",
    "Los Angeles Chargers": "LAC", "San Diego Chargers": "LAC", "Las Vegas Raiders": "LV",
    "Oakland Raiders": "LV", "Miami Dolphins": "MIA", "Minnesota Vikings": "MIN", "New England Patriots": "NE",
    "New Orleans Saints": "NO", "New York Giants": "NYG", "New York Jets": "NYJ", "Philadelphia Eagles": "PHI",
    "Pittsburgh Steelers": "PIT", "Seattle Seahawks": "SEA", "San Francisco 49ers": "SF",
    "Tampa Bay Buccaneers": "TB", "Tennessee Titans": "TEN", "Washington Commanders": "WAS",
    "Washington Football Team": "WAS", "Washington Redskins": "WAS", "Washington": "WAS",
}
_FULL_KEYS = {" ".join(k.lower().split()): v for k, v in FULL_NAMES.items()}


def from_full_name(name: str, where: str) -> str:
    """Today's code of a franchise written out in full ("Kansas City Chiefs" -> ``KC``); a code is accepted
    too. Anything else is a DataError naming ``where``: the feed is not the NFL's (a college sport key?)."""
    text = " ".join(str(name).lower().split())
    if text in _FULL_KEYS:
        return _FULL_KEYS[text]
    try:
        return to_current(str(name))
    except DataError:
        raise DataError(f"{where}: unknown NFL team {name!r}; expected a full franchise name such as "
                        "'Kansas City Chiefs' (is the file from sport key americanfootball_nfl?)") from None
