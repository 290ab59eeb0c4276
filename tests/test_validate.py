"""Scoring rules on hand-checkable forecasts."""
from __future__ import annotations

import numpy as np
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
