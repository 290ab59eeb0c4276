"""Import who-carries-the-ball sources from nflverse: depth charts, weekly rosters, snap counts,
play-by-play usage and Next Gen Stats rushing (issue 13). The three after-game sources (snaps,
play-by-play, NGS) are shaped in :mod:`nfl_bnn.ingest.usage`.

Each ``*_frame`` function validates one file and shapes it as its warehouse table (columns in
docs/architecture.md, publication rules in docs/roles.md); :func:`import_roles` writes them all in one
transaction, like the other importers, so a bad file leaves the warehouse as it was. Re-importing the
same file changes nothing (upserts on each table's key).

Decisions:

* Players are keyed by GSIS id. Snap counts only have PFR ids: they keep ``pfr_player_id`` as their
  key and get a GSIS ``player_id`` from the weekly rosters' ``pfr_id`` (same import or warehouse), else
  from a unique (season, team, name) match in ``mart.player_game_stats``; unmatched rows keep NULL.
* Depth charts come in two schemas: the legacy weekly one (``season``, ``week``, ``club_code``,
  ``depth_team``; no publication time: ``published_at`` NULL, usable only from the next week) and the
  2025+ ESPN one (daily snapshots ``dt``; ``published_at`` = ``dt`` in US/Eastern, and the season and
  week are those of the team's next game after ``dt`` among known games, week 0 when none is known).
  Rows without a GSIS id are dropped and counted. One row per (edition, team, player, slot): the best
  rank if a file lists a player twice in a slot.
* Play-by-play is kept lean: runs are aggregated per rusher-game (``mart.rush_usage``) and per
  defence-game (``mart.run_defense``), about 5,000 rows a season instead of 50,000 plays.
* Snap counts keep offensive players only (``offense_snaps > 0``); NGS keeps weekly rows only (week 0
  is a season total, which would leak later weeks into early ones).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.ingest import count_column, require_columns, whole, write_tables
from nfl_bnn.ingest.nflverse import read_table
from nfl_bnn.ingest.usage import _ids, _obj, ngs_frame, pbp_frames, snap_counts_frame
from nfl_bnn.teams import map_series
from nfl_bnn.warehouse import UpsertCounts, Warehouse

log = logging.getLogger("nfl_bnn.ingest.roles")

LEGACY_DEPTH = ["season", "week", "game_type", "club_code", "gsis_id", "full_name", "position", "depth_position",
                "depth_team"]
ESPN_DEPTH = ["dt", "team", "player_name", "gsis_id", "pos_abb", "pos_rank"]
ROSTER = ["season", "week", "game_type", "team", "gsis_id", "player_name", "position", "status"]
LEGACY_SNAPSHOT = "weekly"  # the legacy schema's one edition per week


def _eastern(stamp: pd.Series, df: pd.DataFrame, col: str, where: str, who: str) -> pd.Series:
    ts = pd.to_datetime(stamp, errors="coerce", utc=True)
    bad = ts.isna() & stamp.notna()
    if bad.any():
        raise DataError(f"{where}: column {col!r} has an unreadable timestamp {stamp[bad].iloc[0]!r} "
                        f"(row of {df.loc[bad, who].iloc[0]!r}); expected an ISO timestamp such as 2025-09-05T12:00:00Z")
    return ts.dt.tz_convert("America/New_York").dt.tz_localize(None).astype("datetime64[ns]")


# --- depth charts --------------------------------------------------------------------------------
def depth_chart_schema(df: pd.DataFrame, where: str) -> str:
    """``legacy`` (weekly, nflverse up to 2024) or ``espn`` (timestamped snapshots, 2025 on)."""
    if "dt" in df.columns and "pos_rank" in df.columns:
        require_columns(df, ESPN_DEPTH, where, "an nflverse depth chart (2025+ ESPN schema)")
        return "espn"
    require_columns(df, LEGACY_DEPTH, where, "an nflverse depth chart (legacy weekly schema: season, week, "
                    "club_code, depth_team...; or the 2025+ schema: dt, team, pos_abb, pos_rank...)")
    return "legacy"


def _next_game(team_rows: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Season and week of each row's team's first game kicking off after ``published_at`` (else week 0)."""
    tg = pd.concat([games.assign(team=games.home_team), games.assign(team=games.away_team)])
    tg = tg.dropna(subset=["kickoff"])[["team", "kickoff", "season", "week"]].copy()
    tg["kickoff"] = pd.to_datetime(tg["kickoff"]).astype("datetime64[ns]")
    tg = tg.sort_values("kickoff")
    left = team_rows.reset_index().sort_values("published_at")
    out = pd.merge_asof(left, tg.rename(columns={"season": "g_season", "week": "g_week"}),
                        left_on="published_at", right_on="kickoff", by="team", direction="forward")
    out = out.set_index("index").sort_index()
    year = out["published_at"].dt.year
    offseason = np.where(out["published_at"].dt.month >= 3, year, year - 1)
    season = out["g_season"].fillna(pd.Series(offseason, index=out.index)).astype("int64")
    week = out["g_week"].fillna(0).astype("int64")
    return pd.DataFrame({"season": season, "week": week}, index=out.index)


