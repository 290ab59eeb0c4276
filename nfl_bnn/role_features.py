"""Candidate role features (issue 13): depth rank, roster status, snap share, red-zone and goal-line
share, efficiency from play-by-play, the opponent's run defence and NGS rush yards over expected.

They are candidates, not part of :data:`nfl_bnn.features.FEATURES`: each must earn its place on the
rolling-origin validation first (docs/roles.md has the screen). Every value uses only rows known at
the bet time (kickoff), by the rules of :mod:`nfl_bnn.roles`; the leak tests rebuild them from
censored tables. A source missing for a season (depth charts and rosters start in 2021, play-by-play
in 2019 here) gives a neutral constant plus a ``has_*`` indicator set to 0, so one model trains on the
whole window.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nfl_bnn import roles as R

ROLE_FEATURES = [
    "depth_rank", "depth_rank_change", "has_depth",
    "from_reserve", "has_roster",
    "snap_share_l3", "snap_trend", "has_snaps",
    "rz_share", "gl_share", "epa_per_carry", "success_rate", "has_pbp",
    "opp_run_epa",
    "ryoe_per_att", "stacked_box", "has_ngs",
]
#: The role table each feature reads (the weekly run warns when a used one is empty for the week).
SOURCES = {
    "depth_rank": "depth_charts", "depth_rank_change": "depth_charts", "has_depth": "depth_charts",
    "from_reserve": "rosters", "has_roster": "rosters",
    "snap_share_l3": "snap_counts", "snap_trend": "snap_counts", "has_snaps": "snap_counts",
    "rz_share": "rush_usage", "gl_share": "rush_usage", "epa_per_carry": "rush_usage", "success_rate": "rush_usage",
    "has_pbp": "rush_usage", "opp_run_epa": "run_defense",
    "ryoe_per_att": "ngs_rushing", "stacked_box": "ngs_rushing", "has_ngs": "ngs_rushing",
}
#: The groups screened together (docs/roles.md): each is added to the default features as one choice.
GROUPS = {
    "depth": ["depth_rank", "depth_rank_change", "has_depth"],
    "roster": ["from_reserve", "has_roster"],
    "snaps": ["snap_share_l3", "snap_trend", "has_snaps"],
    "red_zone": ["rz_share", "gl_share", "has_pbp"],
    "efficiency": ["epa_per_carry", "success_rate", "has_pbp"],
    "opp_run_def": ["opp_run_epa", "has_pbp"],
    "ngs": ["ryoe_per_att", "stacked_box", "has_ngs"],
}
#: First season each group's source exists in the warehouse (snap counts 2016, play-by-play 2019, depth
#: charts, weekly rosters and NGS 2021): an origin means something only when the training seasons have it.
FIRST_SEASON = {"depth": 2021, "roster": 2021, "snaps": 2016, "red_zone": 2019, "efficiency": 2019,
                "opp_run_def": 2019, "ngs": 2021}
NOT_LISTED_RANK = 4.0  # a back absent from his team's depth chart counts as 4th
WINDOW = 8  # games in the rolling windows of usage and efficiency
EPA_PRIOR_CARRIES = 80.0  # shrinkage of EPA and success per carry towards the league constants
LEAGUE_RUSH_EPA = -0.08
LEAGUE_SUCCESS = 0.40
DEF_PRIOR_RUSHES = 120.0
RYOE_PRIOR_ATT = 60.0
LEAGUE_STACKED = 20.0
RESERVE_WEEKS = 4  # "returns from a reserve list": on one in the last 4 weeks, active now


def _asof_t(left: pd.DataFrame, right: pd.DataFrame, by: str, cols: list[str]) -> pd.DataFrame:
    """Attach the latest ``right`` row of the same ``by`` from a strictly earlier week (t)."""
    left = left.assign(t=R._t(left["season"], left["week"])).reset_index().sort_values("t")
    right = right[[by, "t"] + cols].sort_values("t")
    m = pd.merge_asof(left, right, on="t", by=by, allow_exact_matches=False)
    return m.set_index("index").sort_index()[cols]


def _rolling(df: pd.DataFrame, key: list[str], cols: list[str], window: int = WINDOW) -> pd.DataFrame:
    df = df.sort_values(key + ["t"])
    g = df.groupby(key, sort=False)
    out = df[key + ["t"]].copy()
    for c in cols:
        out[c] = g[c].transform(lambda x: x.rolling(window, min_periods=1).sum())
    return out


def _seen(frame: pd.DataFrame, df: pd.DataFrame, strict: bool = True, seasons_back: int = 1) -> pd.Series:
    """Whether ``df`` had rows known for each frame row: a week before it (``strict``; the week itself
    otherwise) in the same season or up to ``seasons_back`` seasons before. This is the missing-source
    indicator; it is decided from known rows only (whether a table holds the season later is no
    information a bet could have)."""
    if df.empty:
        return pd.Series(False, index=frame.index)
    wk = pd.DataFrame({"t": np.unique(R._t(df["season"], df["week"]))})
    wk["src_season"] = wk["t"] // 100
    left = frame[["season", "week"]].assign(t=R._t(frame["season"], frame["week"])).reset_index().sort_values("t")
    m = pd.merge_asof(left, wk, on="t", allow_exact_matches=not strict).set_index("index").sort_index()
    return (m["src_season"] >= m["season"] - seasons_back).fillna(False)


def depth_features(frame: pd.DataFrame, depth: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """Rank at RB in the latest depth chart known before kickoff, its change since the week before."""
    out = pd.DataFrame({"depth_rank": NOT_LISTED_RANK, "depth_rank_change": 0.0, "has_depth": 0.0}, index=frame.index)
    d = depth[depth["slot"].isin(R.BACK_SLOTS)]
    if d.empty or frame.empty:
        return out
    d = d.assign(avail=R.depth_available_at(d, games)).dropna(subset=["avail"])
    # one rank per player and edition: his best back slot
    ed = d.groupby(["player_id", "team", "season", "week", "avail"], as_index=False)["depth_rank"].min()
    ed = ed.sort_values("avail")
    wk = ed.drop_duplicates(["player_id", "season", "week"], keep="last").sort_values(["player_id", "season", "week"])
    wk["prev_rank"] = wk.groupby(["player_id", "season"])["depth_rank"].shift(1)
    ed = ed.merge(wk[["player_id", "season", "week", "prev_rank"]], on=["player_id", "season", "week"])
    ko = R.team_kickoffs(games)[["game_id", "team", "kickoff"]]
    left = frame[["game_id", "team", "player_id", "season"]].merge(ko, on=["game_id", "team"], how="left")
    left.index = frame.index
    left = left.dropna(subset=["kickoff"]).reset_index().sort_values("kickoff")
    ed = ed.rename(columns={"team": "d_team", "season": "d_season"}).sort_values("avail")
    m = pd.merge_asof(left, ed, left_on="kickoff", right_on="avail", by="player_id", allow_exact_matches=False)
    # the team has an edition this season known before kickoff: otherwise the source is missing
    tm = ed.groupby(["d_team", "d_season"], as_index=False)["avail"].min()
    m = m.merge(tm.rename(columns={"d_team": "team", "d_season": "season", "avail": "team_first"}),
                on=["team", "season"], how="left")
    has = (m["team_first"] < m["kickoff"]).fillna(False)
    listed = has & (m["d_team"] == m["team"]) & (m["d_season"] == m["season"])
    rank = m["depth_rank"].where(listed, NOT_LISTED_RANK).clip(upper=NOT_LISTED_RANK)
    change = (m["depth_rank"] - m["prev_rank"]).where(listed & m["prev_rank"].notna(), 0.0)
    idx = m["index"].to_numpy()
    out.loc[idx, "depth_rank"] = np.where(has, rank, NOT_LISTED_RANK)
    out.loc[idx, "depth_rank_change"] = np.where(has, change, 0.0)
    out.loc[idx, "has_depth"] = has.astype(float).to_numpy()
    return out


def roster_features(frame: pd.DataFrame, rosters: pd.DataFrame) -> pd.DataFrame:
    """Back from a reserve list: on one (RES) in the last ``RESERVE_WEEKS`` weeks, on the roster now."""
    out = pd.DataFrame({"from_reserve": 0.0, "has_roster": 0.0}, index=frame.index)
    if rosters.empty or frame.empty:
        return out
    r = rosters[["season", "week", "player_id", "status"]]
    key = frame[["season", "week", "player_id"]].reset_index()
    now = key.merge(r, on=["season", "week", "player_id"], how="left")
    past = key.merge(r.rename(columns={"week": "w0", "status": "s0"}), on=["season", "player_id"])
    past = past[(past["w0"] < past["week"]) & (past["w0"] >= past["week"] - RESERVE_WEEKS)]
    was_res = past[past["s0"] == "RES"].groupby("index").size()
    out["has_roster"] = _seen(frame, rosters, strict=False, seasons_back=0).astype(float).to_numpy()
    res = now.set_index("index")["status"].isin(["ACT"]) & now.set_index("index").index.isin(was_res.index)
    out["from_reserve"] = res.reindex(frame.index).fillna(False).astype(float).to_numpy()
    return out


def snap_features(frame: pd.DataFrame, snaps: pd.DataFrame) -> pd.DataFrame:
    """Share of his team's offensive snaps over his last 3 games, and the last game minus that."""
    out = pd.DataFrame({"snap_share_l3": 0.0, "snap_trend": 0.0, "has_snaps": 0.0}, index=frame.index)
    s = snaps[snaps["player_id"].notna()]
    if s.empty or frame.empty:
        return out
    s = s.assign(t=R._t(s["season"], s["week"])).sort_values(["player_id", "t"])
    g = s.groupby("player_id")["offense_pct"]
    s["l3"] = g.transform(lambda x: x.rolling(3, min_periods=1).mean())
    s["trend"] = s["offense_pct"] - g.transform(lambda x: x.shift(1).rolling(3, min_periods=1).mean()).fillna(s["offense_pct"])
    m = _asof_t(frame, s, "player_id", ["l3", "trend"])
    has = _seen(frame, s)
    ok = m["l3"].notna() & has
    out["snap_share_l3"] = m["l3"].where(ok, 0.0)
    out["snap_trend"] = m["trend"].where(ok, 0.0)
    out["has_snaps"] = has.astype(float)
    return out


