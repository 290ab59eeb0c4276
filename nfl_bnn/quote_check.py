"""THE one plausibility check of a quote (issue 12.2/12.3), used at import and again before pricing.

A quote that imports is a quote that can be priced: odds in [-1000, -100] or [+100, +1000], a line in
(0, 300] and a multiple of 0.5. A bad row is returned in the rejected frame with its reason; it never
blocks the other players. Every name here is re-exported by :mod:`nfl_bnn.quotes`.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError

log = logging.getLogger("nfl_bnn.quotes")  # the quotes' logger: its records keep their name

MIN_ODDS, MAX_ODDS = -1000, 1000
MIN_LINE, MAX_LINE = 0.0, 300.0  # a line must be > MIN_LINE and <= MAX_LINE
VALIDATED = ["player_name", "book", "line", "over_odds", "under_odds"]


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
