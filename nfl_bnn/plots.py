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
                      labels: Sequence[str], probs: Sequence[float] | None = None, ncols: int = 3,
                      proxy: bool = False) -> Figure:
    """One panel per bet: the predictive density of rushing yards, the line, the side bet shaded.

    ``proxy``: the lines were proxies; the figure's title says PROXY.
    """
    density = np.atleast_2d(density)
    n = len(lines)
    if n == 0:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.text(0.5, 0.5, "no bets this week", ha="center", va="center")
        ax.axis("off")
        ax.set_title(proxy_title("Each bet's predictive distribution", proxy), fontsize=10)
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
    fig.suptitle(proxy_title("Each bet's predictive distribution", proxy), fontsize=10)
    fig.tight_layout()
    return fig


def _is_proxy(df: pd.DataFrame) -> bool:
    """Whether any priced line of ``df`` is a proxy (``source`` like ``proxy:season_median``)."""
    if "source" not in df or not len(df):
        return False
    return bool(df["source"].astype("string").str.startswith("proxy").fillna(False).any())


def proxy_title(title: str, proxy: bool) -> str:
    """``title`` with the PROXY label every chart on proxy lines carries (they are not market prices)."""
    return f"{title} — PROXY LINES, not market prices" if proxy else title


def prediction_intervals(pred: pd.DataFrame, max_rows: int = 60, title: str | None = None,
                         proxy: bool | None = None) -> Figure:
    """Every eligible back of a week: 5-95% and 25-75% intervals, median, the line, and the bets.

    ``pred`` needs player_name, team, q05, q25, median, q75, q95 and optionally line, side, decision
    and source (the weekly predictions file); sorted by median so the week reads as a ranking. Backs
    bet are marked with a triangle at the line pointing to the side bet (up: over, down: under) and
    their label ends in OVER/UNDER; the title says PROXY when the lines were proxies (``proxy=None``:
    read from ``source``).
    """
    df = pred.sort_values("median").tail(max_rows).reset_index(drop=True)
    proxy = _is_proxy(df) if proxy is None else proxy
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.22 * max(len(df), 1)))
    ax.set_title(proxy_title(title or "Every eligible back", proxy), fontsize=10)
    if df.empty:
        ax.text(0.5, 0.5, "no eligible players", ha="center", va="center")
        ax.axis("off")
        return fig
    y = np.arange(len(df))
    ax.hlines(y, df["q05"], df["q95"], color="C0", lw=1, alpha=0.6, label="5-95%")
    ax.hlines(y, df["q25"], df["q75"], color="C0", lw=4, alpha=0.8, label="25-75%")
    ax.plot(df["median"], y, "o", color="k", ms=3, label="median")
    if "line" in df and df["line"].notna().any():
        ax.plot(df["line"], y, "x", color="0.4", ms=6, label="line (no bet)")
    bet = (df["decision"] == "bet") if "decision" in df else pd.Series(False, index=df.index)
    side = df["side"].astype("string").str.lower() if "side" in df else pd.Series("", index=df.index)
    for s, marker, color in (("over", "^", "C2"), ("under", "v", "C3")):
        m = (bet & (side == s)).fillna(False).to_numpy(bool)
        if m.any():
            ax.plot(df.loc[m, "line"], y[m], marker, color=color, ms=8, label=f"bet {s.upper()} at the line")
    labels = [f"{n} ({t})" + (f"  {str(sd).upper()}" if b else "")
              for n, t, b, sd in zip(df["player_name"].astype(str), df["team"].astype(str), bet, side)]
    ax.set_yticks(y, labels, fontsize=7)
    for tick, b in zip(ax.get_yticklabels(), bet):
        if b:
            tick.set_fontweight("bold")
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


