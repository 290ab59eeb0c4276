"""The model's forward pass in NumPy: from posterior draws and features to a predictive distribution.

Nothing here imports PyMC: prediction (weekly runs, backtests, the CLI) loads an artifact and runs
these functions only, so it starts fast and works where PyMC is not installed. The graph that is
sampled (``nfl_bnn.model.graph``) computes the same quantities; a test holds the two equal.

Shapes: ``S`` posterior draws, ``n`` rows, ``K`` experts, ``d`` features, ``H`` hidden units.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.special import expit, log_ndtr

from nfl_bnn.model.quantiles import mixture_quantiles, pooled_cdf, target_space, whole_yard_quantiles  # noqa: F401

#: Arrays of one posterior draw, by name -> shape in terms of d (features), K (experts), H (hidden).
PARAM_SHAPES = {
    "gate_W": ("d", "K-1"),
    "gate_b": ("K-1",),
    "alpha": ("K",),
    "beta": ("K", "d"),
    "scale_c": ("K",),
    "gamma": ("d",),
    "W_h": ("d", "H"),
    "v": ("K", "H"),
    "b_h": ("H",),
    "gate_Vh": ("H", "K-1"),
}
#: Arrays added after the first artifacts: an artifact without them is read with zeros, which is exactly
#: the model it was fitted as (hidden units without biases, a gate that does not see the hidden units).
OPTIONAL_PARAMS = ("b_h", "gate_Vh")
NETWORKS = ("plain", "identified", "directional", "additive", "additive_learned")
QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
TRANSFORMS = ("identity", "log")
GATES = ("softmax", "ordinal")


def _dims(shape: Sequence[str], d: int, K: int, H: int) -> tuple[int, ...]:
    env = {"d": d, "K": K, "K-1": K - 1, "H": H}
    return tuple(env[s] for s in shape)


def gate_weights(scores: np.ndarray, gate: str = "softmax") -> np.ndarray:
    """Expert weights from the gate's K-1 linear scores.

    Parameters
    ----------
    scores : numpy.ndarray
        Shape (..., K-1). softmax: the logits of experts 1..K-1 against expert 0 (the reference).
        ordinal: score j is the logit of P(expert > j), decreasing in j.
    gate : {"softmax", "ordinal"}
        The gate's form. The ordinal gate gives ``w_0 = 1 - P(> 0)``, ``w_j = P(> j-1) - P(> j)``
        and ``w_{K-1} = P(> K-2)``: a higher score moves weight up the ladder of experts.

    Returns
    -------
    numpy.ndarray
        Weights of shape (..., K), non-negative, summing to 1 over the last axis.
    """
    if gate == "ordinal":
        gt = expit(scores)
        ones = np.ones(gt.shape[:-1] + (1,), dtype=gt.dtype)
        w = np.concatenate([ones, gt], axis=-1) - np.concatenate([gt, 0 * ones], axis=-1)
        return np.clip(w, 0.0, 1.0)
    z = np.concatenate([np.zeros(scores.shape[:-1] + (1,), dtype=scores.dtype), scores], axis=-1)
    z = z - z.max(axis=-1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=-1, keepdims=True)


def mixture_params(params: Mapping[str, np.ndarray], Xz: np.ndarray, y_mean: float, y_sd: float,
                   dtype=np.float32, scale_floor: float = 0.0,
                   gate: str = "softmax", loc_offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each draw's mixture for each row: the forward pass of the network.

    Hidden units ``h = tanh(x @ W_h + b_h)`` (H of them, shared by the experts) add ``h @ v_k`` to
    expert k's location on top of its linear part (the skip connection, so H = 0 or v = 0 is the
    linear model) and ``h @ gate_Vh`` to the gate's scores. ``b_h`` and ``gate_Vh`` may be absent (an
    artifact from before they existed): that is the same as zeros.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        Posterior draws, each of shape (S, *PARAM_SHAPES[name]).
    Xz : numpy.ndarray
        Standardised features, shape (n, d).
    y_mean, y_sd : float
        The target's standardisation (in target space), undone here.
    dtype : numpy dtype
        float32 for prediction (speed), float64 where it is compared with the sampled graph.
    scale_floor : float
        Added to every expert's standardised scale (the 1-yard floor of the train params).
    gate : {"softmax", "ordinal"}
        The gate's form, see :func:`gate_weights`.
    loc_offset : numpy.ndarray, optional
        (S, n) standardised shift of every expert's location: the defence and back effects
        (:func:`nfl_bnn.model.effects.location_offset`).

    Returns
    -------
    tuple of numpy.ndarray
        Weights, locations and scales in target space, each (S, n, K).
    """
    X = np.asarray(Xz, dtype=dtype)
    gW, gb = params["gate_W"].astype(dtype), params["gate_b"].astype(dtype)
    # batched matmuls (BLAS), not einsum: the weekly 40 backs x 1000 draws is 3x faster this way
    scores = X @ gW + gb[:, None, :]
    mu = params["alpha"].astype(dtype)[:, None, :] + X @ params["beta"].astype(dtype).transpose(0, 2, 1)
    H = params["W_h"].shape[-1]
    if H > 0:
        W_h, b_h = params["W_h"], params.get("b_h")
        if np.all(W_h == W_h[:1]) and (b_h is None or np.all(b_h == b_h[:1])):
            W_h, b_h = W_h[:1], None if b_h is None else b_h[:1]  # fixed units (additive): one pass, not S
        pre = X @ W_h.astype(dtype)
        if b_h is not None:
            pre = pre + b_h.astype(dtype)[:, None, :]
        h = np.tanh(pre)
        mu = mu + h @ params["v"].astype(dtype).transpose(0, 2, 1)
        if "gate_Vh" in params:  # the gate also sees the hidden units
            scores = scores + h @ params["gate_Vh"].astype(dtype)
    if loc_offset is not None:
        mu = mu + np.asarray(loc_offset, dtype=dtype)[:, :, None]
    w = gate_weights(scores, gate)
    log_s = params["scale_c"].astype(dtype)[:, None, :] + (params["gamma"].astype(dtype) @ X.T)[:, :, None]
    sigma = (dtype(scale_floor) + np.exp(log_s)) * dtype(y_sd)
    mu = mu * dtype(y_sd) + dtype(y_mean)
    return w, mu, sigma


