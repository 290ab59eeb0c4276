"""The fused likelihood (nfl_bnn/model/fused.py): the same log density and gradient as the generic graph,
through PyTensor's Python path and through nutpie's compiled (numba) path, and refused where it does not
apply. The generic graph is held equal to the NumPy forward pass in tests/test_network.py."""
from __future__ import annotations

import numpy as np
import pytest

from nfl_bnn.model import build_pymc_model
from nfl_bnn.model import fused as fz


def _pair(rng, n=60, d=4, K=3, H=8, shared_slopes=True, hidden_output="per_expert", row_weights=None,
          hidden_features=(0, 1, 3, 2), edges=True, gate_hidden=False):
    Xz = rng.normal(size=(n, d))
    yz = rng.normal(size=n)
    yz[:3] = [-6.0, 9.0, 40.0]  # bins far into both tails: the 1e-300 floor and the upper-tail flip
    kw = dict(priors={"alpha_gap_shape": 8.0, "alpha_gap_mean": 1.0}, shared_slopes=shared_slopes,
              likelihood="discrete", bin_halfwidth=0.05, scale_floor=0.02, gate_features=[0, 2],
              row_weights=row_weights, gate="ordinal", network="additive", hidden_output=hidden_output,
              hidden_features=list(hidden_features)[:d] if H else None, gate_hidden=gate_hidden,
              bin_edges=(yz - 0.04 - 0.01 * (yz > 0), yz + 0.05) if edges else None)
    return (build_pymc_model(Xz, yz, K, H, **kw), build_pymc_model(Xz, yz, K, H, fused=True, **kw))


def _logp_grad(m):
    """(log density, gradient) of the flat unconstrained vector, in ``m.value_vars`` order (as nutpie)."""
    f = m.logp_dlogp_function(ravel_inputs=True)
    f.set_extra_values({})
    return f


def _flat_points(m, rng, k=3, sd=0.4):
    x0 = np.concatenate([np.ravel(m.initial_point()[v.name]) for v in m.value_vars])
    return [x0 + rng.normal(0, sd, size=x0.size) for _ in range(k)]


