"""Matplotlib figures for the reports. Each function takes plain arrays or frames and returns a Figure.

Kept free of PyMC so that plots are tested on small fake data; ArviZ is used where it has the plot
(trace and rank plots of an InferenceData).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def density_from_prob_over(grid: np.ndarray, prob_over: np.ndarray) -> np.ndarray:
    """Predictive density on ``grid`` from the survival function P(Y > x) (rows = players)."""
    sf = np.atleast_2d(np.asarray(prob_over, float))
    dens = -np.gradient(sf, np.asarray(grid, float), axis=1)
    return np.clip(dens, 0, None)


def bet_distributions(grid: np.ndarray, density: np.ndarray, lines: Sequence[float], sides: Sequence[str],
                      labels: Sequence[str], probs: Sequence[float] | None = None, ncols: int = 3) -> Figure:
    """One panel per bet: the predictive density of rushing yards, the line, the side bet shaded."""
    density = np.atleast_2d(density)
    n = len(lines)
    if n == 0:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.text(0.5, 0.5, "no bets this week", ha="center", va="center")
        ax.axis("off")
        return fig
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.8 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        line, side = float(lines[i]), str(sides[i]).lower()
        ax.plot(grid, density[i], color="C0")
        mask = grid > line if side == "over" else grid < line
        ax.fill_between(grid, 0, density[i], where=mask, color="C2" if side == "over" else "C3", alpha=0.35)
        ax.axvline(line, color="k", ls="--", lw=1)
        title = f"{labels[i]}\n{side} {line:g}"
        if probs is not None:
            title += f"  P={float(probs[i]):.2f}"
        ax.set_title(title, fontsize=9)
        ax.set_yticks([])
        ax.set_xlabel("rushing yards", fontsize=8)
    fig.tight_layout()
    return fig


def prediction_intervals(pred: pd.DataFrame, max_rows: int = 60) -> Figure:
    """Every eligible back of a week: 5-95% and 25-75% intervals, median, and the line where there is one.

    ``pred`` needs player_name, team, q05, q25, median, q75, q95 and optionally line; sorted by median so
    the week reads as a ranking.
    """
    df = pred.sort_values("median").tail(max_rows).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.22 * max(len(df), 1)))
    if df.empty:
        ax.text(0.5, 0.5, "no eligible players", ha="center", va="center")
        ax.axis("off")
        return fig
    y = np.arange(len(df))
    ax.hlines(y, df["q05"], df["q95"], color="C0", lw=1, alpha=0.6, label="5-95%")
    ax.hlines(y, df["q25"], df["q75"], color="C0", lw=4, alpha=0.8, label="25-75%")
    ax.plot(df["median"], y, "o", color="k", ms=3, label="median")
    if "line" in df and df["line"].notna().any():
        ax.plot(df["line"], y, "x", color="C3", ms=6, label="line")
    labels = [f"{n} ({t})" for n, t in zip(df["player_name"].astype(str), df["team"].astype(str))]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("rushing yards")
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def pit_histogram(pit: np.ndarray, bins: int = 10) -> Figure:
    """PIT values; a flat histogram means calibrated, a U shape overconfident, a hump underconfident."""
    counts, _ = np.histogram(np.asarray(pit, float), bins=bins, range=(0, 1))
    return pit_histogram_counts(counts)


def pit_histogram_counts(counts: Sequence[int]) -> Figure:
    """The PIT histogram from counts in equal bins over [0, 1] (as :func:`nfl_bnn.validate.score` keeps them)."""
    counts = np.asarray(counts, float)
    bins, n = len(counts), int(counts.sum())
    edges = np.linspace(0, 1, bins + 1)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(edges[:-1], counts, width=1 / bins, align="edge", color="C0", edgecolor="white")
    ax.axhline(n / bins, color="k", ls="--", lw=1, label="uniform")
    ax.set_xlabel("PIT = F(actual yards)")
    ax.set_ylabel("player-games")
    ax.set_title(f"PIT histogram ({n} player-games)")
    ax.legend()
    fig.tight_layout()
    return fig


def reliability_diagram(bins: pd.DataFrame) -> Figure:
    """Predicted P(over) against the observed over-rate per bin (point size = count)."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    if len(bins):
        ax.scatter(bins["mean_p"], bins["observed"], s=20 + 200 * bins["n"] / bins["n"].max(), color="C1",
                   zorder=3, label="model")
        ax.plot(bins["mean_p"], bins["observed"], color="C1")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(over)")
    ax.set_ylabel("observed share over")
    ax.set_title("Reliability of P(over)")
    ax.legend()
    fig.tight_layout()
    return fig


