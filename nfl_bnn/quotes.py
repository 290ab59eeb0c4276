"""Quote history -> the prices a bet could have had at a given time (pure functions, no I/O).

Every quote snapshot lives in ``prop_lines`` (one row per book, player and ``fetched_at``). This module
answers the questions asked of that history:

* :func:`validate_quote_frame` - THE one plausibility check, used at import and again before pricing,
  so a quote that imports is a quote that can be priced (issue 12.2/12.3). A bad row is returned in
  the rejected frame with its reason; it never blocks the other players.
* :func:`latest_per_book` - each book's last quote fetched at or before ``as_of`` (a scalar time, or a
  per-row cutoff such as kickoff minus 4 hours). A quote fetched after the cutoff is never returned:
  that is what keeps a backtest from betting on prices nobody could see yet.
* :func:`best_as_of` - the best price per side over those books, with the chosen book's two sides kept
  for de-vigging, and a one-sided best quote paired with another book's two-sided market at the same
  line (``devig_*`` columns) or flagged ``two_sided=False`` so the pricer can skip it and say why.
* :func:`open_close` - the first and last quote before kickoff per player, market and book.

Times are naive UTC ``datetime64[ns]`` (how the warehouse stores ``fetched_at``); an ``as_of`` with a
zone is converted to UTC, one without is taken as UTC.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError

log = logging.getLogger("nfl_bnn.quotes")

MIN_ODDS, MAX_ODDS = -1000, 1000
MIN_LINE, MAX_LINE = 0.0, 300.0  # a line must be > MIN_LINE and <= MAX_LINE
QUOTE_COLUMNS = ["season", "week", "game_id", "player_id", "player_name", "team", "book", "market", "line",
                 "over_odds", "under_odds", "fetched_at", "source"]
BEST_COLUMNS = ["season", "week", "game_id", "player_id", "player_name", "team", "market", "side", "book", "line",
                "over_odds", "under_odds", "fetched_at", "source", "two_sided", "devig_book", "devig_over_odds",
                "devig_under_odds"]
VALIDATED = ["player_name", "book", "line", "over_odds", "under_odds"]


def to_utc_naive(t: Any) -> pd.Timestamp:
    """A time as a naive UTC Timestamp (the warehouse's convention); a zone-less time is taken as UTC."""
    ts = pd.Timestamp(t)
    if ts is pd.NaT:
        raise DataError(f"as-of time {t!r} is not a time; use ISO 8601, e.g. 2024-09-08T16:00:00Z")
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _as_of_series(quotes: pd.DataFrame, as_of: Any) -> pd.Series:
    if isinstance(as_of, pd.Series):
        if not as_of.index.equals(quotes.index):
            raise DataError("a per-row as_of must be a Series aligned to the quotes' index")
        s = pd.to_datetime(as_of)
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s.astype("datetime64[ns]")
    return pd.Series(to_utc_naive(as_of), index=quotes.index).astype("datetime64[ns]")


def _odds_problem(v: Any, col: str) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    try:
        o = float(v)
    except (TypeError, ValueError):
        return f"{col} {v!r} is not a number"
    if not np.isfinite(o):
        return f"{col} {v!r} is not a number"
    if -100 < o < 100:
        return f"{col} {o:+g} is not an American price (those are <= -100 or >= +100)"
    if o < MIN_ODDS or o > MAX_ODDS:
        return f"{col} {o:+g} is outside the plausible range [{MIN_ODDS}, +{MAX_ODDS}]"
    if o % 1 != 0:
        return f"{col} {o:+g} is not a whole number"
    return None


def _line_problem(v: Any) -> str | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return f"line {v!r} is not a number"
    if not np.isfinite(x):
        return f"line {v!r} is not a number"
    if not MIN_LINE < x <= MAX_LINE:
        return f"line {x:g} is outside ({MIN_LINE:g}, {MAX_LINE:g}] yards"
    if (x * 2) % 1 != 0:
        return f"line {x:g} is not a multiple of 0.5"
    return None


def validate_quote_frame(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split quotes into (good, rejected); ``rejected`` keeps the row and adds ``reason`` and ``rule``.

    The ONE plausibility check of a quote, used at import and before pricing (issue 12.3): American
    odds must be whole numbers in [-1000, -100] or [+100, +1000] (a +100000 quote is a data error, not
    a bet: issue 12.2); the line must be in (0, 300] yards and a multiple of 0.5 (whole numbers are
    fine: they can push, and the pricer prices the push); at least one side must have odds (a one-sided
    quote is allowed); player and book must be named. Rows are judged one by one, so one bad quote
    never blocks another player's. Missing columns are a file-level error (DataError).
    """
    missing = [c for c in VALIDATED if c not in df.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}; quotes need {', '.join(VALIDATED)}")
    reasons: list[str | None] = []
    rules: list[str | None] = []
    for name, book, line, over, under in zip(df["player_name"], df["book"], df["line"], df["over_odds"],
                                             df["under_odds"]):
        probs: list[tuple[str, str]] = []
        for label, v in (("player_name", name), ("book", book)):
            if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
                probs.append(("missing_name", f"{label} is empty"))
        lp = _line_problem(line)
        if lp:
            probs.append(("line_range", lp))
        for col, v in (("over_odds", over), ("under_odds", under)):
            op = _odds_problem(v, col)
            if op:
                probs.append(("odds_range", op))
        if pd.isna(over) and pd.isna(under):
            probs.append(("no_odds", "neither over_odds nor under_odds is given"))
        reasons.append("; ".join(p[1] for p in probs) if probs else None)
        rules.append(probs[0][0] if probs else None)
    bad = pd.Series([r is not None for r in reasons], index=df.index, dtype=bool)
    rejected = df[bad].copy()
    rejected["reason"] = [r for r in reasons if r is not None]
    rejected["rule"] = [r for r in rules if r is not None]
    if len(rejected):
        log.warning("%s: %s", where, rejection_summary(rejected))
    return df[~bad].copy(), rejected


def rejection_summary(rejected: pd.DataFrame) -> str:
    """One sentence: how many quotes were refused, by rule, with the first example."""
    if rejected.empty:
        return "no quote refused"
    labels = {"line_range": "line outside (0, 300] or not a half-yard", "odds_range": "implausible odds",
              "no_odds": "no odds on either side", "missing_name": "player or book missing"}
    counts = rejected["rule"].value_counts()
    parts = ", ".join(f"{int(n)} {labels.get(str(k), str(k))}" for k, n in counts.items())
    first = rejected.iloc[0]
    return (f"{len(rejected)} quote(s) refused ({parts}); first: {first.get('player_name')!r} at "
            f"{first.get('book')!r}: {first['reason']}")


def _player_key(df: pd.DataFrame) -> pd.Series:
    """player_id when matched, else the name: one player's quotes from every book group together."""
    pid = df["player_id"] if "player_id" in df.columns else pd.Series(None, index=df.index, dtype=object)
    name = "name:" + df["player_name"].astype(str)
    return pid.astype(object).where(pid.notna(), name).astype(str)


def latest_per_book(quotes: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """Each book's last quote per (season, week, player, market) with ``fetched_at <= as_of``.

    ``as_of`` is a scalar time or a Series aligned to the rows (a per-row cutoff, e.g. each game's
    kickoff minus H hours; NaT drops the row). Quotes fetched after the cutoff are removed BEFORE the
    latest is taken, so a later quote can never be returned (nor hide an earlier one).
    """
    if quotes.empty:
        return quotes.copy()
    cut = _as_of_series(quotes, as_of)
    fetched = pd.to_datetime(quotes["fetched_at"]).astype("datetime64[ns]")
    seen = quotes[(fetched <= cut) & cut.notna()].copy()
    if seen.empty:
        return seen
    seen["_pkey"] = _player_key(seen)
    seen["_fa"] = pd.to_datetime(seen["fetched_at"])
    seen = seen.sort_values(["_fa", "book"], kind="mergesort")
    keep = seen.drop_duplicates(["season", "week", "_pkey", "market", "book"], keep="last")
    return keep.drop(columns=["_pkey", "_fa"]).sort_index()


def _pick(cur: pd.DataFrame, side: str, pairable: set[tuple[str, float]]) -> pd.DataFrame:
    col = f"{side}_odds"
    cand = cur[cur[col].notna()].copy()
    if cand.empty:
        return cand
    cand["_odds"] = cand[col].astype(float)
    cand["_two"] = cand["over_odds"].notna() & cand["under_odds"].notna()
    # a quote the pricer can use (two-sided, or a one-sided one with another book's market at its line)
    # beats one it cannot: an unpriceable best price would otherwise hide a priceable second best
    cand["_ok"] = cand["_two"] | pd.Series([(g, float(ln)) in pairable for g, ln in zip(cand["_group"], cand["line"])],
                                           index=cand.index, dtype=bool)
    # over: lowest line; under: highest; then the best price; then a two-sided book (de-vig from its own
    # market), then the book name so that reruns choose the same row
    cand["_line_key"] = cand["line"].astype(float) * (1 if side == "over" else -1)
    cand = cand.sort_values(["_group", "_ok", "_line_key", "_odds", "_two", "book"],
                            ascending=[True, False, True, False, False, True], kind="mergesort")
    out = cand.drop_duplicates("_group", keep="first").drop(columns=["_odds", "_two", "_line_key", "_ok"])
    out["side"] = side
    return out


def best_as_of(quotes: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """Best price per player and side from the books' latest quotes at ``as_of`` (see the module doc).

    Columns: :data:`BEST_COLUMNS`. Per side the best quote the pricer can use wins (a one-sided quote
    with no two-sided market at its line only when nothing else is quoted for that side).
    ``over_odds``/``under_odds`` are the chosen book's two sides (one may be NULL when that book quotes
    one side only). ``devig_book/devig_over_odds/devig_under_odds`` are the
    two-sided market the margin is removed from: the chosen book's own when it quotes both sides, else
    another book's two-sided market at the same line (the one with the smallest margin), else NULL with
    ``two_sided=False``: the pricer then skips that side and says why. Invalid quotes are dropped first
    (same check as at import), so one bad quote never raises here.
    """
    if not isinstance(quotes, pd.DataFrame):
        raise DataError("best_as_of needs a DataFrame of quotes (warehouse.load_quotes)")
    q = quotes.copy()
    for c in QUOTE_COLUMNS:
        if c not in q.columns:
            q[c] = None
    good, _ = validate_quote_frame(q, "quotes")
    as_of_s = _as_of_series(q, as_of).loc[good.index] if isinstance(as_of, pd.Series) else as_of
    cur = latest_per_book(good, as_of_s)
    if cur.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BEST_COLUMNS})
    cur = cur.copy()
    cur["_group"] = (cur["season"].astype(str) + "|" + cur["week"].astype(str) + "|" + cur["market"].astype(str)
                     + "|" + _player_key(cur))
    both = cur[cur["over_odds"].notna() & cur["under_odds"].notna()].copy()
    if len(both):
        from nfl_bnn.betting import implied_probability

        both["_margin"] = [implied_probability(o) + implied_probability(u) - 1.0
                           for o, u in zip(both["over_odds"], both["under_odds"])]
        both = both.sort_values(["_group", "line", "_margin", "book"], kind="mergesort")
        pairs = both.drop_duplicates(["_group", "line"], keep="first").set_index(["_group", "line"])
    else:
        pairs = pd.DataFrame(columns=["book", "over_odds", "under_odds"])
    pairable = {(g, float(ln)) for g, ln in pairs.index} if len(pairs) else set()
    picks = pd.concat([p for p in (_pick(cur, "over", pairable), _pick(cur, "under", pairable)) if len(p)],
                      ignore_index=True)
    own = picks["over_odds"].notna() & picks["under_odds"].notna()
    dbook, dover, dunder = [], [], []
    for g, ln, b, o, u, ok in zip(picks["_group"], picks["line"].astype(float), picks["book"], picks["over_odds"],
                                  picks["under_odds"], own):
        if ok:
            dbook.append(b), dover.append(o), dunder.append(u)
        elif (g, ln) in pairs.index:
            p = pairs.loc[(g, ln)]
            dbook.append(p["book"]), dover.append(p["over_odds"]), dunder.append(p["under_odds"])
        else:
            dbook.append(None), dover.append(None), dunder.append(None)
    picks["devig_book"] = dbook
    picks["devig_over_odds"] = pd.array(dover, dtype="Int64")
    picks["devig_under_odds"] = pd.array(dunder, dtype="Int64")
    picks["two_sided"] = picks["devig_book"].notna()
    n_one = int((~own).sum())
    if n_one:
        log.info("%d best quote(s) are one-sided: %d priced from another book's market at the same line, "
                 "%d without a two-sided market (two_sided=False)", n_one, int((~own & picks["two_sided"]).sum()),
                 int((~picks["two_sided"]).sum()))
    for c in ("over_odds", "under_odds"):
        picks[c] = pd.to_numeric(picks[c]).astype("Int64")
    picks["line"] = picks["line"].astype("float64")
    picks["fetched_at"] = pd.to_datetime(picks["fetched_at"]).astype("datetime64[ns]")
    out = picks.sort_values(["season", "week", "market", "player_name", "side"], kind="mergesort")
    return out[BEST_COLUMNS].reset_index(drop=True)


def kickoffs_utc(games: pd.DataFrame) -> pd.Series:
    """``game_id`` -> kickoff in naive UTC, from ``mart.games`` (which stores US/Eastern wall-clock time).

    Quotes are stamped in UTC and kickoffs in Eastern time: comparing them raw would shift every
    cutoff by 4-5 hours, so every as-of cutoff built from a kickoff goes through here.
    """
    ko = pd.to_datetime(games["kickoff"])
    utc = ko.dt.tz_localize("America/New_York", ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return pd.Series(utc.dt.tz_localize(None).to_numpy(), index=games["game_id"].to_numpy(), name="kickoff_utc")


def _kickoff_series(quotes: pd.DataFrame, kickoff: pd.Series | Mapping[str, Any]) -> pd.Series:
    ko = kickoff if isinstance(kickoff, pd.Series) else pd.Series(dict(kickoff), dtype=object)
    ko = pd.to_datetime(ko)
    if getattr(ko.dt, "tz", None) is not None:
        ko = ko.dt.tz_convert("UTC").dt.tz_localize(None)
    return quotes["game_id"].map(ko).astype("datetime64[ns]")


def open_close(quotes: pd.DataFrame, kickoff: pd.Series | Mapping[str, Any]) -> pd.DataFrame:
    """First and last valid quote strictly before kickoff per (season, week, player, market, book).

    ``kickoff`` maps ``game_id`` to the kickoff time in UTC (a Series indexed by game_id or a dict).
    Quotes without a game_id or a known kickoff are left out (their "before kickoff" cannot be told).
    Columns: the identity columns, ``open_``/``close_`` + line, over_odds, under_odds, fetched_at, and
    ``n_quotes``.
    """
    q = quotes.copy()
    for c in QUOTE_COLUMNS:
        if c not in q.columns:
            q[c] = None
    good, _ = validate_quote_frame(q, "quotes")
    ident = ["season", "week", "game_id", "player_id", "player_name", "team", "market", "book"]
    cols = ident + [f"{w}_{c}" for w in ("open", "close") for c in ("line", "over_odds", "under_odds", "fetched_at")]
    if good.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols + ["n_quotes"]})
    ko = _kickoff_series(good, kickoff)
    fa = pd.to_datetime(good["fetched_at"]).astype("datetime64[ns]")
    pre = good[ko.notna() & (fa < ko)].copy()
    if pre.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols + ["n_quotes"]})
    pre["_pkey"] = _player_key(pre)
    pre["_fa"] = pd.to_datetime(pre["fetched_at"])
    pre = pre.sort_values("_fa", kind="mergesort")
    key = ["season", "week", "_pkey", "market", "book"]
    first = pre.drop_duplicates(key, keep="first").set_index(key)
    last = pre.drop_duplicates(key, keep="last").set_index(key)
    out = last[[c for c in ident if c not in key]].copy()
    for w, src in (("open", first), ("close", last)):
        for c in ("line", "over_odds", "under_odds", "fetched_at"):
            out[f"{w}_{c}"] = src[c]
    out["n_quotes"] = pre.groupby(key).size()
    out = out.reset_index()
    for w in ("open", "close"):
        for c in ("over_odds", "under_odds"):
            out[f"{w}_{c}"] = pd.to_numeric(out[f"{w}_{c}"]).astype("Int64")
    return out[cols + ["n_quotes"]].reset_index(drop=True)


