"""The hidden layer (docs/network.md): graph equals the NumPy forward pass, identifying constraints,
older artifacts still load, and a network fit runs end to end."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn.errors import ModelArtifactError
from nfl_bnn.model import PARAM_SHAPES, MixtureExpertsBNN, mixture_params
from tests.test_model import NAMES, make_model


def _graph_and_numpy(rng, gate, network, hidden_output, gate_hidden, H=3, n=9, d=3, K=3, hidden_features=None):
    from nfl_bnn.model import build_pymc_model, mixture_logpmf, posterior_arrays

    Xz, yz = rng.normal(size=(n, d)), rng.integers(-2, 3, size=n).astype(float)
    m = build_pymc_model(Xz, yz, K, H, likelihood="discrete", bin_halfwidth=0.5, scale_floor=0.1,
                         gate_features=[0, 2], gate=gate, priors={"alpha_gap_shape": 4.0},
                         network=network, hidden_output=hidden_output, gate_hidden=gate_hidden,
                         hidden_features=hidden_features)
    point = m.initial_point()
    point = {k: v + rng.normal(0, 0.3, size=np.shape(v)) for k, v in point.items()}
    graph = float(m.compile_logp(vars=m.potentials, jacobian=False)(point))
    pot = m.potentials[0]  # y_loglik = ll.sum(): its input is the per-row log-likelihood
    ll_rows = m.compile_fn(m.replace_rvs_by_values([pot.owner.inputs[0]]), inputs=m.value_vars,
                           on_unused_input="ignore")(point)[0]
    names = [name for name in PARAM_SHAPES if name in m.named_vars]
    outs = m.replace_rvs_by_values([m[name] for name in names])
    det = m.compile_fn(outs, inputs=m.value_vars, on_unused_input="ignore")(point)
    import arviz as az

    idata = az.from_dict(posterior={k: np.asarray(v)[None, None] for k, v in zip(names, det)})
    arrs = {k: v[0] for k, v in posterior_arrays(idata, d, K, H).items()}
    w, mu, sigma = mixture_params(arrs, Xz, 0.0, 1.0, dtype=np.float64, scale_floor=0.1, gate=gate)
    return graph, np.asarray(ll_rows), mixture_logpmf(yz, w, mu, sigma), dict(arrs, Xz=Xz)


@pytest.mark.parametrize("gate,network,hidden_output,gate_hidden", [
    ("ordinal", "identified", "shared", True), ("ordinal", "identified", "per_expert", False),
    ("softmax", "identified", "per_expert", True), ("ordinal", "plain", "per_expert", False),
    ("ordinal", "directional", "shared", True), ("softmax", "directional", "per_expert", False),
    ("ordinal", "additive", "shared", True), ("softmax", "additive", "per_expert", False),
    ("ordinal", "additive_learned", "per_expert", True), ("ordinal", "additive", "per_expert", "gate_features"),
    ("softmax", "additive", "per_expert", "gate_features"), ("ordinal", "additive", "per_expert", "shrunk"),
    ("softmax", "additive", "per_expert", "shrunk"), ("ordinal", "additive", "per_expert", "orthogonal")])
def test_network_graph_equals_the_numpy_forward_pass(rng, gate, network, hidden_output, gate_hidden):
    """Row by row: the sampled graph's log-likelihood is the NumPy pass's, for every network option."""
    graph, graph_rows, rows, arrs = _graph_and_numpy(rng, gate, network, hidden_output, gate_hidden)
    assert rows.shape == (1, 9) and float(rows.sum()) == pytest.approx(graph, rel=1e-8)
    assert graph_rows.shape == (9,) and float(graph_rows.sum()) == pytest.approx(graph, rel=1e-12)
    np.testing.assert_allclose(rows[0], graph_rows, rtol=1e-7)
    # the hidden units matter (not zero weights), so the test would see a forward pass that drops them
    assert np.abs(arrs["v"]).min() > 0 and ("b_h" in arrs) == (network != "plain")
    if gate_hidden in (True, "shrunk", "orthogonal"):  # every unit
        assert np.abs(arrs["gate_Vh"]).min() > 0
    if gate_hidden == "gate_features":  # only the gate features' units (columns 0 and 2; H=3: 1 unit each)
        assert np.all(np.abs(arrs["gate_Vh"][0][[0, 2]]) > 0) and np.all(arrs["gate_Vh"][0][1] == 0)
    if gate_hidden:
        flat = {k: v for k, v in arrs.items() if k != "gate_Vh"}
        w0 = mixture_params(flat, rng.normal(size=(9, 3)), 0.0, 1.0, dtype=np.float64, gate=gate)[0]
        w1 = mixture_params(arrs, rng.normal(size=(9, 3)), 0.0, 1.0, dtype=np.float64, gate=gate)[0]
        assert not np.allclose(w0, w1)
    if network in ("identified", "directional"):  # identifying constraints: ordered biases, positive weights
        assert np.all(np.diff(arrs["b_h"][0]) > 0) and np.all(arrs["v"] > 0)
    if network.startswith("additive"):  # one input per unit, with the fixed gain, and weights of both signs
        assert ((arrs["W_h"][0] != 0).sum(axis=0) == 1).all() and np.allclose(arrs["W_h"][0].sum(axis=0), 1.5)
        assert (arrs["v"] < 0).any() and (arrs["v"] > 0).any()
    if network == "directional":  # every unit's input weights have the fixed gain as their length
        np.testing.assert_allclose(np.linalg.norm(arrs["W_h"][0], axis=0), 1.5)
    if hidden_output == "shared":
        assert np.allclose(arrs["v"][0], arrs["v"][0, :1])


@pytest.mark.parametrize("network", ["directional", "identified", "plain"])
def test_hidden_units_see_only_their_features(rng, network):
    """hidden_features: the other rows of W_h are 0, and graph and NumPy pass still agree row by row."""
    _graph, graph_rows, rows, arrs = _graph_and_numpy(rng, "ordinal", network, "per_expert", True, H=2,
                                                      hidden_features=[0, 2])
    assert (arrs["W_h"][0, 1] == 0).all() and (arrs["W_h"][0, [0, 2]] != 0).all()
    np.testing.assert_allclose(rows[0], graph_rows, rtol=1e-7)
    if network == "directional":
        np.testing.assert_allclose(np.linalg.norm(arrs["W_h"][0], axis=0), 1.5)


def test_unknown_hidden_features_are_refused_by_name(rng):
    from nfl_bnn.errors import ConfigError, DataError
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    with pytest.raises((ConfigError, ValueError), match="hidden_features.*no_such_feature"):
        load_train_params(hidden_units=2, hidden_features=["proj_carries", "no_such_feature"])
    # and where the check at load is bypassed (a params object built without validation), fit refuses too
    df = pd.DataFrame(rng.normal(size=(20, len(FEATURES))), columns=FEATURES)
    df["season"], df["rushing_yards"] = 2021, 30.0
    p = load_train_params(hidden_units=20).model_copy(update={"hidden_features": ["no_such_feature"]})
    with pytest.raises(DataError, match="hidden_features.*no_such_feature"):
        fit(df, p, 2021, 2021)


def test_network_options_are_validated_where_they_enter():
    from nfl_bnn.errors import ConfigError
    from nfl_bnn.model import build_pymc_model
    from nfl_bnn.train import load_train_params

    with pytest.raises((ConfigError, ValueError), match="needs network: identified, directional or additive"):
        load_train_params(hidden_units=2, network="plain", hidden_output="shared")
    with pytest.raises((ConfigError, ValueError), match="gate_hidden"):
        load_train_params(hidden_units=0, gate_hidden=True)
    with pytest.raises(ValueError, match="network must be"):
        build_pymc_model(np.zeros((3, 2)), np.zeros(3), 2, 2, network="deep")
    # an additive layer gives every hidden feature the same number of units
    with pytest.raises((ConfigError, ValueError), match="multiple of the 3 hidden features"):
        load_train_params(hidden_units=4, network="additive", hidden_features=["proj_carries", "carry_share",
                                                                               "implied_total"])
    assert load_train_params(hidden_units=30, network="additive").hidden_units == 30
    with pytest.raises((ConfigError, ValueError), match="> 16 is for the additive"):
        load_train_params(hidden_units=28, network="directional")
    with pytest.raises(ValueError, match="multiple of the number of hidden features"):
        build_pymc_model(np.zeros((3, 2)), np.zeros(3), 2, 3, network="additive")
    # the gate-features gating network reads additive units of at least one gate feature
    with pytest.raises((ConfigError, ValueError), match="gate_features needs network: additive"):
        load_train_params(hidden_units=4, network="identified", gate_hidden="gate_features")
    with pytest.raises((ConfigError, ValueError), match="gate feature among the hidden_features"):
        load_train_params(hidden_units=4, network="additive", gate_hidden="gate_features",
                          hidden_features=["rush_l3", "ypg_std"])
    with pytest.raises((ConfigError, ValueError), match="gate_hidden"):
        load_train_params(gate_hidden="units")
    assert load_train_params(gate_hidden="gate_features").gate_hidden == "gate_features"
    # the gating network over every unit, shrunk: any hidden layer will do, but it needs one
    assert load_train_params(gate_hidden="shrunk", network="identified", hidden_units=4).gate_hidden == "shrunk"
    with pytest.raises((ConfigError, ValueError), match="gate_hidden: shrunk needs hidden_units > 0"):
        load_train_params(hidden_units=0, gate_hidden="shrunk")
    with pytest.raises((ConfigError, ValueError), match="gate_unit_sd"):
        load_train_params(priors={"gate_unit_sd": -0.1})
    with pytest.raises(ValueError, match="gate_features, shrunk or orthogonal"):
        build_pymc_model(np.zeros((3, 2)), np.zeros(3), 2, 2, network="additive", gate_hidden="all")


@pytest.mark.parametrize("gate_hidden,unit_sd,expect_sd", [("shrunk", 0.1, 0.1), ("shrunk", None, 0.3),
                                                          ("gate_features", 0.05, 0.05)])
def test_the_gating_network_shrinkage_scale_has_the_prior_asked_for(rng, gate_hidden, unit_sd, expect_sd):
    """gate_u_scale ~ half-normal(gate_unit_sd), falling back to gate_sd: read off the graph's own log density
    (a graph that ignored gate_unit_sd would give half-normal(0.3) in every case)."""
    from scipy import stats

    from nfl_bnn.model import build_pymc_model

    priors = {"gate_sd": 0.3, **({} if unit_sd is None else {"gate_unit_sd": unit_sd})}
    m = build_pymc_model(rng.normal(size=(8, 2)), rng.normal(size=8), 2, 4, priors=priors, gate="ordinal",
                         network="additive", gate_hidden=gate_hidden, likelihood="discrete", bin_halfwidth=0.5)
    value = m.rvs_to_values[m["gate_u_scale"]]
    logp = m.compile_logp(vars=[m["gate_u_scale"]], jacobian=False)({**m.initial_point(), value.name: np.log(0.2)})
    assert float(logp) == pytest.approx(stats.halfnorm.logpdf(0.2, scale=expect_sd), rel=1e-9)


@pytest.mark.parametrize("shape", [0.0, 2.0, 5.0])
def test_the_output_weight_scale_has_the_prior_asked_for(rng, shape):
    """v_scale ~ half-normal(v_sd) by default; with v_scale_shape > 0 a Gamma(shape, shape / m), m the
    half-normal's mean, so zero density at 0 and the same prior mean: read off the graph's own log density
    (a graph that ignored v_scale_shape would give the half-normal in every case)."""
    import math

    from scipy import stats

    from nfl_bnn.model import build_pymc_model

    m = build_pymc_model(rng.normal(size=(8, 2)), rng.normal(size=8), 2, 4, priors={"v_sd": 0.3, "v_scale_shape": shape},
                         gate="ordinal", network="additive", likelihood="discrete", bin_halfwidth=0.5)
    value = m.rvs_to_values[m["v_scale"]]
    logp = m.compile_logp(vars=[m["v_scale"]], jacobian=False)
    at = {**m.initial_point(), value.name: np.log(0.2)}
    mean = 0.3 * math.sqrt(2.0 / math.pi)
    expect = (stats.halfnorm.logpdf(0.2, scale=0.3) if shape == 0
              else stats.gamma.logpdf(0.2, a=shape, scale=mean / shape))
    assert float(logp(at)) == pytest.approx(expect, rel=1e-6)
    if shape:  # boundary-avoiding: the density vanishes at 0, where the half-normal's peaks
        assert float(logp({**at, value.name: np.log(1e-6)})) < float(logp(at)) - 5


def test_a_negative_output_weight_scale_shape_is_refused_where_params_enter():
    from nfl_bnn.errors import ConfigError
    from nfl_bnn.train import load_train_params

    with pytest.raises(ConfigError, match="v_scale_shape"):
        load_train_params(priors={"v_scale_shape": -1.0})


@pytest.mark.parametrize("unit_sd,expect_sd", [(0.15, 0.15), (None, 0.3)])
def test_the_free_gating_network_weights_have_the_fixed_sd_asked_for(rng, unit_sd, expect_sd):
    """gate_hidden: true gives every unit a fixed Normal(0, gate_unit_sd) weight (no hyper-scale), falling back
    to gate_sd: read off the graph's own log density for a vector of weights."""
    from scipy import stats

    from nfl_bnn.model import build_pymc_model

    priors = {"gate_sd": 0.3, **({} if unit_sd is None else {"gate_unit_sd": unit_sd})}
    m = build_pymc_model(rng.normal(size=(8, 2)), rng.normal(size=8), 2, 4, priors=priors, gate="ordinal",
                         network="additive", gate_hidden=True, likelihood="discrete", bin_halfwidth=0.5)
    assert "gate_u_scale" not in m.named_vars
    u = np.array([0.2, -0.1, 0.05, 0.4])
    logp = m.compile_logp(vars=[m["gate_u"]])({**m.initial_point(), "gate_u": u})
    assert float(logp) == pytest.approx(stats.norm.logpdf(u, scale=expect_sd).sum(), rel=1e-9)


