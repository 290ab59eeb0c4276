"""After-game role sources: snap counts, play-by-play (aggregated) and Next Gen Stats rushing.

Split from :mod:`nfl_bnn.ingest.roles` (which imports them, and documents the decisions) to keep
modules short. All three are published after the game, so features use them for later weeks only.
"""
from __future__ import annotations

import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.ingest import count_column, no_duplicates, numeric, require_columns, whole
from nfl_bnn.teams import map_series

SNAPS = ["game_id", "season", "game_type", "week", "player", "pfr_player_id", "position", "team", "opponent",
         "offense_snaps", "offense_pct"]
PBP = ["game_id", "season", "week", "posteam", "defteam", "rush_attempt", "yards_gained", "yardline_100", "epa",
       "success", "rusher_player_id"]
NGS = ["season", "season_type", "week", "player_gsis_id", "player_display_name", "team_abbr", "rush_attempts",
       "rush_yards", "expected_rush_yards", "rush_yards_over_expected", "efficiency",
       "percent_attempts_gte_eight_defenders"]
RED_ZONE = 20  # yards from the end zone
GOAL_LINE = 5


def _ids(df: pd.DataFrame, col: str) -> pd.Series:
    s = df[col].astype("string").str.strip()
    return s.where(s.notna() & (s != ""), None)


def _obj(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None)


# --- snap counts ---------------------------------------------------------------------------------
def _rebuild_game_id(game_id: pd.Series, where: str) -> pd.Series:
    """nflverse ``SEASON_WEEK_AWAY_HOME`` with today's team codes (as ``mart.games`` stores it)."""
    parts = game_id.astype("string").str.split("_", expand=True)
    if parts.shape[1] != 4 or parts.isna().any().any():
        bad = game_id[parts.isna().any(axis=1)].iloc[0] if parts.shape[1] == 4 else game_id.iloc[0]
        raise DataError(f"{where}: column 'game_id' has {bad!r}; expected SEASON_WEEK_AWAY_HOME like 2024_01_ARI_BUF")
    away = map_series(parts[2], f"{where} column 'game_id' (away team)")
    home = map_series(parts[3], f"{where} column 'game_id' (home team)")
    return (parts[0] + "_" + parts[1] + "_" + away + "_" + home).astype(str)


