"""Betting maths: odds, margin removal, edge, Bayesian confidence and fractional-Kelly stakes.

Pure functions with no I/O, so every number can be checked by hand (see tests/test_betting.py).

Definitions used everywhere in the package (and in the README):

* **market probability** of a side: the bookmaker's implied probabilities of the over and the under
  (1 / decimal odds, which sum to more than 1 by the margin) with the margin removed by the method
  chosen in params (multiplicative, power or Shin), using both odds of the *same* book.
* **edge** of a side: model probability minus market probability, in probability points
  (0.03 = 3 points). It says how much the model disagrees with the no-margin market.
* **confidence** of a side: the share of posterior draws under which the bet has positive expected
  value *at the offered odds*, i.e. the share of draws s with p_s * d - 1 > 0, where p_s is the
  side's probability under draw s and d the decimal odds. It says how sure the posterior is that the
  bet is worth making at that price (0.5 = a coin flip, 1.0 = every draw agrees).
* **stake**: fractional Kelly f = kelly_fraction * (p*d - 1)/(d - 1), capped at max_bet_fraction of
  the bankroll, then scaled down proportionally where the per-game cap or the weekly exposure cap
  binds. A bet is made only when edge >= min_edge, confidence >= min_confidence and full Kelly > 0
  (positive expected value after the margin).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from nfl_bnn.errors import DataError

MarginMethod = Literal["multiplicative", "power", "shin"]


# --- odds -----------------------------------------------------------------------------------------
def check_american(odds: float, where: str = "odds") -> float:
    """Return ``odds`` as float if it is a valid American price, else raise a DataError saying why.

    Valid prices are <= -100 or >= +100; 0 and anything strictly between -100 and +100 do not exist.
    """
    try:
        o = float(odds)
    except (TypeError, ValueError):
        raise DataError(f"{where}: American odds must be a number, got {odds!r}") from None
    if not math.isfinite(o) or -100 < o < 100:
        raise DataError(
            f"{where}: American odds {odds!r} are invalid; a price is <= -100 (favourite) or >= +100 (underdog)"
        )
    return o


def american_to_decimal(odds: float, where: str = "odds") -> float:
    """Decimal odds (total return per unit staked): +150 -> 2.5, -110 -> 1 + 100/110 = 1.9091."""
    o = check_american(odds, where)
    return 1.0 + (o / 100.0 if o > 0 else 100.0 / -o)


def decimal_to_american(d: float) -> float:
    """Inverse of :func:`american_to_decimal`: 2.5 -> +150, 1.9091 -> -110, 2.0 -> +100."""
    if not math.isfinite(d) or d <= 1.0:
        raise DataError(f"decimal odds must be > 1, got {d!r}")
    return (d - 1.0) * 100.0 if d >= 2.0 else -100.0 / (d - 1.0)


def implied_probability(odds: float, where: str = "odds") -> float:
    """Bookmaker's implied probability 1/d, margin included: -110 -> 110/210 = 0.5238."""
    return 1.0 / american_to_decimal(odds, where)


def profit_on_win(stake: float, odds: float) -> float:
    """Net profit of a winning bet: +150 pays 1.5x the stake, -110 pays 100/110 of it."""
    return stake * (american_to_decimal(odds) - 1.0)


def half_yard(x):
    """The nearest line ending in .5 (floor(x) + 0.5; ties at whole numbers go up), at least 0.5.

    Proxy lines, backtest lines and validation Brier lines are all made with this one rule.
    Works on scalars and arrays.
    """
    out = np.maximum(np.floor(np.asarray(x, dtype=float)) + 0.5, 0.5)
    return float(out) if out.ndim == 0 else out


