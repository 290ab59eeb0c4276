"""Warehouse-shaped frames built straight from ../shared/data/nflverse (for benches and tests).

Used only where the warehouse is not needed: it maps the legacy weekly ``player_stats`` and the
schedules to exactly the columns of ``mart.player_game_stats`` and ``mart.games``
(docs/architecture.md), so features and model code see the same frames either way.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TEAM_MAP = {"OAK": "LV", "SD": "LAC", "STL": "LA", "JAC": "JAX"}


def games_frame(shared: Path = SHARED) -> pd.DataFrame:
    g = pd.read_parquet(shared / "nflverse" / "schedules_2009_2024.parquet")
    for c in ("home_team", "away_team"):
        g[c] = g[c].replace(TEAM_MAP)
    g["season_type"] = (g["game_type"] == "REG").map({True: "REG", False: "POST"})
    g["kickoff"] = pd.to_datetime(g["gameday"] + " " + g["gametime"].fillna("13:00"))
    return g[["game_id", "season", "week", "season_type", "gameday", "kickoff", "home_team", "away_team",
              "home_score", "away_score", "spread_line", "total_line"]].assign(source="nflverse")


def stats_frame(games: pd.DataFrame, shared: Path = SHARED) -> pd.DataFrame:
    s = pd.read_parquet(shared / "nflverse" / "player_stats_2009_2024.parquet")
    s["team"] = s["recent_team"].replace(TEAM_MAP)
    home = games[["game_id", "season", "week", "home_team"]].rename(columns={"home_team": "team"})
    home["is_home"] = True
    away = games[["game_id", "season", "week", "away_team"]].rename(columns={"away_team": "team"})
    away["is_home"] = False
    tg = pd.concat([home, away])
    s = s.merge(tg, on=["season", "week", "team"], how="inner")
    s["opponent"] = s["opponent_team"].replace(TEAM_MAP)
    s["player_name"] = s["player_display_name"].fillna(s["player_name"])
    out = s[["season", "week", "season_type", "game_id", "player_id", "player_name", "position", "team",
             "opponent", "is_home", "carries", "rushing_yards", "rushing_tds", "targets", "receptions",
             "receiving_yards"]].copy()
    out["source"] = "nflverse"
    return out.drop_duplicates(["game_id", "player_id"]).reset_index(drop=True)


def injuries_frame(shared: Path = SHARED) -> pd.DataFrame:
    """Weekly injury reports 2016-2024 shaped like ``warehouse.load_injuries`` (the importer's own validation)."""
    from nfl_bnn.ingest.nflverse import injuries_frame as shape

    path = shared / "nflverse" / "injuries_2016_2024.parquet"
    return shape(pd.read_parquet(path), str(path))[0]


def load(shared: Path = SHARED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stats, games) shaped like the warehouse readers' output."""
    games = games_frame(shared)
    return stats_frame(games, shared), games
