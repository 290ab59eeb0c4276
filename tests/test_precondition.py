"""``precondition: sd | covariance``: sampling in Laplace-scaled coordinates u, x = MAP + M u, keeps the
posterior, and the trace (draws and stored unconstrained points) reads in the model's own coordinates."""
from __future__ import annotations

import numpy as np

from nfl_bnn import precondition as pc
from nfl_bnn import sampling, train


def _model(y):
    """Every kind of free variable the graph has: untransformed, log-transformed, ordered with an initial
    value (PyMC will not clone such a model), and a Deterministic."""
    import pymc as pm
    from pymc.distributions.transforms import ordered

    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        cut = pm.Normal("cut", 0.0, 1.5, shape=(2,), transform=ordered, initval=np.array([-0.5, 0.5]))
        pm.Deterministic("spread", cut[1] - cut[0])
        pm.Normal("y", mu + 0.01 * cut.sum(), sigma, observed=y)
    return m


def test_the_scaled_model_has_the_same_log_density_and_values_at_x_equal_loc_plus_scale_u():
    y = np.random.default_rng(0).normal(1.0, 0.3, size=50)
    base, new = _model(y), pc.laplace_coordinates(_model(y))
    assert [v.name for v in new.value_vars] == [pc.U_NAME]
    assert {d.name for d in new.deterministics} == {"mu", "sigma", "cut", "spread"}
    rng = np.random.default_rng(1)
    loc, scale, u = rng.normal(size=4), rng.uniform(0.05, 2.0, size=4), rng.normal(size=4)
    from pytensor.graph.traversal import ancestors

    for var in ancestors(new.potentials):
        if getattr(var, "name", None) == pc.LOC:
            var.set_value(loc)
        elif getattr(var, "name", None) == pc.SCALE:
            var.set_value(scale)
    x = loc + scale * u
    names = [base.rvs_to_values[rv].name for rv in base.free_RVs]
    layout = pc.flat_layout(base)
    point = {n: x[sl].reshape(shape) for n, (_, sl, shape) in zip(names, layout)}
    # the affine map's own Jacobian (sum log scale) is a constant and left out
    np.testing.assert_allclose(new.compile_logp()({pc.U_NAME: u}), base.compile_logp()(point), rtol=1e-12)
    import pytensor

    def values(model, *args):
        outs = model.replace_rvs_by_values([model[n] for n in ("mu", "sigma", "cut", "spread")])
        return pytensor.function(model.value_vars, outs)(*args)
    got = values(new, u)
    want = values(base, *[point[v.name] for v in base.value_vars])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_names_and_initial_point_are_nutpies_own():
    import nutpie

    y = np.random.default_rng(2).normal(1.0, 0.3, size=50)
    m = _model(y)
    compiled = nutpie.compile_pymc_model(m, jitter_rvs=set())
    np.testing.assert_allclose(pc.initial_flat(m), compiled.initial_point_func(0))
    idata = nutpie.sample(compiled, draws=5, tune=5, chains=1, seed=1, progress_bar=False, store_unconstrained=True)
    coords = [str(c) for c in idata.sample_stats["unconstrained_draw"].coords["unconstrained_parameter"].values]
    assert pc.unconstrained_names(m) == coords == ["mu", "sigma_log__", "cut_ordered___0", "cut_ordered___1"]


def test_scaled_sampling_gives_the_same_posterior_and_model_coordinates():
    """Posterior sds 0.001 (the mean of 20,000 rows) against 0.3 (the cut-points). Whether u saves warm-up
    steps is a benchmark, not a property (here 2,880 steps in the first 50 warm-up iterations, 2,330 with
    sd, 2,126 with covariance; on the production fit no saving, docs/network.md session 12)."""
    y = np.random.default_rng(3).normal(1.0, 0.15, size=20_000)
    out = {}
    for scaled in ("none", "sd", "covariance"):
        p = train.TrainParams(inference="nutpie", init="laplace", precondition=scaled, chains=2, cores=1,
                              tune=150, draws=300, seed=5)
        idata, _steps = sampling.run(_model(y), p)
        out[scaled] = idata
    for scaled in ("sd", "covariance"):
        for name in ("mu", "sigma", "spread"):
            a, b = (np.asarray(out[s].posterior[name].values).ravel() for s in ("none", scaled))
            # the same posterior: means within a few Monte Carlo errors, sds within 20%
            assert abs(a.mean() - b.mean()) < 5 * a.std() / np.sqrt(150), (scaled, name)
            assert abs(b.std() / a.std() - 1) < 0.2, (scaled, name)
        # the stored unconstrained draws are the model's own coordinates (x, not u), by name: mu is its own
        # unconstrained value, sigma's is its log
        st = out[scaled].sample_stats
        coords = st["unconstrained_draw"].coords["unconstrained_parameter"].values
        assert [str(c) for c in coords] == ["mu", "sigma_log__", "cut_ordered___0", "cut_ordered___1"]
        np.testing.assert_allclose(st["unconstrained_draw"].sel(unconstrained_parameter="mu").values,
                                   out[scaled].posterior["mu"].values, rtol=1e-9)
        np.testing.assert_allclose(np.exp(st["unconstrained_draw"].sel(unconstrained_parameter="sigma_log__").values),
                                   out[scaled].posterior["sigma"].values, rtol=1e-9)
        assert "divergence_momentum" not in st  # a u-space vector: dropped, not left mislabelled


def test_precondition_is_a_typed_param():
    import pytest

    assert train.TrainParams(precondition="covariance").precondition == "covariance"
    with pytest.raises(ValueError):
        train.TrainParams(precondition="maybe")
