"""The input columns, the league priors and the "state after game" rows the features are built from.

Per-player and per-team states after each regular-season game, the implied team totals and the injury
report status of each candidate; :func:`nfl_bnn.features._frame` joins them to each candidate week
strictly before its kickoffs (the as-of rule in :mod:`nfl_bnn.features`). Every name here is
re-exported by :mod:`nfl_bnn.features`.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError

log = logging.getLogger("nfl_bnn.features")  # the features' logger: its records keep their name

STATS_COLUMNS = ["season", "week", "season_type", "game_id", "player_id", "player_name", "position", "team",
                 "opponent", "is_home", "carries", "rushing_yards"]
INJURY_COLUMNS = ["season", "week", "team", "player_id", "report_status"]
#: Report statuses that take a back out of the candidates (Doubtful backs rarely play: a void bet).
OUT_STATUSES = {"Out", "Doubtful"}
GAMES_COLUMNS = ["game_id", "season", "week", "season_type", "home_team", "away_team", "home_score",
                 "away_score", "spread_line", "total_line"]

# Priors (constants, so they carry no information from the future).
EWMA_ALPHA = 0.35  # weight of the newest game in projected carries / carry share
LEAGUE_YPC = 4.2  # yards per carry of backs, shrinkage target
YPC_PRIOR_CARRIES = 60.0  # prior strength of the ypc shrinkage, in carries
LAST_SEASON_GAMES = 3.0  # last season's yards per game counts as this many games of the current season
LEAGUE_RB_ALLOWED = 100.0  # non-QB rushing yards a defence allows per game, shrinkage target
ALLOWED_PRIOR_GAMES = 4.0
ALLOWED_WINDOW = 8  # games in the opponent rolling window
LEAGUE_POINTS = 22.0
POINTS_WINDOW = 8
MIN_PROJ_CARRIES = 8.0
MAX_LOST_SHARE = 0.8  # eligibility scales carries by at most 1 / (1 - 0.8) when teammates are out
TOP_N_PER_TEAM = 2
RECENT_TEAM_GAMES = 2  # must have played in one of the team's last 2 games (void share: docs/features.md)
BACK_POSITIONS = {"RB", "FB", "HB"}


def _check(df: pd.DataFrame, cols: list[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{name} frame lacks columns {missing}; it must have the warehouse columns "
                        f"documented in docs/architecture.md (load it with nfl_bnn.warehouse)")


def _t(season, week):
    return np.asarray(season, dtype=np.int64) * 100 + np.asarray(week, dtype=np.int64)


def implied_totals(games: pd.DataFrame) -> pd.DataFrame:
    """One row per team-game with the implied team total (points) and the team's actual points.

    ``spread_line`` is the home team's expected margin (positive = home favoured: it correlates
    positively with home minus away score, ``python -m bench.features``), so home = total/2 +
    spread/2 and away = total/2 - spread/2. Where spread or total is missing (the nflgame era data) the implied
    total is NaN here and :func:`_team_game_states` falls back to the team's rolling points.
    """
    g = games[games["season_type"] == "REG"]
    half_total = g["total_line"].astype(float) / 2
    half_spread = g["spread_line"].astype(float) / 2
    home = pd.DataFrame({"game_id": g["game_id"], "season": g["season"], "week": g["week"],
                         "team": g["home_team"], "opponent": g["away_team"], "is_home": True,
                         "implied_raw": half_total + half_spread, "points": g["home_score"].astype(float)})
    away = pd.DataFrame({"game_id": g["game_id"], "season": g["season"], "week": g["week"],
                         "team": g["away_team"], "opponent": g["home_team"], "is_home": False,
                         "implied_raw": half_total - half_spread, "points": g["away_score"].astype(float)})
    out = pd.concat([home, away], ignore_index=True)
    out["t"] = _t(out["season"], out["week"])
    return out.sort_values(["t", "game_id", "team"]).reset_index(drop=True)


def _prior_rolling(df: pd.DataFrame, key: str, value: str, window: int, prior_mean: float,
                   prior_n: float, name: str) -> pd.DataFrame:
    """State after each game of ``key``: shrunk mean of ``value`` over its last ``window`` games."""
    df = df.dropna(subset=[value]).sort_values([key, "t"])
    grp = df.groupby(key)[value]
    s = grp.transform(lambda x: x.rolling(window, min_periods=1).sum())
    n = grp.transform(lambda x: x.rolling(window, min_periods=1).count())
    out = df[[key, "t"]].copy()
    out[name] = (s + prior_mean * prior_n) / (n + prior_n)
    return out.sort_values("t")


def _asof(left: pd.DataFrame, right: pd.DataFrame, by: str) -> pd.DataFrame:
    """Attach to each left row the latest right row of the same ``by`` strictly before its ``t``."""
    left = left.sort_values("t")
    right = right.sort_values("t").rename(columns={"t": "t_state"})
    right["t"] = right["t_state"]
    return pd.merge_asof(left, right.drop(columns="t_state"), on="t", by=by, allow_exact_matches=False)


def _player_states(stats: pd.DataFrame) -> pd.DataFrame:
    """State of each player after each of his regular-season games (history used by later weeks)."""
    s = stats[stats["season_type"] == "REG"].copy()
    s["carries"] = s["carries"].fillna(0).astype(float)
    s["rushing_yards"] = s["rushing_yards"].fillna(0).astype(float)
    nonqb = s["position"].fillna("") != "QB"
    team_carries = (s[nonqb].groupby(["game_id", "team"])["carries"].sum().rename("team_carries"))
    s = s.join(team_carries, on=["game_id", "team"])
    s["share"] = np.where(s["team_carries"] > 0, s["carries"] / s["team_carries"], 0.0)
    s["t"] = _t(s["season"], s["week"])
    s = s.sort_values(["player_id", "t"]).reset_index(drop=True)
    g = s.groupby("player_id", sort=False)
    s["proj_carries"] = g["carries"].transform(lambda x: x.ewm(alpha=EWMA_ALPHA, adjust=True).mean())
    s["carry_share"] = g["share"].transform(lambda x: x.ewm(alpha=EWMA_ALPHA, adjust=True).mean())
    s["last_share"] = s["share"]
    s["rush_l3"] = g["rushing_yards"].transform(lambda x: x.rolling(3, min_periods=1).mean())
    # yards per carry over the last 24 games, shrunk to the league mean
    cy = g["rushing_yards"].transform(lambda x: x.rolling(24, min_periods=1).sum())
    cc = g["carries"].transform(lambda x: x.rolling(24, min_periods=1).sum())
    s["ypc_shrunk"] = (cy + LEAGUE_YPC * YPC_PRIOR_CARRIES) / (cc + YPC_PRIOR_CARRIES)
    gs = s.groupby(["player_id", "season"], sort=False)
    s["season_yards"] = gs["rushing_yards"].cumsum()
    s["season_games"] = gs.cumcount() + 1
    # last season's yards per game, known during the whole current season
    season_tot = s.groupby(["player_id", "season"])["rushing_yards"].agg(["sum", "count"])
    prev = (season_tot["sum"] / season_tot["count"]).rename("prev_ypg").reset_index()
    prev["season"] = prev["season"] + 1
    s = s.merge(prev, on=["player_id", "season"], how="left")
    s["is_back"] = s["position"].isin(BACK_POSITIONS) | (s["position"].isna() & (s["carries"] >= 5))
    s["is_back"] = s.groupby("player_id")["is_back"].cummax()  # known so far, never from later games
    s["last_played_t"] = s["t"]
    s = s.rename(columns={"season": "state_season", "team": "state_team"})
    keep = ["player_id", "player_name", "t", "last_played_t", "state_season", "state_team", "proj_carries",
            "carry_share", "last_share",
            "rush_l3", "ypc_shrunk", "season_yards", "season_games", "prev_ypg", "is_back"]
    return s[keep]


def _season_to_date(cand: pd.DataFrame) -> pd.Series:
    """Season-to-date yards per game, last season carried into the early weeks as pseudo-games."""
    same = cand["state_season"] == cand["season"]
    last = cand["state_season"] == cand["season"] - 1
    # the previous season's ypg as seen from the candidate's season
    prev_same = cand["prev_ypg"]  # state in this season: its prev_ypg is last season's
    prev_last = cand["season_yards"] / cand["season_games"]  # state ended last season
    prior = np.where(same, prev_same, np.where(last, prev_last, np.nan))
    prior = pd.Series(prior, index=cand.index).fillna(cand["rush_l3"])
    cur_y = np.where(same, cand["season_yards"], 0.0)
    cur_n = np.where(same, cand["season_games"], 0.0)
    return (cur_y + LAST_SEASON_GAMES * prior) / (cur_n + LAST_SEASON_GAMES)


def _team_game_states(stats: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Team-games with implied total (fallback: rolling points) and opponent rushing yards allowed."""
    tg = implied_totals(games)
    # t of the team's RECENT_TEAM_GAMES-th previous game (the recent-participation window's start)
    tg = tg.sort_values(["team", "t"])
    tg["recent_from_t"] = tg.groupby("team")["t"].shift(RECENT_TEAM_GAMES).fillna(0).astype(np.int64)
    tg = tg.sort_values("t").reset_index(drop=True)
    pts = _prior_rolling(tg, "team", "points", POINTS_WINDOW, LEAGUE_POINTS, 1.0, "team_points")
    tg = _asof(tg, pts, by="team")
    tg["team_points"] = tg["team_points"].fillna(LEAGUE_POINTS)
    tg["implied_total"] = tg["implied_raw"].fillna(tg["team_points"])
    s = stats[(stats["season_type"] == "REG") & (stats["position"].fillna("") != "QB")]
    allowed = s.groupby(["game_id", "opponent"])["rushing_yards"].sum().rename("allowed").reset_index()
    allowed = allowed.merge(tg[["game_id", "team", "t"]], left_on=["game_id", "opponent"],
                            right_on=["game_id", "team"]).drop(columns=["team"])
    roll = _prior_rolling(allowed, "opponent", "allowed", ALLOWED_WINDOW, LEAGUE_RB_ALLOWED,
                          ALLOWED_PRIOR_GAMES, "opp_rush_allowed")
    tg = _asof(tg, roll, by="opponent")
    tg["opp_rush_allowed"] = tg["opp_rush_allowed"].fillna(LEAGUE_RB_ALLOWED)
    return tg


