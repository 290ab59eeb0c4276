"""train.fit's steps, each on small hand-made arrays (no sampling except where a step samples)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import fitting, sampling, train
from nfl_bnn.errors import DataError
from nfl_bnn.model import PARAM_SHAPES, MixtureExpertsBNN, _dims
from nfl_bnn.model.checks import check_meta


def test_standardise_holds_constant_features_at_sd_one_and_lists_them():
    frame = pd.DataFrame({"a": [1.0, 3.0, 5.0, 7.0], "b": [2.0, 2.0, 2.0, 2.0]})
    std = fitting.standardise(frame, ["a", "b"])
    np.testing.assert_allclose(std.mean, [4.0, 2.0])
    np.testing.assert_allclose(std.sd, [np.sqrt(5.0), 1.0])
    np.testing.assert_allclose(std.Xz[:, 0], np.array([-3, -1, 1, 3]) / np.sqrt(5.0))
    assert (std.Xz[:, 1] == 0).all() and std.constant == ["b"]


def test_target_bins_identity_and_log_by_hand():
    y = np.array([0.0, 10.0, 20.0])
    t = fitting.target_bins(y, "identity", 25.0, floor_yards=1.0)
    assert t.mean == pytest.approx(10.0) and t.sd == pytest.approx(np.sqrt(200 / 3))
    assert t.edges is None and t.floor == pytest.approx(1.0 / np.sqrt(200 / 3))
    t = fitting.target_bins(y, "log", 25.0, floor_yards=1.0)
    yt = np.log(y + 25)
    assert t.mean == pytest.approx(yt.mean()) and t.sd == pytest.approx(yt.std())
    lo, hi = t.edges
    np.testing.assert_allclose(lo * t.sd + t.mean, np.log(y - 0.5 + 25))
    np.testing.assert_allclose(hi * t.sd + t.mean, np.log(y + 0.5 + 25))
    assert t.floor == pytest.approx(1.0 / yt.std() / (10.0 + 25.0))  # one yard at the mean yardage
    with pytest.raises(DataError, match="raise target_offset_yards"):
        fitting.target_bins(np.array([-30.0, 10.0]), "log", 25.0, 1.0)


def _arrays(rng, C=2, D=40, d=2, K=2, shift=0.0):
    a = {n: rng.normal(0, 0.05, size=(C, D) + _dims(sh, d, K, 0)) for n, sh in PARAM_SHAPES.items()}
    a["alpha"] = np.sort(a["alpha"], axis=2)
    a["alpha"][1] += shift  # chain 1 in another place when shift != 0
    return a


def _target(n, rng):
    return fitting.target_bins(np.round(rng.normal(60, 20, n)), "identity", 25.0, 0.0)


def test_predictive_diagnostics_see_chains_that_disagree(rng):
    p = train.TrainParams(n_experts=2, gate="softmax", gate_features=None)
    Xz, tgt = rng.normal(size=(30, 2)), _target(30, rng)
    hold = np.arange(30) >= 10
    diag, ll = fitting.predictive_diagnostics(_arrays(rng), Xz, tgt, hold, p)
    assert ll.shape == (2, 40, 20) and np.isfinite(ll).all()
    assert diag["chains"] == 2 and diag["holdout_rows"] == 20 and diag["rhat_pred_max"] < 1.1
    bad, _ = fitting.predictive_diagnostics(_arrays(rng, shift=1.0), Xz, tgt, hold, p)
    assert bad["rhat_pred_max"] > 1.5 and bad["rhat_alpha_max"] > 1.5  # one chain predicts a sd higher
    one, _ = fitting.predictive_diagnostics({k: v[:1] for k, v in _arrays(rng).items()}, Xz, tgt, hold, p)
    assert "rhat_pred_max" not in one  # one chain: nothing to compare


def test_combine_chains_pools_agreeing_chains_and_stacks_others(rng):
    arrays = _arrays(rng, C=2, D=40)
    arrays["alpha"][0, :, 0], arrays["alpha"][1, :, 0] = -1.0, -2.0  # to tell the chains' draws apart
    ll = rng.normal(-4, 0.1, size=(2, 40, 25))
    keep, info = fitting.combine_chains(arrays, ll, rhat_pred_max=1.01, keep_draws=30)
    assert info["combination"] == "pooled (chains agree)" and info["stacking_weights"] == [0.5, 0.5]
    assert keep["alpha"].shape == (30, 2) and keep["alpha"].dtype == np.float32
    assert (keep["alpha"][:, 0] == -1).sum() == 15 and (keep["alpha"][:, 0] == -2).sum() == 15
    worse = ll.copy()
    worse[1] -= 1.0  # chain 1 predicts every held row e times less well
    keep, info = fitting.combine_chains(arrays, worse, rhat_pred_max=1.5, keep_draws=30)
    assert info["combination"] == "stacking" and info["stacking_weights"][0] > 0.9
    assert len(keep["alpha"]) == 30 and (keep["alpha"][:, 0] == -1).sum() >= 27
    assert info["chain_elpd_holdout"][0] > info["chain_elpd_holdout"][1]


def test_artifact_metadata_makes_a_loadable_model(rng, tmp_path):
    names = ["proj_carries", "carry_share"]
    p = train.TrainParams(n_experts=2, features=names, gate="softmax", gate_features=None, hidden_units=0)
    std = fitting.standardise(pd.DataFrame({names[0]: [1.0, 2.0, 4.0], names[1]: [0.0, 1.0, 0.0]}), names)
    tgt = fitting.target_bins(np.array([10.0, 50.0, 90.0]), "log", 25.0, 1.0)
    meta = fitting.artifact_metadata(p, std, tgt, 2019, 2020, {"stacking_weights": [1.0]})
    check_meta(meta)
    assert meta["training_window"] == {"first_season": 2019, "last_season": 2020, "rows": 3}
    assert meta["target"]["transform"] == "log" and "pymc" in meta["versions"]
    keep = {k: v[0].astype(np.float32) for k, v in _arrays(rng, D=5).items()}
    m = MixtureExpertsBNN.load(MixtureExpertsBNN(keep, meta).save(tmp_path / "m.npz"))
    assert m.feature_names == names and m.meta["data_fingerprint"] == meta["data_fingerprint"]


def test_start_dispersion_measures_how_far_apart_chains_started(rng):
    import arviz as az

    post = rng.normal(0, 0.01, size=(4, 50, 3))  # posterior sd 0.01
    starts = np.concatenate([rng.uniform(-1, 1, size=(4, 1, 3)), post[:, :10]], axis=1)  # jittered starts
    idata = az.from_dict(posterior={"alpha": post}, warmup_posterior={"alpha": starts}, save_warmup=True)
    assert sampling.start_dispersion(idata) > 10  # starts far wider than the posterior: overdispersed
    same = az.from_dict(posterior={"alpha": post}, warmup_posterior={"alpha": np.zeros((4, 5, 3))}, save_warmup=True)
    assert sampling.start_dispersion(same) == 0.0  # every chain from one point: R-hat could not see much
    assert sampling.start_dispersion(az.from_dict(posterior={"alpha": post})) is None