def priceable(best: pd.DataFrame, known_ids: set[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Split best prices into the rows a pricer can use and one note per kind of row left out.

    Left out, never raised (issue 12.3: one bad quote must not stop the week): quotes that fail
    :func:`validate_quote_frame` (a warehouse filled by hand or by an older version can hold them), a
    one-sided quote with no two-sided market at its line (``two_sided=False``: nothing to remove the
    margin from), and quotes of a player not matched to the warehouse (``player_id`` empty or unknown).
    """
    if best.empty:
        return best, []
    notes: list[str] = []
    good, bad = validate_quote_frame(best, "best prices")
    if len(bad):
        notes.append(f"skipped {len(bad)} line(s) that fail the quote check: {rejection_summary(bad)}")
    one = ~good["two_sided"].astype(bool) if "two_sided" in good.columns else pd.Series(False, index=good.index)
    if one.any():
        names = ", ".join(sorted(set(good.loc[one, "player_name"].astype(str)))[:8])
        notes.append(f"skipped {int(one.sum())} one-sided line(s) with no two-sided market at the same line to "
                     f"remove the margin from ({names})")
    good = good[~one]
    if {"devig_book", "book"} <= set(good.columns):
        borrowed = good["devig_book"].notna() & (good["devig_book"].astype(str) != good["book"].astype(str))
        if borrowed.any():
            notes.append(f"{int(borrowed.sum())} one-sided line(s) priced with another book's two-sided market at "
                         "the same line (margin removed from that market)")
    pid = good["player_id"]
    unknown = pid.isna() | (~pid.astype(str).isin(known_ids) if known_ids is not None else False)
    if unknown.any():
        names = ", ".join(sorted(set(good.loc[unknown, "player_name"].astype(str)))[:8])
        notes.append(f"skipped {int(unknown.sum())} line(s) of {good.loc[unknown, 'player_name'].nunique()} "
                     f"player(s) not in the warehouse ({names}); fix their names/teams in the lines import "
                     "or import their stats")
    for n in notes:
        log.warning("%s", n)
    return good[~unknown].reset_index(drop=True), notes