def _report_status(injuries: pd.DataFrame | None, games: pd.DataFrame) -> pd.DataFrame:
    """(season, week, player_id, report_status) of reports published before the team's kickoff.

    A report without a timestamp (or a game without a kickoff) is taken as published before kickoff:
    the official report is due the day before the game.
    """
    cols = ["season", "week", "player_id", "report_status"]
    if injuries is None or injuries.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("season", "week") else object) for c in cols})
    _check(injuries, INJURY_COLUMNS, "injuries")
    r = injuries[injuries["report_status"].notna()].copy()
    if "reported_at" in r.columns and "kickoff" in games.columns:
        ko = implied_totals(games)[["season", "week", "team", "game_id"]].merge(games[["game_id", "kickoff"]])
        r = r.merge(ko.drop(columns="game_id"), on=["season", "week", "team"], how="left")
        late = pd.to_datetime(r["reported_at"]) >= pd.to_datetime(r["kickoff"])
        if late.any():
            log.info("ignoring %d injury report(s) stamped at or after kickoff", int(late.sum()))
        r = r[~late.fillna(False).to_numpy()]
    r["season"] = r["season"].astype("int64")
    r["week"] = r["week"].astype("int64")
    return r[cols].drop_duplicates(["season", "week", "player_id"], keep="last")


def injury_coverage(injuries: pd.DataFrame | None, season: int, week: int) -> int:
    """How many injury reports of (season, week) there are: 0 means the injury features are blind."""
    if injuries is None or injuries.empty:
        return 0
    return int(((injuries["season"] == int(season)) & (injuries["week"] == int(week))).sum())
