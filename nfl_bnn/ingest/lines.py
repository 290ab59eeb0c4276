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
line            yes       yards, in (0, 300] and a multiple of 0.5 (whole numbers can push)
over_odds       yes*      American odds of the over (e.g. -115, +105); ``*`` at least one side
under_odds      yes*      American odds of the under
fetched_at      yes       when the quote was taken, ISO 8601; with a zone it is converted to UTC,
                          without one it is taken as UTC
game_id         no        nflverse game id; helps matching (filled from the team's game if absent)
player_id       no        GSIS id, if known (kept as given)
==============  ========  ===========================================================================

Values go through the one quote check (:func:`nfl_bnn.quotes.validate_quote_frame`): American odds in
[-1000, -100] or [+100, +1000], a line in (0, 300], at least one side; a row that fails is refused with
its reason and the rest imported. One row per (season, week, market, book, player_name, fetched_at); a
repeat is an error. Re-importing the same file changes nothing. Other formats: docs/lines.md.

Matching (:func:`match_players`): by normalised name (case, punctuation and Jr/Sr/II/III ignored)
within the quote's game, else on its team, else alone, most recent season first; otherwise NULL, and
the import reports the match rate and the unmatched names.

Best price: :func:`nfl_bnn.quotes.best_as_of` (the latest quote of each book, compared per side);
``best_prop_lines`` holds its result over all quotes imported so far.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.ingest import count_column, numeric, require_columns, whole
from nfl_bnn.names import normalise_name
from nfl_bnn.schema import create_schema
from nfl_bnn.teams import map_series
from nfl_bnn.warehouse import UpsertCounts, Warehouse

log = logging.getLogger("nfl_bnn.ingest.lines")

MARKET = "player_rush_yds"
REQUIRED = ["season", "week", "player_name", "book", "line", "over_odds", "under_odds", "fetched_at"]
QUOTE_COLUMNS = ["season", "week", "game_id", "player_id", "player_name", "team", "book", "market", "line",
                 "over_odds", "under_odds", "fetched_at", "source"]


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read and validate a lines CSV; return quotes shaped like ``prop_lines`` (player_id unmatched)."""
    return read_csv_split(path)[0]


def read_csv_split(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate a lines CSV; return (quotes, refused rows with their reasons)."""
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
    return validate_quotes_split(raw, str(p), source="csv")


def _odds_column(df: pd.DataFrame, col: str, where: str, ids: list[str]) -> pd.Series:
    """Odds as numbers (``EVEN`` is +100); text that is not a number is a file error, a number out of the
    plausible range is a refused row (see :func:`nfl_bnn.quotes.validate_quote_frame`)."""
    raw = df[col].map(lambda v: "100" if isinstance(v, str) and v.strip().upper() == "EVEN" else v)
    return numeric(df.assign(**{col: raw}), col, where, ids)


def validate_quotes_split(raw: pd.DataFrame, where: str, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw quotes (CSV, API, book files) -> (quotes in the ``prop_lines`` shape, refused rows with reasons).

    File-level problems raise a DataError naming the file, column and row: missing columns, text where a
    number belongs, unreadable times, weeks out of range, unknown teams, duplicate keys. Implausible
    values (odds outside [-1000, +1000], lines outside (0, 300], no odds at all) go through the ONE
    quote check shared with pricing and are refused row by row, so one bad quote never stops the
    rest; if every row is refused the file is refused with the reasons.
    """
    from nfl_bnn.quotes import QUOTE_COLUMNS as Q_COLUMNS
    from nfl_bnn.quotes import rejection_summary, validate_quote_frame

    require_columns(raw, REQUIRED, where, "a prop lines file (see examples/lines_example.csv)")
    ids = ["player_name", "book", "season", "week"]
    out = pd.DataFrame({"player_name": raw["player_name"].astype(object).where(raw["player_name"].notna(), "")
                        .astype(str).str.strip(),
                        "book": raw["book"].astype(object).where(raw["book"].notna(), "").astype(str).str.strip()})
    for c in ("season", "week"):
        out[c] = whole(raw, count_column(raw, c, where, ids), c, where, ids).astype("int64")
    bad = (out["season"] < 1999) | (out["season"] > 2100) | (out["week"] < 1) | (out["week"] > 22)
    if bad.any():
        r = out[bad].iloc[0]
        raise DataError(f"{where}: season/week out of range (season={r.season}, week={r.week}, "
                        f"player_name={r.player_name!r}); weeks are 1-22")
    out["line"] = numeric(raw, "line", where, ids)
    out["over_odds"] = _odds_column(raw, "over_odds", where, ids)
    out["under_odds"] = _odds_column(raw, "under_odds", where, ids)
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
    gid = raw["game_id"] if "game_id" in raw.columns else pd.Series(None, index=raw.index, dtype=object)
    out["game_id"] = gid.astype(object).where(gid.notna() & (gid.astype(str).str.strip() != ""), None)
    ts = pd.to_datetime(raw["fetched_at"], errors="coerce", utc=True, format="ISO8601")
    bad = ts.isna()
    if bad.any():
        raise DataError(f"{where}: column 'fetched_at' has unreadable timestamp {raw.loc[bad, 'fetched_at'].iloc[0]!r} "
                        f"(player_name={out.loc[bad, 'player_name'].iloc[0]!r}); use ISO 8601, e.g. 2024-09-05T18:30:00Z")
    out["fetched_at"] = ts.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    out["player_id"] = raw["player_id"].astype(object).where(raw["player_id"].notna(), None) \
        if "player_id" in raw.columns else None
    out["source"] = source
    good, rejected = validate_quote_frame(out, where)
    if good.empty and len(rejected):
        raise DataError(f"{where}: no valid quote; {rejection_summary(rejected)}")
    for c in ("over_odds", "under_odds"):
        good[c] = good[c].astype("Int64")
    key = ["season", "week", "market", "book", "player_name", "fetched_at"]
    dup = good.duplicated(key, keep=False)
    if dup.any():
        r = good[dup].iloc[0]
        raise DataError(f"{where}: duplicate lines for player_name={r.player_name!r}, book={r.book!r} "
                        f"(season {r.season} week {r.week}, fetched_at {r.fetched_at}); keep one row per player and book")
    return good[Q_COLUMNS].reset_index(drop=True), rejected.reset_index(drop=True)


def validate_quotes(raw: pd.DataFrame, where: str, source: str) -> pd.DataFrame:
    """Validate raw quotes (CSV or API) into the ``prop_lines`` shape; refused rows are logged."""
    return validate_quotes_split(raw, where, source)[0]


def _fill_game_ids(wh: Warehouse, quotes: pd.DataFrame) -> pd.DataFrame:
    """A quote with a team but no game_id gets its team's game of that season and week (mart.games)."""
    need = quotes["game_id"].isna() & quotes["team"].notna() & quotes["season"].notna() & quotes["week"].notna()
    if not need.any() or not wh.table_exists("mart.games"):
        return quotes
    seasons = quotes.loc[need, "season"].astype(int)
    games = wh.query_df("SELECT game_id, season, week, home_team, away_team FROM mart.games "
                        "WHERE season >= ? AND season <= ?", (int(seasons.min()), int(seasons.max())))
    by_team = pd.concat([games.rename(columns={"home_team": "team"})[["season", "week", "team", "game_id"]],
                         games.rename(columns={"away_team": "team"})[["season", "week", "team", "game_id"]]])
    by_team = by_team.drop_duplicates(["season", "week", "team"], keep=False)  # a team plays once a week
    key = {(int(r.season), int(r.week), r.team): r.game_id for r in by_team.itertuples()}
    out = quotes.copy()
    out.loc[need, "game_id"] = [key.get((int(a), int(b), c)) for a, b, c in
                                zip(out.loc[need, "season"], out.loc[need, "week"], out.loc[need, "team"])]
    return out


def match_players(wh: Warehouse, quotes: pd.DataFrame) -> pd.DataFrame:
    """Fill ``player_id`` (and ``game_id`` from the team's game) by name, team and game.

    In order: a player of that name who played in the quote's game; else one of that name on the
    quote's team (most recent season up to the quote's); else the only player of that name (most
    recent season). Names are compared with :func:`nfl_bnn.names.normalise_name`. Anything else stays
    NULL and is reported (:func:`match_report`); an unmatched quote is kept, never guessed.
    """
    if quotes.empty:
        return quotes
    out = quotes.copy()
    if "game_id" not in out.columns:
        out["game_id"] = None
    out = _fill_game_ids(wh, out)
    if not wh.table_exists("mart.player_game_stats"):
        return out
    people = wh.query_df(
        "SELECT player_id, player_name, team, game_id, season FROM mart.player_game_stats "
        "WHERE player_name IS NOT NULL AND season <= ?", (int(out["season"].max()),))
    people["norm"] = people["player_name"].map(normalise_name)
    by_game = {(n, g): set(grp["player_id"]) for (n, g), grp in people.groupby(["norm", "game_id"])}
    latest = people.groupby(["norm", "player_id", "team"], as_index=False)["season"].max()
    by_name = {n: g.sort_values("season", ascending=False) for n, g in latest.groupby("norm")}
    ids = []
    for name, team, game, have in zip(out["player_name"], out["team"], out["game_id"], out["player_id"]):
        if have is not None and not (isinstance(have, float) and np.isnan(have)):
            ids.append(have)
            continue
        norm = normalise_name(name)
        pid = None
        in_game = by_game.get((norm, game)) if game else None
        if in_game and len(in_game) == 1:
            pid = next(iter(in_game))
        else:
            cand = by_name.get(norm)
            if cand is not None:
                if team:
                    on_team = cand[cand["team"] == team]
                    cand = on_team if not on_team.empty else cand
                newest = cand[cand["season"] == cand["season"].iloc[0]]
                if newest["player_id"].nunique() == 1:
                    pid = newest["player_id"].iloc[0]
        ids.append(pid)
    out["player_id"] = ids
    unmatched = sorted(set(out.loc[out["player_id"].isna(), "player_name"].astype(str)))
    if unmatched:
        log.warning("%d player(s) in the lines are not in the warehouse (player_id left empty): %s",
                    len(unmatched), ", ".join(map(repr, unmatched[:10])))
    return out


def match_report(quotes: pd.DataFrame) -> tuple[float, list[str]]:
    """(share of player-games matched to a player_id, the unmatched names): what the import reports."""
    if quotes.empty:
        return 1.0, []
    pg = quotes.assign(_m=quotes["player_id"].notna()).groupby(
        ["season", "week", "player_name"], dropna=False)["_m"].any()
    return float(pg.mean()), sorted(set(quotes.loc[quotes["player_id"].isna(), "player_name"].astype(str)))


def refresh_best(wh: Warehouse, season: int, week: int, market: str = MARKET) -> UpsertCounts:
    """Recompute ``best_prop_lines`` of one week and market from ``prop_lines`` (inside the caller's transaction).

    The table is a convenience copy of the LATEST best prices (any quote ever fetched), computed by the
    same :func:`nfl_bnn.quotes.best_as_of` that the weekly run and the backtest use with their own
    as-of times.
    """
    from nfl_bnn.quotes import best_as_of
    from nfl_bnn.warehouse import load_quotes

    hist = load_quotes(wh, season, week, market)
    best = best_as_of(hist, hist["fetched_at"].max() if len(hist) else pd.Timestamp("2100-01-01"))
    cols = ["season", "week", "player_id", "player_name", "team", "market", "side", "book", "line", "over_odds",
            "under_odds", "fetched_at", "source"]
    best = best[cols].drop_duplicates(["season", "week", "market", "player_name", "side"])
    with wh.transaction():
        old = wh.query_df("SELECT player_name, side FROM best_prop_lines WHERE season = ? AND week = ? AND market = ?",
                          (int(season), int(week), market))
        stale = old.merge(best[["player_name", "side"]], how="left", indicator=True)
        for r in stale[stale["_merge"] == "left_only"].itertuples():
            wh.execute("DELETE FROM best_prop_lines WHERE season = ? AND week = ? AND market = ? AND player_name = ? "
                       "AND side = ?", (int(season), int(week), market, r.player_name, r.side))
        return wh.upsert_df("best_prop_lines", best)


@dataclass
class LinesImport:
    """What an import did: upsert counts, the refused rows (with reasons), and the player match."""

    counts: list[UpsertCounts]
    n_quotes: int
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    matched_share: float = 1.0
    unmatched: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Lines for the CLI: counts, refused quotes by reason, match rate and unmatched names."""
        from nfl_bnn.quotes import rejection_summary

        out = [str(c) for c in self.counts]
        out.append(f"{self.n_quotes} quote(s) read; " + (rejection_summary(self.rejected) if len(self.rejected)
                                                        else "none refused"))
        names = ", ".join(self.unmatched[:15]) + (f", ... ({len(self.unmatched) - 15} more)"
                                                    if len(self.unmatched) > 15 else "")
        out.append(f"players matched: {self.matched_share:.1%} of player-weeks"
                   + (f"; not in the warehouse (player_id left empty, not priced): {names}" if self.unmatched else ""))
        return out


def import_lines(wh: Warehouse, quotes: pd.DataFrame, rejected: pd.DataFrame | None = None) -> LinesImport:
    """Match players, upsert the quotes and refresh the best prices, in one transaction; report it all.

    Every snapshot is kept (the key includes ``fetched_at``), so a later quote never overwrites an
    earlier one: the as-of rule needs the history.
    """
    create_schema(wh)
    if quotes.empty:
        raise DataError("the lines file holds no quotes")
    with wh.transaction():
        quotes = match_players(wh, quotes)
        counts = [wh.upsert_df("prop_lines", quotes)]
        best = UpsertCounts("best_prop_lines")
        for (season, week, market), _ in quotes.groupby(["season", "week", "market"]):
            c = refresh_best(wh, season, week, market)
            best.inserted += c.inserted
            best.updated += c.updated
            best.skipped += c.skipped
        counts.append(best)
    share, unmatched = match_report(quotes)
    return LinesImport(counts, len(quotes) + (0 if rejected is None else len(rejected)),
                       rejected if rejected is not None else pd.DataFrame(), share, unmatched)


def import_quotes(wh: Warehouse, quotes: pd.DataFrame) -> list[UpsertCounts]:
    """Match players, upsert the quotes and refresh the best prices, in one transaction (the counts)."""
    return import_lines(wh, quotes).counts
