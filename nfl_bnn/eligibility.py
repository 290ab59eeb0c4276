"""Who is a candidate, from the weekly roster and the depth chart known at the bet time (issue 13).

The box-score rule of :func:`nfl_bnn.features._frame` sees a role change last: a starter back from
injured reserve, a new signing or a back traded in is not a candidate until he has played for the
team, and a back who changed teams is voided for his old one. Where the weekly roster is known
(nflverse rosters exist from 2021), it decides instead, per team and week:

* his **team** is the team of his known roster row (a back who changed teams is predicted for his new
  team from week 1; his player features still come from his own history);
* he is a candidate only if that row's status is ``ACT`` and its position is a back's
  (:data:`ROSTER_BACKS`: position by season, from the roster of the week);
* and he played this season or last (:data:`ROSTER_SEASONS`: a starter back from a reserve list, or
  one who missed the end of last season, counts without recent games; the top-2 cut by his projected
  carries decides) or ranks at most :data:`DEPTH_MAX` at RB in his team's latest depth chart of the
  season known at the bet time (a back back from a longer absence). Measured on 2022-2024
  (docs/roles.md): requiring a recent game or a depth rank instead left 25 more backs with 10+ carries
  unpriced, most of them week-1 starters who had missed the end of last season.

The top-2 cut by projected carries and the injury report then apply as before. Which rows are known
follows :mod:`nfl_bnn.roles`: a roster row of week ``w`` counts from ``ROSTER_LEAD`` before its team's
week-``w`` kickoff (else the row of week ``w - 1``); a depth-chart edition counts once published
(legacy editions: after their week's last kickoff). The bet time is kickoff in training and backtests
and ``min(--as-of, kickoff)`` in the weekly run. A team with no known roster rows for the week (before
2021, the embedded data, a week not imported, week 1 before its rosters are known) keeps today's rule
exactly.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from nfl_bnn import roles as R
from nfl_bnn.roles import depth_available_at

log = logging.getLogger("nfl_bnn.eligibility")

ACTIVE = "ACT"
ROSTER_BACKS = ("RB", "HB", "FB")
DEPTH_MAX = 2  # a back ranked 1 or 2 at RB counts without a game this season or last
ROSTER_SEASONS = 1  # an active back who played this season or the last ROSTER_SEASONS counts without recent games


def bet_times(tg: pd.DataFrame, games: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """``tg`` (team-games: season, week, game_id, team) with its ``kickoff`` and ``bet`` time: kickoff,
    or ``as_of`` when earlier (both US/Eastern wall clock, as ``mart.games.kickoff``)."""
    ko = R.team_kickoffs(games)[["game_id", "team", "kickoff"]]
    out = tg.merge(ko, on=["game_id", "team"], how="left")
    out["bet"] = out["kickoff"] if as_of is None else out["kickoff"].clip(upper=pd.Timestamp(as_of))
    return out


def roster_known(rosters: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """The weekly-roster rows of week ``w`` known at each team's bet time of week ``w``.

    ``teams``: (season, week, team, kickoff, bet) of the week's team-games. A row counts from
    ``ROSTER_LEAD`` before its own team's kickoff of that week; rows of a team without a game that week
    (a bye) count from the week after. Returns the known rows with a ``for_week`` column.
    """
    k = teams[["season", "week", "team", "kickoff", "bet"]].drop_duplicates(["season", "week", "team"])
    r = rosters.merge(k, on=["season", "week", "team"], how="inner")
    ok = (r["kickoff"] - R.ROSTER_LEAD <= r["bet"]).fillna(False).to_numpy()
    return r[ok].drop(columns=["kickoff", "bet"]).assign(for_week=r["week"][ok])


def player_rows(rosters: pd.DataFrame, teams: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each player's roster row known at the bet time of each week of ``teams``, and the team-weeks
    whose roster is known.

    A player's row of week ``w`` if known by then (:func:`roster_known`), else his row of week ``w - 1``.
    A team's roster is known for week ``w`` when it has a known row of week ``w`` or of ``w - 1``.
    Returns (``(season, week, player_id, r_team, r_status, r_position, r_prev)``, ``(season, week, team,
    t_prev)``), ``r_prev``/``t_prev`` 1 where the row (the team's roster) is last week's, 0 this week's.
    """
    weeks = teams[["season", "week"]].drop_duplicates()
    now = roster_known(rosters, teams)
    prev = rosters.merge(weeks.assign(week=weeks["week"] - 1, for_week=weeks["week"]), on=["season", "week"])
    both = pd.concat([now.assign(_order=0), prev.assign(_order=1)], ignore_index=True)
    both = both.sort_values("_order", kind="stable").drop_duplicates(["season", "for_week", "player_id"])
    rows = both.rename(columns={"team": "r_team", "status": "r_status", "position": "r_position", "_order": "r_prev"})
    rows = rows[["season", "for_week", "player_id", "r_team", "r_status", "r_position", "r_prev"]].rename(
        columns={"for_week": "week"})
    team_weeks = (both.groupby(["season", "for_week", "team"], as_index=False)["_order"].min()
                  .rename(columns={"for_week": "week", "_order": "t_prev"}))
    return rows.reset_index(drop=True), team_weeks.reset_index(drop=True)


