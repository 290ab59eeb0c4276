"""``fit``: the mixture-of-experts model from training rows, as six typed steps.

standardise the features -> the target's space and whole-yard bins -> sample -> convergence on
predictive quantities (R-hat/ESS of predicted means and P(over) on the last training season, not
on raw weights, which have symmetric modes) -> combine chains (pooled when they agree, else stacking
weights from their PSIS-LOO predictive densities on that season) -> the artifact's metadata.
Each step is a function of small arrays, tested on its own.
"""
from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from nfl_bnn import features as feats
from nfl_bnn.errors import DataError
from nfl_bnn.model import effects as fx
from nfl_bnn.model.fused import supported as fused_supported
from nfl_bnn.model import (ARTIFACT_FORMAT, MODEL_VERSION, MixtureExpertsBNN, build_pymc_model,
                           data_fingerprint, mixture_logpdf, mixture_logpmf, mixture_params,
                           posterior_arrays, target_space)
from nfl_bnn.sampling import run as _sample
from nfl_bnn.sampling import sampler_diagnostics
from nfl_bnn.train import RHAT_POOL, TrainParams, season_weights, stacking_weights

log = logging.getLogger("nfl_bnn.train")


@dataclass(frozen=True)
class Standardised:
    """The training features and their scaler (fitted on these rows only)."""

    X: np.ndarray  # (n, d) raw features
    Xz: np.ndarray  # (n, d) standardised
    mean: np.ndarray  # (d,)
    sd: np.ndarray  # (d,), 1 where a feature is constant
    constant: list[str]  # features constant in the training rows: held at their mean when predicting


@dataclass(frozen=True)
class Target:
    """The target in the space the mixture lives in, standardised, with each whole yard's bin."""

    y: np.ndarray  # (n,) whole yards
    yt: np.ndarray  # (n,) target space (yards or log(yards + offset))
    yz: np.ndarray  # (n,) standardised
    mean: float
    sd: float
    transform: str
    offset: float
    edges: tuple[np.ndarray, np.ndarray] | None  # standardised bin edges for a log target
    floor: float  # scale floor in standardised target units


@dataclass(frozen=True)
class Posterior:
    """Draws of every parameter by chain, (C, D, *shape), and how the sampler did."""

    arrays: dict[str, np.ndarray]
    idata: Any
    steps_per_draw: float | None
    wall_s: float


def standardise(frame: pd.DataFrame, features: list[str]) -> Standardised:
    """Features of ``frame`` standardised on these rows; constant ones get sd 1 and are listed."""
    X = feats.feature_matrix(frame, features)
    mean, sd = X.mean(axis=0), X.std(axis=0)
    constant = [f for f, v in zip(features, sd) if v == 0]
    if constant:  # e.g. mate_out_share without injury reports: held at its training value when predicting
        log.warning("features %s are constant in the training rows, so the model cannot learn from them%s",
                    constant, " (import the injury reports: nfl-bnn import-nflverse --injuries ...)"
                    if "mate_out_share" in constant else "")
    sd = np.where(sd == 0, 1.0, sd)
    return Standardised(X=X, Xz=(X - mean) / sd, mean=mean, sd=sd, constant=constant)


def target_bins(y: np.ndarray, transform: str, offset: float, floor_yards: float) -> Target:
    """The target space, its standardisation, each whole yard's bin edges and the scale floor.

    In log space the bin of y is [log(y - 1/2 + offset), log(y + 1/2 + offset)], no longer of equal
    width, so the edges are passed to the likelihood; the floor of ``floor_yards`` is converted at the
    mean yardage (d log(y + offset) = dy / (y + offset)).
    """
    y = np.asarray(y, dtype=np.float64)
    if transform == "log" and y.min() + 0.5 + offset <= 0.01:
        raise DataError(f"rushing yards as low as {y.min():.0f} cannot be modelled as log(yards + "
                        f"{offset:g}); raise target_offset_yards in the train params above {-y.min():.0f}")
    yt = target_space(y, transform, offset)
    mean, sd = float(yt.mean()), float(yt.std())
    edges = None
    if transform == "log":
        lo = np.log(np.maximum(y - 0.5 + offset, 1e-3))
        edges = ((lo - mean) / sd, (target_space(y + 0.5, transform, offset) - mean) / sd)
    floor = floor_yards / sd / (float(y.mean()) + offset if transform == "log" else 1.0)
    return Target(y=y, yt=yt, yz=(yt - mean) / sd, mean=mean, sd=sd, transform=transform, offset=offset,
                  edges=edges, floor=floor)