def test_gate_feature_units_are_the_units_reading_gate_features():
    from nfl_bnn.model.network import feature_units

    # hidden features are columns 4, 0, 7 with 2 units each; the gate reads columns 0 and 7
    assert feature_units([4, 0, 7], 2, [0, 7, 9]) == [2, 3, 4, 5]
    assert feature_units([4, 0, 7], 2, [1]) == []


@pytest.mark.parametrize("network", ["additive", "additive_learned"])
def test_additive_units_bend_at_their_features_quantiles(rng, network):
    """Two units per hidden feature: each reads one feature, bends at (learned: starts at) its terciles,
    in order, and graph and NumPy pass agree row by row."""
    from nfl_bnn.model.network import additive_centres

    _g, graph_rows, rows, arrs = _graph_and_numpy(rng, "ordinal", network, "per_expert", False, H=4,
                                                  hidden_features=[0, 2])
    np.testing.assert_allclose(rows[0], graph_rows, rtol=1e-7)
    W, c = arrs["W_h"][0], -arrs["b_h"][0] / 1.5
    assert (W[1] == 0).all() and (W[0, :2] == 1.5).all() and (W[2, 2:] == 1.5).all() and (W[0, 2:] == 0).all()
    assert c[0] < c[1] and c[2] < c[3]
    if network == "additive":  # fixed at the training rows' terciles
        np.testing.assert_allclose(c[2:], np.quantile(arrs["Xz"][:, 2], [1 / 3, 2 / 3]))
        np.testing.assert_allclose(c, additive_centres(arrs["Xz"], [0, 2], 2).ravel())