def depth_ranks(cand: pd.DataFrame, depth: pd.DataFrame, games: pd.DataFrame) -> pd.Series:
    """Each candidate's best RB/HB rank in his team's latest depth-chart edition of the season known at
    the bet time (``cand``: season, team, player_id, bet); NaN when not listed or no edition is known."""
    out = pd.Series(np.nan, index=cand.index)
    d = depth[depth["slot"].isin(R.BACK_SLOTS)]
    if d.empty or cand.empty:
        return out
    d = d.assign(avail=depth_available_at(d, games)).dropna(subset=["avail"])
    editions = d[["team", "season", "week", "snapshot", "avail"]].drop_duplicates().sort_values("avail")
    left = cand[["team", "season", "bet"]].reset_index().dropna(subset=["bet"]).sort_values("bet")
    ed = editions.rename(columns={"season": "d_season", "week": "d_week"})
    m = pd.merge_asof(left, ed, left_on="bet", right_on="avail", by="team", allow_exact_matches=False)
    m = m[m["d_season"] == m["season"]]
    ranks = d.groupby(["team", "season", "week", "snapshot", "player_id"])["depth_rank"].min()
    key = pd.MultiIndex.from_arrays([m["team"], m["d_season"].astype("int64"), m["d_week"].astype("int64"),
                                     m["snapshot"], cand.loc[m["index"], "player_id"]])
    out.loc[m["index"].to_numpy()] = ranks.reindex(key).to_numpy(dtype=float)
    return out