def depth_charts_frame(df: pd.DataFrame, where: str, games: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Either depth-chart schema as ``mart.depth_charts``; return (rows, dropped)."""
    schema = depth_chart_schema(df, where)
    if schema == "legacy":
        ids = ["gsis_id", "full_name", "season", "week"]
        keep = df["week"].notna() & df["game_type"].astype("string").isin(["REG", "WC", "DIV", "CON", "SB"]).fillna(False)
        keep &= df["gsis_id"].notna()
        dropped = int((~keep).sum())
        df = df[keep.to_numpy()].reset_index(drop=True)
        out = pd.DataFrame({"player_id": _ids(df, "gsis_id")})
        for c in ("season", "week"):
            out[c] = whole(df, count_column(df, c, where, ids), c, where, ids).astype("int64")
        out["team"] = map_series(df["club_code"], f"{where} column 'club_code'")
        out["player_name"] = _obj(df["full_name"])
        out["position"] = _obj(df["position"])
        slot = df["depth_position"].astype("string").str.strip()
        out["slot"] = slot.where(slot.notna() & (slot != ""), df["position"].astype("string")).fillna("?").astype(str)
        out["depth_rank"] = whole(df, count_column(df, "depth_team", where, ids), "depth_team", where, ids)
        out["published_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        out["snapshot"] = LEGACY_SNAPSHOT
    else:
        ids = ["gsis_id", "player_name", "dt"]
        keep = df["gsis_id"].notna() & df["pos_rank"].notna()
        dropped = int((~keep).sum())
        df = df[keep.to_numpy()].reset_index(drop=True)
        out = pd.DataFrame({"player_id": _ids(df, "gsis_id")})
        out["team"] = map_series(df["team"], f"{where} column 'team'")
        out["player_name"] = _obj(df["player_name"])
        slot = df["pos_abb"].astype("string").str.strip().fillna("?").astype(str)
        out["position"] = slot.to_numpy()
        out["slot"] = slot.to_numpy()
        out["depth_rank"] = whole(df, count_column(df, "pos_rank", where, ids), "pos_rank", where, ids)
        out["published_at"] = _eastern(df["dt"], df, "dt", where, "player_name")
        out["snapshot"] = pd.to_datetime(df["dt"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
        sw = _next_game(out[["team", "published_at"]], games)
        out["season"], out["week"] = sw["season"].to_numpy(), sw["week"].to_numpy()
    key = ["season", "week", "team", "player_id", "slot", "snapshot"]
    before = len(out)
    out = out.sort_values("depth_rank", kind="stable").drop_duplicates(key, keep="first")
    dropped += before - len(out)
    out["source"] = f"nflverse-{schema}"
    cols = key + ["player_name", "position", "depth_rank", "published_at", "source"]
    return out[cols].sort_values(key).reset_index(drop=True), dropped


# --- weekly rosters ------------------------------------------------------------------------------
def rosters_frame(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int]:
    """nflverse ``roster_weekly`` as ``mart.rosters``: one row per (season, week, player)."""
    require_columns(df, ROSTER, where, "an nflverse weekly roster (roster_weekly)")
    ids = ["gsis_id", "player_name", "season", "week"]
    keep = df["gsis_id"].notna().to_numpy()
    dropped = int((~keep).sum())
    df = df[keep].reset_index(drop=True)
    out = pd.DataFrame({"player_id": _ids(df, "gsis_id")})
    for c in ("season", "week"):
        out[c] = whole(df, count_column(df, c, where, ids), c, where, ids).astype("int64")
    out["team"] = map_series(df["team"], f"{where} column 'team'")
    out["player_name"] = _obj(df["player_name"])
    out["position"] = _obj(df["position"])
    dcp = df["depth_chart_position"] if "depth_chart_position" in df.columns else df["position"]
    out["depth_chart_position"] = _obj(dcp)
    out["status"] = _obj(df["status"].astype("string").str.strip().str.upper())
    detail = df["status_description_abbr"] if "status_description_abbr" in df.columns else pd.Series(None, index=df.index)
    out["status_detail"] = _obj(detail)
    out["pfr_id"] = _obj(_ids(df, "pfr_id")) if "pfr_id" in df.columns else None
    out["game_type"] = _obj(df["game_type"].astype("string").str.upper())
    out["source"] = "nflverse"
    # a player on two lists in one week (practice squads of two teams): the active one wins
    before = len(out)
    out["_act"] = out["status"].eq("ACT")
    out = out.sort_values(["_act"], kind="stable").drop_duplicates(["season", "week", "player_id"], keep="last")
    dropped += before - len(out)
    cols = ["season", "week", "player_id", "team", "player_name", "position", "depth_chart_position", "status",
            "status_detail", "pfr_id", "game_type", "source"]
    return out[cols].sort_values(["season", "week", "team", "player_id"]).reset_index(drop=True), dropped


# --- the import ------------------------------------------------------------------------------------
def _warehouse_games(wh: Warehouse) -> pd.DataFrame:
    if not wh.table_exists("mart.games"):
        return pd.DataFrame(columns=["season", "week", "home_team", "away_team", "kickoff"])
    return wh.query_df("SELECT season, week, home_team, away_team, kickoff FROM mart.games")


def _pfr_map(rosters: pd.DataFrame | None, wh: Warehouse) -> dict[str, str]:
    parts = []
    if wh.table_exists("mart.rosters"):
        parts.append(wh.query_df("SELECT DISTINCT pfr_id, player_id FROM mart.rosters WHERE pfr_id IS NOT NULL"))
    if rosters is not None:
        parts.append(rosters.loc[rosters["pfr_id"].notna(), ["pfr_id", "player_id"]])
    parts = [p for p in parts if not p.empty]
    if not parts:
        return {}
    m = pd.concat(parts, ignore_index=True).drop_duplicates()
    m = m[~m.duplicated("pfr_id", keep=False)]
    return dict(zip(m["pfr_id"], m["player_id"]))


def _stat_names(wh: Warehouse) -> pd.DataFrame | None:
    if not wh.table_exists("mart.player_game_stats"):
        return None
    return wh.query_df("SELECT DISTINCT season, team, player_name, player_id FROM mart.player_game_stats "
                       "WHERE player_name IS NOT NULL")


def _read_all(paths: Sequence[str | Path], shape, *args) -> tuple[list[pd.DataFrame], int]:
    parts, dropped = [], 0
    for src in paths:
        raw, where = read_table(src)
        frame, n = shape(raw, where, *args)
        log.info("%s: %d rows (%d dropped)", where, len(frame), n)
        parts.append(frame)
        dropped += n
    return parts, dropped


def import_roles(wh: Warehouse, depth_charts: Sequence[str | Path] = (), rosters: Sequence[str | Path] = (),
                 snap_counts: Sequence[str | Path] = (), pbp: Sequence[str | Path] = (),
                 ngs: Sequence[str | Path] = ()) -> list[UpsertCounts]:
    """Read and validate every file first, then upsert all tables in one transaction.

    Import schedules (``mart.games``) and player stats first: ESPN-schema depth charts take their week
    from the games, and snap counts match names against the player stats.
    """
    if not any((depth_charts, rosters, snap_counts, pbp, ngs)):
        raise DataError("nothing to import: pass --depth-charts, --rosters, --snap-counts, --pbp and/or --ngs")
    frames: dict[str, pd.DataFrame] = {}
    dropped: dict[str, int] = {}

    def add(table: str, parts: list[pd.DataFrame], n: int, key: Sequence[str]) -> None:
        if parts:
            df = pd.concat(parts, ignore_index=True)
            before = len(df)
            df = df.drop_duplicates(list(key), keep="last")  # overlapping files: the later one wins
            frames[table], dropped[table] = df, n + before - len(df)

    from nfl_bnn.schema import KEYS

    parts, n = _read_all(rosters, rosters_frame)
    add("mart.rosters", parts, n, KEYS["mart.rosters"])
    if depth_charts:
        parts, n = _read_all(depth_charts, depth_charts_frame, _warehouse_games(wh))
        add("mart.depth_charts", parts, n, KEYS["mart.depth_charts"])
    if snap_counts:
        parts, n = _read_all(snap_counts, snap_counts_frame, _pfr_map(frames.get("mart.rosters"), wh), _stat_names(wh))
        add("mart.snap_counts", parts, n, KEYS["mart.snap_counts"])
    usage, defense, n_pbp = [], [], 0
    for src in pbp:
        raw, where = read_table(src)
        u, d, n = pbp_frames(raw, where)
        log.info("%s: %d rusher-games, %d defence-games (%d non-run or unnamed plays)", where, len(u), len(d), n)
        usage.append(u)
        defense.append(d)
        n_pbp += n
    add("mart.rush_usage", usage, n_pbp, KEYS["mart.rush_usage"])
    add("mart.run_defense", defense, 0, KEYS["mart.run_defense"])
    parts, n = _read_all(ngs, ngs_frame)
    add("mart.ngs_rushing", parts, n, KEYS["mart.ngs_rushing"])
    return write_tables(wh, frames, dropped)
