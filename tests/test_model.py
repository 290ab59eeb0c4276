"""Mixture-of-experts artifact, NumPy prediction and refusal of bad artifacts."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from nfl_bnn.errors import DataError, ModelArtifactError
from nfl_bnn.model import ARTIFACT_FORMAT, MixtureExpertsBNN, PARAM_SHAPES, _dims

NAMES = ["a", "b", "c"]


def make_model(rng, S=50, K=3, H=2, d=3, hidden_extras=False):
    params = {n: rng.normal(0, 0.3, size=(S,) + _dims(sh, d, K, H)).astype(np.float32)
              for n, sh in PARAM_SHAPES.items()  # hidden biases, gate's hidden weights: optional arrays
              if hidden_extras or n not in ("b_h", "gate_Vh")}
    params["alpha"] = np.sort(params["alpha"], axis=1)
    meta = {"format": ARTIFACT_FORMAT, "model_version": "test", "feature_names": NAMES[:d], "n_experts": K,
            "hidden_units": H, "scaler": {"mean": [1.0] * d, "sd": [2.0] * d},
            "target": {"name": "rushing_yards", "mean": 50.0, "sd": 30.0},
            "training_window": {"first_season": 2012, "last_season": 2022}, "data_fingerprint": "x"}
    return MixtureExpertsBNN(params, meta)


@pytest.fixture
def X(rng):
    return pd.DataFrame(rng.normal(1, 2, size=(40, 3)), columns=NAMES)


def test_predict_shapes_and_monotone_quantiles(rng, X):
    m = make_model(rng)
    assert (m.n_features, m.n_experts, m.n_draws) == (3, 3, 50)
    p = m.predict(X)
    assert list(p.columns) == ["mean", "median", "sd", "q05", "q25", "q75", "q95"] and len(p) == 40
    assert (p["q05"] < p["q25"]).all() and (p["q25"] < p["median"]).all()
    assert (p["median"] < p["q75"]).all() and (p["q75"] < p["q95"]).all() and (p["sd"] > 0).all()


def test_quantiles_and_prob_over_match_monte_carlo(rng, X):
    m = make_model(rng)
    w, mu, sigma = m.mixture(X)
    S, n, K = w.shape
    N = 400
    comp = np.array([[rng.choice(K, size=N, p=w[s, i] / w[s, i].sum()) for i in range(n)] for s in range(S)])
    sims = rng.normal(np.take_along_axis(mu, comp.transpose(0, 1, 2).reshape(S, n, N), 2),
                      np.take_along_axis(sigma, comp.reshape(S, n, N), 2))
    sims = sims.transpose(1, 0, 2).reshape(n, -1)  # pooled over draws
    lines = np.round(np.median(sims, axis=1)) + 10.5
    p = m.prob_over(X, lines)
    mc = (sims > lines[:, None]).mean(axis=1)
    assert np.abs(p - mc).max() < 0.02
    pred = m.predict(X)
    assert np.abs(pred["median"] - np.median(sims, axis=1)).max() < 0.03 * sims.std()
    assert np.abs(pred["mean"] - sims.mean(axis=1)).max() < 0.03 * sims.std()
    assert np.abs(pred["sd"] - sims.std(axis=1)).max() < 0.03 * sims.std()


def test_prob_over_per_draw_and_many_lines(rng, X):
    m = make_model(rng)
    L = np.column_stack([np.full(40, 20.5), np.full(40, 50.5), np.full(40, 80.5)])
    pd_ = m.prob_over(X, L, per_draw=True)
    assert pd_.shape == (50, 40, 3)
    p = m.prob_over(X, L)
    assert np.allclose(p, pd_.mean(axis=0)) and (np.diff(p, axis=1) <= 1e-7).all()


def test_prob_between_is_the_whole_yard_mass_of_the_cdf(rng, X):
    """P(lo <= Y <= hi) sums the whole yards ceil(lo)..floor(hi) of the predictive: F(floor(hi) + 1/2) -
    F(ceil(lo) - 1/2) on the CDF grid; an interval holding no whole yard has probability 0."""
    m = make_model(rng)
    pred = m.predict(X)
    lo, hi = pred["mean"] - pred["sd"], pred["mean"] + pred["sd"]
    grid = np.arange(-1000, 2001) + 0.5
    F = m.cdf(X, grid)
    rows = np.arange(len(X))
    want = F[rows, np.floor(hi).astype(int) + 1000] - F[rows, np.ceil(lo).astype(int) - 1 + 1000]
    np.testing.assert_allclose(m.prob_between(X, lo, hi), want, atol=1e-5)
    assert (m.prob_between(X, np.full(40, 10.2), np.full(40, 10.8)) == 0).all()


def test_artifact_round_trip_without_pickle(rng, X, tmp_path):
    m = make_model(rng)
    path = m.save(tmp_path / "m.npz")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            header = z.read(name)[:200]
            assert b"'descr': '|O'" not in header  # no object arrays, so nothing needs unpickling
    m2 = MixtureExpertsBNN.load(path)
    pd.testing.assert_frame_equal(m.predict(X), m2.predict(X))
    assert m2.version == "test" and m2.scaler["sd"].tolist() == [2.0, 2.0, 2.0]


def _rewrite(path, tmp_path, mutate):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"][()]))
    mutate(arrays, meta)
    meta.pop("checksums", None)
    arrays["__meta__"] = np.array(json.dumps(meta))
    out = tmp_path / "bad.npz"
    np.savez(out, **arrays)
    return out


@pytest.mark.parametrize("mutate,msg", [
    (lambda a, m: m.pop("scaler"), "lacks \\['scaler'\\]"),
    (lambda a, m: m["scaler"].pop("sd"), "no feature scaler"),
    (lambda a, m: m.update(feature_names=["a", "b"]), "scaler has shape"),
    (lambda a, m: a.pop("gamma"), "lacks posterior draws of 'gamma'"),
    (lambda a, m: a.update(beta=a["beta"][:, :2]), "'beta' has shape"),
    (lambda a, m: a["alpha"].__setitem__((0, 0), np.nan), "NaN"),
    (lambda a, m: a.update(gate_b=a["gate_b"][:10]), "draws"),
    (lambda a, m: m.update(format="old"), "format"),
])
def test_bad_artifacts_are_refused(rng, tmp_path, mutate, msg):
    path = make_model(rng).save(tmp_path / "m.npz")
    with pytest.raises(ModelArtifactError, match=msg) as err:
        MixtureExpertsBNN.load(_rewrite(path, tmp_path, mutate))
    assert "nfl-bnn train" in str(err.value)


def test_truncated_missing_and_tampered_files_are_refused(rng, tmp_path):
    path = make_model(rng).save(tmp_path / "m.npz")
    data = path.read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelArtifactError, match="corrupted or truncated"):
        MixtureExpertsBNN.load(tmp_path / "t.npz")
    with pytest.raises(ModelArtifactError, match="does not exist"):
        MixtureExpertsBNN.load(tmp_path / "nope.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["alpha"] = arrays["alpha"] + 1  # keeps the old checksum in the metadata
    np.savez(tmp_path / "tampered.npz", **arrays)
    with pytest.raises(ModelArtifactError, match="checksum"):
        MixtureExpertsBNN.load(tmp_path / "tampered.npz")


def test_wrong_features_are_refused(rng, X):
    m = make_model(rng)
    with pytest.raises(DataError, match="lacks the model's features"):
        m.predict(X.drop(columns=["b"]))
    with pytest.raises(ModelArtifactError, match="trained on features"):
        m.check_features(["a", "c", "b"])
    with pytest.raises(DataError, match="NaN"):
        m.predict(X.assign(a=np.nan))


def test_fit_with_advi_on_tiny_data(rng, tmp_path):
    from nfl_bnn.config import params_dir
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    n = 300
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df["season"] = np.repeat([2020, 2021], n // 2)
    df["rushing_yards"] = np.round(50 + 15 * df["proj_carries"] + rng.gamma(2, 10, n) - 20)
    p = load_train_params(params_dir() / "train_fast.yaml")
    model, diag = fit(df, p, 2020, 2021)
    assert model.n_draws == p.keep_draws and diag["stacking_weights"] == [1.0]
    m2 = MixtureExpertsBNN.load(model.save(tmp_path / "fit.npz"))
    pred = m2.predict(df.iloc[:20])
    # a 2,000-step ADVI fit learns the main slope (true model: 50 + 15 * proj_carries + noise)
    assert np.corrcoef(pred["mean"], df["proj_carries"].iloc[:20])[0, 1] > 0.5


def test_season_weights_decay_with_age():
    from nfl_bnn.train import season_weights

    assert season_weights(np.array([2020, 2022]), 1.0) is None
    w = season_weights(np.array([2020, 2021, 2022, 2022]), 0.5)
    np.testing.assert_allclose(w, [0.25, 0.5, 1.0, 1.0])


def test_row_weights_scale_each_rows_loglik(rng):
    """The weighted model's log-likelihood is sum_i w_i * loglik_i, row by row."""
    from nfl_bnn.model import build_pymc_model

    n = 3
    Xz, yz = rng.normal(size=(n, 2)), np.round(rng.normal(size=n) * 40) / 40

    def loglik(w):
        m = build_pymc_model(Xz, yz, 2, likelihood="discrete", row_weights=w)
        return float(m.compile_logp(vars=m.potentials, jacobian=False)(m.initial_point()))

    full = loglik(None)
    assert loglik(np.full(n, 0.5)) == pytest.approx(0.5 * full)
    # loglik_i from halving row i alone: full - 0.5 * l_i
    l_i = np.array([2 * (full - loglik(np.where(np.arange(n) == i, 0.5, 1.0))) for i in range(n)])
    assert l_i.sum() == pytest.approx(full) and (l_i < 0).all()
    w = np.array([1.0, 0.6, 0.1])
    assert loglik(w) == pytest.approx(float(w @ l_i))
    with pytest.raises(ValueError, match="row_weights"):
        build_pymc_model(Xz, yz, 2, row_weights=np.zeros(n))
    with pytest.raises(ValueError, match="discrete"):
        build_pymc_model(Xz, yz, 2, likelihood="normal", row_weights=np.ones(n))