def reliability_diagram(bins: pd.DataFrame, title: str = "Reliability of P(over)", proxy: bool = False) -> Figure:
    """Predicted P(over) against the observed over-rate per bin, with its count and a 95% error bar.

    Bins are not joined by lines: a bin of 4 player-games says little, and a line through it would
    draw a trend that is not there. The error bar is ±1.96 binomial standard errors at the bin's mean
    prediction: how far a calibrated model's observed share would scatter with that many games.
    """
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    if len(bins):
        n = bins["n"].to_numpy(float)
        p = np.clip(bins["mean_p"].to_numpy(float), 0, 1)
        se = 1.96 * np.sqrt(p * (1 - p) / np.maximum(n, 1))
        ax.errorbar(bins["mean_p"], bins["observed"], yerr=se, fmt="o", color="C1", ecolor="C1", elinewidth=1,
                    capsize=3, ms=5, zorder=3, label="observed share over, ±1.96 binomial SE")
        for x, yv, k in zip(bins["mean_p"], bins["observed"], n):
            ax.annotate(f"n={int(k)}", (x, yv), textcoords="offset points", xytext=(6, -10), fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("predicted P(over)")
    ax.set_ylabel("observed share over")
    ax.set_title(proxy_title(title, proxy), fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def coverage_by_week(weekly: pd.DataFrame, target90: float = 0.90, target68: float = 0.6827,
                     alert90: float = 0.80, alert90_high: float | None = 0.95) -> Figure:
    """Coverage of the 90% interval and of mean ± 1 sd per week, against targets and the alert band.

    Weeks are whole numbers, so the axis ticks are too.
    """
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.plot(weekly["week"], weekly["coverage90"], "o-", label="90% interval")
    ax.plot(weekly["week"], weekly["coverage68"], "s-", label="mean ± 1 sd")
    ax.axhline(target90, color="C0", ls="--", lw=1)
    ax.axhline(target68, color="C1", ls="--", lw=1)
    ax.axhline(alert90, color="C3", ls=":", lw=1, label="alert band (90% interval)")
    if alert90_high is not None:
        ax.axhline(alert90_high, color="C3", ls=":", lw=1)
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
    """ArviZ rank plots, one panel per variable and chain: uniform ranks across chains mean they agree."""
    import arviz as az

    n = len(var_names or [1])
    axes = az.plot_rank(idata, var_names=var_names, kind="bars", figsize=(9, 2.6 * max(1, n)))
    fig = np.ravel(axes)[0].figure
    for ax in np.ravel(axes):
        ax.title.set_fontsize(9)
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
        ax.tick_params(labelsize=8)
    fig.suptitle("Rank plots per chain (uniform bars: the chains agree)", fontsize=10)
    fig.tight_layout()
    return fig


def trace_plot(idata, var_names: Sequence[str] | None = None) -> Figure:
    """ArviZ trace plot with one colour per chain and a legend naming the chains.

    Titles sit above the panels with room to spare, so they never run into the tick labels.
    """
    import arviz as az

    n_chains = int(idata.posterior.sizes.get("chain", 1))
    colors = [f"C{i % 10}" for i in range(n_chains)]
    axes = az.plot_trace(idata, var_names=var_names, compact=True, legend=True,
                         chain_prop={"color": colors, "linestyle": ["solid"] * n_chains},
                         figsize=(10, 2.6 * max(1, len(var_names or [1]))))
    fig = np.ravel(axes)[0].figure
    for ax in np.ravel(axes):
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"Trace of each chain's draws: colour = chain ({n_chains} chain{'s' if n_chains != 1 else ''}), "
                 "one line per expert", fontsize=10)
    fig.tight_layout()
    return fig


def reliability_with_counts(tables: dict[str, pd.DataFrame], title: str = "Reliability at the close") -> Figure:
    """Observed win share against predicted probability per bin, with binomial error bars (±1 SE) and the
    bin counts written beside the points; one series per probability (p_model, p_market, p_bet)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for i, (label, t) in enumerate(tables.items()):
        if not len(t):
            continue
        ax.errorbar(t["predicted"], t["observed"], yerr=t["se"], fmt="o", ms=4, capsize=3, color=f"C{i}",
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