def pbp_features(frame: pd.DataFrame, usage: pd.DataFrame, defense: pd.DataFrame) -> pd.DataFrame:
    """Red-zone and goal-line carry shares, EPA and success per carry (shrunk), opponent EPA allowed."""
    cols = {"rz_share": 0.0, "gl_share": 0.0, "epa_per_carry": LEAGUE_RUSH_EPA, "success_rate": LEAGUE_SUCCESS,
            "has_pbp": 0.0, "opp_run_epa": LEAGUE_RUSH_EPA}
    out = pd.DataFrame(cols, index=frame.index)
    if usage.empty or frame.empty:
        return out
    u = usage.assign(t=R._t(usage["season"], usage["week"]))
    team = u.groupby(["game_id", "team"])[["rz_carries", "gl_carries"]].sum().add_prefix("team_")
    u = u.join(team, on=["game_id", "team"])
    roll = _rolling(u, ["player_id"], ["rz_carries", "gl_carries", "team_rz_carries", "team_gl_carries",
                                       "carries", "successes", "epa_sum"])
    roll["rz"] = roll["rz_carries"] / roll["team_rz_carries"].where(roll["team_rz_carries"] > 0)
    roll["gl"] = roll["gl_carries"] / roll["team_gl_carries"].where(roll["team_gl_carries"] > 0)
    roll["epa"] = (roll["epa_sum"] + LEAGUE_RUSH_EPA * EPA_PRIOR_CARRIES) / (roll["carries"] + EPA_PRIOR_CARRIES)
    roll["succ"] = (roll["successes"] + LEAGUE_SUCCESS * EPA_PRIOR_CARRIES) / (roll["carries"] + EPA_PRIOR_CARRIES)
    m = _asof_t(frame, roll, "player_id", ["rz", "gl", "epa", "succ"])
    has = _seen(frame, u)
    out["has_pbp"] = has.astype(float)
    for new, c, fill in (("rz_share", "rz", 0.0), ("gl_share", "gl", 0.0), ("epa_per_carry", "epa", LEAGUE_RUSH_EPA),
                         ("success_rate", "succ", LEAGUE_SUCCESS)):
        out[new] = m[c].where(has & m[c].notna(), fill)
    if not defense.empty:
        d = defense.assign(t=R._t(defense["season"], defense["week"]))
        dr = _rolling(d, ["team"], ["rushes", "epa_sum"])
        dr["def_epa"] = (dr["epa_sum"] + LEAGUE_RUSH_EPA * DEF_PRIOR_RUSHES) / (dr["rushes"] + DEF_PRIOR_RUSHES)
        opp = frame[["season", "week", "opponent"]].rename(columns={"opponent": "team"})
        md = _asof_t(opp, dr, "team", ["def_epa"])
        out["opp_run_epa"] = md["def_epa"].where(has & md["def_epa"].notna(), LEAGUE_RUSH_EPA)
    return out


