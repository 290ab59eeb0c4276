"""Scraped sportsbook files -> quotes: BettingPros and Bovada snapshot and open/close tables.

Four layouts are read, each from Parquet or CSV (the kind is told by its columns, so a CSV export of
a Parquet table reads the same):

* BettingPros snapshots (``snapshot_utc``, ``over_consensus_line``...): every saved snapshot of the
  props API. Each snapshot gives the consensus (book id 0; stored as book ``bettingpros_consensus``,
  two-sided) and the best over and best under across books with their book (stored under that book's
  name; one-sided unless the same book holds both at the same line, then one two-sided row).
* BettingPros open/close (``open_snapshot_utc``, ``close_best_over_line``...): the consensus at the
  first and last snapshot before kickoff, and the best over/under at the last one.
* Bovada snapshots (``snapshot_utc``, ``over_line``, ``under_line``, ``book``): one book, two-sided.
* Bovada open/close (``open_snapshot_utc``, ``close_under_line``): Bovada's first and last quote.

Only the rushing-yards market is imported (stored as ``player_rush_yds``); other markets, snapshots
taken after kickoff (not bettable) and non-player rows ("Both Teams Combined") are skipped and counted.
Every row then goes through the same validation as a CSV (:func:`nfl_bnn.ingest.lines.validate_quotes_split`):
junk lines such as -0.5 and odds outside [-1000, +1000] are refused row by row and reported.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.ingest.lines import MARKET, validate_quotes_split

log = logging.getLogger("nfl_bnn.ingest.book_files")

SOURCE_MARKET = "rushing_yards"
CONSENSUS = "bettingpros_consensus"
#: BettingPros book ids (from the data README); 2, 36, 37, 39 and 63 are uncertain and kept as "bp_<id>"
BETTINGPROS_BOOKS = {0: CONSENSUS, 10: "fanduel", 12: "draftkings", 13: "caesars", 14: "fanatics", 15: "sugarhouse",
                     18: "betrivers", 19: "betmgm", 24: "bet365", 27: "partycasino", 33: "espnbet_thescore",
                     49: "hardrock", 60: "novig"}
NOT_PLAYERS = {"both teams combined"}
LAYOUTS = {
    "bettingpros-snapshots": {"snapshot_utc", "over_consensus_line", "over_consensus_odds", "under_consensus_odds",
                              "over_line", "over_odds", "under_line", "under_odds"},
    "bettingpros-open-close": {"open_snapshot_utc", "open_line", "close_snapshot_utc", "close_line",
                               "close_best_over_line", "close_best_under_line"},
    "bovada-snapshots": {"snapshot_utc", "over_line", "over_odds", "under_line", "under_odds", "book"},
    "bovada-open-close": {"open_snapshot_utc", "open_line", "close_snapshot_utc", "close_line", "close_under_line"},
}
COMMON = {"season", "week", "market", "player_name"}


def read_table(path: str | Path) -> pd.DataFrame:
    """A Parquet or CSV file as a DataFrame, with a clear error for a missing or unreadable file."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"lines file {p} does not exist; check the path")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p, dtype={"over_odds": str, "under_odds": str, "open_over_odds": str,
                                     "open_under_odds": str, "close_over_odds": str, "close_under_odds": str})
    except PermissionError:
        raise DataError(f"lines file {p} is not readable (permission denied)") from None
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        # pyarrow's ArrowInvalid is a ValueError; a CSV parser error a ValueError subclass too
        raise DataError(f"lines file {p} is not a readable {'Parquet' if p.suffix == '.parquet' else 'CSV'} file "
                        f"({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:150]})") from None


def layout_of(df: pd.DataFrame, vendor: str, where: str) -> str:
    """Which of the vendor's layouts ``df`` is (by its columns), or a DataError naming what is missing."""
    names = [k for k in LAYOUTS if k.startswith(vendor)]
    cols = set(df.columns)
    for k in names:
        if COMMON | LAYOUTS[k] <= cols:
            return k
    need = "; ".join(f"{k}: {', '.join(sorted(COMMON | LAYOUTS[k]))}" for k in names)
    raise DataError(f"{where} is not a {vendor} snapshot or open/close table (columns needed, by layout: {need}); "
                    f"it has {', '.join(map(str, list(df.columns)[:12]))}")


