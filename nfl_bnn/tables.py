"""What the warehouse tables mean to the Python side: one reader per table, one column-type map each.

:mod:`nfl_bnn.schema` says how each table is stored (the DDL); this module says what a reader hands
back: the columns in order and the pandas type of each, written once per table as a ``{column: type}``
map that both the ``SELECT`` list and the type conversion are built from, so the two cannot disagree.
How to reach a database is :mod:`nfl_bnn.warehouse`'s business; the readers take its open connection
and are re-exported there (``from nfl_bnn.warehouse import load_stats`` keeps working).

Types: ``int`` int64; ``int?`` nullable Int64 (NULL where a source lacks the column); ``float``
float64; ``bool``; ``text`` object with None for NULL (never NaN, so a missing name stays falsy and
never prints as ``nan``); ``timestamp`` datetime64[ns], a US/Eastern wall clock for kickoffs and
report times (UTC for ``fetched_at``, see docs/architecture.md).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.schema import TABLES

if TYPE_CHECKING:  # only for annotations: nothing here imports the connection layer at run time
    from nfl_bnn.warehouse import Warehouse

DATA_HINT = ("load data first: `make data` or `nfl-bnn build-demo-data` (embedded nflgame 2009-2019), or "
             "`nfl-bnn import-nflverse`")

#: ``mart.player_game_stats``: targets/receptions/receiving_yards are NULL in the nflgame source.
STATS_TYPES: dict[str, str] = {
    "season": "int", "week": "int", "season_type": "text", "game_id": "text", "player_id": "text",
    "player_name": "text", "position": "text", "team": "text", "opponent": "text", "is_home": "bool",
    "carries": "int", "rushing_yards": "int", "rushing_tds": "int", "targets": "int?", "receptions": "int?",
    "receiving_yards": "int?", "source": "text",
}
#: ``mart.games``: scores are NULL until played, spread/total in the nflgame era.
GAMES_TYPES: dict[str, str] = {
    "game_id": "text", "season": "int", "week": "int", "season_type": "text", "gameday": "timestamp",
    "kickoff": "timestamp", "home_team": "text", "away_team": "text", "home_score": "int?",
    "away_score": "int?", "spread_line": "float", "total_line": "float", "source": "text",
}
#: ``mart.injuries`` (optional table: an empty frame of these columns when absent).
INJURY_TYPES: dict[str, str] = {
    "season": "int", "week": "int", "team": "text", "player_id": "text", "player_name": "text",
    "position": "text", "report_status": "text", "practice_status": "text", "reported_at": "timestamp",
}
#: ``best_prop_lines``: one row per player and side.
BEST_LINES_TYPES: dict[str, str] = {
    "season": "int", "week": "int", "player_id": "text", "player_name": "text", "team": "text", "market": "text",
    "side": "text", "book": "text", "line": "float", "over_odds": "int?", "under_odds": "int?",
    "fetched_at": "timestamp", "source": "text",
}
INJURY_COLUMNS = list(INJURY_TYPES)
#: ``prop_lines``: every quote snapshot; either side's odds may be NULL (a one-sided quote); ``game_id``
#: is NULL for quotes of an older warehouse (read before its migration) or of an unmatched game.
QUOTE_TYPES: dict[str, str] = {
    "season": "int", "week": "int", "game_id": "text", "player_id": "text", "player_name": "text", "team": "text",
    "book": "text", "market": "text", "line": "float", "over_odds": "int?", "under_odds": "int?",
    "fetched_at": "timestamp", "source": "text",
}

#: ``mart.game_lines``: spread/total as seen at ``fetched_at`` (UTC); either value may be NULL (not both).
GAME_LINE_TYPES: dict[str, str] = {
    "game_id": "text", "season": "int", "week": "int", "book": "text", "fetched_at": "timestamp",
    "spread_line": "float", "total_line": "float", "source": "text",
}


def typed(df: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame:
    """``df`` with each column of ``types`` converted to its type (see the module docstring)."""
    for c, kind in types.items():
        if kind == "int":
            df[c] = df[c].astype("int64")
        elif kind == "int?":
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        elif kind == "float":
            df[c] = pd.to_numeric(df[c]).astype("float64")
        elif kind == "bool":
            df[c] = df[c].astype(bool)
        elif kind == "timestamp":
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
        elif kind == "text":
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        else:
            raise ValueError(f"unknown column type {kind!r} for column {c!r}")
    return df.reset_index(drop=True)


def _read(wh: Warehouse, table: str, types: Mapping[str, str], where: str, params: Sequence[Any],
          order: Sequence[str]) -> pd.DataFrame:
    """``SELECT`` the columns of ``types`` from ``table`` (names from this module, values as parameters)."""
    cols = ", ".join(types)
    return typed(wh.query_df(f"SELECT {cols} FROM {table}{where} ORDER BY {', '.join(order)}", params), types)


def _season_filter(first_season: int | None, last_season: int | None) -> tuple[str, list[int]]:
    where, params = [], []
    if first_season is not None:
        where.append("season >= ?")
        params.append(int(first_season))
    if last_season is not None:
        where.append("season <= ?")
        params.append(int(last_season))
    return (" WHERE " + " AND ".join(where)) if where else "", params


def _require_not_empty(wh: Warehouse, df: pd.DataFrame, table: str) -> None:
    """An empty result from an entirely empty table means no data was loaded: say so and how to fix it."""
    if df.empty and wh.count(table) == 0:
        raise DataError(f"the warehouse ({wh.description}) is empty: {table} has no rows; {DATA_HINT}")


def load_stats(wh: Warehouse, first_season: int | None = None, last_season: int | None = None) -> pd.DataFrame:
    """``mart.player_game_stats`` (types: :data:`STATS_TYPES`) ordered by season, week, game, player.

    Parameters
    ----------
    wh : Warehouse
        An open warehouse (:func:`nfl_bnn.warehouse.connect`).
    first_season, last_season : int, optional
        Only these seasons (inclusive); None: no bound.

    Returns
    -------
    DataFrame
        One row per player per game played.

    Raises
    ------
    DatabaseError
        The table does not exist (run ``nfl-bnn init-db``).
    DataError
        The table is empty (load data first).
    """
    wh.require_tables("mart.player_game_stats")
    where, params = _season_filter(first_season, last_season)
    df = _read(wh, "mart.player_game_stats", STATS_TYPES, where, params, ("season", "week", "game_id", "player_id"))
    _require_not_empty(wh, df, "mart.player_game_stats")
    return df


def load_games(wh: Warehouse, first_season: int | None = None, last_season: int | None = None) -> pd.DataFrame:
    """``mart.games`` (types: :data:`GAMES_TYPES`) ordered by kickoff.

    Parameters
    ----------
    wh : Warehouse
        An open warehouse.
    first_season, last_season : int, optional
        Only these seasons (inclusive); None: no bound.

    Returns
    -------
    DataFrame
        One row per game; ``kickoff`` and ``gameday`` are US/Eastern wall-clock times.

    Raises
    ------
    DatabaseError
        The table does not exist.
    DataError
        The table is empty.
    """
    wh.require_tables("mart.games")
    where, params = _season_filter(first_season, last_season)
    df = _read(wh, "mart.games", GAMES_TYPES, where, params, ("kickoff", "game_id"))
    _require_not_empty(wh, df, "mart.games")
    return df


def load_injuries(wh: Warehouse, first_season: int | None = None, last_season: int | None = None) -> pd.DataFrame:
    """``mart.injuries`` (types: :data:`INJURY_TYPES`); an empty frame when the table is absent or empty.

    Injury reports are optional: without them the injury features read as "nobody listed", which the
    weekly run warns about (see :func:`nfl_bnn.features.injury_coverage`).

    Parameters
    ----------
    wh : Warehouse
        An open warehouse.
    first_season, last_season : int, optional
        Only these seasons (inclusive); None: no bound.

    Returns
    -------
    DataFrame
        One row per player and week, ordered by season, week, team, player.
    """
    if not wh.table_exists("mart.injuries"):
        return typed(pd.DataFrame({c: pd.Series(dtype=object) for c in INJURY_TYPES}), INJURY_TYPES)
    where, params = _season_filter(first_season, last_season)
    return _read(wh, "mart.injuries", INJURY_TYPES, where, params, ("season", "week", "team", "player_id"))


def load_best_lines(wh: Warehouse, season: int, week: int, market: str = "player_rush_yds") -> pd.DataFrame:
    """``best_prop_lines`` of one week and market (types: :data:`BEST_LINES_TYPES`).

    Parameters
    ----------
    wh : Warehouse
        An open warehouse.
    season, week : int
        The week.
    market : str
        The prop market (``player_rush_yds``).

    Returns
    -------
    DataFrame
        One row per player and side (``over``/``under``), ordered by player name and side; empty when the
        week has no lines.

    Raises
    ------
    DatabaseError
        The table does not exist.
    """
    wh.require_tables("best_prop_lines")
    return _read(wh, "best_prop_lines", BEST_LINES_TYPES, " WHERE season = ? AND week = ? AND market = ?",
                 (int(season), int(week), market), ("player_name", "side"))


def load_quotes(wh: Warehouse, season: int, week: int | None = None,
                market: str = "player_rush_yds") -> pd.DataFrame:
    """Every quote snapshot of ``prop_lines`` for a season (or one week) and market, oldest first.

    The raw history that :mod:`nfl_bnn.quotes` selects from (``best_as_of``, ``open_close``); nothing
    is filtered here, so the as-of rule lives in one place. Empty frame if the table is absent; a
    ``prop_lines`` that predates the ``game_id`` column is read with ``game_id`` NULL.
    """
    if not wh.table_exists("prop_lines"):
        return typed(pd.DataFrame({c: pd.Series(dtype=object) for c in QUOTE_TYPES}), QUOTE_TYPES)
    cols = ", ".join(c if c != "game_id" or "game_id" in wh.columns("prop_lines") else "CAST(NULL AS TEXT) AS game_id"
                     for c in QUOTE_TYPES)  # fixed names of this module
    weeks = (1, 22) if week is None else (int(week), int(week))
    df = wh.query_df(f"SELECT {cols} FROM prop_lines WHERE season = ? AND market = ? AND week >= ? "
                     "AND week <= ? ORDER BY week, player_name, book, fetched_at", (int(season), market) + weeks)
    return typed(df, QUOTE_TYPES)


def load_lines_as_of(wh: Warehouse, season: int, week: int, as_of: Any,
                     market: str = "player_rush_yds") -> pd.DataFrame:
    """The best price per player and side from quotes fetched at or before ``as_of`` (UTC).

    From the quote history (``prop_lines``) when it has this week; otherwise from ``best_prop_lines``
    (a warehouse filled by hand or by an older version), still dropping rows fetched after ``as_of``.
    Columns: :data:`nfl_bnn.quotes.BEST_COLUMNS`.
    """
    from nfl_bnn import quotes

    cut = quotes.to_utc_naive(as_of)
    hist = load_quotes(wh, season, week, market)
    if not hist.empty:
        return quotes.best_as_of(hist, cut)
    best = load_best_lines(wh, season, week, market)
    best = best[best["fetched_at"] <= cut].copy()  # validated by the caller (quotes.priceable), as every quote
    best["game_id"] = None
    best["two_sided"] = best["over_odds"].notna() & best["under_odds"].notna()
    best["devig_book"] = best["book"].where(best["two_sided"], None)
    best["devig_over_odds"] = best["over_odds"].where(best["two_sided"])
    best["devig_under_odds"] = best["under_odds"].where(best["two_sided"])
    return best[quotes.BEST_COLUMNS].reset_index(drop=True)


def load_game_lines(wh: Warehouse, season: int, week: int | None = None) -> pd.DataFrame:
    """Every game-line snapshot of a season (or one week), oldest first (types: :data:`GAME_LINE_TYPES`);
    an empty frame when the table is absent. Nothing is filtered by time here: the as-of rule is
    :func:`nfl_bnn.game_lines.lines_as_of`."""
    if not wh.table_exists("mart.game_lines"):
        return typed(pd.DataFrame({c: pd.Series(dtype=object) for c in GAME_LINE_TYPES}), GAME_LINE_TYPES)
    weeks = (1, 22) if week is None else (int(week), int(week))
    return _read(wh, "mart.game_lines", GAME_LINE_TYPES, " WHERE season = ? AND week >= ? AND week <= ?",
                 (int(season),) + weeks, ("week", "game_id", "fetched_at", "book"))


def load_game_lines_as_of(wh: Warehouse, season: int, week: int, as_of: Any, book: str | None = None
                          ) -> pd.DataFrame:
    """Per game of (season, week), the median over books of each book's latest spread and total fetched at
    or before ``as_of`` (UTC), or only ``book``'s: :func:`nfl_bnn.game_lines.lines_as_of` (its columns)."""
    from nfl_bnn.game_lines import lines_as_of

    return lines_as_of(load_game_lines(wh, season, week), as_of, book=book)


def eastern_now() -> datetime:
    """The current US/Eastern wall-clock time, the clock kickoffs are stored in."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("America/New_York")).replace(tzinfo=None)


def upcoming_week(wh: Warehouse, season: int, now: datetime | None = None) -> int:
    """The week a cron job should run now: the first week of ``season`` with a kickoff still ahead.

    Kickoffs are stored as US/Eastern wall-clock times, so ``now`` defaults to the Eastern clock.
    """
    now = now or eastern_now()
    wh.require_tables("mart.games")
    week = wh.scalar("SELECT min(week) FROM mart.games WHERE season = ? AND kickoff >= ?", (int(season), now))
    if week is None or pd.isna(week):
        raise DataError(f"no game of season {season} kicks off after {now:%Y-%m-%d %H:%M} (US/Eastern) in the "
                        "warehouse; import that season's schedule (`nfl-bnn import-nflverse --schedules ...`) "
                        "or pass --week N")
    return int(week)


def table_counts(wh: Warehouse) -> dict[str, int]:
    """Row count of every known table that exists (for `doctor` and command summaries)."""
    return {t: wh.count(t) for t in TABLES if wh.table_exists(t)}