# --- margin removal -------------------------------------------------------------------------------
def remove_margin(over_odds: float, under_odds: float, method: MarginMethod = "power") -> tuple[float, float]:
    """No-margin probabilities (over, under) of a two-sided market; they sum to exactly 1.

    * multiplicative: p_i = pi_i / (pi_o + pi_u)  (spreads the margin in proportion to the price);
    * power: p_i = pi_i ** k with k solving pi_o**k + pi_u**k = 1 (puts more of the margin on the
      longshot, as books do);
    * shin: Shin's (1993) insider-trading model; for each z in [0, 1) the fair probability is
      (sqrt(z**2 + 4(1-z) pi_i**2 / S) - z) / (2(1-z)), S = pi_o + pi_u, with z solving sum p_i = 1.
    A market with no margin (S == 1) is returned as is; one with a negative margin (S < 1, an
    arbitrage between books) is only normalised multiplicatively.
    """
    po = implied_probability(over_odds, "over_odds")
    pu = implied_probability(under_odds, "under_odds")
    s = po + pu
    if method not in ("multiplicative", "power", "shin"):
        raise DataError(f"unknown margin method {method!r}; use multiplicative, power or shin")
    if method == "multiplicative" or abs(s - 1.0) < 1e-12 or s < 1.0:
        return po / s, pu / s
    if method == "power":
        k = brentq(lambda k: po**k + pu**k - 1.0, 1.0, 50.0, xtol=1e-14)
        return po**k, pu**k

    def shin_p(z: float, pi: float) -> float:
        return (math.sqrt(z * z + 4.0 * (1.0 - z) * pi * pi / s) - z) / (2.0 * (1.0 - z))

    z = brentq(lambda z: shin_p(z, po) + shin_p(z, pu) - 1.0, 0.0, 0.999, xtol=1e-14)
    return shin_p(z, po), shin_p(z, pu)


# --- edge, confidence, Kelly ----------------------------------------------------------------------
def kelly_fraction_full(p: float, d: float) -> float:
    """Full-Kelly share of bankroll for a binary bet, f* = (p*d - 1)/(d - 1); 0 when not positive."""
    if not (math.isfinite(p) and math.isfinite(d)) or d <= 1.0:
        return 0.0
    f = (p * d - 1.0) / (d - 1.0)
    return max(f, 0.0)


def confidence(p_draws: np.ndarray, d: float) -> float:
    """Share of posterior draws under which the bet has positive expected value: mean(p_s*d - 1 > 0)."""
    p_draws = np.asarray(p_draws, dtype=float)
    p_draws = p_draws[np.isfinite(p_draws)]
    if p_draws.size == 0:
        return float("nan")
    return float(np.mean(p_draws * d - 1.0 > 0.0))


def round_down_cents(x: float) -> float:
    """Floor to whole cents, so rounding can never push a stake over a cap."""
    return math.floor(x * 100.0 + 1e-9) / 100.0


