"""Who will carry the ball: readers of the role tables, when each source is known, and the rules
that use them for targets (played or void) and positions (issue 13; docs/roles.md).

When each source is known (``PUBLICATION``; the bet time is kickoff until the weekly run has an
``--as-of``):

* depth charts: the 2025+ schema carries its snapshot time (``published_at``) and a snapshot counts
  once it is older than the bet time; the legacy schema has no time, so a week's edition counts only
  after that week's last kickoff (it is used from the following week on);
* weekly rosters: a week's row (status ACT/INA/RES...) counts from ``ROSTER_LEAD`` before the team's
  kickoff (inactives are announced about 90 minutes before); earlier bet times use the previous week;
* snap counts, play-by-play usage, run defence and NGS: after the game, so only for later weeks;
* injury reports: ``reported_at`` before kickoff (see :mod:`nfl_bnn.features`).

:func:`censor` applies these rules to whole tables for one week; the leak tests rebuild features from
censored tables and require the same answer as from the full tables.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from nfl_bnn.schema import KEYS
from nfl_bnn.warehouse import Warehouse

log = logging.getLogger("nfl_bnn.roles")

ROSTER_LEAD = pd.Timedelta(minutes=90)
BACK_SLOTS = ("RB", "HB")
#: Table -> (columns, rule); the rule names when a row may be used (docs/roles.md).
TABLES: dict[str, tuple[list[str], str]] = {
    "depth_charts": (["season", "week", "team", "player_id", "slot", "snapshot", "player_name", "position",
                      "depth_rank", "published_at"],
                     "published_at before the bet time; without published_at, after the week's last kickoff"),
    "rosters": (["season", "week", "player_id", "team", "player_name", "position", "depth_chart_position",
                 "status", "pfr_id"], "from 90 minutes before the team's kickoff of that week"),
    "snap_counts": (["season", "week", "game_id", "pfr_player_id", "player_id", "player_name", "position", "team",
                     "offense_snaps", "offense_pct"], "after the game: later weeks only"),
    "rush_usage": (["season", "week", "game_id", "team", "player_id", "carries", "rush_yards", "rz_carries",
                    "gl_carries", "successes", "epa_sum"], "after the game: later weeks only"),
    "run_defense": (["season", "week", "game_id", "team", "rushes", "rush_yards", "successes", "epa_sum"],
                    "after the game: later weeks only"),
    "ngs_rushing": (["season", "week", "player_id", "team", "rush_attempts", "rush_yards", "expected_rush_yards",
                     "ryoe", "stacked_box_pct"], "after the game: later weeks only"),
}
AFTER_GAME = ("snap_counts", "rush_usage", "run_defense", "ngs_rushing")
INTS = {"season", "week", "depth_rank", "offense_snaps", "carries", "rush_yards", "rz_carries", "gl_carries",
        "successes", "rushes", "rush_attempts"}
TIMES = {"published_at"}
FLOATS = {"offense_pct", "epa_sum", "expected_rush_yards", "ryoe", "stacked_box_pct"}


def empty(name: str) -> pd.DataFrame:
    cols = TABLES[name][0]
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in INTS else "datetime64[ns]" if c in TIMES
                                      else "float64" if c in FLOATS else object) for c in cols})


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        if c in INTS:
            df[c] = pd.to_numeric(df[c]).astype("int64")
        elif c in TIMES:
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
        elif c in FLOATS:
            df[c] = pd.to_numeric(df[c]).astype("float64")
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.reset_index(drop=True)


def load_roles(wh: Warehouse, first_season: int | None = None, last_season: int | None = None
               ) -> dict[str, pd.DataFrame]:
    """Every role table (``mart.<name>``) of the seasons, empty where a table is absent: all optional."""
    out = {}
    for name, (cols, _) in TABLES.items():
        if not wh.table_exists(f"mart.{name}"):
            out[name] = empty(name)
            continue
        from nfl_bnn.tables import _season_filter
        from nfl_bnn.warehouse import _check_ident

        table, col_list = f"mart.{name}", ", ".join(cols)
        for ident in (table, *cols):
            _check_ident(ident)  # fixed names from TABLES, never data
        where, params = _season_filter(first_season, last_season)
        order = ", ".join(KEYS[table])  # the key: one order on both backends
        sql = f"SELECT {col_list} FROM {table}{where} ORDER BY {order}"
        out[name] = _typed(name, wh.query_df(sql, params))
    return out


# --- when each row is known ----------------------------------------------------------------------------
def _t(season, week) -> np.ndarray:
    return np.asarray(season, dtype=np.int64) * 100 + np.asarray(week, dtype=np.int64)


def team_kickoffs(games: pd.DataFrame) -> pd.DataFrame:
    """(season, week, team, game_id, kickoff) for both teams of every game."""
    cols = ["season", "week", "game_id", "kickoff"]
    both = pd.concat([games[cols].assign(team=games["home_team"]), games[cols].assign(team=games["away_team"])])
    both["kickoff"] = pd.to_datetime(both["kickoff"]).astype("datetime64[ns]")
    return both.reset_index(drop=True)


def depth_available_at(depth: pd.DataFrame, games: pd.DataFrame) -> pd.Series:
    """When each depth-chart row may be used: its ``published_at``, else its week's last kickoff."""
    last = games.assign(kickoff=pd.to_datetime(games["kickoff"])).groupby(["season", "week"])["kickoff"].max()
    week_end = depth.join(last.rename("week_end"), on=["season", "week"])["week_end"]
    return pd.to_datetime(depth["published_at"]).fillna(week_end).astype("datetime64[ns]")