def test_log_target_space_matches_monte_carlo(rng, X):
    """With target log(yards + 25), every summary is that of exp(mixture draw) - 25."""
    m0 = make_model(rng, S=20, K=2, H=0)
    meta = dict(m0.meta, target={"name": "rushing_yards", "mean": 4.2, "sd": 0.5, "transform": "log", "offset": 25.0})
    params = dict(m0.params, gamma=0.1 * m0.params["gamma"], scale_c=np.full_like(m0.params["scale_c"], -0.3))
    m = MixtureExpertsBNN(params, meta)
    w, mu, sigma = m.mixture(X)
    S, n, K = w.shape
    N = 1000
    comp = np.array([[rng.choice(K, size=N, p=w[s, i] / w[s, i].sum()) for i in range(n)] for s in range(S)])
    sims = np.exp(rng.normal(np.take_along_axis(mu, comp, 2), np.take_along_axis(sigma, comp, 2))) - 25.0
    sims = sims.transpose(1, 0, 2).reshape(n, -1)
    pred = m.predict(X)
    for col, val in [("median", np.median(sims, 1)), ("q05", np.quantile(sims, .05, 1)),
                     ("q95", np.quantile(sims, .95, 1)), ("mean", sims.mean(1)), ("sd", sims.std(1))]:
        tol = 0.1 if col in ("q05", "q95") else 0.05  # Monte Carlo noise of a skewed tail quantile
        assert (np.abs(pred[col] - val) < tol * sims.std(axis=1)).all(), col
    lines = np.round(np.median(sims, axis=1)) + 10.5
    assert np.abs(m.prob_over(X, lines) - (sims > lines[:, None]).mean(1)).max() < 0.02
    grid = np.array([-30.5, -0.5, 40.5])
    cdf = m.cdf(X, grid)
    assert (cdf[:, 0] == 0).all()  # below -offset: impossible
    assert np.abs(cdf[:, 2] - (sims <= 40.5).mean(1)).max() < 0.02
    with pytest.raises(ModelArtifactError, match="transform"):
        MixtureExpertsBNN(m0.params, dict(meta, target=dict(meta["target"], transform="sqrt")))


