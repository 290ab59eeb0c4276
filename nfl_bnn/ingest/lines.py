"""Prop lines: the CSV format, validation, player matching, and the best price per player and side.

CSV format (one row per book and player; example in ``examples/lines_example.csv``):

==============  ========  ===========================================================================
column          required  meaning
==============  ========  ===========================================================================
season, week    yes       NFL season and week (nflverse numbering, postseason weeks 19-22 from 2021)
player_name     yes       full name as the book writes it (matched to the warehouse, see below)
team            no        today's team code; helps matching (old codes are mapped)
book            yes       sportsbook name
market          no        default ``player_rush_yds``
line            yes       yards, >= 0 and a multiple of 0.5
over_odds       yes*      American odds of the over (e.g. -115, +105); ``*`` at least one side
under_odds      yes*      American odds of the under
fetched_at      yes       when the quote was taken, ISO 8601; with a zone it is converted to UTC,
                          without one it is taken as UTC
==============  ========  ===========================================================================

American odds must be <= -100 or >= +100. One row per (season, week, market, book, player_name,
fetched_at); a repeat is an error. Re-importing the same file changes nothing.

Matching: ``player_id`` is filled from ``mart.player_game_stats`` when the normalised name (case,
punctuation and Jr/Sr/II/III ignored) names exactly one player (on the given team, if any), preferring
the most recent season; otherwise it stays NULL and a warning names the player.

Best price: for each (season, week, market, player) the latest quote of each book is compared; the
over goes to the lowest line, then the best over odds; the under to the highest line, then the best
under odds (ties: book name). Both of that book's odds are kept so its margin can be removed.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.names import normalise_name
from nfl_bnn.ingest import count_column, numeric, require_columns, whole
from nfl_bnn.schema import create_schema
from nfl_bnn.teams import map_series
from nfl_bnn.warehouse import UpsertCounts, Warehouse

log = logging.getLogger("nfl_bnn.ingest.lines")

MARKET = "player_rush_yds"
REQUIRED = ["season", "week", "player_name", "book", "line", "over_odds", "under_odds", "fetched_at"]
QUOTE_COLUMNS = ["season", "week", "player_id", "player_name", "team", "book", "market", "line", "over_odds",
                 "under_odds", "fetched_at", "source"]


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read and validate a lines CSV; return quotes shaped like ``prop_lines`` (player_id unmatched)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"lines file {p} does not exist; check the path")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except PermissionError:
        raise DataError(f"lines file {p} is not readable (permission denied)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"lines file {p} is not a readable CSV ({type(exc).__name__}: "
                        f"{(str(exc).splitlines() or [''])[0][:150]})") from None
    return validate_quotes(raw, str(p), source="csv")


def _check_odds(df: pd.DataFrame, col: str, where: str, ids: list[str]) -> pd.Series:
    num = numeric(df, col, where, ids)
    bad = num.notna() & ((num > -100) & (num < 100) | (num % 1 != 0))
    if bad.any():
        raise DataError(
            f"{where}: column {col!r} has invalid American odds {num[bad].iloc[0]:g} "
            f"(player_name={df.loc[bad, 'player_name'].iloc[0]!r}, book={df.loc[bad, 'book'].iloc[0]!r}); "
            "odds must be whole numbers <= -100 or >= +100"
        )
    return num.astype("Int64")


def validate_quotes(raw: pd.DataFrame, where: str, source: str) -> pd.DataFrame:
    """Validate raw quotes (CSV or API) into the ``prop_lines`` shape."""
    require_columns(raw, REQUIRED, where, "a prop lines file (see examples/lines_example.csv)")
    ids = ["player_name", "book", "season", "week"]
    for c in ("player_name", "book"):
        empty = raw[c].isna() | (raw[c].astype(str).str.strip() == "")
        if empty.any():
            raise DataError(f"{where}: column {c!r} is empty in {int(empty.sum())} row(s) "
                            f"(first at row {int(np.flatnonzero(empty.to_numpy())[0]) + 1} of the data)")
    out = pd.DataFrame({"player_name": raw["player_name"].astype(str).str.strip(),
                        "book": raw["book"].astype(str).str.strip()})
    for c in ("season", "week"):
        out[c] = whole(raw, count_column(raw, c, where, ids), c, where, ids).astype("int64")
    bad = (out["season"] < 1999) | (out["season"] > 2100) | (out["week"] < 1) | (out["week"] > 22)
    if bad.any():
        r = out[bad].iloc[0]
        raise DataError(f"{where}: season/week out of range (season={r.season}, week={r.week}, "
                        f"player_name={r.player_name!r}); weeks are 1-22")
    line = count_column(raw, "line", where, ids)
    bad = (line * 2) % 1 != 0
    if bad.any():
        raise DataError(f"{where}: column 'line' has {line[bad].iloc[0]:g} for "
                        f"player_name={out.loc[bad, 'player_name'].iloc[0]!r}; rushing-yard lines are multiples of 0.5")
    out["line"] = line
    out["over_odds"] = _check_odds(raw, "over_odds", where, ids)
    out["under_odds"] = _check_odds(raw, "under_odds", where, ids)
    neither = out["over_odds"].isna() & out["under_odds"].isna()
    if neither.any():
        raise DataError(f"{where}: no odds for player_name={out.loc[neither, 'player_name'].iloc[0]!r}; "
                        "give over_odds and/or under_odds")
    market = raw["market"] if "market" in raw.columns else pd.Series(MARKET, index=raw.index)
    out["market"] = market.fillna(MARKET).astype(str).str.strip()
    if "team" in raw.columns and raw["team"].notna().any():
        team = raw["team"].astype("string")
        known = team.notna() & (team.str.strip() != "")
        mapped = pd.Series(None, index=raw.index, dtype=object)
        if known.any():
            mapped[known] = map_series(team[known], f"{where} column 'team'")
        out["team"] = mapped
    else:
        out["team"] = None
    ts = pd.to_datetime(raw["fetched_at"], errors="coerce", utc=True, format="ISO8601")
    bad = ts.isna()
    if bad.any():
        raise DataError(f"{where}: column 'fetched_at' has unreadable timestamp {raw.loc[bad, 'fetched_at'].iloc[0]!r} "
                        f"(player_name={out.loc[bad, 'player_name'].iloc[0]!r}); use ISO 8601, e.g. 2024-09-05T18:30:00Z")
    out["fetched_at"] = ts.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    out["player_id"] = None
    out["source"] = source
    key = ["season", "week", "market", "book", "player_name", "fetched_at"]
    dup = out.duplicated(key, keep=False)
    if dup.any():
        r = out[dup].iloc[0]
        raise DataError(f"{where}: duplicate lines for player_name={r.player_name!r}, book={r.book!r} "
                        f"(season {r.season} week {r.week}, fetched_at {r.fetched_at}); keep one row per player and book")
    return out[QUOTE_COLUMNS].reset_index(drop=True)




def match_players(wh: Warehouse, quotes: pd.DataFrame) -> pd.DataFrame:
    """Fill ``player_id`` where the name (and team, if given) names exactly one warehouse player."""
    if not wh.table_exists("mart.player_game_stats") or quotes.empty:
        return quotes
    people = wh.query_df(
        "SELECT player_id, player_name, team, max(season) AS season FROM mart.player_game_stats "
        "WHERE player_name IS NOT NULL AND season <= ? GROUP BY player_id, player_name, team",
        (int(quotes["season"].max()),),
    )
    people["norm"] = people["player_name"].map(normalise_name)
    by_name = {n: g.sort_values("season", ascending=False) for n, g in people.groupby("norm")}
    out = quotes.copy()
    ids, unmatched = [], set()
    for name, team in zip(out["player_name"], out["team"]):
        cand = by_name.get(normalise_name(name))
        pid = None
        if cand is not None:
            if team:
                on_team = cand[cand["team"] == team]
                cand = on_team if not on_team.empty else cand
            latest = cand[cand["season"] == cand["season"].iloc[0]]
            if latest["player_id"].nunique() == 1:
                pid = latest["player_id"].iloc[0]
        if pid is None:
            unmatched.add(name)
        ids.append(pid)
    out["player_id"] = ids
    if unmatched:
        log.warning("%d player(s) in the lines are not in the warehouse (player_id left empty): %s",
                    len(unmatched), ", ".join(sorted(map(repr, unmatched))[:10]))
    return out


BEST_SQL = """
WITH latest AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY book, player_name ORDER BY fetched_at DESC) AS rn
    FROM prop_lines WHERE season = ? AND week = ? AND market = ?
), cur AS (SELECT * FROM latest WHERE rn = 1),
over_pick AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY player_name ORDER BY line ASC, over_odds DESC, book) AS r
    FROM cur WHERE over_odds IS NOT NULL
), under_pick AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY player_name ORDER BY line DESC, under_odds DESC, book) AS r
    FROM cur WHERE under_odds IS NOT NULL
)
SELECT season, week, player_id, player_name, team, market, 'over' AS side, book, line, over_odds, under_odds,
       fetched_at, source FROM over_pick WHERE r = 1
