"""Leak-free features for the rushing-yards model.

Every feature of a player in week ``w`` of season ``s`` is computed only from games of earlier weeks
(strictly before that week's kickoffs): per-player and per-team "state after game" rows are joined to
each candidate week with an as-of join that excludes the week itself (``merge_asof(...,
allow_exact_matches=False)`` on ``t = season * 100 + week``). League-level priors are constants, not
statistics of the table, so that no feature depends on future rows.

Eligibility is decided from the same prior information: a back (position RB or FB, or unknown
position with a history of carries) whose last team plays this week, who played this season or last
season, played in at least one of his team's last ``RECENT_TEAM_GAMES`` games before this one
(so injured or released backs drop out), is not listed Out or Doubtful on that week's injury report
(published before kickoff; reports stamped at or after kickoff are ignored), ranks in the top 2 of his
team by projected carries and is projected at least ``MIN_PROJ_CARRIES`` carries (for this ranking only,
the carries of teammates listed out are shared among the rest in proportion to their own). A candidate
with no stats row in the game did not play: his target is missing (a void bet) and
:func:`training_frame` drops him.

Role changes are what box-score averages see last, so two features carry them: ``last_share`` (the
back's share of his team's non-QB carries in his latest game) and ``mate_out_share`` (the summed carry
share of this week's candidate teammates listed Out or Doubtful: carries that must go to someone).
Without injury reports (the embedded nflgame data, or a week not imported yet) ``mate_out_share`` is 0.
Two more say who competes for the carries: ``mates_share`` (the summed carry share of the teammates
still available: a back whose backups have been getting work loses some of it) and ``share_gain``
(his proportional part of the share of teammates listed out: ``carry_share * mate_out_share /
available``, so ``carry_share + share_gain`` is his share once their carries are handed out). Neither
depends on the top-2 cut, so a backup's presence counts even when he is not priced himself.
``share_gain`` is an increment, not the new share itself, so that without injury reports it is a
constant 0 (a feature the fit knows it cannot learn from) rather than a copy of ``carry_share``.

``season`` is a feature too: the spread of rushing yards around what the box scores predict has
narrowed over the years (without it the 90% interval over-covers recent seasons and under-covers
early ones; docs/features.md has the figures), so the scale, not only the location, gets a trend.
It is a calendar feature, like ``week``: its "drift" is expected and :mod:`nfl_bnn.drift` leaves it out.

A target is attached only where the back played for the team he was predicted for: a back who
changed teams before his new team's first game with him is still listed with his old team (no
roster table yet), and his yards for the new team describe another game.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError

if TYPE_CHECKING:
    from nfl_bnn.warehouse import Warehouse

log = logging.getLogger("nfl_bnn.features")

#: Columns the model uses, in order. Changing this list changes the artifact contract.
FEATURES = [
    "proj_carries",
    "carry_share",
    "rush_l3",
    "ypg_std",
    "ypc_shrunk",
    "implied_total",
    "opp_rush_allowed",
    "is_home",
    "week",
    "last_share",
    "mate_out_share",
    "mates_share",
    "share_gain",
    "season",
]
#: Calendar features: they move by construction, so feature drift does not judge them.
CALENDAR_FEATURES = ("season", "week")
ID_COLUMNS = ["season", "week", "game_id", "player_id", "player_name", "team", "opponent", "is_home"]
TARGET = "rushing_yards"
COLUMNS = ID_COLUMNS + [f for f in FEATURES if f not in ID_COLUMNS]

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


@dataclass(frozen=True)
class History:
    """Everything the features of seasons ``first_season``..``last_season`` are built from.

    One object instead of three frames, so that a new source (a depth chart, a roster) is one more
    optional field here and in :func:`load_history`, not one more argument at every entry point.
    ``stats`` and ``games`` hold every season up to ``last_season``; ``injuries`` only
    ``first_season``..``last_season`` (a week's features read that week's report alone) and are
    empty when the warehouse has none.
    """

    stats: pd.DataFrame
    games: pd.DataFrame
    injuries: pd.DataFrame
    first_season: int
    last_season: int

    def for_week(self, season: int, week: int) -> pd.DataFrame:
        """:func:`for_week` of one week of this history."""
        return for_week(self.stats, self.games, season, week, self.injuries)

    def candidate_frame(self, first_season: int, last_season: int) -> pd.DataFrame:
        """:func:`candidate_frame` of seasons ``first_season``..``last_season`` of this history."""
        return candidate_frame(self.stats, self.games, first_season, last_season, self.injuries)

    def training_frame(self, first_season: int, last_season: int) -> pd.DataFrame:
        """:func:`training_frame` of seasons ``first_season``..``last_season`` of this history."""
        return training_frame(self.stats, self.games, first_season, last_season, self.injuries)


def load_history(wh: Warehouse, first_season: int, last_season: int) -> History:
    """Load what the features of seasons ``first_season``..``last_season`` need, from the warehouse.

    The one loader of every entry point (weekly run, backtests, training, drift, doctor, notebooks):
    how far back the features read is decided here, once, so that the features a bet was priced on,
    the features the model was trained on, the features drift judges and the features calibration
    scores are the same numbers. The features have no finite look-back (for example, the carry averages are
    exponentially weighted over a back's whole career, ``ypc_shrunk`` spans his last 24 games however
    long ago, and a back of unknown position stays a back once he has carried like one), so every
    season before ``last_season`` is loaded: with only the two seasons before, most backs' features
    differ from the ones training saw (``python -m bench.features`` measures it; docs/architecture.md).

    Parameters
    ----------
    wh : Warehouse
        An open warehouse (:func:`nfl_bnn.warehouse.connect`).
    first_season, last_season : int
        The seasons whose weeks will be predicted or scored (inclusive).

    Returns
    -------
    History
        Player stats and games of every season up to ``last_season``, injury reports of
        ``first_season``..``last_season`` (an empty frame when the table is absent).

    Raises
    ------
    ConfigError
        When ``first_season`` is after ``last_season``.
    """
    from nfl_bnn import warehouse
    from nfl_bnn.errors import ConfigError

    first, last = int(first_season), int(last_season)
    if first > last:
        raise ConfigError(f"load_history: first_season {first} is after last_season {last}; "
                          "give the seasons in order")
    return History(stats=warehouse.load_stats(wh, last_season=last),
                   games=warehouse.load_games(wh, last_season=last),
                   injuries=warehouse.load_injuries(wh, first_season=first, last_season=last),
                   first_season=first, last_season=last)


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


def _frame(stats: pd.DataFrame, games: pd.DataFrame, weeks: pd.DataFrame,
           injuries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Eligible candidates with features for each (season, week) in ``weeks``."""
    _check(stats, STATS_COLUMNS, "stats")
    _check(games, GAMES_COLUMNS, "games")
    states = _player_states(stats)
    states = states[states["is_back"]].drop(columns="is_back")
    tg = _team_game_states(stats, games)
    tg = tg.merge(weeks[["season", "week"]].drop_duplicates(), on=["season", "week"])
    if tg.empty:
        return pd.DataFrame(columns=COLUMNS)
    # every back who played for the team in the current or previous season is a candidate
    pairs = states[["player_id", "state_team", "state_season"]].drop_duplicates()
    cand = tg.merge(pairs, left_on="team", right_on="state_team")
    cand = cand[(cand["state_season"] >= cand["season"] - 1) & (cand["state_season"] <= cand["season"])]
    cand = cand.drop(columns=["state_team", "state_season"]).drop_duplicates(["game_id", "player_id"])
    cand = _asof(cand, states, by="player_id")
    # the player's latest team (before kickoff) must be this team, with a game this or last season
    cand = cand[(cand["state_team"] == cand["team"]) & (cand["state_season"] >= cand["season"] - 1)]
    # recent participation: played in one of the team's last RECENT_TEAM_GAMES games (injured, released
    # or benched backs drop out until they play again)
    cand = cand[cand["last_played_t"] >= cand["recent_from_t"]]
    # this week's injury report: Out/Doubtful backs leave the candidates, their share goes to teammates
    cand = cand.merge(_report_status(injuries, games), on=["season", "week", "player_id"], how="left")
    out_now = cand["report_status"].isin(OUT_STATUSES).to_numpy()
    lost = cand["carry_share"].where(out_now, 0.0).groupby([cand["game_id"], cand["team"]]).transform("sum")
    cand["mate_out_share"] = lost.to_numpy()
    cand = cand[~out_now].copy()
    # who else competes for the carries: every available back of the team, not only the top 2
    available = cand.groupby(["game_id", "team"])["carry_share"].transform("sum")
    cand["mates_share"] = available - cand["carry_share"]
    cand["share_gain"] = cand["carry_share"] * cand["mate_out_share"] / available.clip(lower=0.05)
    cand["ypg_std"] = _season_to_date(cand)
    # a new season resets carry expectations halfway towards a committee back
    new_season = cand["state_season"] < cand["season"]
    cand.loc[new_season, "proj_carries"] *= 0.85
    # for eligibility only, the lost carries go to the remaining backs in proportion to their own
    # (a backup whose starter is out is a starter this week); the feature itself stays as measured
    cand["rank_carries"] = cand["proj_carries"] / (1.0 - cand["mate_out_share"].clip(upper=MAX_LOST_SHARE))
    cand["is_home"] = cand["is_home"].astype(bool)
    cand = cand.sort_values(["season", "week", "game_id", "team", "rank_carries"],
                            ascending=[True, True, True, True, False])
    cand["team_rank"] = cand.groupby(["game_id", "team"]).cumcount() + 1
    elig = cand[(cand["team_rank"] <= TOP_N_PER_TEAM) & (cand["rank_carries"] >= MIN_PROJ_CARRIES)]
    out = elig[COLUMNS].copy()
    out["is_home"] = out["is_home"].astype(bool)
    out["week"] = out["week"].astype(int)
    return out.reset_index(drop=True)


