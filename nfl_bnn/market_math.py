"""Small maths of market probabilities: logits and scores, pushes on whole-number lines, Kelly with pushes,
closing-line value. Pure functions, no I/O; the reasons are in :mod:`nfl_bnn.market`, which re-exports
every name here.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-4  # probabilities are clipped to [EPS, 1 - EPS] before a logit


# --- small maths ----------------------------------------------------------------------------------
def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def row_log_loss(p, won) -> np.ndarray:
    """Negative log-likelihood of each binary outcome ``won`` under its probability ``p`` (clipped)."""
    p = np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)
    y = np.asarray(won, dtype=float)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def log_loss(p, won) -> float:
    """Mean of :func:`row_log_loss`."""
    return float(np.mean(row_log_loss(p, won)))


def brier(p, won) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(won, dtype=float)) ** 2))


# --- pushes ---------------------------------------------------------------------------------------
def is_whole(line) -> np.ndarray:
    ln = np.asarray(line, dtype=float)
    return np.isclose(ln, np.round(ln))


def outcome_probs(model: Any, X: pd.DataFrame, lines, per_draw: bool = True
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P(Y > L), P(Y < L), P(Y = L)) for each row, per posterior draw ((S, n) each) or averaged.

    Uses only the model's public ``prob_over``: for a whole line L, P(Y > L) = prob_over(L + 0.5) and
    P(Y < L) = 1 - prob_over(L - 0.5) (the whole-yard bins), so P(push) = P(Y = L) exactly; for a
    half-yard line both come from prob_over(L) and P(push) = 0.
    """
    L = np.asarray(lines, dtype=float)
    whole = is_whole(L)
    grid = np.column_stack([np.where(whole, L + 0.5, L), np.where(whole, L - 0.5, L)])
    p = np.asarray(model.prob_over(X, grid, per_draw=True), dtype=float)  # (S, n, 2)
    over, under = p[..., 0], 1.0 - p[..., 1]
    push = np.clip(1.0 - over - under, 0.0, 1.0)
    if not per_draw:
        return over.mean(axis=0), under.mean(axis=0), push.mean(axis=0)
    return over, under, push


def conditional_over(over, under) -> np.ndarray:
    """P(over wins | no push) = P(Y > L) / (P(Y > L) + P(Y < L))."""
    over, under = np.asarray(over, dtype=float), np.asarray(under, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(over + under > 0, over / (over + under), np.nan)


def kelly_with_push(p_win: float, p_lose: float, d: float) -> float:
    """Full-Kelly share f* = (p_win b - p_lose) / (b (p_win + p_lose)), b = d - 1; 0 when not positive.

    A push returns the stake, so it only scales the bet's outcome space: with no push this is the
    usual (p d - 1) / (d - 1).
    """
    if not all(math.isfinite(v) for v in (p_win, p_lose, d)) or d <= 1.0 or p_win + p_lose <= 0:
        return 0.0
    b = d - 1.0
    return max((p_win * b - p_lose) / (b * (p_win + p_lose)), 0.0)


# --- closing-line value ---------------------------------------------------------------------------
def side_prob_at_line(q_over_at_close: float, over_close_model: float, over_bet_model: float, side: str) -> float:
    """No-vig closing probability of ``side`` moved from the closing line to the bet's line.

    ``q_over_at_close``: de-vigged closing P(over | no push) at the closing line; ``over_*_model``: the
    model's P(over | no push) at the closing line and at the bet's line. The market's probability is
    moved by the model's probability mass between the two lines (whole-yard distribution):
    q(bet line) = q(close line) + [model(bet line) - model(close line)], clipped to [EPS, 1 - EPS].
    """
    q = float(np.clip(q_over_at_close + (over_bet_model - over_close_model), EPS, 1 - EPS))
    return q if side == "over" else 1.0 - q


def clv(q_side_close_at_bet_line: float, decimal_odds_taken: float) -> float:
    """Closing-line value of a bet: q_close * d_taken - 1 (NaN when the close is unknown, never 0)."""
    if not (math.isfinite(q_side_close_at_bet_line) and math.isfinite(decimal_odds_taken)):
        return float("nan")
    return q_side_close_at_bet_line * decimal_odds_taken - 1.0


def line_move_toward(side: str, bet_line: float, close_line: float) -> float:
    """Yards the line moved toward the side taken: up for an over (the market came to the over), down for
    an under. NaN where the close is unknown."""
    if not (math.isfinite(bet_line) and math.isfinite(close_line)):
        return float("nan")
    return close_line - bet_line if side == "over" else bet_line - close_line