UNION ALL
SELECT season, week, player_id, player_name, team, market, 'under' AS side, book, line, over_odds, under_odds,
       fetched_at, source FROM under_pick WHERE r = 1
"""


def refresh_best(wh: Warehouse, season: int, week: int, market: str = MARKET) -> UpsertCounts:
    """Recompute ``best_prop_lines`` of one week and market from ``prop_lines`` (inside the caller's transaction)."""
    best = wh.query_df(BEST_SQL, (int(season), int(week), market))
    for c in ("over_odds", "under_odds"):
        best[c] = pd.to_numeric(best[c]).astype("Int64")
    with wh.transaction():
        old = wh.query_df("SELECT player_name, side FROM best_prop_lines WHERE season = ? AND week = ? AND market = ?",
                          (int(season), int(week), market))
        stale = old.merge(best[["player_name", "side"]], how="left", indicator=True)
        for r in stale[stale["_merge"] == "left_only"].itertuples():
            wh.execute("DELETE FROM best_prop_lines WHERE season = ? AND week = ? AND market = ? AND player_name = ? "
                       "AND side = ?", (int(season), int(week), market, r.player_name, r.side))
        return wh.upsert_df("best_prop_lines", best)


def import_quotes(wh: Warehouse, quotes: pd.DataFrame) -> list[UpsertCounts]:
    """Match players, upsert the quotes and refresh the best prices, in one transaction."""
    create_schema(wh)
    if quotes.empty:
        raise DataError("the lines file holds no quotes")
    with wh.transaction():
        quotes = match_players(wh, quotes)
        out = [wh.upsert_df("prop_lines", quotes)]
        best = UpsertCounts("best_prop_lines")
        for (season, week, market), _ in quotes.groupby(["season", "week", "market"]):
            c = refresh_best(wh, season, week, market)
            best.inserted += c.inserted
            best.updated += c.updated
            best.skipped += c.skipped
        out.append(best)
    return out
