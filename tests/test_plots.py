"""Every figure renders from small fake data (never by sampling) and draws what it promises."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import plots


def test_density_from_prob_over_recovers_normal_pdf():
    from scipy import stats

    grid = np.linspace(-50, 200, 2001)
    sf = stats.norm.sf(grid, 60, 25)[None, :]
    dens = plots.density_from_prob_over(grid, sf)
    assert np.allclose(dens[0], stats.norm.pdf(grid, 60, 25), atol=1e-5)


def test_bet_distributions_one_panel_per_bet_with_line():
    grid = np.linspace(0, 150, 151)
    dens = np.vstack([np.exp(-((grid - m) ** 2) / 400) for m in (40, 70)])
    fig = plots.bet_distributions(grid, dens, [55.5, 64.5], ["over", "under"], ["A", "<b>B</b>"], [0.6, 0.7])
    used = [ax for ax in fig.axes if ax.axison]
    assert len(used) == 2
    assert used[0].lines[1].get_xdata()[0] == 55.5  # the line
    assert "under 64.5" in used[1].get_title()


def test_bet_distributions_no_bets():
    fig = plots.bet_distributions(np.arange(3), np.zeros((0, 3)), [], [], [])
    assert "no bets" in fig.axes[0].texts[0].get_text()


def test_pit_histogram_counts(rng):
    pit = rng.uniform(size=200)
    fig = plots.pit_histogram(pit, bins=10)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert len(heights) == 10 and sum(heights) == 200


def test_reliability_coverage_bankroll_drift():
    bins = pd.DataFrame({"mean_p": [0.2, 0.6], "observed": [0.25, 0.5], "n": [10, 30]})
    assert len(plots.reliability_diagram(bins).axes[0].collections) == 1
    weekly = pd.DataFrame({"week": [8, 9], "coverage90": [0.9, 0.7], "coverage68": [0.7, 0.6]})
    assert len(plots.coverage_by_week(weekly).axes[0].lines) == 6  # 2 series, 2 targets, alert band low + high
    fig = plots.bankroll_curve(["w8", "w9", "w10"], [1000, 1010, 990], start=1000)
    assert list(fig.axes[0].lines[0].get_ydata()) == [1000, 1010, 990]
    drift = pd.DataFrame({"feature": ["a", "b"], "shift_sd": [0.1, -0.8]})
    bars = plots.drift_bars(drift).axes[0].patches
    assert [b.get_width() for b in bars] == [-0.8, 0.1]
    assert plots.predictive_check(np.array([10, 50, 80]), np.arange(3), np.ones((2, 3))).axes


def test_rank_and_trace_plots_from_fake_idata(rng):
    az = pytest.importorskip("arviz")
    idata = az.from_dict(posterior={"mu": rng.normal(size=(2, 50)), "sigma": rng.gamma(2, size=(2, 50))})
    assert plots.rank_plot(idata, ["mu", "sigma"]).axes
    assert plots.trace_plot(idata, ["mu"]).axes


def test_prediction_intervals_sorted_by_median_with_lines():
    pred = pd.DataFrame({"player_name": ["A", "B", "C"], "team": ["KC", "LV", "DAL"],
                         "q05": [10, 30, 0], "q25": [30, 50, 15], "median": [45, 70, 25],
                         "q75": [60, 90, 35], "q95": [90, 130, 60], "line": [44.5, np.nan, 24.5]})
    fig = plots.prediction_intervals(pred)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C (DAL)", "A (KC)", "B (LV)"]
    medians = ax.lines[0].get_xdata()
    assert list(medians) == [25, 45, 70]
    line_marks = ax.lines[1].get_xdata()
    assert line_marks[0] == 24.5 and np.isnan(line_marks[2])
    empty = plots.prediction_intervals(pred.iloc[:0])
    assert empty.axes[0].texts[0].get_text() == "no eligible players"


def _week(proxy: bool) -> pd.DataFrame:
    return pd.DataFrame({
        "player_name": ["A", "B", "C"], "team": ["BUF", "NYJ", "DAL"], "q05": [10, 20, 5], "q25": [30, 40, 20],
        "median": [50, 60, 40], "q75": [70, 80, 60], "q95": [100, 110, 90], "line": [55.5, 52.5, np.nan],
        "side": ["under", "over", None], "decision": ["bet", "bet", "no_line"],
        "source": ["proxy:season_median" if proxy else "book"] * 2 + [None]})


def test_prediction_intervals_marks_bets_with_their_side_and_proxy_in_title():
    fig = plots.prediction_intervals(_week(proxy=True))
    ax = fig.axes[0]
    assert "PROXY" in ax.get_title()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "B (NYJ)  OVER" in labels and "A (BUF)  UNDER" in labels and "C (DAL)" in labels
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "bet OVER at the line" in legend and "bet UNDER at the line" in legend
    assert "PROXY" not in plots.prediction_intervals(_week(proxy=False)).axes[0].get_title()


def test_bet_distributions_title_says_proxy():
    grid = np.linspace(0, 150, 151)
    fig = plots.bet_distributions(grid, np.ones((1, 151)), [55.5], ["over"], ["A"], proxy=True)
    assert "PROXY" in fig._suptitle.get_text()
    assert "PROXY" in plots.bet_distributions(grid, np.zeros((0, 151)), [], [], [], proxy=True).axes[0].get_title()


def test_reliability_diagram_counts_error_bars_no_joining_line():
    bins = pd.DataFrame({"bin_lo": [0.3, 0.5], "bin_hi": [0.4, 0.6], "n": [4, 120], "mean_p": [0.35, 0.55],
                         "observed": [0.5, 0.52]})
    fig = plots.reliability_diagram(bins, proxy=True)
    ax = fig.axes[0]
    assert "PROXY" in ax.get_title()
    assert [t.get_text() for t in ax.texts] == ["n=4", "n=120"]
    assert ax.containers and len(ax.containers[0].lines[2][0].get_segments()) == 2  # one error bar per bin
    joined = [ln for ln in ax.lines if ln.get_linestyle() not in ("None", "", " ") and len(ln.get_xdata()) == 2
              and list(ln.get_xdata()) == [0.35, 0.55]]
    assert not joined


def test_coverage_by_week_whole_week_ticks_and_band_on_both_sides():
    import matplotlib.pyplot as plt

    weekly = pd.DataFrame({"week": [8, 9, 10, 11], "coverage90": [0.9, 0.96, 0.85, 0.9],
                           "coverage68": [0.7, 0.6, 0.7, 0.7]})
    fig = plots.coverage_by_week(weekly)
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)
    levels = {round(float(ln.get_ydata()[0]), 2) for ln in fig.axes[0].lines if ln.get_linestyle() == ":"}
    assert {0.80, 0.95} <= levels
    plt.close("all")


def test_trace_plot_coloured_by_chain_with_legend(rng):
    import arviz as az

    idata = az.from_dict(posterior={"alpha": rng.normal(size=(3, 50, 2))})
    fig = plots.trace_plot(idata, ["alpha"])
    colours = {ln.get_color() for ln in fig.axes[1].lines}
    assert {"C0", "C1", "C2"} <= colours
    assert any(ax.get_legend() is not None for ax in fig.axes)
    fig = plots.rank_plot(idata, ["alpha"])
    assert "per chain" in fig._suptitle.get_text()
