"""The hidden layer of the mixture of experts (docs/network.md): hidden units and output weights.

Every network option ends in the same two arrays the NumPy forward pass reads, ``W_h`` (d, H) and
``b_h`` (H,), with units ``tanh(x @ W_h + b_h)``, so :func:`nfl_bnn.model.forward.mixture_params`
predicts every option alike and an artifact needs no new arrays.

The additive options (``additive``, ``additive_learned``) give each unit ONE standardised feature,
``tanh(gain * (x_f - c))``: ``W_h`` holds the gain in that feature's row and zeros elsewhere, and
``b_h = -gain * c``. With the centres fixed at quantiles of the training rows (``additive``) the
units are a fixed basis and the experts' locations are linear in the output weights: a neural
additive model whose posterior (given the gate) is close to Gaussian, with none of the sign,
permutation or scale symmetries of a dense tanh layer.

PyMC and PyTensor are imported inside the graph functions, like :mod:`nfl_bnn.model.graph`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

ADDITIVE = ("additive", "additive_learned")


def additive_centres(Xz: np.ndarray, hidx: Sequence[int], per_feature: int) -> np.ndarray:
    """Each hidden feature's unit centres at its training quantiles (k + 1) / (m + 1): (n_f, m).

    Quantiles put the bends where the rows are. Where they tie (a feature with few distinct values,
    e.g. mostly 0), the quantiles of the distinct values are used instead, and centres that still tie
    (a constant feature) are pulled apart by 0.01, so every feature's centres increase strictly (an
    ordered prior needs that, and equal centres would only repeat one unit).
    """
    m = int(per_feature)
    probs = (np.arange(m) + 1.0) / (m + 1.0)
    out = np.empty((len(hidx), m))
    for i, f in enumerate(hidx):
        x = np.asarray(Xz[:, f], dtype=np.float64)
        c = np.quantile(x, probs)
        if m > 1 and np.any(np.diff(c) <= 1e-6):
            c = np.quantile(np.unique(x), probs)
        if m > 1 and np.any(np.diff(c) <= 1e-6):
            c = c + 0.01 * (np.arange(m) - (m - 1) / 2.0)
        out[i] = c
    return out


def additive_weights(d: int, hidx: Sequence[int], per_feature: int, gain: float) -> np.ndarray:
    """The fixed input weights of an additive layer: unit f*m + k reads feature ``hidx[f]`` with ``gain``."""
    W = np.zeros((d, len(hidx) * int(per_feature)))
    for i, f in enumerate(hidx):
        W[f, i * per_feature:(i + 1) * per_feature] = float(gain)
    return W


def feature_units(hidx: Sequence[int], per_feature: int, features: Sequence[int]) -> list[int]:
    """The additive units that read any of ``features`` (column indices): unit i*m + k reads ``hidx[i]``.

    The gating network of ``gate_hidden: gate_features`` reads these units only, so the gate stays a
    function of its own few features (the gate the data identify) with bends where they help.
    """
    m, wanted = int(per_feature), {int(g) for g in features}
    return [i * m + k for i, f in enumerate(hidx) if f in wanted for k in range(m)]


def units_per_feature(H: int, n_inputs: int) -> int:
    """m units per hidden feature for an additive layer of H units; refuses an H that does not divide."""
    if n_inputs < 1 or H % n_inputs:
        raise ValueError(f"network: additive needs hidden_units ({H}) to be a multiple of the number of "
                         f"hidden features ({n_inputs}): each feature gets the same number of units; set "
                         f"hidden_units to m x {n_inputs} or choose hidden_features")
    return H // n_inputs


def _additive_layer(X, Xz: np.ndarray, d: int, H: int, p: Mapping[str, float], network: str, hidx: list[int]):
    """``tanh(gain * (x_f - c))`` per unit; registers ``W_h``, ``b_h`` (and ``c_h`` if learned)."""
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    m, gain = units_per_feature(H, len(hidx)), float(p["hidden_gain"])
    q = additive_centres(Xz, hidx, m)
    W_h = pm.Deterministic("W_h", pt.as_tensor_variable(additive_weights(d, hidx, m, gain)))
    if network == "additive":
        b_h = pm.Deterministic("b_h", pt.as_tensor_variable(-gain * q.ravel()))
    else:  # learned centres, ordered within each feature (no permutation of a feature's units), centred
        # at the quantiles: a unit the data do not need keeps its prior, a proper Normal, not a funnel
        kw = {"transform": ordered} if m > 1 else {}
        c = pm.Normal("c_h", q, p["bias_sd"], shape=q.shape, initval=q, **kw)
        b_h = pm.Deterministic("b_h", -gain * c.reshape((H,)))
    return pt.tanh(X @ W_h + b_h[None, :])


def hidden_layer(X, d: int, H: int, p: Mapping[str, float], network: str, hidx: list[int] | None = None,
                 Xz: np.ndarray | None = None):
    """The hidden units ``tanh(X @ W_h + b_h)`` (n, H); registers ``W_h`` and, except ``plain``, ``b_h``.

    ``plain`` (the first network option) has no biases, so every unit is odd in x and units can be
    permuted freely. ``identified`` gives each unit a bias and orders the biases: the units are labelled
    by where they bend, which removes the H! copies of every mode that NUTS would otherwise wander
    between (the sign symmetry is removed by positive output weights, :func:`output_weights`).
    ``additive``/``additive_learned``: one feature per unit (module docstring); they need ``Xz``.
    """
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    if network in ADDITIVE:
        return _additive_layer(X, Xz, d, H, p, network, list(range(d)) if hidx is None else hidx)
    di = d if hidx is None else len(hidx)  # the hidden units' inputs; the other rows of W_h are 0
    if network == "directional":
        # each unit looks along a unit-length direction with a fixed gain: the product ridge between
        # the size of the input weights and of the output weight (v * w is all a nearly linear unit
        # identifies) is gone, and a unit the data do not need wanders on a sphere, not down a funnel
        # (the start must not be the origin, where the direction is undefined)
        u = pm.Normal("W_dir", 0.0, 1.0, shape=(di, H), initval=np.eye(di, H) + 0.1)
        W_in = float(p["hidden_gain"]) * u / pt.sqrt((u**2).sum(axis=0, keepdims=True))
    else:
        W_in = pm.Normal("W_h" if hidx is None else "W_hin", 0.0, p["hidden_sd"], shape=(di, H))
    if hidx is None and network != "directional":
        W_h = W_in
    else:
        W_h = pm.Deterministic("W_h", W_in if hidx is None else pt.set_subtensor(pt.zeros((d, H))[hidx], W_in))
    pre = X @ W_h
    if network in ("identified", "directional"):
        kw = {"transform": ordered, "initval": np.linspace(-1.0, 1.0, H)} if H > 1 else {}
        b_h = pm.Normal("b_h", 0.0, p["bias_sd"], shape=(H,), **kw)
        pre = pre + b_h[None, :]
    return pt.tanh(pre)


def output_weights(K: int, H: int, p: Mapping[str, float], network: str, hidden_output: str):
    """The hidden-to-location weights ``v`` (K, H).

    ``plain``: free Normal weights per expert. ``identified``: non-centred hierarchical shrinkage,
    ``v = v_scale * v_raw`` with a half-normal global scale (or another, :func:`v_scale_prior`) and
    half-normal raw weights, so the posterior can sit at the linear model (v_scale near 0) unless the
    data ask for the bends; the weights are positive, which removes tanh's sign symmetry (flipping a
    unit's input weights, bias and output weight gives the same function). ``additive``: the same non-centred shrinkage with Normal raw
    weights (an additive unit has no sign symmetry: its input weight is fixed and positive).
    ``hidden_output`` ``shared`` uses one weight vector for every expert (experts then still differ in
    intercept, scale and gate), ``per_expert`` one per expert.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if network == "plain":
        return pm.Normal("v", 0.0, p["v_sd"], shape=(K, H))
    shape = (H,) if hidden_output == "shared" else (K, H)
    if network == "directional":  # positive (sign symmetry), half-normal: mode at the linear model
        raw = pm.HalfNormal("v_pos", p["v_sd"], shape=shape)
        return pm.Deterministic("v", pt.tile(raw[None, :], (K, 1)) if hidden_output == "shared" else raw)
    scale = v_scale_prior(p)
    raw = (pm.Normal("v_raw", 0.0, 1.0, shape=shape) if network in ADDITIVE
           else pm.HalfNormal("v_raw", 1.0, shape=shape))
    return pm.Deterministic("v", pt.tile((scale * raw)[None, :], (K, 1)) if hidden_output == "shared" else scale * raw)