def _utc(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601") if not pd.api.types.is_datetime64_any_dtype(s) \
        else (s.dt.tz_localize("UTC") if s.dt.tz is None else s)


def _iso(s: pd.Series) -> pd.Series:
    return _utc(s).map(lambda t: None if pd.isna(t) else t.isoformat())


def _bp_book(name: pd.Series, ident: pd.Series | None) -> pd.Series:
    out = name.astype(object).where(name.notna(), None) if name is not None else pd.Series(None, index=ident.index)
    if ident is not None:
        ids = pd.to_numeric(ident, errors="coerce")
        by_id = ids.map(lambda i: None if pd.isna(i) else BETTINGPROS_BOOKS.get(int(i), f"bp_{int(i)}"))
        out = out.where(out.notna(), by_id)
    return out.replace({"consensus": CONSENSUS})


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)]
    return pd.concat(kept) if kept else parts[0]


def _rows(base: pd.DataFrame, book, line, over, under, fetched) -> pd.DataFrame:
    out = base[["season", "week", "game_id", "player_name", "team"]].copy()
    for col, v in (("book", book), ("line", line), ("over_odds", over), ("under_odds", under), ("fetched_at", fetched)):
        # object columns throughout, so parts with an all-empty side concatenate without dtype guessing
        out[col] = v.astype(object) if isinstance(v, pd.Series) else pd.Series(v, index=out.index, dtype=object)
    return out


def _base(df: pd.DataFrame) -> pd.DataFrame:
    team = df["team_nflverse"] if "team_nflverse" in df.columns else df.get("team")
    return pd.DataFrame({"season": df["season"], "week": df["week"],
                         "game_id": df["game_id"] if "game_id" in df.columns else None,
                         "player_name": df["player_name"], "team": team}, index=df.index)


def _bettingpros_snapshots(df: pd.DataFrame) -> pd.DataFrame:
    b = _base(df)
    fetched = _iso(df["snapshot_utc"])
    cons = _rows(b, CONSENSUS, df["over_consensus_line"], df["over_consensus_odds"], df["under_consensus_odds"],
                 fetched)
    # a consensus whose two sides sit at different lines is two one-sided quotes; keep the over's line
    split = df["over_consensus_line"] != df["under_consensus_line"]
    cons.loc[split, "under_odds"] = None
    ob = _bp_book(df.get("over_book_name"), df.get("over_book"))
    ub = _bp_book(df.get("under_book_name"), df.get("under_book"))
    same = (ob == ub) & (df["over_line"] == df["under_line"])
    best_over = _rows(b, ob, df["over_line"], df["over_odds"], df["under_odds"].where(same), fetched)
    best_under = _rows(b[~same], ub[~same], df.loc[~same, "under_line"], None, df.loc[~same, "under_odds"],
                       fetched[~same])
    return _concat([cons, best_over, best_under])


def _bettingpros_open_close(df: pd.DataFrame) -> pd.DataFrame:
    b = _base(df)
    op, cl = _iso(df["open_snapshot_utc"]), _iso(df["close_snapshot_utc"])
    parts = [_rows(b, CONSENSUS, df["open_line"], df["open_over_odds"], df["open_under_odds"], op),
             _rows(b, CONSENSUS, df["close_line"], df["close_over_odds"], df["close_under_odds"], cl)]
    ob = _bp_book(df["close_best_over_book"], None)
    ub = _bp_book(df["close_best_under_book"], None)
    same = (ob == ub) & (df["close_best_over_line"] == df["close_best_under_line"])
    parts.append(_rows(b, ob, df["close_best_over_line"], df["close_best_over_odds"],
                       df["close_best_under_odds"].where(same), cl))
    parts.append(_rows(b[~same], ub[~same], df.loc[~same, "close_best_under_line"], None,
                       df.loc[~same, "close_best_under_odds"], cl[~same]))
    out = _concat(parts)
    return out[out["line"].notna() | out["over_odds"].notna() | out["under_odds"].notna()]