def size_stakes(
    cands: pd.DataFrame,
    bankroll: float,
    *,
    kelly_fraction: float,
    max_bet_fraction: float,
    min_edge: float,
    min_confidence: float,
    max_week_fraction: float = 1.0,
    max_game_fraction: float = 1.0,
    committed_week: float = 0.0,
    committed_games: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Filter candidates and size stakes; return ``cands`` with ``reason``, ``bet_fraction``, ``stake``.

    ``cands`` needs columns ``model_prob``, ``decimal_odds``, ``edge``, ``confidence`` and ``game_id``.
    Steps: (1) reject rows by reason, in this order: ``nan`` (missing probability or odds),
    ``edge`` (edge < min_edge), ``confidence`` (confidence < min_confidence), ``no_ev`` (full Kelly <= 0
    at the offered odds); (2) stake fraction = kelly_fraction * full Kelly, capped at max_bet_fraction;
    (3) per game, if the fractions sum over max_game_fraction scale that game's bets down
    proportionally; (4) if the week's total is over max_week_fraction scale every bet down
    proportionally; (5) stake = fraction * bankroll, floored to cents. The result never exceeds the
    bankroll and is never negative or NaN.

    ``committed_week`` / ``committed_games`` (shares of bankroll, per game_id) are stakes the week already
    holds and that this sizing does not replace (bets kept from games that kicked off, settled bets): they
    use up the caps first, so a rerun of a week under way can never stake the week's cap a second time.
    A bet whose cap is already used up gets reason ``cap_used`` and no stake.
    """
    for name, v in (("kelly_fraction", kelly_fraction), ("max_bet_fraction", max_bet_fraction),
                    ("max_week_fraction", max_week_fraction), ("max_game_fraction", max_game_fraction)):
        if not (isinstance(v, (int, float)) and 0.0 < v <= 1.0):
            raise DataError(f"{name} must be in (0, 1], got {v!r}")
    if not (isinstance(bankroll, (int, float)) and math.isfinite(bankroll) and bankroll > 0):
        raise DataError(f"bankroll must be a positive number, got {bankroll!r}")
    out = cands.copy()
    p = out["model_prob"].astype(float).to_numpy()
    d = out["decimal_odds"].astype(float).to_numpy()
    edge = out["edge"].astype(float).to_numpy()
    conf = out["confidence"].astype(float).to_numpy()
    full = np.array([kelly_fraction_full(pi, di) for pi, di in zip(p, d)], dtype=float)
    reason = np.full(len(out), "bet", dtype=object)
    bad = ~(np.isfinite(p) & np.isfinite(d) & np.isfinite(edge) & np.isfinite(conf))
    reason[bad] = "nan"
    reason[(reason == "bet") & (edge < min_edge)] = "edge"
    reason[(reason == "bet") & (conf < min_confidence)] = "confidence"
    reason[(reason == "bet") & (full <= 0.0)] = "no_ev"
    frac = np.where(reason == "bet", np.minimum(full * kelly_fraction, max_bet_fraction), 0.0)
    out["kelly_full"] = full
    out["reason"] = reason
    # per-game cap: props of one game are correlated, so their joint exposure is capped
    games = out["game_id"].astype(str).to_numpy()
    used = {str(g): float(v) for g, v in (committed_games or {}).items()}
    no_room = np.zeros(len(out), dtype=bool)
    for g in np.unique(games):
        m = games == g
        tot, room = frac[m].sum(), max(max_game_fraction - used.get(g, 0.0), 0.0)
        if tot > room:
            frac[m] *= room / tot
            no_room |= m & (room <= 0.0)
    tot, room = frac.sum(), max(max_week_fraction - float(committed_week), 0.0)
    if tot > room:
        frac *= room / tot
        no_room |= room <= 0.0
    stake = np.array([round_down_cents(f * bankroll) for f in frac], dtype=float)
    stake = np.clip(np.nan_to_num(stake, nan=0.0), 0.0, bankroll)
    out["bet_fraction"] = frac
    out["stake"] = stake
    # a stake that rounds to 0 cents is not a bet
    zero = ((out["reason"] == "bet") & (out["stake"] <= 0.0)).to_numpy()
    out.loc[zero, "reason"] = np.where(no_room[zero], "cap_used", "too_small")
    return out


def reason_counts(reasons: Iterable[str]) -> dict[str, int]:
    """Count rejection reasons (used by the summary to say why there are no bets)."""
    s = pd.Series(list(reasons), dtype=object)
    return {k: int(v) for k, v in s.value_counts().items()}


# --- lines -> candidate bets ----------------------------------------------------------------------
LINE_COLUMNS = ("player_id", "side", "line", "over_odds", "under_odds")


def validate_lines(lines: pd.DataFrame, where: str = "best_prop_lines") -> pd.DataFrame:
    """Check a lines frame (best_prop_lines shape); raise one DataError naming the bad rows.

    Rejects: missing columns, odds of 0 or between -100 and +100, negative lines, lines that are not a
    half-yard (x.5: yards are whole numbers, so a whole line could push and the market uses halves),
    sides other than over/under, and duplicate rows for one player and side (best_prop_lines holds one
    quote per player and side; two mean the import or the best-price step went wrong).
    """
    missing = [c for c in LINE_COLUMNS if c not in lines.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}; expected {', '.join(LINE_COLUMNS)}")
    if lines.empty:
        return lines
    who = lines.get("player_name", lines["player_id"]).astype(str)
    problems: list[str] = []
    for i, row in lines.iterrows():
        tag = f"row {i} ({who.loc[i]}, {row['side']}"
        tag += f", book {row['book']})" if "book" in lines.columns else ")"
        for col in ("over_odds", "under_odds"):
            try:
                check_american(row[col], col)
            except DataError as exc:
                problems.append(f"{tag}: {exc}")
        try:
            ln = float(row["line"])
        except (TypeError, ValueError):
            problems.append(f"{tag}: line {row['line']!r} is not a number")
            continue
        if not math.isfinite(ln) or ln < 0:
            problems.append(f"{tag}: line {row['line']!r} is negative or missing; rushing-yards lines are >= 0")
        elif abs(ln * 2 - round(ln * 2)) > 1e-9 or round(ln * 2) % 2 != 1:
            problems.append(f"{tag}: line {ln} is not a half-yard (x.5); the market quotes halves")
        if row["side"] not in ("over", "under"):
            problems.append(f"{tag}: side {row['side']!r} must be 'over' or 'under'")
    keys = ["season", "week", "player_id", "side"] if {"season", "week"} <= set(lines.columns) else ["player_id", "side"]
    if "market" in lines.columns:
        keys.append("market")
    dup = lines[lines.duplicated(keys, keep=False)]
    for (pid, side), grp in dup.groupby(["player_id", "side"]):
        books = ", ".join(sorted(grp["book"].astype(str))) if "book" in grp else ""
        problems.append(
            f"player {who.loc[grp.index[0]]} ({pid}) has {len(grp)} {side} lines (books: {books}); "
            "keep one best quote per player and side"
        )
    if problems:
        shown = "; ".join(problems[:10]) + (f"; ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise DataError(f"{where}: {len(problems)} invalid line(s): {shown}")
    return lines


def evaluate_lines(lines: pd.DataFrame, p_over_draws: np.ndarray, method: MarginMethod = "power") -> pd.DataFrame:
    """Model vs market for each line row (one side of one player's market).

    ``p_over_draws`` has shape (n_draws, len(lines)): P(yards > line) of each row under each
    posterior draw. Adds columns: ``odds`` (the side's American price), ``decimal_odds``,
    ``model_prob`` (posterior mean probability of the side), ``market_prob`` (no-margin),
    ``edge`` = model_prob - market_prob, ``confidence`` = share of draws with p_s * d - 1 > 0,
    and ``ev`` = model_prob * d - 1 (expected profit per unit staked).
    """
    p_over_draws = np.asarray(p_over_draws, dtype=float)
    if p_over_draws.ndim != 2 or p_over_draws.shape[1] != len(lines):
        raise DataError(f"per-draw probabilities have shape {p_over_draws.shape}; expected (draws, {len(lines)})")
    out = lines.reset_index(drop=True).copy()
    is_over = (out["side"] == "over").to_numpy()
    side_draws = np.where(is_over[None, :], p_over_draws, 1.0 - p_over_draws)
    odds = np.where(is_over, out["over_odds"].astype(float), out["under_odds"].astype(float))
    dec = np.array([american_to_decimal(o) for o in odds])
    # the margin comes off a two-sided market: the quoting book's own, or for a one-sided best quote
    # another book's at the same line (nfl_bnn.quotes.best_as_of: devig_over_odds/devig_under_odds)
    pair = ("devig_over_odds", "devig_under_odds") if "devig_over_odds" in out.columns else ("over_odds", "under_odds")
    fair = [remove_margin(o, u, method) for o, u in zip(out[pair[0]], out[pair[1]])]
    market = np.array([f[0] if ov else f[1] for f, ov in zip(fair, is_over)])
    model = np.nanmean(side_draws, axis=0) if len(out) else np.array([])
    out["odds"] = odds
    out["decimal_odds"] = dec
    out["model_prob"] = model
    out["market_prob"] = market
    out["edge"] = model - market
    out["confidence"] = [confidence(side_draws[:, j], dec[j]) for j in range(len(out))]
    out["ev"] = model * dec - 1.0
    return out


def best_side_per_player(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per player: the side with the larger edge (the two sides of one market are
    opposite bets, and over/under quotes at different books are too correlated to hold both)."""
    if evaluated.empty:
        return evaluated
    order = evaluated.sort_values(["player_id", "edge"], ascending=[True, False], kind="mergesort")
    return order.drop_duplicates("player_id", keep="first").reset_index(drop=True)