def test_fit_in_log_space_on_tiny_data(rng, tmp_path):
    from nfl_bnn.config import params_dir
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    n = 300
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df["season"] = np.repeat([2020, 2021], n // 2)
    df["rushing_yards"] = np.round(np.exp(3.8 + 0.4 * df["proj_carries"] + rng.normal(0, 0.3, n)) - 20)
    p = load_train_params(params_dir() / "train_fast.yaml", target_transform="log", target_offset_yards=25.0)
    model, _ = fit(df, p, 2020, 2021)
    m2 = MixtureExpertsBNN.load(model.save(tmp_path / "fit.npz"))
    assert m2.meta["target"]["transform"] == "log" and m2.meta["target"]["offset"] == 25.0
    pred = m2.predict(df.iloc[:50])
    assert np.corrcoef(pred["median"], df["proj_carries"].iloc[:50])[0, 1] > 0.5
    assert (pred["q05"] >= -25).all() and (pred["q95"] - pred["median"] > pred["median"] - pred["q05"]).mean() > 0.5
    with pytest.raises(DataError, match="target_offset_yards"):
        fit(df.assign(rushing_yards=df["rushing_yards"].where(df.index > 0, -40.0)), p, 2020, 2021)


def test_a_feature_constant_in_training_does_not_move_predictions(rng, X):
    """Without injury reports mate_out_share was 0 in every training row: its weight is prior only, so a
    week with reports must not shift the forecast through it."""
    m0 = make_model(rng, S=20, K=2, H=0)
    m = MixtureExpertsBNN(m0.params, dict(m0.meta, constant_features=["b"]))
    X2 = X.assign(b=X["b"] + 5.0)
    pd.testing.assert_frame_equal(m.predict(X), m.predict(X2))
    assert not m0.predict(X).equals(m0.predict(X2))  # the same change moves a model that learned "b"
    assert not m.learned_from("b") and m.learned_from("a")


def test_quantiles_converge_when_draws_disagree_by_orders_of_magnitude(rng):
    """A rough fit (a short ADVI run) can hold a draw whose scale is 10^5 times the others: Newton steps
    keep leaving the bracket there, and bisection must still land every quantile, in order."""
    from scipy.special import ndtr

    from nfl_bnn.model import mixture_quantiles

    S, n, K = 100, 5, 3
    w = np.full((S, n, K), 1 / K, dtype=np.float32)
    mu = rng.normal(60, 10, size=(S, n, K)).astype(np.float32)
    sigma = np.full((S, n, K), 25.0, dtype=np.float32)
    sigma[47] = 2e5  # one wild draw
    probs = [0.05, 0.25, 0.5, 0.75, 0.95]
    q = mixture_quantiles(w, mu, sigma, probs)
    assert (np.diff(q, axis=0) > 0).all()
    F = np.array([[(w[:, i] * ndtr((q[j, i] - mu[:, i]) / sigma[:, i])).sum(axis=1).mean() for i in range(n)]
                  for j in range(len(probs))])
    np.testing.assert_allclose(F, np.array(probs)[:, None].repeat(n, axis=1), atol=2e-3)


def test_ordinal_gate_weights_are_a_monotone_ladder():
    """Ordinal gate: weights sum to 1, and a higher score moves weight to higher experts."""
    from nfl_bnn.model import gate_weights

    kappa = np.array([-0.5, 0.7])
    eta = np.linspace(-4, 4, 9)
    w = gate_weights(eta[:, None] - kappa[None, :], "ordinal")
    assert w.shape == (9, 3) and (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    sig = lambda z: 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(w[:, 2], sig(eta - 0.7))
    np.testing.assert_allclose(w[:, 0], 1 - sig(eta + 0.5))
    expected_index = w @ np.arange(3)
    assert (np.diff(expected_index) > 0).all()
    # K = 2: the ordinal gate is the softmax gate with logit eta - kappa
    z = np.array([[-1.0], [0.3]])
    np.testing.assert_allclose(gate_weights(z, "ordinal"), gate_weights(z, "softmax"))


@pytest.mark.parametrize("gate", ["softmax", "ordinal"])
def test_pymc_likelihood_equals_the_numpy_forward_pass(rng, gate):
    """The graph that is sampled and the NumPy pass that predicts give the same P(Y = y), row by row."""
    from nfl_bnn.model import build_pymc_model, mixture_logpmf, mixture_params, posterior_arrays

    n, d, K = 7, 3, 3
    Xz, yz = rng.normal(size=(n, d)), rng.integers(-2, 3, size=n).astype(float)
    m = build_pymc_model(Xz, yz, K, likelihood="discrete", bin_halfwidth=0.5, scale_floor=0.1,
                         gate_features=[0, 2], gate=gate, priors={"alpha_gap_shape": 4.0})
    point = m.initial_point()
    point = {k: v + rng.normal(0, 0.3, size=np.shape(v)) for k, v in point.items()}  # off the symmetric start
    graph = float(m.compile_logp(vars=m.potentials, jacobian=False)(point))
    names = [name for name in PARAM_SHAPES if name in m.named_vars]
    outs = m.replace_rvs_by_values([m[name] for name in names])  # values at the point, not prior draws
    det = m.compile_fn(outs, inputs=m.value_vars, on_unused_input="ignore")(point)
    import arviz as az

    idata = az.from_dict(posterior={k: np.asarray(v)[None, None] for k, v in zip(names, det)})
    arrs = {k: v[0] for k, v in posterior_arrays(idata, d, K, 0).items()}
    assert (arrs["gate_W"][0, 1] == 0).all()  # feature 1 is not a gate input
    w, mu, sigma = mixture_params(arrs, Xz, 0.0, 1.0, dtype=np.float64, scale_floor=0.1, gate=gate)
    numpy_side = float(mixture_logpmf(yz, w, mu, sigma).sum())
    assert numpy_side == pytest.approx(graph, rel=1e-8)


@pytest.mark.parametrize("priors,shape,mean", [({"alpha_gap_shape": 4.0}, 4.0, 0.8),
                                                ({"alpha_gap_shape": 8.0, "alpha_gap_mean": 1.0}, 8.0, 1.0)])
def test_intercept_gaps_have_the_gamma_prior_asked_for(rng, priors, shape, mean):
    """``alpha_gap_shape`` and ``alpha_gap_mean`` reach the graph as Gamma(shape, rate shape / mean); the
    mean defaults to 0.8, the prior every earlier fit used."""
    import pymc as pm
    from scipy.stats import gamma

    from nfl_bnn.model import build_pymc_model

    m = build_pymc_model(rng.normal(size=(5, 2)), rng.normal(size=5), 3, priors=priors, gate="ordinal")
    gaps = np.array([0.3, 1.2])
    logp = pm.logp(m["alpha_gap"], gaps).eval()
    np.testing.assert_allclose(logp, gamma.logpdf(gaps, shape, scale=mean / shape), rtol=1e-5)


def test_ordinal_artifact_with_unordered_cut_points_is_refused(rng):
    m = make_model(rng, K=3, H=0)
    gW = np.repeat(m.params["gate_W"][:, :, :1], 2, axis=2)
    good = dict(m.params, gate_W=gW, gate_b=np.sort(m.params["gate_b"], axis=1)[:, ::-1].copy())
    assert MixtureExpertsBNN(good, dict(m.meta, gate="ordinal")).gate == "ordinal"
    with pytest.raises(ModelArtifactError, match="cut-points"):
        MixtureExpertsBNN(dict(good, gate_b=np.sort(m.params["gate_b"], axis=1)), dict(m.meta, gate="ordinal"))
    with pytest.raises(ModelArtifactError, match="gate"):
        MixtureExpertsBNN(m.params, dict(m.meta, gate="tree"))


def test_stacking_keeps_equivalent_chains_and_drops_a_worse_mode(rng):
    from nfl_bnn.train import stacking_weights

    base = rng.normal(-4.5, 1.0, size=600)
    same = np.vstack([base + rng.normal(0, 1e-3, 600) for _ in range(4)])
    np.testing.assert_allclose(stacking_weights(same), 0.25, atol=0.02)
    worse = same.copy()
    worse[3] -= 0.2  # 120 nats worse in all: a chain stuck in a poorer mode
    w = stacking_weights(worse)
    assert w[3] < 0.02 and np.allclose(w[:3], w[:3].mean(), atol=0.02)
    # where two chains each predict different rows better, stacking mixes them
    a, b = base.copy(), base.copy()
    a[:300] += 0.5
    b[300:] += 0.5
    w2 = stacking_weights(np.vstack([a, b]))
    assert 0.35 < w2[0] < 0.65


@pytest.mark.parametrize("inference,init", [("nutpie", "laplace"), ("pymc", "map")])
def test_each_nuts_path_fits_the_default_model_shape(rng, tmp_path, inference, init):
    """K=3, ordinal gate, log target, dispersed starts around the MAP (nutpie: Laplace-scaled, the default;
    PyMC: the U(-1, 1) jitter): both NUTS paths run end to end and report diagnostics."""
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    n = 240
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df["season"] = np.repeat([2020, 2021], n // 2)
    df["rushing_yards"] = np.round(np.exp(3.8 + 0.4 * df["proj_carries"] + rng.normal(0, 0.4, n)) - 20)
    p = load_train_params(inference=inference, init=init, draws=40, tune=60, chains=4, keep_draws=60)
    assert (p.n_experts, p.gate) == (3, "ordinal")  # the defaults of params/train.yaml
    model, diag = fit(df, p, 2020, 2021)
    assert model.gate == "ordinal" and model.n_draws == 60
    assert diag["steps_per_draw"] > 0 and np.isfinite(diag["rhat_pred_max"]) and sum(diag["stacking_weights"]) == pytest.approx(1)
    # chains start spread wider than the posterior, so R-hat can see a disagreement. The ratio is read off
    # the first warm-up draw, one transition after the start: the U(-1, 1) jitter is still far out there;
    # the Laplace starts (2 sds) have moved in by then on 240 rows, and their spread is tested at the
    # start itself (tests/test_laplace_starts.py)
    assert diag["start_sd_ratio"] > (1 if init == "map" else 0.3) and diag["divergences"] >= 0
    pred = MixtureExpertsBNN.load(model.save(tmp_path / f"{inference}.npz")).predict(df.iloc[:30])
    assert np.corrcoef(pred["median"], df["proj_carries"].iloc[:30])[0, 1] > 0.5


def test_prediction_modules_do_not_import_pymc():
    """Loading and predicting needs NumPy only: the artifact and forward modules never import PyMC."""
    import subprocess
    import sys

    code = ("import sys, nfl_bnn.model, nfl_bnn.model.artifact, nfl_bnn.model.forward, nfl_bnn.model.checks\n"
            "from nfl_bnn.model import MixtureExpertsBNN, mixture_params, target_space\n"
            "bad = sorted(m for m in ('pymc', 'pytensor', 'nutpie', 'arviz') if m in sys.modules)\n"
            "assert not bad, bad\n"
            "from nfl_bnn.model import build_pymc_model, posterior_arrays\n"  # lazy re-exports still work
            "assert build_pymc_model.__module__ == 'nfl_bnn.model.graph'\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("edit", [
    lambda m: m["target"].__setitem__("mean", m["target"]["mean"] + 5.0),  # every forecast 5 yards higher
    lambda m: m.__setitem__("model_version", "moe-normal-v2"),  # a second set of bets for the same week
    lambda m: m["scaler"]["sd"].__setitem__(0, 3.0),
    lambda m: m.__setitem__("constant_features", ["a"]),
], ids=["target_mean", "model_version", "scaler_sd", "constant_features"])
def test_edited_metadata_is_refused(rng, tmp_path, edit):
    """The metadata is covered by a checksum like the arrays: a valid-looking edit is caught on load."""
    path = make_model(rng).save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"][()]))
    edit(meta)  # the checksums written at save time stay as they were
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(ModelArtifactError, match="metadata does not match its checksum") as err:
        MixtureExpertsBNN.load(tmp_path / "edited.npz")
    assert "edited.npz" in str(err.value) and "nfl-bnn train" in str(err.value)


def test_artifact_without_a_metadata_checksum_is_refused_and_a_reload_resaves(rng, tmp_path, X):
    path = make_model(rng).save(tmp_path / "m.npz")
    m = MixtureExpertsBNN.load(path)
    again = MixtureExpertsBNN.load(m.save(tmp_path / "again.npz"))  # loaded metadata re-seals cleanly
    pd.testing.assert_frame_equal(m.predict(X), again.predict(X))
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"][()]))
    del meta["checksums"]["__meta__"]  # as an artifact from before metadata was checksummed
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelArtifactError, match="no checksum of its metadata"):
        MixtureExpertsBNN.load(tmp_path / "old.npz")


def test_bare_arrays_and_wrong_columns_are_refused_with_how_to_build_X(rng, X):
    """A bare array has no column names: refused (not silently standardised in a guessed order)."""
    m = make_model(rng)
    for call in (m.predict, lambda a: m.prob_over(a, np.full(len(a), 50.5)), lambda a: m.cdf(a, np.array([10.5])),
                 lambda a: m.logpdf(a, np.full(len(a), 50.0))):
        with pytest.raises(DataError, match="not a DataFrame") as err:
            call(X.to_numpy())
        assert "model.feature_names" in str(err.value) and "nfl_bnn.features" in str(err.value)
        assert "(40, 3)" in str(err.value)
    with pytest.raises(DataError, match=r"lacks the model's features \['b'\]; its other columns are \['B'\]"):
        m.predict(X.rename(columns={"b": "B"}))
    with pytest.raises(DataError, match=r"features \['c'\] are not numeric"):
        m.predict(X.assign(c="x"))
    with pytest.raises(DataError, match=r"features \['a'\] hold NaN or infinite"):
        m.predict(X.assign(a=np.inf))
    # the frame's order and extra columns do not matter: columns are taken by name
    shuffled = X[["c", "a", "b"]].assign(player_id="p")
    pd.testing.assert_frame_equal(m.predict(shuffled), m.predict(X))


def _mix(locs, weights, sd):
    """One row, one draw: a mixture with the given locations, weights and a common sd."""
    K = len(locs)
    return (np.array(weights, float).reshape(1, 1, K), np.array(locs, float).reshape(1, 1, K),
            np.full((1, 1, K), float(sd)))


@pytest.mark.parametrize("locs, weights, sd, probs, expected", [
    # all mass inside the bin of 10 yards, [9.5, 10.5): every quantile is 10
    ([10.0], [1.0], 1e-3, [0.05, 0.5, 0.95], [10, 10, 10]),
    # mass on the edge 10.5: F(10.5) = 0.5 exactly, so the median is 10 and the 75% quantile 11
    ([10.5], [1.0], 1e-4, [0.25, 0.5, 0.75], [10, 10, 11]),
    # 30% at 5 yards, 70% at 20: F(5.5) = 0.3 >= 0.3 gives 5; 0.31 needs 20
    ([5.0, 20.0], [0.3, 0.7], 1e-3, [0.05, 0.3, 0.31, 0.95], [5, 5, 20, 20]),
    # Normal(0, 10): F(16.5) = Phi(1.65) = 0.9505 >= 0.95 > F(15.5) = Phi(1.55) = 0.9394, so 16;
    # F(0.5) = 0.52 >= 0.5 > F(-0.5) = 0.48, so 0; F(-15.5) = 0.0606 >= 0.05 > F(-16.5) = 0.0495, so -16
    ([0.0], [1.0], 10.0, [0.05, 0.5, 0.95], [-16, 0, 16]),
])
def test_whole_yard_quantiles_are_the_smallest_whole_y_with_F_y_plus_half_at_least_p(locs, weights, sd, probs, expected):
    from nfl_bnn.model import whole_yard_quantiles

    q = whole_yard_quantiles(*_mix(locs, weights, sd), probs)
    assert q[:, 0].tolist() == expected


def _brute_whole_yard(w, mu, sigma, probs, transform="identity", offset=0.0, grid=range(-40, 300)):
    """The definition, by enumeration: the smallest whole y on a grid with F(y + 1/2) >= p, all draws."""
    from nfl_bnn.model import pooled_cdf, target_space

    ys = np.array(list(grid), float)
    F = np.stack([pooled_cdf(w, mu, sigma, target_space(np.full((1, w.shape[1]), y + 0.5), transform, offset))[0]
                  for y in ys])
    return np.stack([ys[np.argmax(F >= p, axis=0)] for p in probs])


def test_whole_yard_quantiles_from_thinned_draws_are_those_of_every_draw(rng):
    """The root-finder's first pass reads a thinned tenth of the draws; the answer must still be the
    definition's on all of them (checked at the bin edges, moved a yard where the thinning was off)."""
    from nfl_bnn.model import whole_yard_quantiles

    S, n, probs = 1000, 30, [0.05, 0.25, 0.5, 0.75, 0.95]
    drift = rng.normal(0, 0.15, (S, n, 1))  # draws that disagree: posterior uncertainty in the location
    mu = np.log(25 + 60 * rng.uniform(0.2, 1.5, (1, n, 1))) + drift + np.array([-0.6, 0.0, 0.5])
    sigma = np.broadcast_to(np.array([0.35, 0.3, 0.25]), (S, n, 3)).copy()
    w = np.broadcast_to(np.array([0.2, 0.5, 0.3]), (S, n, 3)).copy()
    thinned = whole_yard_quantiles(w, mu, sigma, probs, "log", 25.0, root_draws=100)
    assert (thinned == whole_yard_quantiles(w, mu, sigma, probs, "log", 25.0, root_draws=S)).all()
    assert (thinned == _brute_whole_yard(w, mu, sigma, probs, "log", 25.0)).all()


def test_a_thinned_candidate_many_yards_off_is_solved_on_every_draw():
    """One draw of 50 sits 40 yards below the rest: a first pass on that draw alone is far off, and the
    rows it misleads are solved again on every draw (a one-yard step could not reach the answer)."""
    from nfl_bnn.model import whole_yard_quantiles

    mu = np.full((50, 2, 1), 60.0)
    mu[0] = 20.0
    w, sigma = np.ones_like(mu), np.full_like(mu, 4.0)
    probs = [0.1, 0.5, 0.9]
    got = whole_yard_quantiles(w, mu, sigma, probs, root_draws=1)
    assert (got == _brute_whole_yard(w, mu, sigma, probs)).all() and got[1, 0] == 60


def test_whole_yard_quantiles_in_log_space():
    """log(yards + 25): a mixture at log(35) is 10 yards; at log(35.5) the mass sits on the edge 10.5."""
    from nfl_bnn.model import whole_yard_quantiles

    q = whole_yard_quantiles(*_mix([np.log(35.0)], [1.0], 1e-5), [0.05, 0.95], "log", 25.0)
    assert q[:, 0].tolist() == [10, 10]
    q = whole_yard_quantiles(*_mix([np.log(35.5)], [1.0], 1e-6), [0.4, 0.6], "log", 25.0)
    assert q[:, 0].tolist() == [10, 11]