def test_additive_centres_are_strictly_increasing_for_tied_and_constant_features():
    from nfl_bnn.model.network import additive_centres, additive_weights

    Xz = np.column_stack([np.r_[np.zeros(90), np.ones(5), 2 * np.ones(5)], np.zeros(100), np.arange(100.0)])
    c = additive_centres(Xz, [0, 1, 2], 3)
    assert (np.diff(c, axis=1) > 0).all()
    np.testing.assert_allclose(c[0], [0.5, 1.0, 1.5])  # the distinct values' quartiles, not 0, 0, 0
    np.testing.assert_allclose(c[2], np.quantile(np.arange(100.0), [0.25, 0.5, 0.75]))
    W = additive_weights(3, [0, 2], 2, 1.5)
    assert W.shape == (3, 4) and W.sum() == 6.0 and (W[1] == 0).all() and (W[2, 2:] == 1.5).all()


def test_older_artifacts_without_the_new_arrays_still_load_and_predict_alike(rng, tmp_path):
    """An artifact saved before b_h and gate_Vh existed loads, and predicts as zeros in their place."""
    m = make_model(rng, H=2, hidden_extras=True)
    X = pd.DataFrame(rng.normal(1, 2, size=(20, 3)), columns=NAMES)
    zero = dict(m.params, b_h=np.zeros_like(m.params["b_h"]), gate_Vh=np.zeros_like(m.params["gate_Vh"]))
    old = {k: v for k, v in m.params.items() if k not in ("b_h", "gate_Vh")}
    path = MixtureExpertsBNN(old, m.meta).save(tmp_path / "old.npz")
    with np.load(path) as z:
        assert "b_h" not in z.files
    loaded = MixtureExpertsBNN.load(path)
    pd.testing.assert_frame_equal(loaded.predict(X), MixtureExpertsBNN(zero, m.meta).predict(X))
    # the new arrays round-trip and change the prediction
    new = MixtureExpertsBNN.load(m.save(tmp_path / "new.npz"))
    np.testing.assert_array_equal(new.params["b_h"], m.params["b_h"])
    assert not np.allclose(new.predict(X)["mean"], loaded.predict(X)["mean"])
    with pytest.raises(ModelArtifactError, match="b_h"):
        MixtureExpertsBNN(dict(m.params, b_h=m.params["b_h"][:, :1]), m.meta)