def sample(std: Standardised, tgt: Target, seasons: np.ndarray, p: TrainParams,
           levels: fx.EffectLevels | None = None) -> Posterior:
    """Build the PyMC graph for these rows and sample it with the chosen method (``levels``: the rows'
    defence and back levels when the params ask for those effects)."""
    d, K, H = std.X.shape[1], p.n_experts, p.hidden_units
    unknown = [f for f in (p.gate_features or []) if f not in p.features]
    if unknown:
        raise DataError(f"train params: gate_features {unknown} are not among the features {p.features}")
    gate_idx = None if p.gate_features is None else [p.features.index(f) for f in p.gate_features]
    unknown = [f for f in (p.hidden_features or []) if f not in p.features] if H else []
    if unknown:
        raise DataError(f"train params: hidden_features {unknown} are not among the features {p.features}")
    hidden_idx = None if p.hidden_features is None or not H else [p.features.index(f) for f in p.hidden_features]
    row_w = season_weights(seasons, p.season_decay)
    if row_w is not None and p.likelihood != "discrete":
        raise DataError("train params: season_decay < 1 needs likelihood: discrete (a weighted likelihood)")
    fused = p.fused and fused_supported(p.gate, p.likelihood, H, p.network, p.gate_hidden, levels)
    model = build_pymc_model(std.Xz, tgt.yz, K, H, p.priors.model_dump(), p.shared_slopes, likelihood=p.likelihood,
                             bin_halfwidth=0.5 / tgt.sd, scale_floor=tgt.floor, gate_features=gate_idx,
                             row_weights=row_w, bin_edges=tgt.edges, gate=p.gate, network=p.network,
                             hidden_output=p.hidden_output, gate_hidden=p.gate_hidden,
                             hidden_features=hidden_idx, effects=levels, fused=fused)
    log.info("fitting %s: %d rows x %d features, K=%d, H=%d, %s, likelihood %s", MODEL_VERSION, len(tgt.y), d, K, H,
             p.inference, "fused (one compiled pass)" if fused else "as a PyTensor graph")
    t0 = time.time()
    idata, steps = _sample(model, p)
    arrays = {**posterior_arrays(idata, d, K, H), **fx.posterior_effects(idata.posterior)}
    return Posterior(arrays=arrays, idata=idata, steps_per_draw=steps,
                     wall_s=round(time.time() - t0, 1))