def roster_candidates(tg: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """(game_id, team, player_id) of every active back on a team's known roster: candidates the box scores
    may not list for that team (a new signing, a back traded in or back from a reserve list)."""
    act = rows[(rows["r_status"] == ACTIVE) & rows["r_position"].isin(ROSTER_BACKS)]
    m = tg[["season", "week", "game_id", "team"]].merge(act, left_on=["season", "week", "team"],
                                                        right_on=["season", "week", "r_team"])
    return m[["game_id", "team", "player_id"]].drop_duplicates()


def keep(cand: pd.DataFrame, old_rule: pd.Series, rows: pd.DataFrame, team_weeks: pd.DataFrame,
         depth: pd.DataFrame | None, games: pd.DataFrame) -> pd.Series:
    """Who stays a candidate: today's rule (``old_rule``) where the team's roster is not known for the
    week; otherwise the roster rule of this module's docstring.

    ``cand``: candidate rows after the as-of join of player states (season, week, team, player_id,
    bet, proj_carries, state_season).
    """
    team = cand[["season", "week", "team"]].merge(team_weeks, how="left", on=["season", "week", "team"])["t_prev"]
    known = team.notna().to_numpy()
    if not known.any():
        return old_rule
    row = cand[["season", "week", "player_id"]].merge(rows, how="left", on=["season", "week", "player_id"])
    # the team's roster of this week is known and he is not on it: last week's row no longer holds
    off = (team.to_numpy() == 0) & (row["r_prev"].to_numpy() == 1)
    active = ((row["r_team"].to_numpy() == cand["team"].to_numpy()) & (row["r_status"] == ACTIVE).to_numpy()
              & row["r_position"].isin(ROSTER_BACKS).to_numpy() & ~off)
    played = (cand["state_season"] >= cand["season"] - ROSTER_SEASONS).to_numpy()  # includes a recent game
    rank = depth_ranks(cand, depth, games) if depth is not None else pd.Series(np.nan, index=cand.index)
    listed = (rank <= DEPTH_MAX).to_numpy()
    has_state = cand["proj_carries"].notna().to_numpy()
    by_roster = active & has_state & (played | listed)
    return pd.Series(np.where(known, by_roster, old_rule.to_numpy()), index=cand.index)


def candidates(cand: pd.DataFrame, states: pd.DataFrame, tg: pd.DataFrame, games: pd.DataFrame,
               tables: dict[str, pd.DataFrame], as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """``cand`` (team-game x back pairs of the box-score rule) plus the active backs of each known roster,
    with their latest player state (``states``: every player's, ``is_back`` a column), filtered by
    :func:`keep`. Where no roster is known this is exactly the box-score rule: a state of a back (once a
    back, always: ``is_back`` is a running maximum, so the latest state is a back's exactly when the
    latest of his back states is), of this team, of this or last season, and a recent game."""
    from nfl_bnn.feature_states import _asof

    teams = bet_times(tg[["season", "week", "game_id", "team"]], games, as_of)
    rows, team_weeks = player_rows(tables["rosters"], teams)
    extra = roster_candidates(tg, rows).merge(tg, on=["game_id", "team"])
    both = pd.concat([cand, extra[cand.columns]], ignore_index=True).drop_duplicates(["game_id", "team", "player_id"])
    both = _asof(both, states, by="player_id").merge(teams[["game_id", "team", "bet"]], on=["game_id", "team"])
    old = (both["is_back"].eq(True) & (both["state_team"] == both["team"])
           & (both["state_season"] >= both["season"] - 1) & (both["last_played_t"] >= both["recent_from_t"]))
    ok = keep(both, old, rows, team_weeks, tables.get("depth_charts"), games)
    return both[ok.to_numpy()].drop(columns=["is_back", "bet"]).reset_index(drop=True)


def roster_note(tables: dict[str, pd.DataFrame] | None, games: pd.DataFrame, season: int, week: int,
                as_of: pd.Timestamp | None = None) -> str:
    """One line for the weekly summary: how many of the week's teams had a weekly roster known at the bet
    time (so eligibility used the roster rule for them) and how many of those were the week's own
    (game-day inactives); logs a warning when the warehouse has rosters but none known for this week."""
    ko = R.team_kickoffs(games)
    tg = ko[(ko["season"] == int(season)) & (ko["week"] == int(week))][["season", "week", "game_id", "team"]]
    rosters = (tables or {}).get("rosters")
    if rosters is None or rosters.empty:
        return "no weekly rosters in the warehouse: candidates by the box-score rule"
    _rows, team_weeks = player_rows(rosters, bet_times(tg, games, as_of))
    known = team_weeks[(team_weeks["season"] == int(season)) & (team_weeks["week"] == int(week))]
    known = known[known["team"].isin(tg["team"])]
    if known.empty:
        log.warning("no weekly roster known at the bet time for season %d week %d: candidates by the "
                    "box-score rule (import it with `nfl-bnn import-nflverse --rosters ...`)", season, week)
    return (f"weekly roster known at the bet time for {len(known)} of {tg['team'].nunique()} teams "
            f"({int((known['t_prev'] == 0).sum())} with this week's game-day statuses)")