def test_ordinal_gate_with_unequal_hidden_gate_columns_is_refused(rng):
    m = make_model(rng, K=3, H=2, hidden_extras=True)
    gW = np.repeat(m.params["gate_W"][:, :, :1], 2, axis=2)
    gb = np.sort(m.params["gate_b"], axis=1)[:, ::-1].copy()
    gV = np.repeat(m.params["gate_Vh"][:, :, :1], 2, axis=2)
    ok = dict(m.params, gate_W=gW, gate_b=gb, gate_Vh=gV)
    assert MixtureExpertsBNN(ok, dict(m.meta, gate="ordinal")).gate == "ordinal"
    with pytest.raises(ModelArtifactError, match="columns differ"):
        MixtureExpertsBNN(dict(ok, gate_Vh=m.params["gate_Vh"]), dict(m.meta, gate="ordinal"))


def test_identified_network_fits_end_to_end(rng, tmp_path):
    """nutpie on the directional network with a gating network, from MAP starts: runs, diagnoses, saves,
    reloads, predicts."""
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    n = 240
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df["season"] = np.repeat([2020, 2021], n // 2)
    df["rushing_yards"] = np.round(np.exp(3.8 + 0.4 * np.tanh(df["proj_carries"]) + rng.normal(0, 0.4, n)) - 20)
    p = load_train_params(draws=40, tune=60, chains=2, keep_draws=60, hidden_units=2, network="directional",
                          hidden_output="shared", gate_hidden=True)
    model, diag = fit(df, p, 2020, 2021)
    assert diag["steps_per_draw"] > 0 and np.isfinite(diag["rhat_pred_max"])
    assert (model.params["v"] > 0).all() and (np.diff(model.params["b_h"], axis=1) > 0).all()
    np.testing.assert_allclose(np.linalg.norm(model.params["W_h"], axis=1), 1.5, rtol=1e-5)
    pred = MixtureExpertsBNN.load(model.save(tmp_path / "net.npz")).predict(df.iloc[:30])
    assert np.corrcoef(pred["median"], df["proj_carries"].iloc[:30])[0, 1] > 0.5


def test_additive_network_fits_end_to_end_and_its_basis_round_trips(rng, tmp_path):
    """nutpie on the additive network (fixed quantile centres, shared output weights) with the gating network
    over the gate features: runs, saves, reloads, and the artifact's units are the fixed one-feature basis,
    so the NumPy pass predicts the bend; the gate reads only its own features' units."""
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    n = 240
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df["season"] = np.repeat([2020, 2021], n // 2)
    df["rushing_yards"] = np.round(np.exp(3.8 + 0.5 * np.tanh(2 * df["proj_carries"]) + rng.normal(0, 0.3, n)) - 20)
    p = load_train_params(draws=40, tune=60, chains=2, keep_draws=60, hidden_units=6, network="additive",
                          hidden_output="shared", hidden_features=["proj_carries", "carry_share", "rush_l3"],
                          gate_hidden="gate_features")
    model, diag = fit(df, p, 2020, 2021)
    assert diag["steps_per_draw"] > 0 and np.isfinite(diag["rhat_pred_max"])
    gV = model.params["gate_Vh"]  # units 0-3 read proj_carries and carry_share (gate features), 4-5 rush_l3
    assert (np.abs(gV[:, :4]) > 0).all() and (gV[:, 4:] == 0).all()
    W = model.params["W_h"]
    assert W.shape == (60, len(FEATURES), 6) and np.ptp(W, axis=0).max() == 0 and np.ptp(model.params["b_h"], axis=0).max() == 0
    assert (W[0, FEATURES.index("proj_carries"), :2] == 1.5).all() and (W[0].sum(axis=0) == 1.5).all()
    loaded = MixtureExpertsBNN.load(model.save(tmp_path / "add.npz"))
    pd.testing.assert_frame_equal(loaded.predict(df.iloc[:30]), model.predict(df.iloc[:30]))
    assert np.corrcoef(loaded.predict(df.iloc[:30])["median"], df["proj_carries"].iloc[:30])[0, 1] > 0.5


def test_the_network_params_file_loads_as_the_default_plus_hidden_units():
    """params/train_network.yaml is params/train.yaml with the directional dense network instead of the additive
    one; params/train_linear.yaml is the linear-expert ablation (no hidden units), nothing else changed."""
    from nfl_bnn.config import params_dir
    from nfl_bnn.train import load_train_params

    default = load_train_params()
    assert (default.hidden_units, default.network, default.hidden_output) == (20, "additive", "per_expert")
    net = load_train_params(params_dir() / "train_network.yaml")
    assert (net.hidden_units, net.network, net.hidden_output, net.hidden_features) == (2, "directional", "shared", None)
    diff = {k for k, v in net.model_dump().items() if default.model_dump()[k] != v}
    assert diff == {"hidden_units", "network", "hidden_output", "hidden_features"}
    lin = load_train_params(params_dir() / "train_linear.yaml")
    assert {k for k, v in lin.model_dump().items() if default.model_dump()[k] != v} == {"hidden_units"}
    assert lin.hidden_units == 0


def test_paired_crps_difference_and_its_standard_error():
    """bench.network_compare's paired statistic: mean of b - a and sd/sqrt(n), by hand."""
    from bench.network_compare import paired_difference

    a, b = np.array([10.0, 20.0, 30.0, 40.0]), np.array([11.0, 19.0, 33.0, 40.0])
    r = paired_difference(a, b)
    d = np.array([1.0, -1.0, 3.0, 0.0])
    assert r["diff"] == pytest.approx(0.75) and r["se"] == pytest.approx(d.std(ddof=1) / 2)
    assert (r["n"], r["mean_a"], r["mean_b"]) == (4, 25.0, 25.75)
    with pytest.raises(ValueError, match="equal-length"):
        paired_difference(a, b[:3])


def test_orthogonal_gate_units_carry_only_what_the_linear_gate_cannot():
    """gate_hidden: orthogonal reads the units with their fit on [1, gate features] removed: on the training
    rows every column has mean 0, sd 1 and no correlation with a gate feature, so the unit weights cannot
    trade against the cut-points or the gate's linear weights; a unit the gate features explain is dropped."""
    from nfl_bnn.model.network import additive_basis, orthogonal_gate_basis

    rng = np.random.default_rng(5)
    Xz = rng.normal(size=(400, 3))
    h = additive_basis(Xz, 3, 6, [0, 1, 2], 1.5)
    Z, B, inv_sd = orthogonal_gate_basis(h, Xz[:, [0, 2]])
    assert Z.shape == (400, 6) and B.shape == (3, 6)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)
    np.testing.assert_allclose(Z.T @ Xz[:, [0, 2]], 0.0, atol=1e-9)
    assert abs(np.corrcoef(Z[:, 2], Xz[:, 1])[0, 1]) > 0.5  # the non-gate feature's units keep their trend
    # Z @ u is h @ (u * inv_sd) less its fit: the identity the stored gate arrays rely on
    u = rng.normal(size=6)
    up = u * inv_sd
    np.testing.assert_allclose(Z @ u, h @ up - B[0] @ up - Xz[:, [0, 2]] @ (B[1:] @ up), atol=1e-12)
    # a unit that is exactly linear in a gate feature carries nothing: weight 0 in training and prediction
    Z2, _, inv2 = orthogonal_gate_basis(np.column_stack([h[:, :1], 0.5 * Xz[:, 0] + 1.0]), Xz[:, [0, 2]])
    assert inv2[1] == 0.0 and np.all(Z2[:, 1] == 0.0) and inv2[0] > 0


def test_orthogonal_gate_needs_the_fixed_additive_units_and_the_ordinal_gate(rng):
    from nfl_bnn.errors import ConfigError
    from nfl_bnn.model import build_pymc_model
    from nfl_bnn.train import load_train_params

    assert load_train_params(gate_hidden="orthogonal").gate_hidden == "orthogonal"
    for bad in ({"network": "additive_learned"}, {"gate": "softmax"}):
        with pytest.raises((ConfigError, ValueError), match="gate_hidden: orthogonal needs network: additive"):
            load_train_params(gate_hidden="orthogonal", **bad)
    with pytest.raises(ValueError, match="orthogonal needs network: additive"):
        build_pymc_model(rng.normal(size=(9, 3)), np.zeros(9), 3, 3, network="additive_learned", gate="ordinal",
                         gate_hidden="orthogonal")