def v_scale_prior(p: Mapping[str, float]):
    """The output weights' shared scale: half-normal(``v_sd``), or with ``v_scale_shape`` > 0 a
    Gamma(shape, shape / m) with m = v_sd * sqrt(2 / pi), the half-normal's own mean.

    Why the option (docs/network.md, session 21): the few divergences left in fits with a gating
    network (and one quickstart seed) ran along ``v_scale`` or ``v_raw``, and the guess was a neck
    near 0 (data that pin ``v = v_scale * v_raw`` make a small scale need large raw weights) which
    the half-normal, peaked at 0, keeps open. A Gamma with shape 2 has zero density there and the same
    mean. Screened on the rolling origins it did not help: the gating network still diverged, and the
    Gamma alone brought divergences along ``v_scale`` itself. So the default stays the half-normal;
    the option stays so that the screen can be rerun.
    """
    import pymc as pm

    shape = float(p.get("v_scale_shape") or 0.0)
    if shape <= 0:
        return pm.HalfNormal("v_scale", p["v_sd"])
    mean = float(p["v_sd"]) * math.sqrt(2.0 / math.pi)
    return pm.Gamma("v_scale", alpha=shape, beta=shape / mean)


def additive_basis(Xz: np.ndarray, d: int, H: int, hidx: Sequence[int], gain: float) -> np.ndarray:
    """The fixed additive units on the training rows, (n, H): what ``tanh(X @ W_h + b_h)`` of the graph
    and of the NumPy forward pass give for ``network: additive`` (centres at the training quantiles)."""
    m = units_per_feature(H, len(hidx))
    return np.tanh(np.asarray(Xz, dtype=np.float64) @ additive_weights(d, hidx, m, gain)
                   - float(gain) * additive_centres(Xz, hidx, m).ravel())