def coverage_by_week(weekly: pd.DataFrame, target90: float = 0.90, target68: float = 0.6827,
                     alert90: float = 0.80) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(weekly["week"], weekly["coverage90"], "o-", label="90% interval")
    ax.plot(weekly["week"], weekly["coverage68"], "s-", label="mean ± 1 sd")
    ax.axhline(target90, color="C0", ls="--", lw=1)
    ax.axhline(target68, color="C1", ls="--", lw=1)
    ax.axhline(alert90, color="C3", ls=":", lw=1, label="alert")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("week")
    ax.set_ylabel("coverage")
    ax.set_title("Coverage by week")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def bankroll_curve(x: Sequence, bankroll: Sequence[float], start: float | None = None,
                   title: str = "Bankroll") -> Figure:
    """Bankroll after each settled week (or bet), with the starting bankroll for reference."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    xs = np.arange(len(bankroll))
    ax.plot(xs, np.asarray(bankroll, float), "o-", color="C2")
    if start is not None:
        ax.axhline(start, color="k", ls="--", lw=1, label="start")
        ax.legend()
    ax.set_xticks(xs)
    ax.set_xticklabels([str(v) for v in x], rotation=45 if len(xs) > 10 else 0, fontsize=8)
    ax.set_ylabel("bankroll")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def drift_bars(drift: pd.DataFrame, threshold_sd: float = 0.5) -> Figure:
    """Shift of each feature's mean in training sds; bars beyond the threshold in red, calendar ones grey."""
    d = drift.sort_values("shift_sd")
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(d) + 1.5))
    cal = d["calendar"] if "calendar" in d else pd.Series(False, index=d.index)
    colors = ["0.7" if c else "C3" if abs(v) > threshold_sd else "C0" for v, c in zip(d["shift_sd"], cal)]
    ax.barh(d["feature"], d["shift_sd"], color=colors)
    for t in (-threshold_sd, threshold_sd):
        ax.axvline(t, color="k", ls="--", lw=1)
    ax.set_xlabel("shift of season mean (training sd)")
    ax.set_title("Feature drift (grey: calendar features, not judged)" if cal.any() else "Feature drift")
    fig.tight_layout()
    return fig


def predictive_check(actual: np.ndarray, grid: np.ndarray, density: np.ndarray) -> Figure:
    """Histogram of actual yards against the average predictive density (posterior predictive check)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(np.asarray(actual, float), bins=40, density=True, color="0.75", label="actual")
    ax.plot(grid, np.atleast_2d(density).mean(axis=0), color="C0", label="predictive (mean density)")
    ax.set_xlabel("rushing yards")
    ax.set_title("Posterior predictive check")
    ax.legend()
    fig.tight_layout()
    return fig


def rank_plot(idata, var_names: Sequence[str] | None = None) -> Figure:
    """ArviZ rank plots (one row per variable): uniform ranks across chains mean they agree."""
    import arviz as az

    axes = az.plot_rank(idata, var_names=var_names, figsize=(8, 2.2 * max(1, len(var_names or [1]))))
    return np.ravel(axes)[0].figure


def trace_plot(idata, var_names: Sequence[str] | None = None) -> Figure:
    import arviz as az

    axes = az.plot_trace(idata, var_names=var_names, compact=True)
    return np.ravel(axes)[0].figure


def reliability_with_counts(tables: dict[str, pd.DataFrame], title: str = "Reliability at the close") -> Figure:
    """Observed win share against predicted probability per bin, with binomial error bars (±1 SE) and the
    bin counts written beside the points; one series per probability (p_model, p_market, p_bet)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for i, (label, t) in enumerate(tables.items()):
        if not len(t):
            continue
        ax.errorbar(t["predicted"], t["observed"], yerr=t["se"], fmt="o-", ms=4, capsize=3, color=f"C{i}",
                    label=label)
        for x, y, n in zip(t["predicted"], t["observed"], t["n"]):
            ax.annotate(str(int(n)), (x, y), textcoords="offset points", xytext=(4, -10 - 8 * i), fontsize=6,
                        color=f"C{i}")
    ax.set_xlim(0.2, 0.8)  # prop probabilities live near 0.5: the full [0, 1] square hides them
    ax.set_ylim(0.2, 0.8)
    ax.set_xlabel("predicted probability that the side wins (bins of equal count)")
    ax.set_ylabel("observed share won")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def pnl_with_band(bands: dict[str, pd.DataFrame], title: str = "Flat-stake P&L") -> Figure:
    """Cumulative 1-unit P&L of the bets in time order with a bootstrap 90% band, one series per bet time."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i, (label, b) in enumerate(bands.items()):
        if not len(b):
            continue
        ax.plot(b["bet"], b["pnl"], color=f"C{i}", label=f"{label} ({len(b)} bets)")
        ax.fill_between(b["bet"], b["lo"], b["hi"], color=f"C{i}", alpha=0.2)
    ax.axhline(0, color="k", lw=1)
    ax.set_xlabel("bets, in time order")
    ax.set_ylabel("units won")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def clv_histogram(clv: dict[str, pd.Series], title: str = "Closing-line value of the bets") -> Figure:
    """Distribution of CLV (no-vig closing probability x decimal odds taken - 1) per bet time."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i, (label, c) in enumerate(clv.items()):
        c = pd.Series(c).dropna()
        if len(c):
            ax.hist(c, bins=30, alpha=0.5, color=f"C{i}", label=f"{label}: mean {c.mean():+.3f}, n {len(c)}")
    ax.axvline(0, color="k", lw=1)
    ax.set_xlabel("CLV")
    ax.set_ylabel("bets")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
