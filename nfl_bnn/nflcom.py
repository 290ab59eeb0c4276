"""NFL.com weekly running-back projections, joined to GSIS player ids.

NFL.com files carry their own player ids, so they are joined to the warehouse by normalised name
(lower case, no punctuation, no Jr/Sr/II/III suffix), team (today's codes), season and week.
Unmatched projections are kept out and counted in the log.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from nfl_bnn.betting import half_yard
from nfl_bnn.errors import DataError
from nfl_bnn.names import normalise_name

log = logging.getLogger("nfl_bnn.nflcom")

TEAM_MAP = {"LAR": "LA", "OAK": "LV", "SD": "LAC", "STL": "LA", "JAC": "JAX", "WSH": "WAS"}
REQUIRED = ["season", "week", "PlayerName", "Team", "RushingYDS"]


def read_projections(path: str | Path) -> pd.DataFrame:
    """season, week, team, name_key, proj_rush_yds from an NFL.com projections CSV."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"NFL.com projections file {p} does not exist; check the path to the CSV "
                        "(e.g. rb_projections_2024.csv)")
    df = pd.read_csv(p)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"NFL.com projections file {p} lacks columns {missing}; expected {REQUIRED}")
    out = pd.DataFrame({"season": df["season"].astype(int), "week": df["week"].astype(int),
                        "team": df["Team"].astype(str).str.upper().replace(TEAM_MAP),
                        "name_key": df["PlayerName"].map(normalise_name),
                        "proj_rush_yds": pd.to_numeric(df["RushingYDS"], errors="coerce")})
    return out.drop_duplicates(["season", "week", "team", "name_key"])


def join_projections(frame: pd.DataFrame, proj: pd.DataFrame) -> pd.Series:
    """NFL.com projected rushing yards for each row of ``frame`` (NaN where none matches)."""
    key = frame[["season", "week", "team"]].copy()
    key["name_key"] = frame["player_name"].map(normalise_name)
    m = key.merge(proj, on=["season", "week", "team", "name_key"], how="left")
    n = int(m["proj_rush_yds"].notna().sum())
    log.info("NFL.com projections matched for %d of %d rows", n, len(frame))
    return pd.Series(m["proj_rush_yds"].to_numpy(), index=frame.index, name="proj_rush_yds")


def line_from_projection(proj: pd.Series | np.ndarray) -> np.ndarray:
    """The proxy line: the projection moved to the nearest .5 (:func:`nfl_bnn.betting.half_yard`)."""
    return half_yard(proj)
