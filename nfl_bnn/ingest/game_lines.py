"""Game lines (spread and total) stamped with the time they were seen -> ``mart.game_lines`` (issue 15.6).

Two formats, both read and validated whole before anything is written, then upserted in ONE
transaction (a bad file, or one bad file of several, leaves the warehouse as it was):

``odds-api``
    A saved The Odds API v4 odds response for ``markets=spreads,totals``: the live
    ``/v4/sports/americanfootball_nfl/odds`` list of events, a single event, or a historical snapshot
    ``{"timestamp", "data": [events]}`` (``/v4/historical/...``), or a list of those. Each event names
    its teams in full (``home_team``/``away_team``, mapped by :func:`nfl_bnn.teams.from_full_name`) and
    is matched to the ``mart.games`` row with those teams whose kickoff is within 36 hours of
    ``commence_time`` (preseason games and games of a schedule not imported are skipped and counted).
    ``spread_line`` = minus the home team's ``point`` in the ``spreads`` market (the schedule's
    convention: the home team's expected margin); ``total_line`` = the Over's ``point`` in ``totals``.
    Where a book lists several points, the one whose price is closest to even money is its main line.
    ``fetched_at`` = the snapshot's ``timestamp``, else the market's ``last_update`` (UTC).
``csv``
    ``game_id, book, fetched_at, spread_line, total_line`` (nflverse game id as in ``mart.games``;
    ``fetched_at`` ISO 8601, UTC when it has no zone; spread in the schedule's convention; either value
    may be empty, not both).

Validation: a spread within +-30, a total within 25-70, a readable time not in the future, a book, a
game of ``mart.games``; a quote fetched at or after its game's kickoff (live in-game lines) is skipped
and counted. Repeated keys ``(game_id, book, fetched_at)`` are merged when they agree and refused when
they do not; re-importing a file changes nothing.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.game_lines import MAX_ABS_SPREAD, MAX_TOTAL, MIN_TOTAL, VALUES
from nfl_bnn.ingest import numeric, require_columns
from nfl_bnn.schema import create_schema
from nfl_bnn.teams import from_full_name
from nfl_bnn.warehouse import UpsertCounts, Warehouse, load_games

log = logging.getLogger("nfl_bnn.ingest.game_lines")

FORMATS = ("odds-api", "csv")
KEY = ["game_id", "book", "fetched_at"]
COLUMNS = ["game_id", "season", "week", "book", "fetched_at", "spread_line", "total_line", "source"]
CSV_REQUIRED = ["game_id", "book", "fetched_at", "spread_line", "total_line"]
MATCH_WINDOW = pd.Timedelta(hours=36)


def _prob(price: Any) -> float:
    """Implied probability of American odds (|price| >= 100) or decimal odds (The Odds API's default)."""
    p = float(price)
    if -100 < p < 100:
        return 1.0 / p if p > 1 else 1.0
    return 100.0 / (p + 100.0) if p > 0 else -p / (-p + 100.0)


def _main_point(outcomes: list[dict], name: str) -> float | None:
    """The point of the outcome called ``name`` priced closest to even money (the main line), or None."""
    cand = [o for o in outcomes if str(o.get("name", "")).lower() == name.lower() and o.get("point") is not None]
    if not cand:
        return None
    best = min(cand, key=lambda o: abs(_prob(o["price"]) - 0.5) if o.get("price") is not None else 1.0)
    return float(best["point"])


def _events(payload: Any, where: str) -> list[tuple[str | None, dict]]:
    """(snapshot time or None, event) pairs from any of the accepted response shapes."""
    items = payload if isinstance(payload, list) else [payload]
    out = []
    for item in items:
        if isinstance(item, dict) and "bookmakers" not in item and "data" in item:
            data = item["data"]
            out += [(item.get("timestamp"), ev) for ev in (data if isinstance(data, list) else [data])]
        else:
            out.append((None, item))
    for _, ev in out:
        if not isinstance(ev, dict) or not {"bookmakers", "home_team", "away_team", "commence_time"} <= set(ev):
            raise DataError(f"{where}: expected The Odds API v4 odds events (home_team, away_team, commence_time, "
                            "bookmakers), live or historical, fetched with markets=spreads,totals")
    return out


def parse_odds_api(payload: Any, where: str) -> pd.DataFrame:
    """One row per event, book and fetch time: home, away (codes), commence_time, book, fetched_at, lines."""
    rows = []
    for snapshot, ev in _events(payload, where):
        home, away = (from_full_name(ev[k], f"{where} ({k})") for k in ("home_team", "away_team"))
        for bm in ev.get("bookmakers") or []:
            for mk in bm.get("markets") or []:
                key = mk.get("key")
                if key == "spreads":
                    point = _main_point(mk.get("outcomes") or [], ev["home_team"])
                    value = None if point is None else -point
                elif key == "totals":
                    value = _main_point(mk.get("outcomes") or [], "Over")
                else:
                    continue
                if value is not None:
                    rows.append({"home": home, "away": away, "commence_time": ev["commence_time"],
                                 "book": bm.get("title") or bm.get("key"),
                                 "fetched_at": snapshot or mk.get("last_update") or bm.get("last_update"),
                                 "spread_line" if key == "spreads" else "total_line": value})
    if not rows:
        raise DataError(f"{where}: no spreads or totals quotes found (fetch with markets=spreads,totals)")
    return pd.DataFrame(rows).reindex(columns=["home", "away", "commence_time", "book", "fetched_at", *VALUES])


def match_games(events: pd.DataFrame, games: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int]:
    """``events`` with the ``game_id`` of their ``mart.games`` row (same teams, kickoff within 36 hours of
    ``commence_time``); events with no such game are dropped and counted."""
    from nfl_bnn.quotes import kickoffs_utc

    ko = kickoffs_utc(games)
    sched = games[["game_id", "home_team", "away_team"]].assign(kickoff_utc=ko.to_numpy())
    commence = pd.Series([_utc(v) for v in events["commence_time"]], index=events.index, dtype="datetime64[ns]")
    if commence.isna().any():
        raise DataError(f"{where}: unreadable commence_time {events.loc[commence.isna(), 'commence_time'].iloc[0]!r}")
    ev = events.assign(_t=commence, _row=range(len(events)))
    m = ev.merge(sched, left_on=["home", "away"], right_on=["home_team", "away_team"])
    m = m[(m["kickoff_utc"] - m["_t"]).abs() <= MATCH_WINDOW]
    m = m.sort_values("_row").drop_duplicates("_row")
    n_skip = len(ev) - len(m)
    if n_skip:
        lost = ev[~ev["_row"].isin(m["_row"])].iloc[0]
        log.warning("%s: %d quote(s) of games not in mart.games skipped (preseason, or a schedule not imported; "
                    "first: %s at %s, %s)", where, n_skip, lost["away"], lost["home"], lost["commence_time"])
    return m[events.columns.drop(["home", "away", "commence_time"]).tolist() + ["game_id"]], n_skip


def _existing(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} {p} {'is a folder, not a file' if p.is_dir() else 'does not exist'}; check the path")
    return p


def read_csv(path: str | Path) -> pd.DataFrame:
    """The rows of a game-lines CSV (text, validated by :func:`finish`)."""
    p = _existing(path, "game-lines file")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, PermissionError) as exc:
        raise DataError(f"game-lines file {p} is not a readable CSV ({type(exc).__name__})") from None
    require_columns(raw, CSV_REQUIRED, str(p), "a game-lines CSV (game_id, book, fetched_at, spread_line, total_line)")
    return raw[CSV_REQUIRED]


