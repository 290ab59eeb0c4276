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
    assert len(plots.coverage_by_week(weekly).axes[0].lines) == 5
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