def censor(tables: dict[str, pd.DataFrame], games: pd.DataFrame, season: int, week: int,
           bet_time: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """Only the rows known at the bet time of (season, week), by :data:`TABLES`' rules.

    ``bet_time``: per team (index) the bet time of its game that week; default its kickoff. Depth-chart
    rows of a team with no game that week are cut at the week's first kickoff.
    """
    T = int(season) * 100 + int(week)
    ko = team_kickoffs(games)
    ko = ko[(ko["season"] == int(season)) & (ko["week"] == int(week))].set_index("team")["kickoff"]
    bet = ko if bet_time is None else pd.to_datetime(bet_time).astype("datetime64[ns]")
    first = bet.min() if len(bet) else pd.Timestamp.max
    out = {}
    for name, df in tables.items():
        if name in AFTER_GAME:
            out[name] = df[_t(df["season"], df["week"]) < T]
        elif name == "depth_charts":
            avail = depth_available_at(df, games)
            cut = df["team"].map(bet).fillna(first)
            out[name] = df[(avail < cut).fillna(False).to_numpy()]
        elif name == "rosters":
            t = _t(df["season"], df["week"])
            now = (t == T) & (df["team"].map(ko) - ROSTER_LEAD <= df["team"].map(bet)).fillna(False).to_numpy()
            out[name] = df[(t < T) | now]
        else:
            out[name] = df
    return out


def censor_games(games: pd.DataFrame, season: int, week: int) -> pd.DataFrame:
    """Games as known before (season, week): no score of that week or later, no line of a later week."""
    g = games.copy()
    t = _t(g["season"], g["week"])
    T = int(season) * 100 + int(week)
    for c in ("home_score", "away_score"):
        g[c] = g[c].astype("Int64").mask(t >= T)
    for c in ("spread_line", "total_line"):
        g[c] = g[c].astype(float).mask(t > T)
    return g


def leak_diff(build, tables: dict[str, pd.DataFrame], games: pd.DataFrame, season: int, week: int,
              stats: pd.DataFrame | None = None, bet_time: pd.Series | None = None) -> list[str]:
    """Columns where ``build(tables, games, stats)`` differs from the same build on censored inputs.

    The censored inputs hold only what was known at the bet time of (season, week) (``bet_time``: per
    team, as :func:`censor`; default kickoff): :func:`censor` for the role tables, :func:`censor_games`
    for games, and stats of earlier weeks. An empty list: no leak seen in that week.
    """
    full = build(tables, games, stats)
    st = None if stats is None else stats[_t(stats["season"], stats["week"]) < int(season) * 100 + int(week)]
    cut = build(censor(tables, games, season, week, bet_time), censor_games(games, season, week), st)
    if list(full.columns) != list(cut.columns) or len(full) != len(cut):
        return ["<shape>"]
    diff = []
    for c in full.columns:
        a, b = full[c].reset_index(drop=True), cut[c].reset_index(drop=True)
        same = (a == b) | (a.isna() & b.isna())
        if not bool(same.all()):
            diff.append(c)
    return diff


# --- played or void ---------------------------------------------------------------------------------------
#: Only rows that prove the player was on the field: a GSIS id and at least one offensive snap. The same
#: filter in SQL is ``player_id IS NOT NULL AND offense_snaps > 0`` (:func:`load_snaps`, ledger.settle).
def _snap_rows(snaps: pd.DataFrame) -> pd.DataFrame:
    return snaps[snaps["player_id"].notna() & (snaps["offense_snaps"] > 0)]


def snapped(snaps: pd.DataFrame) -> pd.DataFrame:
    """(season, week, team, player_id) of players with an offensive snap (GSIS id known)."""
    s = _snap_rows(snaps)
    return s[["season", "week", "team", "player_id"]].drop_duplicates().reset_index(drop=True)


def played_yards(yards: pd.Series, snapped: pd.Series) -> pd.Series:
    """THE played-or-void rule, for every caller (training targets, ledger settlement, backtests).

    ``yards``: the stats row's rushing yards, NaN where the player has no stats row in that game;
    ``snapped``: True where he took an offensive snap in that game. A stats row's yards stand; no stats
    row but a snap: he ran for 0 yards (books grade a back who took a snap); neither: he did not play,
    NaN (void). Where snap counts are unknown (no table, no rows for that game) ``snapped`` is False and
    the old rule stays: no stats row = void.
    """
    y = pd.to_numeric(pd.Series(yards), errors="coerce").astype(float)
    snap = pd.Series(snapped, index=y.index).fillna(False).astype(bool)
    return y.where(y.notna() | ~snap, 0.0)


def player_game_yards(keys: pd.DataFrame, stats: pd.DataFrame, snaps: pd.DataFrame | None) -> pd.Series:
    """:func:`played_yards` of each (game_id, player_id) row of ``keys`` (the backtests' bets), from
    ``stats`` (``mart.player_game_stats``) and ``snaps`` (``mart.snap_counts``; None: no snap counts)."""
    k = keys[["game_id", "player_id"]].reset_index(drop=True)
    y = stats.drop_duplicates(["game_id", "player_id"]).set_index(["game_id", "player_id"])["rushing_yards"]
    yards = pd.Series([y.get((g, p), np.nan) for g, p in zip(k["game_id"], k["player_id"])], dtype=float)
    on = set() if snaps is None else set(zip(*(_snap_rows(snaps)[c] for c in ("game_id", "player_id"))))
    snap = pd.Series([(g, p) in on for g, p in zip(k["game_id"], k["player_id"])], dtype=bool)
    return played_yards(yards, snap).set_axis(keys.index)


def load_snaps(wh: Warehouse, first_season: int, last_season: int) -> pd.DataFrame | None:
    """Rows of ``mart.snap_counts`` of the seasons that prove a player took an offensive snap (GSIS id
    known, ``offense_snaps > 0``); None when the warehouse has no such table (then no stats row = void)."""
    if not wh.table_exists("mart.snap_counts"):
        return None
    sql = ("SELECT season, week, game_id, team, player_id, offense_snaps FROM mart.snap_counts "
           "WHERE player_id IS NOT NULL AND offense_snaps > 0 AND season >= ? AND season <= ? "
           "ORDER BY game_id, pfr_player_id")
    df = wh.query_df(sql, [int(first_season), int(last_season)])
    return _typed("snap_counts", df) if len(df) else empty("snap_counts")[list(df.columns)]


def grade_with_snaps(frame: pd.DataFrame, snaps: pd.DataFrame | None, target: str = "rushing_yards"
                     ) -> pd.DataFrame:
    """A back without a stats row but with offensive snaps for that team ran for 0 yards (graded).

    Books grade a back who took a snap; without snap counts for a game nothing changes (the old rule:
    no stats row = did not play = void). Returns a copy with those targets set to 0.
    """
    out = frame.copy()
    if snaps is None or snaps.empty:
        return out
    s = snapped(snaps).assign(_snap=True)
    m = out[["season", "week", "team", "player_id"]].merge(s, how="left", on=["season", "week", "team", "player_id"])
    graded = played_yards(out[target].reset_index(drop=True), m["_snap"].eq(True))
    zero = out[target].isna().to_numpy() & graded.notna().to_numpy()
    if zero.any():
        log.info("%d candidate(s) without a stats row took offensive snaps: graded as 0 yards, not void", int(zero.sum()))
    out.loc[zero, target] = 0
    return out


# --- position by season ----------------------------------------------------------------------------------
def season_positions(rosters: pd.DataFrame, season: int | None = None, week: int | None = None) -> pd.DataFrame:
    """(player_id, season, roster_position): his latest weekly-roster position of the season known by
    (season, week) (all weeks when not given)."""
    r = rosters
    if season is not None and week is not None:
        r = r[_t(r["season"], r["week"]) <= int(season) * 100 + int(week)]
    r = r[r["position"].notna()].sort_values(["season", "week"])
    last = r.drop_duplicates(["player_id", "season"], keep="last")
    return last[["player_id", "season", "position"]].rename(columns={"position": "roster_position"})


def backs_this_season(frame: pd.DataFrame, rosters: pd.DataFrame | None, positions=("RB", "FB", "HB")
                      ) -> pd.Series:
    """True where the player is a back this season by the weekly roster (up to the week), or where the
    roster has no entry for him (older seasons: the stats position decided, as before)."""
    if rosters is None or rosters.empty:
        return pd.Series(True, index=frame.index)
    r = rosters[["player_id", "season", "week", "position"]].dropna(subset=["position"])
    r = r.assign(t=_t(r["season"], r["week"])).sort_values("t")
    left = frame[["player_id", "season", "week"]].assign(t=_t(frame["season"], frame["week"]))
    left = left.reset_index().sort_values("t")
    m = pd.merge_asof(left, r[["player_id", "t", "season", "position"]].rename(columns={"season": "r_season"}),
                      on="t", by="player_id", direction="backward")
    same = m["r_season"] == m["season"]
    ok = ~same.fillna(False) | m["position"].isin(positions)
    return pd.Series(ok.to_numpy(), index=m["index"].to_numpy()).reindex(frame.index)


def coverage(tables: dict[str, pd.DataFrame], season: int, week: int) -> dict[str, bool]:
    """Whether each source has rows a feature of (season, week) can use: the same week for rosters and
    depth charts, the week before (or earlier in the season) for the after-game sources."""
    out = {}
    for name, df in tables.items():
        if df is None or df.empty:
            out[name] = False
        elif name in AFTER_GAME:
            t = _t(df["season"], df["week"])
            out[name] = bool(((t < int(season) * 100 + int(week)) & (df["season"] == int(season))).any()) or (
                int(week) == 1 and bool((df["season"] == int(season) - 1).any()))
        else:
            out[name] = bool(((df["season"] == int(season)) & (df["week"] <= int(week))).any())
    return out


def warn_missing(tables: dict[str, pd.DataFrame], season: int, week: int, used: set[str]) -> list[str]:
    """Log a warning for each source the model uses that has nothing for (season, week); return them."""
    missing = [n for n, ok in coverage({k: v for k, v in tables.items() if k in used}, season, week).items() if not ok]
    for n in missing:
        log.warning("source %s has no rows for season %d week %d: features from it read as missing "
                    "(import it with `nfl-bnn import-nflverse --%s ...`)", n, season, week,
                    {"rush_usage": "pbp", "run_defense": "pbp", "ngs_rushing": "ngs"}.get(n, n.replace("_", "-")))
    return missing