def read_json(path: str | Path) -> Any:
    p = _existing(path, "odds file")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"odds file {p} is not readable JSON ({type(exc).__name__})") from None


def _utc(value: Any) -> pd.Timestamp:
    """One time as naive UTC (zone-less = UTC), NaT when unreadable. Parsed one by one: pandas parses a
    column that mixes zoned and zone-less times with the first row's offset for all of them."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return pd.NaT
    if ts is pd.NaT:
        return pd.NaT
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _refuse(df: pd.DataFrame, bad: pd.Series, where: str, what: str) -> None:
    if bad.any():
        r = df[bad].iloc[0]
        raise DataError(f"{where}: {what} ({int(bad.sum())} row(s); first: game_id={r['game_id']!r}, "
                        f"book={r['book']!r}, fetched_at={r['fetched_at']!r}); nothing was imported")


def finish(df: pd.DataFrame, games: pd.DataFrame, where: str, source: str,
           now: pd.Timestamp | None = None) -> tuple[pd.DataFrame, int]:
    """Rows with game_id, book, fetched_at, spread_line, total_line -> ``mart.game_lines`` rows, and the
    number skipped as fetched at or after kickoff. Anything implausible raises one DataError."""
    from nfl_bnn.quotes import kickoffs_utc

    ids = ["game_id", "book"]
    out = pd.DataFrame({"game_id": df["game_id"].astype(object), "book": df["book"].astype(object)})
    for c in ("game_id", "book"):
        out[c] = out[c].where(out[c].notna(), "").astype(str).str.strip()
        _refuse(df.assign(game_id=out["game_id"]), out[c] == "", where, f"empty {c}")
    ts = pd.Series([_utc(v) for v in df["fetched_at"]], index=df.index, dtype="datetime64[ns]")
    _refuse(df.assign(game_id=out["game_id"]), ts.isna(), where,
            "unreadable fetched_at (use ISO 8601, e.g. 2024-09-03T14:00:00Z)")
    out["fetched_at"] = ts
    now = now if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    _refuse(out, out["fetched_at"] > now + pd.Timedelta(hours=1), where, "fetched_at in the future (check its zone)")
    for c in VALUES:
        out[c] = numeric(df.assign(game_id=out["game_id"]), c, where, ids)
    _refuse(out, out["spread_line"].isna() & out["total_line"].isna(), where, "neither spread_line nor total_line")
    _refuse(out, out["spread_line"].abs() > MAX_ABS_SPREAD, where,
            f"spread_line beyond +-{MAX_ABS_SPREAD:g} points (the home team's expected margin)")
    _refuse(out, ~out["total_line"].between(MIN_TOTAL, MAX_TOTAL) & out["total_line"].notna(), where,
            f"total_line outside {MIN_TOTAL:g}-{MAX_TOTAL:g} points")
    known = games.set_index("game_id")
    _refuse(out, ~out["game_id"].isin(known.index), where,
            "game_id not in mart.games (import that season's schedule first, or fix the id)")
    out["season"] = out["game_id"].map(known["season"]).astype("int64")
    out["week"] = out["game_id"].map(known["week"]).astype("int64")
    late = out["fetched_at"] >= out["game_id"].map(kickoffs_utc(games)).astype("datetime64[ns]")
    if late.any():
        log.warning("%s: %d quote(s) fetched at or after kickoff skipped (in-game lines)", where, int(late.sum()))
    out["source"] = source
    return out.loc[~late.to_numpy(), COLUMNS], int(late.sum())


def combine(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """One row per key: rows of the same key merge when their values agree (a spread and a total quoted
    at the same time, or the same snapshot read twice); a key with two different values is refused."""
    grp = df.groupby(KEY, sort=False)
    for c in VALUES:
        clash = grp[c].nunique() > 1
        if clash.any():
            g, b, t = clash[clash].index[0]
            raise DataError(f"{where}: two different {c} values for game_id={g!r}, book={b!r}, fetched_at={t}; "
                            "keep one row per game, book and time; nothing was imported")
    return grp.first().reset_index()[COLUMNS]


def read_game_lines(wh: Warehouse, paths: list[str], fmt: str) -> tuple[pd.DataFrame, list[str]]:
    """Every file read and validated (nothing written): the rows to import and what was skipped."""
    if fmt not in FORMATS:
        raise DataError(f"unknown game-lines format {fmt!r}; choose one of {', '.join(FORMATS)}")
    games = load_games(wh)
    frames, notes = [], []
    for path in paths:
        if fmt == "csv":
            rows, n_other = read_csv(path), 0
        else:
            rows, n_other = match_games(parse_odds_api(read_json(path), str(path)), games, str(path))
        got, n_late = finish(rows, games, str(path), source=fmt)
        frames.append(got)
        if n_other or n_late:
            notes.append(f"{path}: skipped {n_other} quote(s) of games not in mart.games, {n_late} fetched at or "
                         "after kickoff")
    rows = combine(pd.concat(frames, ignore_index=True), ", ".join(map(str, paths)))
    if rows.empty:
        raise DataError(f"{', '.join(map(str, paths))}: no game line to import (all skipped)")
    return rows, notes


def import_game_lines(wh: Warehouse, paths: list[str], fmt: str) -> tuple[UpsertCounts, list[str]]:
    """Read and validate every file, then upsert ``mart.game_lines`` in one transaction; counts and notes."""
    create_schema(wh)
    rows, notes = read_game_lines(wh, [str(p) for p in paths], fmt)
    with wh.transaction():
        counts = wh.upsert_df("mart.game_lines", rows)
    return counts, notes