def feature_matrix(frame: pd.DataFrame, feature_names: list[str] | None = None) -> np.ndarray:
    """The float matrix of ``feature_names`` (default :data:`FEATURES`), refusing missing columns/NaN."""
    names = list(feature_names or FEATURES)
    _check(frame, names, "feature")
    X = frame[names].astype(float).to_numpy()
    if not np.isfinite(X).all():
        bad = [n for n, ok in zip(names, np.isfinite(X).all(axis=0)) if not ok]
        raise DataError(f"features {bad} hold NaN or infinite values; rebuild them with nfl_bnn.features")
    return X


def for_week(stats: pd.DataFrame, games: pd.DataFrame, season: int, week: int,
             injuries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Eligible backs of one week with their features, from games before that week only.

    What the weekly run prices and the betting backtest replays; both get their frames from
    :func:`load_history` (``History.for_week``), so they build the same numbers.

    Parameters
    ----------
    stats, games : DataFrame
        ``warehouse.load_stats`` / ``load_games`` frames; rows of this week and later are not read.
    season, week : int
        The week to predict.
    injuries : DataFrame, optional
        Weekly injury reports (``warehouse.load_injuries``); only this week's, published before
        kickoff, are used. None: nobody is listed out.

    Returns
    -------
    DataFrame
        One row per eligible back: :data:`ID_COLUMNS` and :data:`FEATURES` (:data:`COLUMNS`); empty with
        those columns when the week has no games.
    """
    t = int(season) * 100 + int(week)
    st = stats[_t(stats["season"], stats["week"]) < t]
    if injuries is not None:
        _check(injuries, INJURY_COLUMNS, "injuries")
        injuries = injuries[_t(injuries["season"], injuries["week"]) == t]
    return _frame(st, games, pd.DataFrame({"season": [int(season)], "week": [int(week)]}), injuries)


def candidate_frame(stats: pd.DataFrame, games: pd.DataFrame, first_season: int, last_season: int,
                    injuries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Eligible backs of every regular-season week in the window (played or not), with features.

    Each week's rows equal :func:`for_week` of that week (the as-of joins exclude the week itself),
    so a season is built in one pass instead of one per week.

    Parameters
    ----------
    stats, games : DataFrame
        ``warehouse.load_stats`` / ``load_games`` frames, with the history before ``first_season``.
    first_season, last_season : int
        The seasons whose weeks are built (inclusive).
    injuries : DataFrame, optional
        Weekly injury reports; None: nobody is listed out.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, one row per eligible back and week, no target.
    """
    _check(games, GAMES_COLUMNS, "games")
    g = games[(games["season_type"] == "REG") & games["season"].between(first_season, last_season)]
    return _frame(stats, games, g[["season", "week"]].drop_duplicates(), injuries)


def training_frame(stats: pd.DataFrame, games: pd.DataFrame, first_season: int, last_season: int,
                   injuries: pd.DataFrame | None = None) -> pd.DataFrame:
    """Eligible player-games of every regular-season week in the window, with target ``rushing_yards``.

    Eligible candidates without a stats row did not play (a void bet); they are dropped and counted.

    Parameters
    ----------
    stats, games : DataFrame
        ``warehouse.load_stats`` / ``load_games`` frames, with the history before ``first_season``.
    first_season, last_season : int
        The seasons whose weeks are built (inclusive).
    injuries : DataFrame, optional
        Weekly injury reports; None: nobody is listed out.

    Returns
    -------
    DataFrame
        :data:`COLUMNS` plus :data:`TARGET`, only the backs who played for the team they were
        predicted for (see :func:`attach_target`).
    """
    return attach_target(candidate_frame(stats, games, first_season, last_season, injuries), stats)


def injury_coverage(injuries: pd.DataFrame | None, season: int, week: int) -> int:
    """How many injury reports of (season, week) there are: 0 means the injury features are blind."""
    if injuries is None or injuries.empty:
        return 0
    return int(((injuries["season"] == int(season)) & (injuries["week"] == int(week))).sum())


def attach_target(frame: pd.DataFrame, stats: pd.DataFrame, drop_missing: bool = True) -> pd.DataFrame:
    """Join the actual rushing yards of each player-week; candidates who did not play are dropped.

    Only yards for the team he was predicted for count: a back who played for another team that week
    (traded, or signed elsewhere in the off-season) is missing here too, because his features describe
    the other team's game.
    """
    s = stats[stats["season_type"] == "REG"][["player_id", "season", "week", "team", "rushing_yards"]]
    s = s.drop_duplicates(["player_id", "season", "week"])
    out = frame.merge(s, on=["player_id", "season", "week", "team"], how="left")
    n_void = int(out[TARGET].isna().sum())
    if drop_missing:
        out = out.dropna(subset=[TARGET]).reset_index(drop=True)
        log.info("training frame: %d eligible player-games played, %d eligible did not play for that team "
                 "(void, dropped)", len(out), n_void)
    return out