def ngs_features(frame: pd.DataFrame, ngs: pd.DataFrame) -> pd.DataFrame:
    """Rush yards over expected per attempt (shrunk to 0) and stacked-box rate over his last games."""
    out = pd.DataFrame({"ryoe_per_att": 0.0, "stacked_box": LEAGUE_STACKED, "has_ngs": 0.0}, index=frame.index)
    if ngs.empty or frame.empty:
        return out
    n = ngs.assign(t=R._t(ngs["season"], ngs["week"]),
                   box_att=ngs["stacked_box_pct"].fillna(LEAGUE_STACKED) * ngs["rush_attempts"])
    roll = _rolling(n, ["player_id"], ["ryoe", "rush_attempts", "box_att"])
    roll["ryoe_pa"] = roll["ryoe"] / (roll["rush_attempts"] + RYOE_PRIOR_ATT)
    roll["box"] = (roll["box_att"] + LEAGUE_STACKED * 20) / (roll["rush_attempts"] + 20)
    m = _asof_t(frame, roll, "player_id", ["ryoe_pa", "box"])
    has = _seen(frame, n)
    out["has_ngs"] = has.astype(float)
    out["ryoe_per_att"] = m["ryoe_pa"].where(has & m["ryoe_pa"].notna(), 0.0)
    out["stacked_box"] = m["box"].where(has & m["box"].notna(), LEAGUE_STACKED)
    return out


