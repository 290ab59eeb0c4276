"""Scoring rules on hand-checkable forecasts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import validate as V


def test_point_mass_forecast_scores_by_hand():
    # residuals all zero: the forecast is a point mass at the point prediction
    fc = V.residual_forecast("pm", np.array([10.0, 20.0]), np.zeros(5))
    s = V.score(fc, np.array([10.0, 23.0]), line=np.array([9.5, 25.5]))
    assert s["MAE"] == pytest.approx(1.5)  # |10-10|, |23-20|
    assert s["CRPS"] == pytest.approx(1.5)  # discrete CRPS of a point mass = |y - x| for integers
    assert s["Brier"] == pytest.approx(0.0)  # P(over 9.5)=1 and y>9.5; P(over 25.5)=0 and y<25.5
    assert s["cov90"] == pytest.approx(0.5)


def test_normal_forecast_calibrated_on_its_own_draws(rng):
    mu = np.full(4000, 60.0)
    y = np.round(rng.normal(60, 25, size=4000))
    s = V.score(V.normal_forecast("n", mu, 25.0), y)
    assert 0.88 < s["cov90"] < 0.92 and 0.64 < s["cov68"] < 0.72 and 0.47 < s["cov50"] < 0.53
    assert s["MAE"] == pytest.approx(np.mean(np.abs(y - 60)), rel=0.01)
    # the discrete log score of a Normal(60, 25) at integers is close to its continuous log density
    assert s["logS"] == pytest.approx(0.5 * np.log(2 * np.pi * 25**2) + 0.5, abs=0.05)
    sharper = V.score(V.normal_forecast("n", mu, 5.0), y)
    assert sharper["CRPS"] > s["CRPS"]  # a proper score punishes overconfidence


def test_quantile_forecast_reproduces_its_quantiles():
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    fc = V.quantile_forecast("q", np.array([[0.0, 20.0, 40.0, 60.0, 100.0]]), levels)
    assert fc.median[0] == pytest.approx(40.0, abs=0.6)
    assert fc.q05[0] == pytest.approx(0.0, abs=0.6) and fc.q95[0] == pytest.approx(100.0, abs=0.6)


def test_cov68_own_is_what_a_calibrated_forecast_of_that_shape_covers(rng):
    # Normal: mean +/- 1 sd holds ~68% of its own mass
    normal = V.score(V.normal_forecast("n", np.full(2000, 60.0), 25.0), np.round(rng.normal(60, 25, 2000)))
    assert normal["cov68_own"] == pytest.approx(0.68, abs=0.02)
    # a right-skewed heavy-tailed law (log-normal-ish like rushing yards): its own mean +/- 1 sd holds
    # far more than 68%, and draws from it cover about that much: a calibrated skewed forecast
    # "over-covers" cov68 by construction
    res = np.exp(rng.normal(0, 0.6, 20000)) * 40 - 40 * np.exp(0.18)
    y = np.round(50 + rng.choice(res, 3000))
    s = V.score(V.residual_forecast("skew", np.full(3000, 50.0), res), y)
    assert s["cov68_own"] > 0.74
    assert s["cov68"] == pytest.approx(s["cov68_own"], abs=0.03)
    assert 0.88 < s["cov90"] < 0.92  # while its quantile intervals are calibrated


def test_tails_by_season_counts_misses_on_each_side():
    import pandas as pd

    class Fixed:  # q05 = 10, q95 = 100 for every row
        def predict(self, X):
            return pd.DataFrame({"q05": np.full(len(X), 10.0), "q95": np.full(len(X), 100.0)})

    frame = pd.DataFrame({"season": [2020] * 4 + [2021] * 2, "rushing_yards": [5, 50, 50, 150, 50, 9]})
    t = V.tails_by_season(Fixed(), frame).set_index("season")
    assert t.loc[2020, "below_q05"] == 0.25 and t.loc[2020, "above_q95"] == 0.25 and t.loc[2020, "cov90"] == 0.5
    assert t.loc[2021, "below_q05"] == 0.5 and t.loc[2021, "n"] == 2


def test_disagreement_bins_by_the_gap_and_shows_who_is_right():
    # 4 rows where the model and the other forecast agree, 4 where they differ by 20 and the other is right
    m = np.array([50, 60, 70, 80, 50, 50, 90, 90], float)
    o = np.array([50, 60, 70, 80, 30, 30, 110, 110], float)
    y = np.array([52, 58, 71, 79, 30, 30, 110, 110], float)
    t = V.disagreement(m, o, y, bins=2)
    assert list(t["n"]) == [4, 4]
    near, far = t.iloc[0], t.iloc[1]
    assert near["mae_model"] == pytest.approx(1.5) and near["mae_other"] == pytest.approx(1.5)
    assert far["mae_model"] == pytest.approx(20.0) and far["mae_other"] == 0.0
    assert far["n_model_higher"] == 2 and far["actual_if_higher"] == 30 and far["other_if_higher"] == 30
    assert far["model_if_lower"] == 90 and far["actual_if_lower"] == 110


def test_dispersion_persistence_compares_the_halves_of_each_season():
    class Median:
        def predict(self, frame):
            return pd.DataFrame({"median": np.full(len(frame), 35.0)})

    rng = np.random.default_rng(3)
    rows = []
    for season, (a, b) in {2020: (0.2, 0.4), 2021: (0.3, 0.6), 2022: (0.4, 0.8)}.items():
        for week, s in [(w, a if w <= 8 else b) for w in range(1, 19)]:
            z = rng.normal(0, 1, 200)
            z = (z - z.mean()) / z.std(ddof=1) * s  # exact sd per week
            rows += [{"season": season, "week": week, "rushing_yards": 60 * np.exp(v) - 25} for v in z]
    fr = pd.DataFrame(rows)
    t, corr = V.dispersion_persistence(Median(), fr)
    assert list(t["season"]) == [2020, 2021, 2022]
    np.testing.assert_allclose(t["sd_early"], [0.2, 0.3, 0.4], rtol=0.02)
    np.testing.assert_allclose(t["sd_late"], [0.4, 0.6, 0.8], rtol=0.02)
    assert corr == pytest.approx(1.0, abs=1e-3)  # the late spread follows the early one exactly


def test_grid_quantiles_are_whole_yards_by_the_model_rule():
    """Half of the mass on 3 yards, half on 7: q05 = median = 3 (F(3.5) = 0.5 >= 0.5), q75 = q95 = 7;
    an interpolated quantile would have put the median at 3.5 and the 25% quantile between 3 and 4."""
    cdf = ((V.GRID >= 3) * 0.5 + (V.GRID >= 7) * 0.5)[None, :]
    fc = V.from_cdf("two", cdf)
    assert (fc.q05[0], fc.q25[0], fc.median[0], fc.q75[0], fc.q95[0]) == (3, 3, 3, 7, 7)
    s = V.score(fc, np.array([3.0]))
    assert s["cov90"] == 1.0 and s["cov50"] == 1.0 and s["MAE"] == 0.0
    # a Normal forecast: the same rule as the model's, row by row
    from scipy.special import ndtr
    fc = V.normal_forecast("n", np.array([0.0]), 10.0)
    assert (fc.q05[0], fc.median[0], fc.q95[0]) == (-16, 0, 16)  # as test_model's hand-computed case
    assert ndtr(16.5 / 10) >= 0.95 > ndtr(15.5 / 10)
