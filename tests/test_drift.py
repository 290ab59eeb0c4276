"""Feature drift in training standard deviations, on frames computed by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import drift
from nfl_bnn.errors import DataError, ModelArtifactError


class FakeScaler:
    mean_ = np.array([10.0, 50.0])
    scale_ = np.array([2.0, 20.0])


def test_shift_in_training_sd_and_recommendation():
    train = drift.scaler_stats(FakeScaler(), ["carries", "yards"])
    X = pd.DataFrame({"carries": [11.0, 13.0], "yards": [50.0, 54.0]})  # means 12 and 52
    d = drift.feature_drift(X, train)
    got = dict(zip(d.feature, d.shift_sd))
    assert got == pytest.approx({"carries": 1.0, "yards": 0.1})
    assert d.feature[0] == "carries" and list(d.drifted) == [True, False]
    assert drift.recommendation(d).startswith("RETRAIN recommended: 1 feature")
    ok = drift.feature_drift(pd.DataFrame({"carries": [10.8], "yards": [45.0]}), train)
    assert drift.recommendation(ok).startswith("no retraining needed")


def test_dict_scaler_and_errors():
    train = drift.scaler_stats({"mean": [1.0], "scale": [1.0]}, ["a"])
    assert train.train_sd.tolist() == [1.0]
    with pytest.raises(ModelArtifactError, match="no training mean"):
        drift.scaler_stats(object(), ["a"])
    with pytest.raises(ModelArtifactError, match="2 means"):
        drift.scaler_stats({"mean": [1.0, 2.0], "scale": [1.0, 1.0]}, ["a"])
    with pytest.raises(DataError, match=r"\['a'\] are missing"):
        drift.feature_drift(pd.DataFrame({"b": [1.0]}), train)
    with pytest.raises(DataError, match="no rows"):
        drift.feature_drift(pd.DataFrame({"a": []}), train)


def test_calendar_features_are_shown_but_never_judged():
    """A new season is always past the training seasons: that is not drift, so it never recommends retraining."""
    train = drift.scaler_stats({"mean": [2018.0, 9.0, 10.0], "sd": [3.0, 5.0, 2.0]}, ["season", "week", "carries"])
    X = pd.DataFrame({"season": [2024.0, 2024.0], "week": [1.0, 2.0], "carries": [10.2, 10.6]})
    d = drift.feature_drift(X, train)
    assert list(d.feature) == ["carries", "season", "week"]  # judged features first
    assert d.set_index("feature").loc["season", "shift_sd"] == pytest.approx(2.0)
    assert not d["drifted"].any() and list(d["calendar"]) == [False, True, True]
    msg = drift.recommendation(d)
    assert msg.startswith("no retraining needed") and "carries" in msg
