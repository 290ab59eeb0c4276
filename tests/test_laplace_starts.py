"""``init: laplace``: the MAP and the Laplace sds found on nutpie's compiled model, and chain starts a few
posterior sds from the MAP (overdispersed, but not 5-50 sds out like the U(-1, 1) jitter)."""
from __future__ import annotations

import numpy as np
import pytest

from nfl_bnn import sampling, train


def _gaussian(mean, cov):
    prec = np.linalg.inv(cov)

    def logp_grad(x):
        r = x - mean
        return -0.5 * r @ prec @ r, -prec @ r
    return logp_grad


def test_laplace_finds_the_mode_and_the_marginal_sds_of_a_correlated_gaussian():
    mean = np.array([0.3, -1.2, 2.0])
    sd = np.array([0.02, 0.1, 0.5])
    corr = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, -0.3], [0.0, -0.3, 1.0]])
    x, got = sampling.laplace(_gaussian(mean, corr * np.outer(sd, sd)), np.zeros(3))
    np.testing.assert_allclose(x, mean, atol=1e-5)
    # the marginal sds (sqrt of the inverse Hessian's diagonal), not the conditional 1/sqrt(H_ii)
    np.testing.assert_allclose(got, sd, rtol=1e-3)


def test_laplace_gives_flat_or_wide_directions_the_unit_jitter_scale():
    # sd 30 in the second coordinate: wider than the U(-1, 1) jitter ever went, so it is capped at 1
    _x, got = sampling.laplace(_gaussian(np.zeros(2), np.diag([0.05 ** 2, 30.0 ** 2])), np.ones(2))
    np.testing.assert_allclose(got, [0.05, 1.0], rtol=1e-3)

    def saddle(x):  # not a maximum in the second coordinate once there: negative curvature
        return -50 * x[0] ** 2 + 0.0 * x[1], np.array([-100 * x[0], 0.0])
    _x, got = sampling.laplace(saddle, np.array([0.5, 0.0]))
    np.testing.assert_allclose(got, [0.1, 1.0], rtol=1e-3)


def test_laplace_refuses_a_map_outside_the_support_with_advice():
    def broken(x):
        return np.nan, np.full_like(x, np.nan)
    with pytest.raises(RuntimeError, match="set init: map"):
        sampling.laplace(broken, np.zeros(2))


def test_starts_are_spread_in_posterior_sds_and_reproducible_per_chain():
    x_map, sd = np.array([1.0, -2.0]), np.array([0.01, 0.3])
    start = sampling.laplace_starts(x_map, sd, spread=2.0, seed=7)
    np.testing.assert_array_equal(start(3), start(3))
    assert not np.allclose(start(3), start(4))
    draws = np.array([start(c) for c in range(4000)])
    assert np.all(np.abs(draws.mean(axis=0) - x_map) < 4 * 2 * sd / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(axis=0) / sd, [2.0, 2.0], rtol=0.05)
    assert not np.allclose(sampling.laplace_starts(x_map, sd, 2.0, seed=8)(3), start(3))


def test_laplace_init_needs_nutpie():
    with pytest.raises(ValueError, match="init: laplace finds its starts on nutpie"):
        train.TrainParams(inference="pymc", init="laplace")
    assert train.TrainParams(init="laplace", start_spread=3.0).start_spread == 3.0
    with pytest.raises(ValueError):
        train.TrainParams(init="laplace", start_spread=0)


def test_nutpie_chains_start_a_few_posterior_sds_apart_and_converge(monkeypatch):
    """A real nutpie run on a Normal mean with posterior sd 0.05: the U(-1, 1) jitter would start the
    chains about 10 posterior sds apart (sd 0.58 / 0.05); the Laplace starts start_spread sds."""
    import nutpie
    import pymc as pm

    rng = np.random.default_rng(0)
    y = rng.normal(1.5, 1.0, size=400)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=y)
    seen, real_sample = {}, nutpie.sample

    def sample(compiled, **kw):
        seen["compiled"] = compiled
        return real_sample(compiled, **kw)

    monkeypatch.setattr(nutpie, "sample", sample)
    p = train.TrainParams(inference="nutpie", init="laplace", start_spread=2.0, chains=4, cores=1, tune=100,
                          draws=200, seed=3)
    idata, steps = sampling.run(model, p)
    starts = np.array([seen["compiled"].initial_point_func(c)[0] for c in range(400)])
    post_sd = 1.0 / np.sqrt(400 + 0.01)
    assert abs(starts.mean() - y.mean()) < 0.03 and 1.7 < starts.std() / post_sd < 2.3
    assert abs(float(idata.posterior["mu"].mean()) - y.mean()) < 0.02
    assert abs(float(idata.posterior["mu"].std()) / post_sd - 1) < 0.2
    assert steps is not None and steps < 8
    # nutpie keeps what sampling.divergence_directions reads (where a divergence ran, the draws it is
    # measured against): a flag that never reached the sampler would leave every divergence unexplained
    assert {"divergence_end", "unconstrained_draw"} <= set(idata.sample_stats.data_vars)


def test_a_seed_reproduces_the_fit_draw_for_draw():
    """The starts are a function of the seed alone (the MAP search is deterministic), so the same
    seed gives the same draws: a rerun of a production fit reproduced every diagnostic to the last digit."""
    import pymc as pm

    y = np.random.default_rng(1).normal(0.5, 1.0, size=200)
    p = train.TrainParams(inference="nutpie", init="laplace", chains=2, cores=1, tune=50, draws=50, seed=11)
    draws = []
    for _ in range(2):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 10.0)
            sigma = pm.HalfNormal("sigma", 2.0)
            pm.Normal("y", mu, sigma, observed=y)
        idata, _steps = sampling.run(model, p)
        draws.append(np.asarray(idata.posterior["mu"].values))
    np.testing.assert_array_equal(draws[0], draws[1])
