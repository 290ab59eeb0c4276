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
:func:`training_frame` drops him, unless snap counts show an offensive snap: then he ran for 0 yards
(graded; without snap counts the old rule stays; :func:`nfl_bnn.roles.played_yards`, docs/roles.md).
Where the weekly roster known at the bet time exists (2021+, ``roles``), it decides instead of the box
scores who is on which team, who is active and who is a back this season, and a back ranked 1-2 on the
known depth chart counts without recent games (:mod:`nfl_bnn.eligibility`); elsewhere this rule holds.

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

A target is attached only where the back played for the team he was predicted for: without a known
roster a back who changed teams before his new team's first game with him is still listed with his
old team, and his yards for the new team describe another game (with one, he is listed with the new team).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.feature_states import (  # noqa: F401  (the input columns, priors and states stay features.X)
    ALLOWED_PRIOR_GAMES,
    ALLOWED_WINDOW,
    BACK_POSITIONS,
    EWMA_ALPHA,
    GAMES_COLUMNS,
    INJURY_COLUMNS,
    LAST_SEASON_GAMES,
    LEAGUE_POINTS,
    LEAGUE_RB_ALLOWED,
    LEAGUE_YPC,
    MAX_LOST_SHARE,
    MIN_PROJ_CARRIES,
    OUT_STATUSES,
    POINTS_WINDOW,
    RECENT_TEAM_GAMES,
    STATS_COLUMNS,
    TOP_N_PER_TEAM,
    YPC_PRIOR_CARRIES,
    _asof,
    _check,
    _player_states,
    _report_status,
    _season_to_date,
    _t,
    _team_game_states,
    implied_totals,
    injury_coverage,
)
from nfl_bnn.history import History, load_history  # noqa: F401  (re-exported: features.load_history stays)

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



def _frame(stats: pd.DataFrame, games: pd.DataFrame, weeks: pd.DataFrame,
           injuries: pd.DataFrame | None = None, roles: dict[str, pd.DataFrame] | None = None,
           as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Eligible candidates with features for each (season, week) in ``weeks``; where ``roles`` hold
    weekly rosters, they decide team and eligibility as known at the bet time (:mod:`nfl_bnn.eligibility`)."""
    _check(stats, STATS_COLUMNS, "stats")
    _check(games, GAMES_COLUMNS, "games")
    all_states = _player_states(stats)
    states = all_states[all_states["is_back"]].drop(columns="is_back")
    tg = _team_game_states(stats, games)
    tg = tg.merge(weeks[["season", "week"]].drop_duplicates(), on=["season", "week"])
    if tg.empty:
        return pd.DataFrame(columns=COLUMNS)
    # every back who played for the team in the current or previous season is a candidate
    pairs = states[["player_id", "state_team", "state_season"]].drop_duplicates()
    cand = tg.merge(pairs, left_on="team", right_on="state_team")
    cand = cand[(cand["state_season"] >= cand["season"] - 1) & (cand["state_season"] <= cand["season"])]
    cand = cand.drop(columns=["state_team", "state_season"]).drop_duplicates(["game_id", "player_id"])
    if roles is not None and roles.get("rosters") is not None and len(roles["rosters"]):
        from nfl_bnn.eligibility import candidates  # the roster known at the bet time decides (2021+)

        cand = candidates(cand, all_states, tg, games, roles, as_of)
    else:
        cand = _asof(cand, states, by="player_id")
        # the player's latest team (before kickoff) must be this team, with a game this or last season
        cand = cand[(cand["state_team"] == cand["team"]) & (cand["state_season"] >= cand["season"] - 1)]
        # recent participation: played in one of the team's last RECENT_TEAM_GAMES games (injured,
        # released or benched backs drop out until they play again)
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
             injuries: pd.DataFrame | None = None, roles: dict[str, pd.DataFrame] | None = None,
             as_of: pd.Timestamp | None = None) -> pd.DataFrame:
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
    roles : dict of DataFrame, optional
        Role tables (``History.roles``); their weekly rosters and depth charts decide team and
        eligibility, each row only once known at the bet time (:mod:`nfl_bnn.eligibility`).
    as_of : Timestamp, optional
        The bet time (US/Eastern wall clock, as ``mart.games.kickoff``); a team's bet time is its
        kickoff when earlier. None: kickoff.

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
    return _frame(st, games, pd.DataFrame({"season": [int(season)], "week": [int(week)]}), injuries, roles, as_of)


def candidate_frame(stats: pd.DataFrame, games: pd.DataFrame, first_season: int, last_season: int,
                    injuries: pd.DataFrame | None = None, roles: dict[str, pd.DataFrame] | None = None
                    ) -> pd.DataFrame:
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
    roles : dict of DataFrame, optional
        Role tables: weekly rosters and depth charts known at kickoff decide eligibility (as :func:`for_week`).

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, one row per eligible back and week, no target.
    """
    _check(games, GAMES_COLUMNS, "games")
    g = games[(games["season_type"] == "REG") & games["season"].between(first_season, last_season)]
    return _frame(stats, games, g[["season", "week"]].drop_duplicates(), injuries, roles)


def training_frame(stats: pd.DataFrame, games: pd.DataFrame, first_season: int, last_season: int,
                   injuries: pd.DataFrame | None = None, snaps: pd.DataFrame | None = None,
                   roles: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Eligible player-games of every regular-season week in the window, with target ``rushing_yards``.

    Eligible candidates without a stats row did not play (a void bet); they are dropped and counted,
    unless ``snaps`` (``mart.snap_counts``) show offensive snaps: then he ran for 0 yards (graded).

    Parameters
    ----------
    stats, games : DataFrame
        ``warehouse.load_stats`` / ``load_games`` frames, with the history before ``first_season``.
    first_season, last_season : int
        The seasons whose weeks are built (inclusive).
    injuries : DataFrame, optional
        Weekly injury reports; None: nobody is listed out.
    snaps : DataFrame, optional
        ``mart.snap_counts``: a back with offensive snaps and no stats row ran for 0 yards.
    roles : dict of DataFrame, optional
        Role tables: weekly rosters and depth charts decide eligibility (as :func:`candidate_frame`).

    Returns
    -------
    DataFrame
        :data:`COLUMNS` plus :data:`TARGET`, only the backs who played for the team they were
        predicted for (see :func:`attach_target`).
    """
    return attach_target(candidate_frame(stats, games, first_season, last_season, injuries, roles), stats,
                         snaps=snaps)


def attach_target(frame: pd.DataFrame, stats: pd.DataFrame, drop_missing: bool = True,
                  snaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the actual rushing yards of each player-week; candidates who did not play are dropped.

    Only yards for the team he was predicted for count: a back who played for another team that week
    (traded, or signed elsewhere in the off-season) is missing here too, because his features describe
    the other team's game. With ``snaps``, a candidate without a stats row who took an offensive snap
    for that team ran for 0 yards (books grade him); without snap counts the old rule stays.
    """
    s = stats[stats["season_type"] == "REG"][["player_id", "season", "week", "team", "rushing_yards"]]
    s = s.drop_duplicates(["player_id", "season", "week"])
    out = frame.merge(s, on=["player_id", "season", "week", "team"], how="left")
    if snaps is not None:
        from nfl_bnn.roles import grade_with_snaps

        out = grade_with_snaps(out, snaps, TARGET)
    n_void = int(out[TARGET].isna().sum())
    if drop_missing:
        out = out.dropna(subset=[TARGET]).reset_index(drop=True)
        log.info("training frame: %d eligible player-games played, %d eligible did not play for that team "
                 "(void, dropped)", len(out), n_void)
    return out