@pytest.mark.parametrize("case", [
    dict(),  # the default's shape: additive units, per-expert output weights, shared slopes
    dict(H=0, K=4, edges=False),  # the linear-expert ablation; equal-width bins
    dict(shared_slopes=False, hidden_output="shared", row_weights="decay"),
    dict(K=2, H=4, hidden_features=(1, 3)),
    # the gating networks: the units as more gate columns, their weights built by PyMC as in the graph
    dict(gate_hidden=True),
    dict(gate_hidden="gate_features", row_weights="decay"),
    dict(gate_hidden="shrunk", K=4),
    dict(gate_hidden="orthogonal"),
])
def test_fused_log_density_and_gradient_equal_the_generic_graph(rng, case):
    case = dict(case)
    if case.get("row_weights") == "decay":
        case["row_weights"] = np.linspace(0.3, 1.0, 60)
    generic, fused = _pair(rng, **case)
    assert [v.name for v in generic.value_vars] == [v.name for v in fused.value_vars]
    fg, ff = _logp_grad(generic), _logp_grad(fused)
    for x in _flat_points(generic, rng):
        (lg, gg), (lf, gf) = fg(x), ff(x)
        assert lf == pytest.approx(lg, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(gf, gg, rtol=1e-9, atol=1e-9)


def test_the_gradient_matches_far_out_where_the_graph_clamps_the_gate(rng):
    """Gate scores tens of units past the cut-points: two sigmoids saturate, the graph clamps the log of
    their difference, and the kernel's gradient must be that clamped function's (a gradient of the
    unclamped one, as a first version had, differs there by up to 60% and sends NUTS off its energy)."""
    generic, fused = _pair(rng, n=60, H=0)
    fg, ff = _logp_grad(generic), _logp_grad(fused)
    ip = generic.initial_point()
    for _ in range(60):
        x = np.concatenate([np.ravel(rng.normal(0, 40, np.shape(ip[v.name])) if v.name == "gate_wg" else
                                     rng.normal(-3, 1.5, np.shape(ip[v.name])) if v.name == "scale_c" else
                                     ip[v.name] + rng.normal(0, 1.0, np.shape(ip[v.name])))
                            for v in generic.value_vars])
        (lg, gg), (lf, gf) = fg(x), ff(x)
        assert lf == pytest.approx(lg, rel=1e-12)
        np.testing.assert_allclose(gf, gg, rtol=1e-8, atol=1e-8 * (1 + np.abs(gg).max()))


def test_a_bin_beyond_the_floor_counts_as_the_graph_counts_it(rng):
    """Rows 40 sds from every expert: the bin probability is floored at 1e-300 with no gradient, in both."""
    generic, fused = _pair(rng, n=12, H=0)
    x = _flat_points(generic, rng, k=1, sd=0.0)[0]
    (lg, gg), (lf, gf) = _logp_grad(generic)(x), _logp_grad(fused)(x)
    assert lf == pytest.approx(lg, rel=1e-12) and np.isfinite(gf).all()
    np.testing.assert_allclose(gf, gg, rtol=1e-9, atol=1e-9)


def test_nutpie_compiles_the_fused_kernel_to_the_same_log_density(rng):
    """nutpie's numba backend takes the kernel through its own dispatch (not PyTensor's Python path)."""
    nutpie = pytest.importorskip("nutpie")
    generic, fused = _pair(rng, n=40, H=4, hidden_features=(0, 2))
    compiled = nutpie.compile_pymc_model(fused)
    reference = _logp_grad(generic)
    for seed in (7, 8):
        x = compiled.initial_point_func(seed)
        (lp, grad), (lr, gr) = compiled.logp_func(x), reference(x)
        assert lp == pytest.approx(lr, rel=1e-12)
        np.testing.assert_allclose(grad, gr, rtol=1e-9, atol=1e-9)


def test_the_c_backend_computes_the_same_log_density_and_trace_values(rng):
    """``logp_backend: c`` (PyTensor's C backend called from Python) against the generic graph: the same
    log density and gradient (nutpie's numba path is held to the same reference above) and the stored
    values, deterministics included, at the points nutpie's own initial-point function gives."""
    nutpie = pytest.importorskip("nutpie")  # noqa: F841 (the C path builds a nutpie model)
    from nfl_bnn import sampling

    generic, fused = _pair(rng, n=40, H=4, hidden_features=(0, 2), gate_hidden="shrunk")
    c_model, logp_grad, initial_point = sampling.compile_c(fused)
    reference = _logp_grad(generic)
    outs = fused.deterministics + fused.free_RVs
    values = fused.compile_fn(fused.replace_rvs_by_values(outs), inputs=fused.value_vars, point_fn=False,
                              on_unused_input="ignore")
    for seed in (7, 8):
        x = initial_point(seed)
        (lp, grad), (lr, gr) = logp_grad(x), reference(x)
        assert lp == pytest.approx(lr, rel=1e-12)
        np.testing.assert_allclose(grad, gr, rtol=1e-9, atol=1e-9)
        chain_logp = c_model._make_logp_func()  # what nutpie calls for each chain: its own copy
        assert chain_logp(x)[0] == pytest.approx(lp, rel=1e-12)
        expanded = c_model._make_expand_func(0, 0, 0)(x)
        for var, value in zip(outs, values(*_unravel(fused, x))):
            np.testing.assert_allclose(expanded[var.name], value, rtol=1e-12, atol=1e-12)


def _unravel(m, x):
    """The flat unconstrained vector as one array per value variable, in ``m.value_vars`` order."""
    out, i, point = [], 0, m.initial_point()
    for v in m.value_vars:
        n = int(np.prod(point[v.name].shape))
        out.append(x[i:i + n].reshape(point[v.name].shape))
        i += n
    return out


def test_a_c_backend_fit_runs_its_chains_and_keeps_what_the_numba_fit_keeps(rng):
    """Two chains on two cores through the C backend, from the default Laplace starts (found on the C
    backend's own function): each chain calls its own copy of the function (a shared PyTensor Function is
    not thread-safe), and the draws land in the trace under the same names as nutpie's numba path."""
    pytest.importorskip("nutpie")
    from nfl_bnn import sampling, train

    _generic, fused = _pair(rng, n=60, H=4, hidden_features=(0, 2))
    p = train.TrainParams(logp_backend="c", chains=2, cores=2, tune=30, draws=20, seed=5)
    idata, steps = sampling.run(fused, p)
    post = idata.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 20 and steps > 0
    assert {"alpha", "beta", "v", "scale_c", "gamma", "gate_wg", "gate_kappa"} <= set(post.data_vars)
    assert np.isfinite(post["alpha"].values).all()
    assert not np.allclose(post["alpha"].values[0], post["alpha"].values[1])


def test_a_hessian_through_the_kernel_is_refused_not_wrong(rng):
    import pytensor

    _, fused = _pair(rng, n=10, H=0)
    loglik = fused.potentials[0]
    alpha0 = fused["alpha0"]
    grad = pytensor.grad(loglik, alpha0)
    with pytest.raises(NotImplementedError, match="fused=False"):
        pytensor.grad(grad, alpha0)


@pytest.mark.parametrize("kw,what", [
    (dict(gate="softmax"), "ordinal gate"),
    (dict(gate="ordinal", likelihood="normal"), "discrete likelihood"),
    (dict(gate="ordinal", network="additive_learned"), "network: additive"),
    (dict(gate="ordinal", network="additive", gate_hidden="every"), "gate_hidden"),
])
def test_fused_is_refused_for_a_model_it_does_not_compute(rng, kw, what):
    with pytest.raises(ValueError, match=what):
        build_pymc_model(rng.normal(size=(9, 2)), np.zeros(9), 2, 2, fused=True, **kw)


def test_the_training_path_uses_the_kernel_only_where_it_applies():
    from nfl_bnn.train import TrainParams

    p = TrainParams()
    assert p.fused and fz.supported(p.gate, p.likelihood, p.hidden_units, p.network, p.gate_hidden, None)
    assert not fz.supported("softmax", "discrete", 20, "additive", False, None)
    assert fz.supported("ordinal", "discrete", 20, "additive", "orthogonal", None)
    assert not fz.supported("ordinal", "discrete", 20, "additive", "every", None)
    assert not fz.supported("ordinal", "discrete", 20, "additive_learned", "shrunk", None)
    assert fz.supported("ordinal", "discrete", 0, "plain", False, None)  # no hidden units: any network name