def add_role_features(frame: pd.DataFrame, tables: dict[str, pd.DataFrame], games: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (candidates: season, week, game_id, player_id, team, opponent) with every role feature."""
    t = {k: tables.get(k, R.empty(k)) for k in R.TABLES}
    parts = [depth_features(frame, t["depth_charts"], games), roster_features(frame, t["rosters"]),
             snap_features(frame, t["snap_counts"]), pbp_features(frame, t["rush_usage"], t["run_defense"]),
             ngs_features(frame, t["ngs_rushing"])]
    out = frame.copy()
    for p in parts:
        for c in p.columns:
            out[c] = p[c].astype(float).to_numpy()
    return out


def used_sources(feature_names) -> set[str]:
    """The role tables ``feature_names`` read (empty for a model of the default features)."""
    return {SOURCES[f] for f in (feature_names or []) if f in SOURCES}


def for_training_if_used(history, frame: pd.DataFrame, feature_names) -> pd.DataFrame:
    """Training's hook (``nfl-bnn train``, the train notebook): ``frame`` with every role feature from
    ``history.roles`` when ``feature_names`` use any; ``frame`` unchanged otherwise.

    The same builder (:func:`add_role_features`) on the same tables (every season up to the last one,
    see :func:`nfl_bnn.history.load_history`) as the weekly run's :func:`for_week_if_used`, so a back's
    role features in training are the numbers a bet on him is priced on. A used source with no rows at
    all is an error: the model would learn nothing from a constant and the run would not say why.
    """
    used = used_sources(feature_names)
    if not used:
        return frame
    have = {name for name, t in (history.roles or {}).items() if len(t)}
    if used - have:
        from nfl_bnn.errors import DataError

        names = sorted(used - have)
        raise DataError(f"the train params use role features read from {', '.join('mart.' + n for n in names)}, "
                        "which the warehouse does not hold: import them (`nfl-bnn import-nflverse --depth-charts "
                        "... --rosters ... --snap-counts ... --pbp ... --ngs ...`, docs/roles.md) or drop "
                        f"{sorted(f for f in feature_names if SOURCES.get(f) in names)} from the features")
    return history.with_role_features(frame)


def bet_times(games: pd.DataFrame, season: int, week: int, as_of: pd.Timestamp | None) -> pd.Series | None:
    """Per team, the bet time of its game in (season, week): ``as_of`` (US/Eastern wall clock, like
    ``mart.games.kickoff``), but never after the team's kickoff; None (kickoff) without ``as_of``."""
    if as_of is None:
        return None
    from nfl_bnn.eligibility import bet_times as team_bet_times  # one rule for candidates and features

    ko = R.team_kickoffs(games)
    week_games = ko[(ko["season"] == int(season)) & (ko["week"] == int(week))][["game_id", "team"]]
    return team_bet_times(week_games, games, as_of).set_index("team")["bet"]


def for_week_if_used(wh, frame: pd.DataFrame, games: pd.DataFrame, season: int, week: int,
                     feature_names, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The weekly run's hook: when the model uses role features, add them and warn for every source it
    uses that has nothing for the week; a model without role features gets ``frame`` unchanged.

    Every season up to ``season`` is read, as training reads them (:func:`for_training_if_used`): the
    as-of joins and rolling windows reach as far back as a back's last rows, so a shorter load would give
    a back who missed a season other numbers than training gave him.

    ``as_of`` (US/Eastern wall clock): the run's bet time; role rows published after it are not read
    (a Tuesday run does not see the week's game-day roster). None: each team's kickoff."""
    used = used_sources(feature_names)
    if not used:
        return frame
    tables = R.load_roles(wh, last_season=int(season))
    R.warn_missing(tables, season, week, used)
    known = R.censor(tables, games, season, week, bet_time=bet_times(games, season, week, as_of))
    return add_role_features(frame, known, games)
