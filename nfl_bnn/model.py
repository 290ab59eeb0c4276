"""Bayesian mixture-of-experts network for a back's rushing yards, and its safe artifact.

Model (all inputs standardised with a scaler fitted on the training rows; target standardised too):

* gate: softmax over K experts, logits linear in the features, expert 0 the reference (logit 0); or
  (``gate="ordinal"``, what params/train.yaml fits) one linear gating score with ordered cut-points, a cumulative
  logit over the experts ordered by location: the K-1 softmax logit vectors can trade places and
  rotate, which is what left K=3 chains on different gate modes, while a ladder has one score;
* expert k: location ``alpha_k + x @ beta_k (+ tanh(x @ W_h) @ v_k)`` where ``beta_k = beta_mu +
  tau * beta_raw_k`` (non-centred hierarchical shrinkage towards a shared slope) and ``alpha`` is
  ordered (identifies the experts, no label switching);
* expert scale ``exp(c_k + x @ gamma)``: the spread grows with the features (projected carries);
* likelihood: a Normal mixture with the assignment marginalised (``pm.NormalMixture``), so skew and
  negative yards are allowed and the CDF is exact.
* target space (``target_transform``): yards, or ``log(yards + offset)`` (default, offset 25): rushing
  yards are right-skewed with a floor near 0, so a mixture in yards had to widen both tails to reach
  the long runs (90% intervals covered 93-94%); in log space the bins of each whole yard are
  transformed exactly and the moments are those of a log-normal mixture.

Why this shape: the naive network (3 experts x 8 tanh units) needed ~850 leapfrog steps per draw;
linear experts with shrinkage, ordered intercepts and a reference gate category sample in a few
dozen (see bench/). Prediction never builds a PyMC graph: the artifact holds float32 draws of these
few arrays and :class:`MixtureExpertsBNN` runs the forward pass in NumPy.

The artifact is an ``.npz`` read with ``allow_pickle=False``: numeric arrays plus one JSON string of
metadata (feature list, scaler, K, training window, data fingerprint, versions, diagnostics, stacking
weights, and a SHA-256 of every array so corruption is caught).
"""
from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr

from nfl_bnn.errors import ModelArtifactError

log = logging.getLogger("nfl_bnn.model")

MODEL_VERSION = "moe-normal-v1"
ARTIFACT_FORMAT = "nfl_bnn.moe.npz/1"
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
}
QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
FIX = "retrain it with `nfl-bnn train --first-season A --last-season B --out PATH`"


TRANSFORMS = ("identity", "log")
GATES = ("softmax", "ordinal")


def target_space(yards, transform: str = "identity", offset: float = 0.0) -> np.ndarray:
    """Yards -> the space the Normal mixture lives in: yards itself, or ``log(yards + offset)``.

    Why a log space: rushing yards are right-skewed with a hard floor near 0 (a long run adds 50 yards,
    nothing takes 50 away), so a Normal mixture in yards must widen both tails to reach the long runs.
    Values at or below ``-offset`` map to -inf (probability 0).
    """
    x = np.asarray(yards, dtype=np.float64)
    if transform == "identity":
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x + offset > 0, np.log(np.maximum(x + offset, 1e-300)), -np.inf)