def snap_counts_frame(df: pd.DataFrame, where: str, pfr_to_gsis: dict[str, str],
                      names: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """PFR snap counts as ``mart.snap_counts`` (offensive players), with a GSIS id where one is known.

    ``names``: (season, team, player_name, player_id) of known players, the fallback match.
    """
    require_columns(df, SNAPS, where, "an nflverse snap counts file")
    ids = ["pfr_player_id", "player", "season", "week"]
    snaps = count_column(df, "offense_snaps", where, ids, allow_null=True).fillna(0)
    keep = (snaps > 0) & df["pfr_player_id"].notna()
    dropped = int((~keep).sum())
    df, snaps = df[keep.to_numpy()].reset_index(drop=True), snaps[keep.to_numpy()].reset_index(drop=True)
    out = pd.DataFrame({"game_id": _rebuild_game_id(df["game_id"], where), "pfr_player_id": _ids(df, "pfr_player_id")})
    for c in ("season", "week"):
        out[c] = whole(df, count_column(df, c, where, ids), c, where, ids).astype("int64")
    out["team"] = map_series(df["team"], f"{where} column 'team'")
    out["player_name"] = _obj(df["player"])
    out["position"] = _obj(df["position"])
    out["offense_snaps"] = whole(df, snaps, "offense_snaps", where, ids)
    out["offense_pct"] = numeric(df, "offense_pct", where, ids)
    out["player_id"] = out["pfr_player_id"].map(pfr_to_gsis)
    if names is not None and not names.empty:
        n = names.drop_duplicates(["season", "team", "player_name", "player_id"])
        n = n[~n.duplicated(["season", "team", "player_name"], keep=False)]  # ambiguous names stay unmatched
        fb = out.merge(n, on=["season", "team", "player_name"], how="left", suffixes=("", "_n"))["player_id_n"]
        out["player_id"] = out["player_id"].where(out["player_id"].notna(), fb.to_numpy())
    out["player_id"] = _obj(out["player_id"])
    out["source"] = "nflverse-pfr"
    out, n_dup = no_duplicates(out, ["game_id", "pfr_player_id"], where, compare=["offense_snaps", "team"])
    cols = ["season", "week", "game_id", "pfr_player_id", "player_id", "player_name", "position", "team",
            "offense_snaps", "offense_pct", "source"]
    return out[cols].reset_index(drop=True), dropped + n_dup


# --- play-by-play --------------------------------------------------------------------------------
def pbp_frames(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Runs of one play-by-play file aggregated per rusher-game and per defence-game."""
    require_columns(df, PBP, where, "an nflverse play-by-play file")
    ids = ["game_id", "rusher_player_id", "season", "week"]
    rush = (numeric(df, "rush_attempt", where, ids) == 1).to_numpy()
    if "season_type" in df.columns:
        rush &= (df["season_type"].astype("string").str.upper().isin(["REG", "POST"])).fillna(False).to_numpy()
    r = df[rush].reset_index(drop=True)
    dropped = int(len(df) - len(r))
    plays = pd.DataFrame({"game_id": _rebuild_game_id(r["game_id"], where)})
    for c in ("season", "week"):
        plays[c] = whole(r, count_column(r, c, where, ids), c, where, ids).astype("int64")
    plays["team"] = map_series(r["posteam"], f"{where} column 'posteam'")
    plays["defteam"] = map_series(r["defteam"], f"{where} column 'defteam'")
    plays["player_id"] = _ids(r, "rusher_player_id")
    yd = numeric(r, "yardline_100", where, ids)
    plays["yards"] = numeric(r, "yards_gained", where, ids).fillna(0)
    plays["rz"] = (yd <= RED_ZONE).astype("int64")
    plays["gl"] = (yd <= GOAL_LINE).astype("int64")
    plays["success"] = numeric(r, "success", where, ids).fillna(0)
    plays["epa"] = numeric(r, "epa", where, ids).fillna(0)
    keys = ["season", "week", "game_id"]
    named = plays[plays["player_id"].notna()]
    dropped += int(len(plays) - len(named))
    usage = named.groupby(keys + ["team", "player_id"], as_index=False).agg(
        carries=("yards", "size"), rush_yards=("yards", "sum"), rz_carries=("rz", "sum"), gl_carries=("gl", "sum"),
        successes=("success", "sum"), epa_sum=("epa", "sum"))
    defense = plays.groupby(keys + ["defteam"], as_index=False).agg(
        rushes=("yards", "size"), rush_yards=("yards", "sum"), successes=("success", "sum"), epa_sum=("epa", "sum"))
    defense = defense.rename(columns={"defteam": "team"})
    for t in (usage, defense):
        t["rush_yards"] = t["rush_yards"].round().astype("int64")
        t["successes"] = t["successes"].round().astype("int64")
        t["source"] = "nflverse-pbp"
    return usage, defense, dropped


# --- Next Gen Stats ------------------------------------------------------------------------------
def ngs_frame(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int]:
    """Weekly NGS rushing rows as ``mart.ngs_rushing`` (season totals, week 0, are dropped)."""
    require_columns(df, NGS, where, "an nflverse Next Gen Stats rushing file")
    ids = ["player_gsis_id", "player_display_name", "season", "week"]
    keep = (pd.to_numeric(df["week"], errors="coerce") > 0) & df["player_gsis_id"].notna()
    dropped = int((~keep).sum())
    df = df[keep.to_numpy()].reset_index(drop=True)
    out = pd.DataFrame({"player_id": _ids(df, "player_gsis_id")})
    for c in ("season", "week", "rush_attempts", "rush_yards"):
        out[c] = whole(df, count_column(df, c, where, ids, allow_negative=c == "rush_yards"), c, where, ids)
    team = df["team_abbr"]
    out["team"] = None
    if team.notna().any():
        out.loc[team.notna().to_numpy(), "team"] = map_series(team[team.notna()], f"{where} column 'team_abbr'").to_numpy()
    out["player_name"] = _obj(df["player_display_name"])
    out["season_type"] = _obj(df["season_type"].astype("string").str.upper())
    for c, new in (("expected_rush_yards", "expected_rush_yards"), ("rush_yards_over_expected", "ryoe"),
                   ("efficiency", "efficiency"), ("percent_attempts_gte_eight_defenders", "stacked_box_pct")):
        out[new] = numeric(df, c, where, ids)
    out["source"] = "nflverse-ngs"
    out, n = no_duplicates(out, ["season", "week", "player_id"], where, compare=["rush_yards", "ryoe"])
    return out.reset_index(drop=True), dropped + n
