"""Small hand-built model artifacts for ops tests (no sampling): a known predictive distribution."""
from __future__ import annotations

import numpy as np

from nfl_bnn.model import ARTIFACT_FORMAT, MODEL_VERSION, MixtureExpertsBNN


def fake_model(feature_names=("carries_proj", "yards_l3"), K=2, S=20, mean=65.0, sd=30.0, seed=0):
    """A model whose prediction is roughly Normal(mean, sd) for every row, with a sane scaler."""
    rng = np.random.default_rng(seed)
    d = len(feature_names)
    params = {
        "gate_W": np.zeros((S, d, K - 1)), "gate_b": np.zeros((S, K - 1)),
        "alpha": np.tile(np.linspace(-0.01, 0.01, K), (S, 1)) + rng.normal(0, 1e-3, (S, K)),
        "beta": np.zeros((S, K, d)), "scale_c": np.zeros((S, K)), "gamma": np.zeros((S, d)),
        "W_h": np.zeros((S, d, 0)), "v": np.zeros((S, K, 0)),
    }
    meta = {
        "format": ARTIFACT_FORMAT, "model_version": MODEL_VERSION + "-fake", "feature_names": list(feature_names),
        "n_experts": K, "hidden_units": 0,
        "scaler": {"mean": [10.0 + i for i in range(d)], "sd": [3.0 + i for i in range(d)]},
        "target": {"mean": mean, "sd": sd}, "training_window": [2015, 2018], "data_fingerprint": "fake",
    }
    return MixtureExpertsBNN(params, meta)