def _dims(shape: Sequence[str], d: int, K: int, H: int) -> tuple[int, ...]:
    env = {"d": d, "K": K, "K-1": K - 1, "H": H}
    return tuple(env[s] for s in shape)


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def data_fingerprint(X: np.ndarray, y: np.ndarray, feature_names: Sequence[str]) -> str:
    """SHA-256 of the training rows, so an artifact names exactly the data it was fitted on."""
    h = hashlib.sha256(",".join(feature_names).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# PyMC model
# ----------------------------------------------------------------------------------------------
def _log_bin_prob(mu, sigma, lo, hi):
    """log(Phi((hi-mu)/sigma) - Phi((lo-mu)/sigma)), stable in both tails (flip to the lower tail)."""
    import pytensor.tensor as pt
    from pymc.distributions.dist_math import normal_lcdf

    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    upper = a > 0
    lo_z, hi_z = pt.switch(upper, -b, a), pt.switch(upper, -a, b)
    l_hi, l_lo = normal_lcdf(0.0, 1.0, hi_z), normal_lcdf(0.0, 1.0, lo_z)
    return l_hi + pt.log1mexp(pt.minimum(l_lo - l_hi, -1e-12))


def quiet_pytensor() -> None:
    """Silence PyTensor's "could not link to a BLAS installation" warning.

    A pip-installed PyTensor always prints it; it concerns PyTensor's C backend, while sampling runs
    in nutpie's compiled (numba) backend, so for this model it is noise in every log and report.
    """
    import warnings

    warnings.filterwarnings("ignore", message=".*could not link to a BLAS installation.*")
    logging.getLogger("pytensor.tensor.blas").setLevel(logging.ERROR)


def build_pymc_model(Xz: np.ndarray, yz: np.ndarray, n_experts: int = 3, hidden_units: int = 0,
                     priors: Mapping[str, float] | None = None, shared_slopes: bool = True,
                     likelihood: str = "discrete", bin_halfwidth: float | None = None,
                     scale_floor: float = 0.0, gate_features: Sequence[int] | None = None,
                     row_weights: np.ndarray | None = None,
                     bin_edges: tuple[np.ndarray, np.ndarray] | None = None, gate: str = "softmax"):
    """The PyMC model on standardised inputs ``Xz`` (n, d) and standardised target ``yz`` (n,).

    ``likelihood="discrete"``: yards are whole numbers, so each observation contributes the exact
    mixture probability of its bin, P(Y = y) = F(y + 1/2) - F(y - 1/2) (``bin_halfwidth`` = 0.5 / y_sd
    in standardised units). Unlike a density, this is bounded by 1, so no component can collapse onto a
    cluster of identical values (the Gaussian-mixture degeneracy that gave one chain an elpd of -112,390).
    ``scale_floor`` (standardised units) is added to every component scale; ``gate_features`` (column
    indices) restricts the gate's inputs, the other gate weights being fixed at 0. ``row_weights``
    (n,), each in (0, 1], multiply each row's log-likelihood (a weighted likelihood: older seasons count
    for less, so the fit follows the drift in dispersion between eras); discrete likelihood only.
    ``bin_edges`` (lo, hi), standardised, replace ``yz -/+ bin_halfwidth`` as each whole yard's bin (for a
    transformed target the bins are not of equal width).
    ``gate``: ``"softmax"`` (K-1 free logit vectors, expert 0 the reference) or ``"ordinal"`` (one score
    ``eta = x @ w`` and ordered cut-points ``kappa``: P(expert > j) = sigmoid(eta - kappa_j), see
    :func:`gate_weights`). Both are stored as ``gate_W`` (d, K-1) and ``gate_b`` (K-1); the ordinal gate
    repeats ``w`` in every column with ``gate_b = -kappa``.
    """
    quiet_pytensor()
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ordered

    p = {"gate_sd": 0.5, "beta_sd": 0.5, "tau_sd": 0.2, "gamma_sd": 0.3, "hidden_sd": 0.5, "v_sd": 0.3}
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
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, not {gate!r}")
    with pm.Model() as m:
        X = pt.as_tensor_variable(np.asarray(Xz, dtype=np.float64))
        if gate == "ordinal":
            # one gating score and ordered cut-points: experts are ordered by location (alpha), and a
            # higher score moves weight to higher experts, so no rotation of the logits is left free
            w_g = pm.Normal("gate_wg", 0.0, p["gate_sd"], shape=(len(gidx),))
            kappa = pm.Normal("gate_kappa", 0.0, 1.5, shape=(K - 1,), transform=ordered,
                              initval=np.linspace(-0.5, 0.5, K - 1))
            w_full = pt.set_subtensor(pt.zeros((d,))[gidx], w_g) if len(gidx) < d else w_g
            gate_W = pm.Deterministic("gate_W", pt.tile(w_full[:, None], (1, K - 1)))
            gate_b = pm.Deterministic("gate_b", -kappa)
            cum = (X @ w_full)[:, None] - kappa[None, :]  # logit P(expert > j), decreasing in j
            log_gt = -pt.softplus(-cum)  # log sigmoid(cum), finite however far out the score is
            log_up = pt.concatenate([pt.zeros((n, 1)), log_gt], axis=1)  # log P(expert > j - 1)
            log_dn = pt.concatenate([log_gt, pt.full((n, 1), -np.inf)], axis=1)  # log P(expert > j)
            # log(P(> j-1) - P(> j)), stable: log_up + log1mexp(log_dn - log_up)
            logits = log_up + pt.log1mexp(pt.minimum(log_dn - log_up, -1e-12))
        else:
            gate_Wg = pm.Normal("gate_Wg", 0.0, p["gate_sd"], shape=(len(gidx), K - 1))
            gate_W = pm.Deterministic("gate_W", pt.set_subtensor(pt.zeros((d, K - 1))[gidx], gate_Wg)
                                      if len(gidx) < d else gate_Wg)
            gate_b = pm.Normal("gate_b", 0.0, 1.0, shape=(K - 1,))
            logits = pt.concatenate([pt.zeros((n, 1)), X @ gate_W + gate_b], axis=1)
        if p.get("alpha_gap_shape", 0) > 0:
            # ordered intercepts with gaps bounded away from 0 (Gamma prior): removes the mode in which
            # experts share a location and differ only in scale (a symmetric heavy-tail fit that one of
            # four chains fell into, measured in the report of issue 3)
            a0 = pm.Normal("alpha0", -0.5, 1.0)
            gaps = pm.Gamma("alpha_gap", alpha=p["alpha_gap_shape"], beta=p["alpha_gap_shape"] / 0.8,
                            shape=(K - 1,))
            alpha = pm.Deterministic("alpha", pt.concatenate([a0[None], a0 + pt.cumsum(gaps)]))
        else:
            alpha = pm.Normal("alpha", 0.0, 1.0, shape=(K,), transform=ordered,
                              initval=np.linspace(-0.5, 0.5, K))
        beta_mu = pm.Normal("beta_mu", 0.0, p["beta_sd"], shape=(d,))
        if shared_slopes:  # experts differ in intercept, scale and hidden units only
            beta = pm.Deterministic("beta", pt.tile(beta_mu[None, :], (K, 1)))
        else:
            tau = pm.HalfNormal("beta_tau", p["tau_sd"])
            beta_raw = pm.Normal("beta_raw", 0.0, 1.0, shape=(K, d))
            beta = pm.Deterministic("beta", beta_mu[None, :] + tau * beta_raw)
        mu = alpha[None, :] + X @ beta.T
        if H > 0:
            W_h = pm.Normal("W_h", 0.0, p["hidden_sd"], shape=(d, H))
            v = pm.Normal("v", 0.0, p["v_sd"], shape=(K, H))
            mu = mu + pt.tanh(X @ W_h) @ v.T
        scale_c = pm.Normal("scale_c", np.log(0.8), 0.5, shape=(K,))
        gamma = pm.Normal("gamma", 0.0, p["gamma_sd"], shape=(d,))
        sigma = float(scale_floor) + pt.exp(scale_c[None, :] + (X @ gamma)[:, None])
        yv = np.asarray(yz, dtype=np.float64)
        if likelihood == "discrete":
            h = float(bin_halfwidth) if bin_halfwidth else 0.5 / 40.0
            log_w = logits - pt.logsumexp(logits, axis=1, keepdims=True)
            if bin_edges is not None:
                lo_e = pt.as_tensor_variable(np.asarray(bin_edges[0], dtype=np.float64))[:, None]
                hi_e = pt.as_tensor_variable(np.asarray(bin_edges[1], dtype=np.float64))[:, None]
            else:
                yt = pt.as_tensor_variable(yv)[:, None]
                lo_e, hi_e = yt - h, yt + h
            comp = log_w + _log_bin_prob(mu, sigma, lo_e, hi_e)
            ll = pt.logsumexp(comp, axis=1)
            pm.Potential("y_loglik", (ll * rw).sum() if row_weights is not None else ll.sum())
        else:
            w = pt.special.softmax(logits, axis=1)
            pm.NormalMixture("y", w=w, mu=mu, sigma=sigma, observed=yv)
    return m


def posterior_arrays(idata, d: int, K: int, H: int) -> dict[str, np.ndarray]:
    """Posterior draws as arrays of shape (chain, draw, *param_shape), zero-filled where H == 0."""
    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    out = {}
    for name, shape in PARAM_SHAPES.items():
        dims = _dims(shape, d, K, H)
        if name in post:
            out[name] = np.asarray(post[name].values, dtype=np.float64).reshape((C, D) + dims)
        else:
            out[name] = np.zeros((C, D) + dims)
    return out


# ----------------------------------------------------------------------------------------------
# NumPy forward pass
# ----------------------------------------------------------------------------------------------
def gate_weights(scores: np.ndarray, gate: str = "softmax") -> np.ndarray:
    """Expert weights (..., K) from the gate's K-1 linear scores (..., K-1).

    softmax: the scores are the logits of experts 1..K-1 against expert 0. ordinal: score j is the
    logit of P(expert > j) (cumulative logits, decreasing in j), so w_0 = 1 - P(> 0),
    w_j = P(> j-1) - P(> j) and w_{K-1} = P(> K-2).
    """
    if gate == "ordinal":
        from scipy.special import expit

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
                   gate: str = "softmax") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, locations and scales in yards, each (n_draws, n_rows, K), for standardised ``Xz``."""
    X = np.asarray(Xz, dtype=dtype)
    gW, gb = params["gate_W"].astype(dtype), params["gate_b"].astype(dtype)
    w = gate_weights(np.einsum("nd,Sdk->Snk", X, gW) + gb[:, None, :], gate)
    mu = params["alpha"].astype(dtype)[:, None, :] + np.einsum("nd,Skd->Snk", X, params["beta"].astype(dtype))
    if params["W_h"].shape[-1] > 0:
        h = np.tanh(np.einsum("nd,Sdh->Snh", X, params["W_h"].astype(dtype)))
        mu = mu + np.einsum("Snh,Skh->Snk", h, params["v"].astype(dtype))
    log_s = params["scale_c"].astype(dtype)[:, None, :] + np.einsum("nd,Sd->Sn", X, params["gamma"].astype(dtype))[:, :, None]
    sigma = (dtype(scale_floor) + np.exp(log_s)) * dtype(y_sd)
    mu = mu * dtype(y_sd) + dtype(y_mean)
    return w, mu, sigma


def mixture_logpdf(y: np.ndarray, w: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """log density of y (n,) under each draw's mixture: (n_draws, n)."""
    z = (np.asarray(y, dtype=np.float64)[None, :, None] - mu) / sigma
    comp = np.log(w + 1e-300) - 0.5 * z**2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)
    mx = comp.max(axis=2, keepdims=True)
    return (mx + np.log(np.exp(comp - mx).sum(axis=2, keepdims=True)))[..., 0]


