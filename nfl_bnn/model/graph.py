"""The PyMC graph that is sampled: the only part of the model that needs PyMC.

The model, on standardised features ``x`` and a standardised target (yards, or ``log(yards + offset)``):

* gate: ``softmax`` (K-1 free logit vectors linear in the gate's features, expert 0 the reference) or
  ``ordinal`` (one linear gating score and K-1 ordered cut-points, a cumulative logit over the experts
  ordered by location; fewer symmetric modes, see docs/model-fitting.md);
* expert k: location ``alpha_k + x @ beta_k (+ tanh(x @ W_h + b_h) @ v_k)``: a linear skip connection plus
  H hidden units shared by the experts (``network: identified`` orders the biases ``b_h`` and shrinks
  positive output weights ``v``; see docs/network.md), and the gate may see the hidden units too; with ``shared_slopes`` (the
  default) every expert has the same slopes ``beta_mu`` and experts differ in intercept and scale,
  otherwise ``beta_k = beta_mu + tau * beta_raw_k`` (non-centred shrinkage towards the shared slope);
  ``alpha`` is ordered (no label switching), optionally with Gamma gaps between the intercepts;
* expert scale ``floor + exp(c_k + x @ gamma)``: the spread grows with the features;
* likelihood: ``discrete`` (the default) is the exact mixture probability of each whole yard,
  ``F(y + 1/2) - F(y - 1/2)`` with the bin edges mapped into target space, optionally weighted per
  row; ``normal`` is the mixture density (``pm.NormalMixture``), kept for comparison.

PyMC and PyTensor are imported inside the functions, after :func:`quiet_pytensor`, so importing
``nfl_bnn.model`` never pulls them in.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from nfl_bnn.model.forward import GATES, NETWORKS, OPTIONAL_PARAMS, PARAM_SHAPES, _dims
from nfl_bnn.model.network import ADDITIVE, feature_units, orthogonal_gate_units, units_per_feature
from nfl_bnn.model.network import hidden_layer as _hidden_layer
from nfl_bnn.model.network import output_weights as _output_weights


def _log_bin_prob(mu, sigma, lo, hi):
    """log(Phi((hi-mu)/sigma) - Phi((lo-mu)/sigma)): the log probability of a whole-yard bin.

    Computed as ``log((erfc(-hi/sqrt2) - erfc(-lo/sqrt2)) / 2)`` after flipping a bin in the upper tail
    to the lower one (Phi(b) - Phi(a) = Phi(-a) - Phi(-b)), so a tail bin is the difference of two small
    erfc values, not of two values near 1 (two PyMC ``normal_lcdf`` calls cost twice as much and erred by
    2e-5 near |z| = 1); it agrees with SciPy's ``log_ndtr`` to 1e-9 (tests/test_bin_prob.py). A bin more
    than about 37 sd from an expert underflows and is floored at 1e-300 (log -690.8, no gradient).
    """
    import pytensor.tensor as pt

    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    upper = a > 0
    lo_z, hi_z = pt.switch(upper, -b, a), pt.switch(upper, -a, b)  # lo_z < hi_z, lo_z <= 0
    s = np.sqrt(0.5)
    return pt.log(pt.maximum(0.5 * (pt.erfc(-hi_z * s) - pt.erfc(-lo_z * s)), 1e-300))


def quiet_pytensor() -> None:
    """Silence PyTensor's "could not link to a BLAS installation" warning.

    A pip-installed PyTensor always prints it; it concerns PyTensor's C backend, while sampling runs
    in nutpie's compiled (numba) backend, so for this model it is noise in every log and report.
    """
    import warnings

    warnings.filterwarnings("ignore", message=".*could not link to a BLAS installation.*")
    logging.getLogger("pytensor.tensor.blas").setLevel(logging.ERROR)


def _gate_unit_weights(H: int, units: Sequence[int] | None, sd: float, cols: int | None = None):
    """The gate's weights on the hidden units, (H,) or (H, cols).

    ``units`` None: every unit, free Normal(0, ``sd``) weights with a fixed scale (the first gating
    network; no hyper-scale, so no funnel however strongly the data pin the weights). A list: only
    those units (the gate features' own additive units, or all of them), with non-centred hierarchical
    shrinkage, ``scale * raw`` and a half-normal(``sd``) scale, so the gate can stay at its linear form
    (scale near 0) unless the data ask for bends; the other units' weights are fixed at 0.
    """
    import pymc as pm
    import pytensor.tensor as pt

    shape = (H,) if cols is None else (H, cols)
    if units is None:
        return pm.Normal("gate_u" if cols is None else "gate_Vh", 0.0, sd, shape=shape)
    sub = (len(units),) if cols is None else (len(units), cols)
    scale = pm.HalfNormal("gate_u_scale", sd)
    raw = pm.Normal("gate_u_raw", 0.0, 1.0, shape=sub)
    full = pt.set_subtensor(pt.zeros(shape)[list(units)], scale * raw)
    return full if cols is None else pm.Deterministic("gate_Vh", full)


def _gate_logits(X, n: int, d: int, K: int, gidx: list[int], gate: str, gate_sd: float, h=None, H: int = 0,
                 units: Sequence[int] | None = None, unit_sd: float | None = None, orth=None):
    """The gate's logits (n, K); registers ``gate_W`` (d, K-1) and ``gate_b`` (K-1) either way.

    With hidden units ``h`` (n, H) the gate is a small network too: its scores gain ``h @ gate_Vh``
    (``gate_Vh`` (H, K-1); for the ordinal gate one weight per unit, repeated in every column);
    ``units`` restricts it to some units, shrunk with a half-normal(``unit_sd``) scale
    (:func:`_gate_unit_weights`); ``units`` None: every unit, Normal(0, ``unit_sd``) weights. ``unit_sd``
    None: ``gate_sd``. ``orth``: the parts of :func:`nfl_bnn.model.network.orthogonal_gate_units`.
    """
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    H = 0 if h is None else int(H)
    unit_sd = gate_sd if unit_sd is None else unit_sd

    if gate == "ordinal":
        # one gating score and ordered cut-points: experts are ordered by location (alpha), and a
        # higher score moves weight to higher experts, so no rotation of the logits is left free
        w_g = pm.Normal("gate_wg", 0.0, gate_sd, shape=(len(gidx),))
        kappa = pm.Normal("gate_kappa", 0.0, 1.5, shape=(K - 1,), transform=ordered,
                          initval=np.linspace(-0.5, 0.5, K - 1))
        w_full = pt.set_subtensor(pt.zeros((d,))[gidx], w_g) if len(gidx) < d else w_g
        score, w_st, k_st = X @ w_full, w_full, kappa
        if orth is not None:
            part, u, shift, lin = orth
            score, w_st, k_st = score + part, w_full - lin, kappa + shift
        elif H:
            u = _gate_unit_weights(H, units, unit_sd)
            score = score + h @ u
        pm.Deterministic("gate_W", pt.tile(w_st[:, None], (1, K - 1)))
        pm.Deterministic("gate_b", -k_st)
        if H or orth is not None:
            pm.Deterministic("gate_Vh", pt.tile(u[:, None], (1, K - 1)))
        cum = score[:, None] - kappa[None, :]  # logit P(expert > j), decreasing in j
        log_gt = -pt.softplus(-cum)  # log sigmoid(cum), finite however far out the score is
        log_up = pt.concatenate([pt.zeros((n, 1)), log_gt], axis=1)  # log P(expert > j - 1)
        log_dn = pt.concatenate([log_gt, pt.full((n, 1), -np.inf)], axis=1)  # log P(expert > j)
        # log(P(> j-1) - P(> j)), stable: log_up + log1mexp(log_dn - log_up)
        return log_up + pt.log1mexp(pt.minimum(log_dn - log_up, -1e-12))
    gate_Wg = pm.Normal("gate_Wg", 0.0, gate_sd, shape=(len(gidx), K - 1))
    gate_W = pm.Deterministic("gate_W", pt.set_subtensor(pt.zeros((d, K - 1))[gidx], gate_Wg)
                              if len(gidx) < d else gate_Wg)
    gate_b = pm.Normal("gate_b", 0.0, 1.0, shape=(K - 1,))
    scores = X @ gate_W + gate_b
    if H:
        scores = scores + h @ _gate_unit_weights(H, units, unit_sd, K - 1)
    return pt.concatenate([pt.zeros((n, 1)), scores], axis=1)


def _expert_locations(X, d: int, K: int, H: int, p: Mapping[str, float], shared_slopes: bool, h=None,
                      network: str = "plain", hidden_output: str = "per_expert"):
    """Expert locations (n, K); registers ``alpha``, ``beta`` and, for H > 0, ``v`` (the hidden units ``h``
    come from :func:`_hidden_layer`)."""
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    if p.get("alpha_gap_shape", 0) > 0:
        # ordered intercepts with gaps bounded away from 0 (Gamma prior): removes the mode in which
        # experts share a location and differ only in scale (see docs/model-fitting.md)
        a0 = pm.Normal("alpha0", -0.5, 1.0)
        shape, mean = p["alpha_gap_shape"], p["alpha_gap_mean"]
        gaps = pm.Gamma("alpha_gap", alpha=shape, beta=shape / mean, shape=(K - 1,))
        alpha = pm.Deterministic("alpha", pt.concatenate([a0[None], a0 + pt.cumsum(gaps)]))
    else:
        alpha = pm.Normal("alpha", 0.0, 1.0, shape=(K,), transform=ordered, initval=np.linspace(-0.5, 0.5, K))
    beta_mu = pm.Normal("beta_mu", 0.0, p["beta_sd"], shape=(d,))
    if shared_slopes:  # experts differ in intercept, scale and hidden units only
        beta = pm.Deterministic("beta", pt.tile(beta_mu[None, :], (K, 1)))
    else:
        tau = pm.HalfNormal("beta_tau", p["tau_sd"])
        beta_raw = pm.Normal("beta_raw", 0.0, 1.0, shape=(K, d))
        beta = pm.Deterministic("beta", beta_mu[None, :] + tau * beta_raw)
    mu = alpha[None, :] + X @ beta.T
    if H > 0:
        mu = mu + h @ _output_weights(K, H, p, network, hidden_output).T
    return mu


def build_pymc_model(Xz: np.ndarray, yz: np.ndarray, n_experts: int = 3, hidden_units: int = 0,
                     priors: Mapping[str, float] | None = None, shared_slopes: bool = True,
                     likelihood: str = "discrete", bin_halfwidth: float | None = None,
                     scale_floor: float = 0.0, gate_features: Sequence[int] | None = None,
                     row_weights: np.ndarray | None = None,
                     bin_edges: tuple[np.ndarray, np.ndarray] | None = None, gate: str = "softmax",
                     network: str = "plain", hidden_output: str = "per_expert", gate_hidden: bool | str = False,
                     hidden_features: Sequence[int] | None = None, effects=None, fused: bool = False):
    """Build the PyMC model on standardised inputs.

    Whole yards get the exact probability of their bin rather than a density: a probability is
    bounded by 1, so no component can collapse onto a cluster of identical values (the Gaussian-mixture
    degeneracy that the density likelihood ran into, see docs/model-fitting.md).

    Parameters
    ----------
    Xz : numpy.ndarray
        Standardised features, shape (n, d).
    yz : numpy.ndarray
        Standardised target, shape (n,).
    n_experts, hidden_units : int
        K experts; H tanh units shared by the experts (0: linear experts).
    priors : mapping, optional
        Prior scales overriding the defaults (``gate_sd``, ``beta_sd``, ``tau_sd``, ``gamma_sd``,
        ``hidden_sd``, ``v_sd``), ``alpha_gap_shape`` (> 0: Gamma gaps between intercepts) and
        ``alpha_gap_mean`` (their prior mean, default 0.8).
    shared_slopes : bool
        One slope vector for all experts (the default) or shrunk per-expert slopes.
    likelihood : {"discrete", "normal"}
        Exact whole-yard bin probability, or the mixture density.
    bin_halfwidth : float, optional
        Half a yard in standardised units (``0.5 / y_sd``); used when ``bin_edges`` is not given.
    scale_floor : float
        Added to every expert's scale (standardised units).
    gate_features : sequence of int, optional
        Column indices the gate sees; the other gate weights are fixed at 0.
    row_weights : numpy.ndarray, optional
        (n,) in (0, 1]: each row's log-likelihood is multiplied by its weight (older seasons count
        for less); discrete likelihood only.
    bin_edges : tuple of numpy.ndarray, optional
        (lo, hi) standardised edges of each row's whole-yard bin; needed for a transformed target,
        whose bins are not of equal width.
    gate : {"softmax", "ordinal"}
        See :func:`nfl_bnn.model.forward.gate_weights`. Both store ``gate_W`` (d, K-1) and
        ``gate_b`` (K-1); the ordinal gate repeats its score's weights in every column with
        ``gate_b = -kappa``.
    network : {"plain", "identified", "directional", "additive", "additive_learned"}
        For H > 0, the hidden layer; :mod:`nfl_bnn.model.network` says what each is (``additive``, the
        default's: one feature per unit, a fixed gain, centres at training quantiles; docs/network.md).
    hidden_output : {"per_expert", "shared"}
        Not ``plain``: one output weight vector per expert, or one for all.
    gate_hidden : bool, "gate_features", "shrunk" or "orthogonal"
        The gate also sees the hidden units (a gating network); needs H > 0. ``True``: every unit, free
        Normal(0, s) weights; ``"gate_features"``: only the additive units of the gate's own features,
        with shrunk (non-centred) weights: a neural additive gate over the gate features; ``"shrunk"``:
        every unit, shrunk the same way under a half-normal(s) scale; ``"orthogonal"``: every unit's part the
        linear ordinal gate cannot express, Normal(0, s) weights. s is ``priors["gate_unit_sd"]``, else gate_sd.
    hidden_features : sequence of int, optional
        Column indices the hidden units see (default: all); the other rows of ``W_h`` are 0.
    effects : nfl_bnn.model.effects.EffectLevels, optional
        Defence and back effects added to every expert's location (partial pooling, docs/hierarchical.md).
    fused : bool
        The likelihood as one compiled kernel (:mod:`nfl_bnn.model.fused`): same numbers, a faster
        gradient; for the models :func:`nfl_bnn.model.fused.supported` accepts.

    Returns
    -------
    pymc.Model
        With deterministics named as in :data:`nfl_bnn.model.forward.PARAM_SHAPES`.

    Raises
    ------
    ValueError
        For invalid row weights, row weights with the density likelihood, an unknown gate, or ``fused``
        for a model it does not cover.
    """
    quiet_pytensor()
    import pymc as pm
    import pytensor.tensor as pt

    p = {"gate_sd": 0.5, "beta_sd": 0.5, "tau_sd": 0.2, "gamma_sd": 0.3, "hidden_sd": 0.5, "v_sd": 0.3,
         "bias_sd": 1.0, "hidden_gain": 1.5, "effect_sd": 0.2, "alpha_gap_mean": 0.8}
    p.update(priors or {})
    n, d = Xz.shape
    K, H = int(n_experts), int(hidden_units)
    gidx = list(range(d)) if gate_features is None else [int(i) for i in gate_features]
    if row_weights is not None:
        rw = np.asarray(row_weights, dtype=np.float64)
        if rw.shape != (n,) or not np.all((rw > 0) & (rw <= 1)):
            raise ValueError(f"row_weights must have shape ({n},) with values in (0, 1]")
        if likelihood != "discrete":
            raise ValueError("row_weights need likelihood='discrete' (a weighted Potential)")
    from nfl_bnn.model import fused as fz

    if fused:
        fz.check(gate, likelihood, H, network, gate_hidden, effects)
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, not {gate!r}")
    if network not in NETWORKS or hidden_output not in ("per_expert", "shared"):
        raise ValueError(f"network must be one of {NETWORKS} (not {network!r}) and hidden_output "
                         f"per_expert or shared (not {hidden_output!r})")
    if hidden_output == "shared" and network == "plain":
        raise ValueError("hidden_output: shared needs network: identified, directional or additive")
    if H > 0 and network in ADDITIVE:
        units_per_feature(H, d if hidden_features is None else len(hidden_features))
    if gate_hidden and H == 0:
        raise ValueError("gate_hidden needs hidden_units > 0 (the gate would see no hidden units)")
    gate_units = None
    if gate_hidden == "gate_features":
        hidx_all = list(range(d)) if hidden_features is None else [int(i) for i in hidden_features]
        if network not in ADDITIVE:
            raise ValueError("gate_hidden: gate_features needs an additive network (units that read one feature)")
        gate_units = feature_units(hidx_all, units_per_feature(H, len(hidx_all)), gidx)
        if not gate_units:
            raise ValueError("gate_hidden: gate_features needs a gate feature among the hidden features")
    elif gate_hidden == "shrunk":
        gate_units = list(range(H))
    elif gate_hidden == "orthogonal" and (network != "additive" or gate != "ordinal"):
        raise ValueError("gate_hidden: orthogonal needs network: additive (fixed units) and gate: ordinal")
    elif gate_hidden not in (True, False, "orthogonal"):
        raise ValueError(f"gate_hidden must be true, false, gate_features, shrunk or orthogonal, not {gate_hidden!r}")
    with pm.Model() as m:
        X = pt.as_tensor_variable(np.asarray(Xz, dtype=np.float64))
        hidx = None if hidden_features is None else [int(i) for i in hidden_features]
        h = _hidden_layer(X, d, H, p, network, hidx, Xz=Xz) if H > 0 else None
        unit_sd = p.get("gate_unit_sd") or p["gate_sd"]
        orth = None if gate_hidden != "orthogonal" else orthogonal_gate_units(
            Xz, d, H, list(range(d)) if hidx is None else hidx, gidx, p, unit_sd)
        logits = _gate_logits(X, n, d, K, gidx, gate, p["gate_sd"], h if gate_hidden and orth is None else None, H,
                              gate_units, unit_sd, orth)
        log_w = logits - pt.logsumexp(logits, axis=1, keepdims=True)
        mu = _expert_locations(X, d, K, H, p, shared_slopes, h, network, hidden_output)
        if effects is not None and effects.active:  # partial pooling of defences and backs
            from nfl_bnn.model.effects import graph_offset

            mu = mu + graph_offset(effects, p["effect_sd"], n)[:, None]
        scale_c = pm.Normal("scale_c", np.log(0.8), 0.5, shape=(K,))
        gamma = pm.Normal("gamma", 0.0, p["gamma_sd"], shape=(d,))
        sigma = float(scale_floor) + pt.exp(scale_c[None, :] + (X @ gamma)[:, None])
        yv = np.asarray(yz, dtype=np.float64)
        if likelihood == "discrete":
            h = float(bin_halfwidth) if bin_halfwidth else 0.5 / 40.0
            edges = [np.asarray(e, dtype=np.float64) for e in (bin_edges if bin_edges is not None else (yv - h, yv + h))]
            lo_e, hi_e = (pt.as_tensor_variable(e)[:, None] for e in edges)
            if fused:  # the same sum from the parameters registered above, in one compiled pass
                pm.Potential("y_loglik", fz.model_loglik(m, Xz, H, hidx, gidx, p["hidden_gain"], edges, scale_floor,
                                                         row_weights, gate_hidden))
                return m
            ll = pt.logsumexp(log_w + _log_bin_prob(mu, sigma, lo_e, hi_e), axis=1)
            pm.Potential("y_loglik", (ll * rw).sum() if row_weights is not None else ll.sum())
        else:
            pm.NormalMixture("y", w=pt.special.softmax(logits, axis=1), mu=mu, sigma=sigma, observed=yv)
    return m


def posterior_arrays(idata, d: int, K: int, H: int) -> dict[str, np.ndarray]:
    """Posterior draws as arrays of shape (chain, draw, *param_shape), zero-filled where H == 0.

    Parameters
    ----------
    idata : arviz.InferenceData
        With a ``posterior`` group holding the deterministics of :func:`build_pymc_model`.
    d, K, H : int
        Features, experts, hidden units.

    Returns
    -------
    dict of str to numpy.ndarray
        One float64 array per name in :data:`nfl_bnn.model.forward.PARAM_SHAPES`.
    """
    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    out = {}
    for name, shape in PARAM_SHAPES.items():
        dims = _dims(shape, d, K, H)
        if name in post:
            out[name] = np.asarray(post[name].values, dtype=np.float64).reshape((C, D) + dims)
        elif name in OPTIONAL_PARAMS:  # not in this graph: left out, the forward pass reads it as zeros
            continue
        else:
            out[name] = np.zeros((C, D) + dims)
    return out
