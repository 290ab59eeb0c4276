"""Report figures of a real-line backtest: bootstrap ROI, flat-stake profit, probability scores,
bet summaries, reliability table, P&L band (used by notebooks/backtest.ipynb and bench/market.py).

Pure functions of the rows :func:`nfl_bnn.backtest_real.real_line_backtest` returns. Re-exported by
:mod:`nfl_bnn.backtest_betting`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def boot_roi(profit, stake, n: int = 4000, seed: int = 0) -> tuple[float, float, float]:
    """ROI = sum profit / sum stake with a bootstrap 90% interval (bets resampled with replacement)."""
    profit, stake = np.asarray(profit, dtype=float), np.asarray(stake, dtype=float)
    if len(stake) == 0 or stake.sum() <= 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(stake), size=(n, len(stake)))
    rois = profit[idx].sum(axis=1) / stake[idx].sum(axis=1)
    return float(profit.sum() / stake.sum()), float(np.quantile(rois, 0.05)), float(np.quantile(rois, 0.95))


def flat_profit(rows: pd.DataFrame) -> np.ndarray:
    """Profit of a 1-unit stake on each row's side (win: d - 1, loss: -1, push/void: 0)."""
    from nfl_bnn import betting

    d = np.array([betting.american_to_decimal(o) for o in rows["odds"]]) if len(rows) else np.array([])
    return np.where(rows["result"] == "win", d - 1, np.where(rows["result"] == "loss", -1.0, 0.0))


def prob_scores(rows: pd.DataFrame) -> dict[str, float]:
    """Log loss and Brier of p_model, p_market and p_bet of the side, on the rows settled win/loss (the
    same rows for all three), and the paired log-loss difference p_bet - p_market with its SE."""
    from nfl_bnn import market

    r = rows[rows["result"].isin(["win", "loss"])].dropna(subset=["p_model", "p_market", "p_bet"])
    won = (r["result"] == "win").to_numpy(float)
    out: dict[str, float] = {"n": float(len(r))}
    for c in ("p_model", "p_market", "p_bet"):
        out[f"logloss_{c}"] = market.log_loss(r[c], won) if len(r) else float("nan")
        out[f"brier_{c}"] = market.brier(r[c], won) if len(r) else float("nan")

    def ll(p):
        p = np.clip(np.asarray(p, dtype=float), market.EPS, 1 - market.EPS)
        return -(won * np.log(p) + (1 - won) * np.log1p(-p))

    diff = ll(r["p_bet"]) - ll(r["p_market"]) if len(r) else np.array([])
    out["ll_bet_minus_market"] = float(diff.mean()) if len(diff) else float("nan")
    out["ll_bet_minus_market_se"] = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    return out


def bet_summary(rows: pd.DataFrame, label: str) -> dict[str, Any]:
    """One line of the report's table: bets, ROI (Kelly stakes and flat 1 unit) with bootstrap 90% intervals,
    CLV of the bets (mean, SE, share positive), line movement toward them, median edge."""
    bets = rows[rows["decision"] == "bet"]
    settled = bets[bets["result"].isin(["win", "loss", "push"])]
    roi, lo, hi = boot_roi(settled["profit"], settled["stake"])
    froi, flo, fhi = boot_roi(flat_profit(settled), np.ones(len(settled)))
    c = bets["clv"].dropna()
    return {"bet_time": label, "priced": len(rows), "bets": len(bets), "staked": float(settled["stake"].sum()),
            "profit": float(settled["profit"].sum()), "roi": roi, "roi_lo": lo, "roi_hi": hi,
            "flat_roi": froi, "flat_lo": flo, "flat_hi": fhi,
            "win_share": float((settled["result"] == "win").mean()) if len(settled) else float("nan"),
            "clv_n": len(c), "clv_mean": float(c.mean()) if len(c) else float("nan"),
            "clv_se": float(c.std(ddof=1) / np.sqrt(len(c))) if len(c) > 1 else float("nan"),
            "clv_pos": float((c > 0).mean()) if len(c) else float("nan"),
            "move_mean": float(bets["line_move"].mean()) if len(bets) and "line_move" in bets else float("nan"),
            "median_edge": float(bets["edge"].median()) if len(bets) else float("nan")}


def reliability_table(rows: pd.DataFrame, col: str = "p_bet", bins: int = 10) -> pd.DataFrame:
    """Reliability of a probability column on settled win/loss rows: per bin the mean prediction, the
    observed win share, its binomial standard error and the count. Bins hold equal numbers of rows
    (quantiles): prop probabilities crowd around 0.5, where fixed-width bins would put almost every row
    in two bins."""
    r = rows[rows["result"].isin(["win", "loss"])].dropna(subset=[col])
    if r.empty:
        return pd.DataFrame(columns=["bin", "predicted", "observed", "n", "se"])
    b = pd.qcut(r[col].rank(method="first"), q=min(bins, len(r)), labels=False)
    won = (r["result"] == "win").astype(float)
    g = pd.DataFrame({"bin": b, "p": r[col].to_numpy(float), "won": won.to_numpy()}).groupby("bin")
    t = g.agg(predicted=("p", "mean"), observed=("won", "mean"), n=("won", "size")).reset_index()
    t["se"] = np.sqrt(t["observed"] * (1 - t["observed"]) / t["n"].clip(lower=1))
    return t


def pnl_band(rows: pd.DataFrame, n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Cumulative flat-stake P&L of the bets in time order, with a 90% band of the same number of bets
    resampled (bootstrap) at each step: how far chance alone moves the curve."""
    bets = rows[(rows["decision"] == "bet") & rows["result"].isin(["win", "loss", "push"])]
    bets = bets.sort_values(["season", "week"], kind="mergesort")
    pr = flat_profit(bets)
    if len(pr) == 0:
        return pd.DataFrame(columns=["bet", "pnl", "lo", "hi"])
    rng = np.random.default_rng(seed)
    sims = np.cumsum(pr[rng.integers(0, len(pr), size=(n, len(pr)))], axis=1)
    return pd.DataFrame({"bet": np.arange(1, len(pr) + 1), "pnl": np.cumsum(pr),
                         "lo": np.quantile(sims, 0.05, axis=0), "hi": np.quantile(sims, 0.95, axis=0)})