def mixture_logpmf(y: np.ndarray, w: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                   transform: str = "identity", offset: float = 0.0) -> np.ndarray:
    """log P(Y = y) for integer yards y (n,) under each draw's mixture, log(F(y+.5) - F(y-.5)): (S, n)."""
    from scipy.special import log_ndtr

    y = np.asarray(y, dtype=np.float64)
    lo_e = target_space(y - 0.5, transform, offset)[None, :, None]
    hi_e = target_space(y + 0.5, transform, offset)[None, :, None]
    with np.errstate(invalid="ignore"):
        a, b = (lo_e - mu) / sigma, (hi_e - mu) / sigma
    up = a > 0
    lo, hi = np.where(up, -b, a), np.where(up, -a, b)
    l_hi, l_lo = log_ndtr(hi), log_ndtr(lo)
    d = np.minimum(l_lo - l_hi, -1e-300)
    comp = np.log(w + 1e-300) + l_hi + np.log(-np.expm1(d))
    mx = comp.max(axis=2, keepdims=True)
    return (mx + np.log(np.exp(comp - mx).sum(axis=2, keepdims=True)))[..., 0]


class MixtureExpertsBNN:
    """A fitted mixture-of-experts model: posterior draws plus everything needed to use them safely."""

    def __init__(self, params: Mapping[str, np.ndarray], meta: Mapping[str, Any]):
        self.params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
        self.meta = dict(meta)
        self._validate()
        t = self.meta["target"]
        self._tf = (str(t.get("transform", "identity")), float(t.get("offset", 0.0)))

    # -- public attributes the older system's users call ---------------------------------------
    @property
    def feature_names(self) -> list[str]:
        return list(self.meta["feature_names"])

    @property
    def n_features(self) -> int:
        return len(self.meta["feature_names"])

    @property
    def n_experts(self) -> int:
        return int(self.meta["n_experts"])

    @property
    def n_draws(self) -> int:
        return int(self.params["alpha"].shape[0])

    @property
    def scaler(self) -> dict[str, np.ndarray]:
        """The feature scaler fitted on the training rows: {'mean': (d,), 'sd': (d,)}."""
        return {"mean": np.asarray(self.meta["scaler"]["mean"]), "sd": np.asarray(self.meta["scaler"]["sd"])}

    @property
    def gate(self) -> str:
        """The gate's form: ``softmax`` (also every artifact from before the option) or ``ordinal``."""
        return str(self.meta.get("gate", "softmax"))

    @property
    def version(self) -> str:
        return str(self.meta["model_version"])

    # -- checks ---------------------------------------------------------------------------------
    def _validate(self) -> None:
        m = self.meta
        required = ["format", "model_version", "feature_names", "n_experts", "hidden_units", "scaler",
                    "target", "training_window", "data_fingerprint"]
        missing = [k for k in required if k not in m]
        if missing:
            raise ModelArtifactError(f"model artifact metadata lacks {missing}; it is incomplete: {FIX}")
        if m["format"] != ARTIFACT_FORMAT:
            raise ModelArtifactError(f"model artifact format {m['format']!r} is not {ARTIFACT_FORMAT!r}: {FIX}")
        d, K, H = len(m["feature_names"]), int(m["n_experts"]), int(m["hidden_units"])
        sc = m["scaler"]
        if not isinstance(sc, dict) or "mean" not in sc or "sd" not in sc:
            raise ModelArtifactError(f"model artifact has no feature scaler (mean and sd): {FIX}")
        mean, sd = np.asarray(sc["mean"], dtype=float), np.asarray(sc["sd"], dtype=float)
        if mean.shape != (d,) or sd.shape != (d,):
            raise ModelArtifactError(f"model artifact scaler has shape {mean.shape}/{sd.shape}, expected "
                                     f"({d},) for {d} features: {FIX}")
        if not (np.isfinite(mean).all() and np.isfinite(sd).all() and (sd > 0).all()):
            raise ModelArtifactError(f"model artifact scaler holds NaN, infinite or non-positive values: {FIX}")
        tgt = m["target"]
        if not (np.isfinite(tgt.get("mean", np.nan)) and np.isfinite(tgt.get("sd", np.nan)) and tgt["sd"] > 0):
            raise ModelArtifactError(f"model artifact target scaling is missing or invalid: {FIX}")
        if tgt.get("transform", "identity") not in TRANSFORMS or (
                tgt.get("transform") == "log" and not (np.isfinite(tgt.get("offset", np.nan)) and tgt["offset"] > 0)):
            raise ModelArtifactError(f"model artifact target transform {tgt.get('transform')!r} (offset "
                                     f"{tgt.get('offset')!r}) is not one of {TRANSFORMS} with a positive offset: {FIX}")
        if m.get("gate", "softmax") not in GATES:
            raise ModelArtifactError(f"model artifact gate {m.get('gate')!r} is not one of {GATES}: {FIX}")
        S = None
        for name, shape in PARAM_SHAPES.items():
            if name not in self.params:
                raise ModelArtifactError(f"model artifact lacks posterior draws of {name!r}: {FIX}")
            a = self.params[name]
            want = _dims(shape, d, K, H)
            if a.ndim != len(want) + 1 or tuple(a.shape[1:]) != want:
                raise ModelArtifactError(f"model artifact array {name!r} has shape {a.shape}, expected "
                                         f"(n_draws, {', '.join(map(str, want))}): {FIX}")
            if S is None:
                S = a.shape[0]
            if a.shape[0] != S or S == 0:
                raise ModelArtifactError(f"model artifact array {name!r} has {a.shape[0]} draws, others {S}: {FIX}")
            if not np.isfinite(a).all():
                raise ModelArtifactError(f"model artifact array {name!r} holds NaN or infinite values: {FIX}")
        if m.get("gate") == "ordinal":  # one score, ordered cut-points: otherwise weights go negative
            gW, gb = self.params["gate_W"], self.params["gate_b"]
            if not (np.allclose(gW, gW[:, :, :1], atol=1e-5) and (np.diff(gb, axis=1) <= 1e-6).all()):
                raise ModelArtifactError(f"model artifact has an ordinal gate whose columns differ or whose "
                                         f"cut-points are not ordered: {FIX}")

    def _X(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        from nfl_bnn.errors import DataError

        if isinstance(X, pd.DataFrame):
            missing = [f for f in self.feature_names if f not in X.columns]
            if missing:
                raise DataError(f"input lacks the model's features {missing}; the model was trained on "
                                f"{self.feature_names}: build them with nfl_bnn.features, or {FIX}")
            A = X[self.feature_names].astype(float).to_numpy()
        else:
            A = np.asarray(X, dtype=float)
            if A.ndim != 2 or A.shape[1] != self.n_features:
                raise DataError(f"input has shape {A.shape}, the model needs (rows, {self.n_features}) "
                                f"with columns {self.feature_names}")
        if not np.isfinite(A).all():
            raise DataError("input features hold NaN or infinite values; rebuild them with nfl_bnn.features")
        sc = self.scaler
        Z = (A - sc["mean"]) / sc["sd"]
        # a feature that was constant in the training rows (injury features without injury reports, the
        # season of a one-season fit) has no learned effect: only its prior would speak, so it is held at
        # its training value instead of adding noise wherever it now varies
        constant = set(self.meta.get("constant_features", []))
        Z[:, [i for i, f in enumerate(self.feature_names) if f in constant]] = 0.0
        return Z

    def mixture(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(w, mu, sigma) in target space (yards, or log(yards + offset)), each (n_draws, n_rows, K)."""
        t = self.meta["target"]
        return mixture_params(self.params, self._X(X), t["mean"], t["sd"],
                              scale_floor=float(self.meta.get("scale_floor", 0.0)), gate=self.gate)

    # -- prediction -----------------------------------------------------------------------------
    def predict(self, X) -> pd.DataFrame:
        """Posterior predictive summary per row: mean, median, sd, q05, q25, q75, q95 (yards)."""
        w, mu, sigma = self.mixture(X)
        tf, off = self._tf
        if tf == "log":  # moments of a log-normal mixture, shifted back by the offset
            m64, s2 = mu.astype(np.float64), sigma.astype(np.float64) ** 2
            first = (w * np.exp(m64 + 0.5 * s2)).sum(axis=2).mean(axis=0)
            second = (w * np.exp(2 * m64 + 2 * s2)).sum(axis=2).mean(axis=0)
            sd = np.sqrt(np.maximum(second - first**2, 0.0))
            mean = first - off
            qs = np.exp(mixture_quantiles(w, mu, sigma, list(QUANTILES.values()), tol=1e-4)) - off
        else:
            mean = (w * mu).sum(axis=2).mean(axis=0)
            second = (w * (sigma.astype(np.float64) ** 2 + mu.astype(np.float64) ** 2)).sum(axis=2).mean(axis=0)
            sd = np.sqrt(np.maximum(second - mean**2, 0.0))
            qs = mixture_quantiles(w, mu, sigma, list(QUANTILES.values()))
        out = pd.DataFrame({"mean": mean, "median": qs[2], "sd": sd, "q05": qs[0], "q25": qs[1],
                            "q75": qs[3], "q95": qs[4]})
        if isinstance(X, pd.DataFrame):
            out.index = X.index
        return out

    def prob_over(self, X, lines, per_draw: bool = False) -> np.ndarray:
        """Exact P(yards > line) from the mixture CDF; lines (n,) or (n, L).

        Returns the posterior mean, shape like ``lines``; ``per_draw=True`` returns each draw's
        probability, shape (n_draws, *lines.shape), for a Bayesian confidence in the edge.
        """
        from nfl_bnn.errors import DataError

        w, mu, sigma = self.mixture(X)
        L = np.asarray(lines, dtype=np.float64)
        if L.shape[0] != mu.shape[1] or L.ndim not in (1, 2):
            raise DataError(f"lines have shape {L.shape}; give one line per row (n,) or (n, L) for {mu.shape[1]} rows")
        L2 = target_space(L if L.ndim == 2 else L[:, None], *self._tf)
        z = (L2[None, :, :, None].astype(np.float32) - mu[:, :, None, :]) / sigma[:, :, None, :]
        p = 1.0 - (w[:, :, None, :] * ndtr(z)).sum(axis=3)  # (S, n, L)
        p = np.clip(p, 0.0, 1.0)
        if L.ndim == 1:
            p = p[:, :, 0]
        return p if per_draw else p.mean(axis=0)

    def logpdf(self, X, y) -> np.ndarray:
        """Posterior predictive log density of y per row (log of the mean density over draws)."""
        w, mu, sigma = self.mixture(X)
        y = np.asarray(y, float)
        ll = mixture_logpdf(target_space(y, *self._tf), w.astype(np.float64), mu.astype(np.float64),
                            sigma.astype(np.float64))
        if self._tf[0] == "log":  # density in yards: divide by dy/dz = yards + offset
            with np.errstate(divide="ignore", invalid="ignore"):
                ll = ll - np.log(np.where(y + self._tf[1] > 0, y + self._tf[1], np.nan))[None, :]
        mx = ll.max(axis=0)
        return mx + np.log(np.exp(ll - mx).mean(axis=0))

    def cdf(self, X, grid: np.ndarray, chunk: int = 64) -> np.ndarray:
        """Predictive CDF per row on a grid of yards: (n_rows, len(grid))."""
        w, mu, sigma = self.mixture(X)
        out = np.empty((mu.shape[1], len(grid)))
        g = target_space(grid, *self._tf).astype(np.float32)
        for i in range(0, mu.shape[1], chunk):
            sl = slice(i, i + chunk)
            z = (g[None, None, :, None] - mu[:, sl, None, :]) / sigma[:, sl, None, :]
            out[sl] = (w[:, sl, None, :] * ndtr(z)).sum(axis=3).mean(axis=0)
        return out

    # -- artifact -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the artifact atomically (npz, no pickle), with a checksum of every array."""
        from nfl_bnn.fileio import atomic_write

        meta = dict(self.meta)
        meta["checksums"] = {k: _sha(v) for k, v in self.params.items()}
        arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.params.items()}
        arrays["__meta__"] = np.array(json.dumps(meta, default=_json_default))

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path) -> "MixtureExpertsBNN":
        """Load and check an artifact; refuse anything incomplete, corrupted or inconsistent."""
        p = Path(path)
        if not p.is_file():
            raise ModelArtifactError(f"model artifact {p} does not exist; {FIX}")
        try:
            with np.load(p, allow_pickle=False) as z:
                files = set(z.files)
                if "__meta__" not in files:
                    raise ModelArtifactError(f"model artifact {p} has no metadata: it is not an nfl_bnn model "
                                             f"or is incomplete; {FIX}")
                meta = json.loads(str(z["__meta__"][()]))
                params = {k: z[k] for k in files if k != "__meta__"}
        except ModelArtifactError:
            raise
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, json.JSONDecodeError) as exc:
            raise ModelArtifactError(f"model artifact {p} is corrupted or truncated ({type(exc).__name__}: "
                                     f"{exc}); {FIX}") from None
        sums = meta.get("checksums", {})
        for k, v in params.items():
            if k in sums and _sha(np.ascontiguousarray(v, dtype=np.float32)) != sums[k]:
                raise ModelArtifactError(f"model artifact {p}: array {k!r} does not match its checksum "
                                         f"(corrupted); {FIX}")
        try:
            return cls(params, meta)
        except ModelArtifactError as exc:
            raise ModelArtifactError(f"model artifact {p}: {exc}") from None

    def learned_from(self, feature: str) -> bool:
        """Whether ``feature`` varied in the training rows (a constant one, e.g. injuries never imported, did not)."""
        return feature in self.feature_names and feature not in self.meta.get("constant_features", [])

    def check_features(self, feature_names: Sequence[str]) -> None:
        """Refuse data whose feature list differs from the one the model was trained on."""
        if list(feature_names) != self.feature_names:
            raise ModelArtifactError(f"model was trained on features {self.feature_names} but the data has "
                                     f"{list(feature_names)}; {FIX}")


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def mixture_quantiles(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray, probs: Sequence[float],
                      iters: int = 60, tol: float = 0.01) -> np.ndarray:
    """Quantiles of the pooled mixture (over draws and components) per row: safeguarded Newton.

    The pooled predictive is one big Normal mixture per row (n_draws x K components). Start from the
    moment-matched Normal quantile, take Newton steps x -= (F(x) - p) / f(x) and fall back to
    bisection of the bracket (kept from the signs of F - p) whenever a step leaves it; stop when every
    step is below ``tol`` yards. A handful of iterations replaces the 22 halvings of plain bisection
    (each iteration evaluates all n_draws x K components), which is what makes 40 rows fast; ``iters``
    only bounds the rare row whose draws disagree by orders of magnitude in scale, where Newton steps
    keep leaving the bracket and bisection has to finish the job.
    Returns (len(probs), n_rows).
    """
    from scipy.special import ndtri

    P = np.asarray(probs, dtype=np.float64)[:, None]
    S = mu.shape[0]
    wS = (w / S).astype(np.float32)
    mean = (w * mu).sum(axis=2).mean(axis=0).astype(np.float64)
    second = (w * (sigma.astype(np.float64) ** 2 + mu.astype(np.float64) ** 2)).sum(axis=2).mean(axis=0)
    sd = np.sqrt(np.maximum(second - mean**2, 1e-12))
    x = mean[None, :] + sd[None, :] * ndtri(P)
    lo = np.broadcast_to((mu - 8 * sigma).min(axis=(0, 2)).astype(np.float64), x.shape).copy()
    hi = np.broadcast_to((mu + 8 * sigma).max(axis=(0, 2)).astype(np.float64), x.shape).copy()
    inv_s = (1.0 / sigma).astype(np.float32)
    dens_w = (wS * inv_s * np.float32(1 / np.sqrt(2 * np.pi))).astype(np.float32)
    for _ in range(iters):
        z = (x[:, None, :, None].astype(np.float32) - mu[None]) * inv_s[None]  # (Q, S, n, K)
        F = np.einsum("qsnk,snk->qn", ndtr(z), wS, dtype=np.float64)
        f = np.einsum("qsnk,snk->qn", np.exp(-0.5 * z * z), dens_w, dtype=np.float64)
        below = F < P
        lo = np.where(below, x, lo)
        hi = np.where(below, hi, x)
        step = (F - P) / np.maximum(f, 1e-12)
        nx = x - step
        bad = ~((nx > lo) & (nx < hi))
        nx = np.where(bad, 0.5 * (lo + hi), nx)
        done = np.abs(nx - x) < tol
        x = nx
        if done.all():
            break
    return x