def _rhat_ess(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R-hat and bulk ESS of each column of draws (C, D, n)."""
    import arviz as az

    ds = az.convert_to_dataset({"x": x})
    return np.asarray(az.rhat(ds)["x"].values), np.asarray(az.ess(ds)["x"].values)


def predictive_diagnostics(arrays: dict[str, np.ndarray], Xz: np.ndarray, tgt: Target, hold: np.ndarray,
                           p: TrainParams, levels: fx.EffectLevels | None = None) -> tuple[dict, np.ndarray]:
    """Convergence judged on what the model predicts for the rows ``hold`` (the last training season).

    Raw weights have symmetric modes in which chains may harmlessly disagree; predicted means and
    P(over) at a typical line do not. Returns the diagnostics (R-hat/ESS for C > 1) and each draw's
    log-likelihood of those rows, (C, D, n_hold), for PSIS-LOO.
    """
    C, D = arrays["alpha"].shape[:2]
    flat = {k: v.reshape((C * D,) + v.shape[2:]) for k, v in arrays.items()}
    w, mu, sigma = mixture_params(flat, Xz[hold], tgt.mean, tgt.sd, dtype=np.float64, scale_floor=tgt.floor,
                                  gate=p.gate, loc_offset=fx.train_offset(flat, levels, hold))
    pred_mean = (w * mu).sum(axis=2).reshape(C, D, -1)
    # P(over) at a typical line per row: the pooled predicted mean rounded to a half-yard line
    centre = pred_mean.mean(axis=(0, 1))
    line = np.floor(np.exp(centre) - tgt.offset if tgt.transform == "log" else centre) + 0.5
    line_t = target_space(line, tgt.transform, tgt.offset)
    p_over = (1.0 - (w * ndtr((line_t[None, :, None] - mu) / sigma)).sum(axis=2)).reshape(C, D, -1)
    if p.likelihood == "discrete":
        ll = mixture_logpmf(tgt.y[hold], w, mu, sigma, tgt.transform, tgt.offset).reshape(C, D, -1)
    else:
        ll = mixture_logpdf(tgt.yt[hold], w, mu, sigma).reshape(C, D, -1)
    diag: dict = {"chains": C, "draws_per_chain": D, "holdout_rows": int(hold.sum())}
    if C > 1:
        rh, ess = _rhat_ess(pred_mean)
        rp, ep = _rhat_ess(p_over)
        diag.update(rhat_pred_max=float(rh.max()), rhat_pred_median=float(np.median(rh)),
                    ess_pred_min=float(ess.min()), ess_pred_median=float(np.median(ess)),
                    rhat_pover_max=float(np.nanmax(rp)), ess_pover_min=float(np.nanmin(ep)))
        diag["rhat_alpha_max"] = float(np.max(_rhat_ess(arrays["alpha"])[0]))
        diag["chain_means"] = {k: np.round(arrays[k].mean(axis=1), 3).tolist() for k in ("alpha", "scale_c", "gate_b")}
    return diag, ll


def effect_diagnostics(arrays: dict[str, np.ndarray]) -> dict:
    """Posterior mean and R-hat of the effects' sds (and rho): how much pooling the data chose."""
    out: dict = {}
    for k in ("opp_sigma", "opp_rho", "back_sigma"):
        if k in arrays:
            out[f"{k}_mean"] = round(float(arrays[k].mean()), 4)
            if arrays[k].shape[0] > 1:
                out[f"{k}_rhat"] = round(float(_rhat_ess(arrays[k][:, :, None])[0][0]), 3)
    return out


def combine_chains(arrays: dict[str, np.ndarray], ll: np.ndarray, rhat_pred_max: float | None,
                   keep_draws: int) -> tuple[dict[str, np.ndarray], dict]:
    """Keep ``keep_draws`` float32 draws, pooled equally when chains agree, else by stacking weights.

    Chains agree when the R-hat of predicted means is below :data:`RHAT_POOL`: stacking identical chains
    is degenerate (any weights fit), and putting all weight on one chain would waste the others' draws.
    Otherwise each chain's PSIS-LOO pointwise elpd on the held rows gives :func:`stacking_weights`.
    Draws are taken evenly spaced within each chain, in proportion to its weight.
    """
    import arviz as az

    C, D = arrays["alpha"].shape[:2]
    elpd = np.empty((C, ll.shape[2]))
    high_k = []
    for c in range(C):
        with warnings.catch_warnings(record=True) as caught:  # ArviZ's Pareto-k warning, named once below
            warnings.simplefilter("always")
            loo = az.loo(az.from_dict(posterior={"a": arrays["alpha"][c:c + 1, :, 0]},
                                      log_likelihood={"y": ll[c:c + 1]}), pointwise=True)
        if any("Pareto" in str(w.message) for w in caught):
            high_k.append(c)
        elpd[c] = np.asarray(loo.loo_i.values)
    if high_k:
        log.info("PSIS-LOO: Pareto k above ArviZ's threshold on some rows of chain(s) %s; the stacking weights "
                 "are approximate (they are not used when the chains agree and are pooled)", high_k)
    pooled = C > 1 and rhat_pred_max is not None and rhat_pred_max < RHAT_POOL
    weights = np.full(C, 1.0 / C) if pooled else stacking_weights(elpd)
    counts = np.floor(weights * keep_draws).astype(int)
    counts[np.argmax(weights)] += keep_draws - counts.sum()
    keep = {}
    for name, a in arrays.items():
        parts = [a[c, np.linspace(0, D - 1, counts[c]).round().astype(int)] for c in range(C) if counts[c] > 0]
        keep[name] = np.concatenate(parts).astype(np.float32)
    info = {"combination": "pooled (chains agree)" if pooled else "stacking",
            "chain_elpd_holdout": [float(e) for e in elpd.sum(axis=1)],
            "stacking_weights": [float(x) for x in weights]}
    return keep, info


def artifact_metadata(p: TrainParams, std: Standardised, tgt: Target, first_season: int, last_season: int,
                      diag: dict, levels: fx.EffectLevels | None = None) -> dict:
    """Everything the artifact must carry to be used safely and traced back to its data and code."""
    import arviz
    import pymc
    import pytensor

    versions = {"pymc": pymc.__version__, "pytensor": pytensor.__version__, "arviz": arviz.__version__,
                "numpy": np.__version__}
    try:
        import nutpie

        versions["nutpie"] = nutpie.__version__
    except ImportError:  # pragma: no cover
        pass
    extra = {"effects": fx.effects_meta(levels, p.unseen_effects)} if levels is not None and levels.active else {}
    return {**extra,
        "format": ARTIFACT_FORMAT, "model_version": MODEL_VERSION, "feature_names": list(p.features),
        "n_experts": p.n_experts, "hidden_units": p.hidden_units, "gate": p.gate,
        "scaler": {"mean": std.mean.tolist(), "sd": std.sd.tolist()},
        "target": {"name": feats.TARGET, "mean": tgt.mean, "sd": tgt.sd, "transform": tgt.transform,
                   "offset": tgt.offset},
        "training_window": {"first_season": int(first_season), "last_season": int(last_season),
                            "rows": len(tgt.y)},
        "data_fingerprint": data_fingerprint(std.X, tgt.y, p.features), "versions": versions,
        "scale_floor": tgt.floor, "likelihood": p.likelihood, "constant_features": std.constant,
        "params": p.model_dump(), "diagnostics": diag, "stacking_weights": diag["stacking_weights"],
    }


def fit(frame: pd.DataFrame, p: TrainParams, first_season: int, last_season: int) -> tuple[MixtureExpertsBNN, dict]:
    """Fit on the eligible played player-games in ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of :func:`nfl_bnn.features.training_frame` (features, ``season``, ``rushing_yards``).
    p : TrainParams
        How to fit.
    first_season, last_season : int
        The training window, recorded in the artifact.

    Returns
    -------
    tuple of (MixtureExpertsBNN, dict)
        The model (not yet saved: see :func:`nfl_bnn.fitcheck.save_if_fit`) and its fit report.
    """
    if frame.empty:
        raise DataError(f"no eligible played player-games in seasons {first_season}-{last_season}; "
                        f"load the warehouse for those seasons first")
    std = standardise(frame, p.features)
    tgt = target_bins(frame[feats.TARGET].to_numpy(float), p.target_transform, p.target_offset_yards,
                      p.scale_floor_yards)
    lv = fx.levels(frame, p.opp_effects, p.back_effects)
    post = sample(std, tgt, frame["season"].to_numpy(), p, lv)
    hold = (frame["season"] == frame["season"].max()).to_numpy()  # held out only in the PSIS-LOO sense
    diag, ll = predictive_diagnostics(post.arrays, std.Xz, tgt, hold, p, lv)
    diag = {"wall_s": post.wall_s, "steps_per_draw": post.steps_per_draw, "inference": p.inference, **diag}
    diag.update(sampler_diagnostics(post.idata))
    diag.update(effect_diagnostics(post.arrays))
    keep, info = combine_chains(post.arrays, ll, diag.get("rhat_pred_max"), p.keep_draws)
    diag.update(info)
    log.info("fit done in %.1f s: %s", post.wall_s, {k: v for k, v in diag.items() if k != "chain_elpd_holdout"})
    fitted = MixtureExpertsBNN(keep, artifact_metadata(p, std, tgt, first_season, last_season, diag, lv))
    # every chain's draws of the expert parameters, for the train report's trace and rank plots (not
    # saved: the artifact keeps only the stacked draws prediction needs)
    fitted.posterior_chains = {k: post.arrays[k] for k in ("alpha", "scale_c") if k in post.arrays}
    return fitted, diag