def _bovada(df: pd.DataFrame, layout: str) -> pd.DataFrame:
    b = _base(df)
    book = df["book"].fillna("bovada") if "book" in df.columns else "bovada"
    if layout == "bovada-snapshots":
        fetched = _iso(df["snapshot_utc"])
        split = df["over_line"] != df["under_line"]
        two = _rows(b, book, df["over_line"], df["over_odds"], df["under_odds"].where(~split), fetched)
        und = _rows(b[split], book[split] if isinstance(book, pd.Series) else book, df.loc[split, "under_line"], None,
                    df.loc[split, "under_odds"], fetched[split])
        return _concat([two, und])
    op, cl = _iso(df["open_snapshot_utc"]), _iso(df["close_snapshot_utc"])
    split = df["close_line"] != df["close_under_line"]
    return _concat([
        _rows(b, book, df["open_line"], df["open_over_odds"], df["open_under_odds"], op),
        _rows(b, book, df["close_line"], df["close_over_odds"], df["close_under_odds"].where(~split), cl),
        _rows(b[split], book[split] if isinstance(book, pd.Series) else book, df.loc[split, "close_under_line"], None,
              df.loc[split, "close_under_odds"], cl[split]),
    ])


def read_book_file(path: str | Path, vendor: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(quotes, refused rows with reasons, notes on skipped rows) from a BettingPros or Bovada file."""
    if vendor not in ("bettingpros", "bovada"):
        raise DataError(f"unknown book-file vendor {vendor!r}; use bettingpros or bovada")
    where = str(path)
    df = read_table(path)
    layout = layout_of(df, vendor, where)
    notes: list[str] = []
    market = df["market"].astype(str)
    other = market != SOURCE_MARKET
    if other.any():
        notes.append(f"{int(other.sum())} row(s) of other markets skipped ({', '.join(sorted(set(market[other])))})")
    df = df[~other]
    if "pre_kickoff" in df.columns:
        late = ~df["pre_kickoff"].astype(bool)
        if late.any():
            notes.append(f"{int(late.sum())} snapshot(s) taken after kickoff skipped (not bettable)")
        df = df[~late]
    junk = df["player_name"].astype(str).str.strip().str.lower().isin(NOT_PLAYERS)
    if junk.any():
        notes.append(f"{int(junk.sum())} row(s) that are not a player skipped (e.g. 'Both Teams Combined')")
    df = df[~junk].reset_index(drop=True)
    if df.empty:
        raise DataError(f"{where}: no {SOURCE_MARKET} rows to import")
    if layout == "bettingpros-snapshots":
        raw = _bettingpros_snapshots(df)
    elif layout == "bettingpros-open-close":
        raw = _bettingpros_open_close(df)
    else:
        raw = _bovada(df, layout)
    raw = raw[raw["line"].notna()]
    raw["market"] = MARKET
    for c in ("over_odds", "under_odds"):
        raw[c] = raw[c].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else
                            str(int(v)) if isinstance(v, float) and float(v).is_integer() else str(v))
    raw = raw.astype({"season": str, "week": str, "line": str})
    key = ["season", "week", "market", "book", "player_name", "fetched_at"]
    n = len(raw)
    raw = raw.drop_duplicates()
    conflicting = raw.duplicated(key, keep="last")
    if n - len(raw) or conflicting.any():
        notes.append(f"{n - len(raw) + int(conflicting.sum())} repeated quote(s) of one book, player and time "
                     "merged (the file's last kept)")
    raw = raw[~conflicting].reset_index(drop=True)
    good, rejected = validate_quotes_split(raw, where, source=f"{vendor}:{layout.split('-', 1)[1]}")
    for note in notes:
        log.info("%s: %s", where, note)
    return good, rejected, notes