def orthogonal_gate_basis(h: np.ndarray, Xg: np.ndarray, tol: float = 1e-8):
    """The units' columns with their least-squares fit on [1, gate features] removed, each scaled to sd 1.

    Why (``gate_hidden: orthogonal``, docs/network.md session 14): every earlier gating network added
    ``h @ u`` to the ordinal gate's score, and a unit's mean and its linear trend in a gate feature can
    be undone by the cut-points and the gate's linear weights, so those directions form ridges the
    sampler diverged on. Here the score reads ``Z @ u`` with ``Z = (h - A @ B) / sd``, ``A = [1, Xg]``:
    on the training rows ``Z`` is orthogonal to what the linear gate already has, so ``u`` only carries
    the bends. Written back in the forward pass's arrays: gate weights on the units ``u / sd``, the
    gate features' weights less ``B[1:] @ (u / sd)``, the cut-points plus ``B[0] @ (u / sd)``.

    Returns ``Z`` (n, H), ``B`` ((1 + g), H) and ``inv_sd`` (H,): 1 / sd, or 0 for a unit the gate
    features explain entirely (its weight then moves nothing, in training or prediction).
    """
    A = np.column_stack([np.ones(len(Xg)), np.asarray(Xg, dtype=np.float64)])
    B = np.linalg.lstsq(A, h, rcond=None)[0]
    R = h - A @ B
    sd = R.std(axis=0)
    inv_sd = np.where(sd > tol, 1.0 / np.maximum(sd, tol), 0.0)
    return R * inv_sd, B, inv_sd


def orthogonal_gate_units(Xz: np.ndarray, d: int, H: int, hidx: Sequence[int], gidx: Sequence[int],
                          p: Mapping[str, float], unit_sd: float):
    """The PyMC part of ``gate_hidden: orthogonal``: ``gate_u ~ Normal(0, unit_sd)`` on the orthogonal,
    standardised units. Returns (score part (n,), unit weights in the forward pass's units (H,), the
    cut-points' shift (scalar), the change to the gate weights on all d features (d,))."""
    import pymc as pm
    import pytensor.tensor as pt

    Z, B, inv_sd = orthogonal_gate_basis(additive_basis(Xz, d, H, hidx, p["hidden_gain"]),
                                         np.asarray(Xz, dtype=np.float64)[:, list(gidx)])
    u = pm.Normal("gate_u", 0.0, unit_sd, shape=(H,))
    up = u * inv_sd
    lin = pt.set_subtensor(pt.zeros((d,))[list(gidx)], pt.as_tensor_variable(B[1:]) @ up)
    return pt.as_tensor_variable(Z) @ u, up, pt.as_tensor_variable(B[0]) @ up, lin