def _logsumexp_k(comp: np.ndarray) -> np.ndarray:
    mx = comp.max(axis=2, keepdims=True)
    return (mx + np.log(np.exp(comp - mx).sum(axis=2, keepdims=True)))[..., 0]


def mixture_logpdf(y: np.ndarray, w: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Log density of ``y`` (n,), in target space, under each draw's mixture: (S, n)."""
    z = (np.asarray(y, dtype=np.float64)[None, :, None] - mu) / sigma
    return _logsumexp_k(np.log(w + 1e-300) - 0.5 * z**2 - np.log(sigma) - 0.5 * np.log(2 * np.pi))


def mixture_logpmf(y: np.ndarray, w: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                   transform: str = "identity", offset: float = 0.0) -> np.ndarray:
    """Log probability of whole yards under each draw's mixture, ``log(F(y + 1/2) - F(y - 1/2))``.

    Parameters
    ----------
    y : numpy.ndarray
        Whole yards, shape (n,).
    w, mu, sigma : numpy.ndarray
        The mixture in target space, each (S, n, K), from :func:`mixture_params`.
    transform, offset
        The target space, see :func:`target_space`; the bin edges are transformed exactly.

    Returns
    -------
    numpy.ndarray
        (S, n). Computed in the lower tail of whichever side is smaller, so far-out bins keep
        their precision.
    """
    y = np.asarray(y, dtype=np.float64)
    lo_e = target_space(y - 0.5, transform, offset)[None, :, None]
    hi_e = target_space(y + 0.5, transform, offset)[None, :, None]
    with np.errstate(invalid="ignore"):
        a, b = (lo_e - mu) / sigma, (hi_e - mu) / sigma
    up = a > 0
    lo, hi = np.where(up, -b, a), np.where(up, -a, b)
    l_hi, l_lo = log_ndtr(hi), log_ndtr(lo)
    d = np.minimum(l_lo - l_hi, -1e-300)
    return _logsumexp_k(np.log(w + 1e-300) + l_hi + np.log(-np.expm1(d)))


def predictive_moments(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray, transform: str = "identity",
                       offset: float = 0.0) -> dict[str, np.ndarray]:
    """``mean`` and ``sd`` (yards) of the pooled continuous predictive per row: closed forms, no quantiles
    (in log space the moments of a log-normal mixture, shifted back by the offset)."""
    m64, s2 = mu.astype(np.float64), sigma.astype(np.float64) ** 2
    if transform == "log":
        first = (w * np.exp(m64 + 0.5 * s2)).sum(axis=2).mean(axis=0)
        second = (w * np.exp(2 * m64 + 2 * s2)).sum(axis=2).mean(axis=0)
        mean = first - offset
    else:
        first = mean = (w * mu).sum(axis=2).mean(axis=0)
        second = (w * (s2 + m64**2)).sum(axis=2).mean(axis=0)
    return {"mean": mean, "sd": np.sqrt(np.maximum(second - first**2, 0.0))}


def predictive_summary(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray, transform: str = "identity",
                       offset: float = 0.0) -> dict[str, np.ndarray]:
    """Mean, sd and the :data:`QUANTILES` of the pooled predictive, in yards, per row.

    In log space the moments are those of a log-normal mixture, shifted back by the offset. The
    quantiles are those of the whole-yard outcome (:func:`whole_yard_quantiles`).

    Parameters
    ----------
    w, mu, sigma : numpy.ndarray
        The mixture in target space, each (S, n, K).
    transform, offset
        The target space, see :func:`target_space`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``mean``, ``sd`` (of the continuous predictive) and one whole-yard quantile per
        :data:`QUANTILES` key, each (n,).
    """
    qs = whole_yard_quantiles(w, mu, sigma, list(QUANTILES.values()), transform, offset)
    out = predictive_moments(w, mu, sigma, transform, offset)
    out.update(zip(QUANTILES, qs))
    return out
