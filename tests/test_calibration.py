"""Calibration metrics on frames whose answer is computed by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import calibration as cal
from nfl_bnn.errors import DataError


def _frame():
    return pd.DataFrame({
        "week": [8, 8, 9, 9],
        "mean": [50.0, 60, 70, 80], "median": [48.0, 58, 68, 78], "sd": [10.0, 10, 10, 10],
        "q05": [30.0, 40, 50, 60], "q95": [70.0, 80, 90, 100],
        "actual": [55, 85, 61, 120],  # in 90%: yes, no, yes, no; in 1 sd: yes, no, yes, no
        "base": [50.0, np.nan, 70, 90],
    })


def test_summary_coverage_mae_and_alert():
    s = cal.summary(_frame(), baseline="base")
    assert s["coverage90"] == 0.5 and s["coverage68"] == 0.5
    assert s["mae"] == pytest.approx((7 + 27 + 7 + 42) / 4)
    assert s["mae_baseline"] == pytest.approx((5 + 9 + 30) / 3) and s["baseline_rows"] == 3
    assert s["alert"] is True
    assert "covers only 50.0%" in cal.alerts(s)[0]


def test_the_one_sd_target_is_the_forecasts_own_probability_where_given():
    """0.6827 is the mean +/- 1 sd target of a Normal; a skewed forecast says its own (p_1sd)."""
    assert cal.summary(_frame())["target68"] == pytest.approx(0.6827)
    s = cal.summary(_frame().assign(p_1sd=[0.70, 0.72, 0.74, 0.76]))
    assert s["target68"] == pytest.approx(0.73) and s["coverage68"] == 0.5


def test_by_week_and_missing_columns():
    w = cal.by_week(_frame())
    assert w.week.tolist() == [8, 9] and w.coverage90.tolist() == [0.5, 0.5]
    with pytest.raises(DataError, match=r"\['q05'\]"):
        cal.summary(_frame().drop(columns="q05"))


def test_reliability_bins_and_pit():
    b = cal.reliability_bins(np.array([0.1, 0.15, 0.8, 0.9]), np.array([0, 1, 1, 1]), n_bins=2)
    assert b.n.tolist() == [2, 2] and b.observed.tolist() == [0.5, 1.0]
    assert b.mean_p.tolist() == pytest.approx([0.125, 0.85])
    assert cal.pit_from_prob_over(np.array([0.2, 1.2])).tolist() == pytest.approx([0.8, 0.0])


def test_season_to_date_baseline_uses_only_earlier_weeks():
    stats = pd.DataFrame({"season": [2019] * 4 + [2018], "week": [1, 2, 3, 4, 17],
                          "player_id": ["p"] * 5, "rushing_yards": [10, 20, 60, 999, 500]})
    rows = pd.DataFrame({"season": [2019, 2019, 2019], "week": [1, 3, 4], "player_id": ["p", "p", "p"]})
    got = cal.season_to_date_baseline(stats, rows)
    assert np.isnan(got.iloc[0]) and got.iloc[1] == 15 and got.iloc[2] == 30


def test_coverage_alert_fires_on_both_sides_of_the_band():
    df = pd.DataFrame({"mean": [50.0] * 1000, "median": 50.0, "sd": 20.0, "q05": 10.0, "q95": 90.0})
    inside = np.r_[np.full(957, 50.0), np.full(43, 200.0)]  # 95.7% covered: too wide
    s = cal.summary(df.assign(actual=inside))
    assert s["alert"] and "too wide" in cal.alerts(s)[0]
    ok = np.r_[np.full(900, 50.0), np.full(100, 200.0)]
    s = cal.summary(df.assign(actual=ok))
    assert not s["alert"] and cal.alerts(s) == []


def test_median_proxy_lines_use_the_weekly_runs_rule():
    from nfl_bnn.proxy_lines import season_median_lines

    stats = pd.DataFrame({"season": 2019, "week": [1, 2, 3, 1, 2], "player_id": ["a", "a", "a", "b", "b"],
                          "player_name": ["A", "A", "A", "B", "B"], "team": "BUF",
                          "rushing_yards": [10, 100, 20, 50, 70]})
    rows = pd.DataFrame({"season": 2019, "week": [4, 3, 2], "player_id": ["a", "b", "a"],
                         "player_name": ["A", "B", "A"], "team": "BUF"})
    lines = cal.median_proxy_lines(stats, rows)
    # a in week 4: median of 10, 100, 20 = 20 -> 20.5 (the mean, 43.3, would give 43.5); b in week 3: 60.5;
    # a in week 2: one earlier game, fewer than the weekly run's minimum of 2 -> no line
    assert lines.iloc[0] == 20.5 and lines.iloc[1] == 60.5 and np.isnan(lines.iloc[2])
    weekly = season_median_lines(stats, rows.iloc[[0]], 2019, 4)
    assert set(weekly["line"]) == {lines.iloc[0]}
