"""Fit the mixture-of-experts model from typed parameters (``params/train.yaml``).

Steps: standardise features and target on the training rows, sample (nutpie NUTS, PyMC NUTS or
ADVI), judge convergence on predictive quantities (R-hat/ESS of predicted means on the last training
season, not on raw weights, which have symmetric modes), combine chains by stacking weights from
their PSIS-LOO predictive densities on that season, and keep ``keep_draws`` float32 draws.
"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from nfl_bnn import features as feats
from nfl_bnn.errors import DataError
from scipy.special import ndtr

from nfl_bnn.model import (ARTIFACT_FORMAT, MODEL_VERSION, MixtureExpertsBNN, build_pymc_model,
                           data_fingerprint, mixture_logpdf, mixture_logpmf, mixture_params,
                           posterior_arrays, target_space)
from nfl_bnn.params import StrictModel, load_params

log = logging.getLogger("nfl_bnn.train")
RHAT_POOL = 1.05  # below this R-hat of predicted means the chains are pooled, above it stacked


class Priors(StrictModel):
    gate_sd: float = Field(0.3, gt=0)
    beta_sd: float = Field(0.5, gt=0)
    tau_sd: float = Field(0.2, gt=0)
    gamma_sd: float = Field(0.3, gt=0)
    hidden_sd: float = Field(0.5, gt=0)
    v_sd: float = Field(0.3, gt=0)
    alpha_gap_shape: float = Field(0.0, ge=0)  # >0: Gamma(shape, shape/0.8) gaps between intercepts


class TrainParams(StrictModel):
    """Everything that shapes a fit; defaults are the full-quality settings."""

    inference: Literal["nutpie", "pymc", "advi"] = "nutpie"
    n_experts: int = Field(3, ge=2, le=8)
    hidden_units: int = Field(0, ge=0, le=16)
    shared_slopes: bool = True
    draws: int = Field(500, ge=10)
    tune: int = Field(500, ge=10)
    chains: int = Field(2, ge=1, le=16)
    cores: int = Field(2, ge=1)
    seed: int = 2024
    target_accept: float = Field(0.85, gt=0.5, lt=1.0)
    # nutpie's mass matrix: diag, or diag plus a low-rank part learned from the draws' gradients, which
    # follows the correlations between the slopes of collinear features (carry_share, last_share, mates_share)
    mass_matrix: Literal["diag", "low_rank"] = "diag"
    advi_iterations: int = Field(20000, ge=100)
    keep_draws: int = Field(1000, ge=10)
    features: list[str] = Field(default_factory=lambda: list(feats.FEATURES))
    priors: Priors = Field(default_factory=Priors)
    likelihood: Literal["discrete", "normal"] = "discrete"  # exact P(Y = y) for whole yards, or a density
    scale_floor_yards: float = Field(1.0, ge=0)  # added to every expert's scale (yards)
    gate_features: list[str] | None = None  # the gate's inputs (default: all features)
    # softmax: K-1 free logit vectors; ordinal: one gating score with ordered cut-points (experts are
    # ordered by location, so a higher score moves weight up the ladder; fewer symmetric modes for K >= 3)
    gate: Literal["softmax", "ordinal"] = "softmax"
    init: Literal["map", "default"] = "map"  # start every chain at the MAP, so all explore one mode
    # each row's log-likelihood is weighted season_decay ** (last training season - its season):
    # 1.0 = all seasons count alike; < 1 lets the fit follow the drift in dispersion between eras
    season_decay: float = Field(1.0, gt=0, le=1)
    # the space the Normal mixture lives in: yards, or log(yards + target_offset_yards) (right-skewed,
    # floored near 0); the likelihood stays the exact probability of each whole yard either way
    target_transform: Literal["identity", "log"] = "identity"
    target_offset_yards: float = Field(25.0, gt=0)


def load_train_params(path: str | Path | None = None, **overrides) -> TrainParams:
    from nfl_bnn.config import params_dir

    return load_params(TrainParams, path or params_dir() / "train.yaml", overrides=overrides)


def season_weights(seasons: np.ndarray, decay: float) -> np.ndarray | None:
    """Likelihood weight of each row, ``decay ** (newest season - its season)``; None when decay is 1."""
    if decay >= 1.0:
        return None
    s = np.asarray(seasons, dtype=np.int64)
    return np.power(float(decay), (s.max() - s).astype(np.float64))


def _map_start(model, p: TrainParams) -> dict[str, np.ndarray] | None:
    """The MAP (L-BFGS from the default start) as every chain's initial point, or None."""
    import pymc as pm

    if p.init != "map":
        return None
    with model:
        point = pm.find_MAP(progressbar=False, seed=p.seed)
    return {rv.name: np.asarray(point[rv.name]) for rv in model.free_RVs}


HEARTBEAT_S = 15  # seconds between sampling progress lines in the log (make train, cron)


def sampling_progress(sampler, p: TrainParams, elapsed_s: float) -> str:
    """One log line on a running nutpie sampler: draws done per chain so far, elapsed and left.

    Training sits on one notebook cell for minutes; this line (every :data:`HEARTBEAT_S` seconds,
    streamed to the terminal by ``nfl-bnn run-notebook``) shows it is moving and how far it is.
    """
    head = f"sampling: {p.chains} chains x ({p.tune} tune + {p.draws} draws)"
    try:
        trace = sampler.inspect()
        tuned = int(trace.warmup_sample_stats.sizes.get("draw", 0)) if "warmup_sample_stats" in trace else 0
        drawn = int(trace.sample_stats.sizes.get("draw", 0)) if "sample_stats" in trace else 0
    except Exception:  # noqa: BLE001 - progress is informative only; never break a fit over it
        return f"{head}, {elapsed_s:.0f} s elapsed"
    done_share = (tuned + drawn) / max(p.tune + p.draws, 1)
    left = f", about {elapsed_s / done_share * (1 - done_share):.0f} s left" if 0.05 < done_share < 1 else ""
    return f"{head}: tune {tuned}/{p.tune}, draws {drawn}/{p.draws} per chain, {elapsed_s:.0f} s elapsed{left}"


def _sample(model, p: TrainParams):
    """Run the chosen sampler, logging progress; returns (idata, steps_per_draw or None)."""
    import pymc as pm

    if p.inference == "advi":
        with model:
            approx = pm.fit(n=p.advi_iterations, method="advi", random_seed=p.seed, progressbar=False)
            idata = approx.sample(p.draws, random_seed=p.seed)
        return idata, None
    start = _map_start(model, p)
    if p.inference == "pymc":
        if p.mass_matrix == "low_rank":
            log.warning("mass_matrix: low_rank is a nutpie option; PyMC's NUTS adapts a diagonal mass matrix")
        with model:
            idata = pm.sample(draws=p.draws, tune=p.tune, chains=p.chains, cores=min(p.cores, p.chains),
                              initvals=start, init="adapt_diag" if start is not None else "jitter+adapt_diag",
                              random_seed=p.seed, target_accept=p.target_accept, progressbar=False,
                              compute_convergence_checks=False)
        steps = float(idata.sample_stats["n_steps"].mean()) if "n_steps" in idata.sample_stats else None
        return idata, steps
    import nutpie

    compiled = nutpie.compile_pymc_model(model, initial_points=start) if start else nutpie.compile_pymc_model(model)
    sampler = nutpie.sample(compiled, draws=p.draws, tune=p.tune, chains=p.chains, cores=p.cores,
                            seed=p.seed, target_accept=p.target_accept, progress_bar=False, blocking=False,
                            low_rank_modified_mass_matrix=p.mass_matrix == "low_rank")
    t0 = time.time()
    done = threading.Event()

    def heartbeat():
        while not done.wait(HEARTBEAT_S):
            log.info("%s", sampling_progress(sampler, p, time.time() - t0))

    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        idata = sampler.wait()
    finally:
        done.set()
    st = idata.sample_stats
    steps = float(st["n_steps"].mean()) if "n_steps" in st else None
    return idata, steps


STACKING_CONCENTRATION = 2.0  # Dirichlet prior on the stacking weights (1 = none)


def stacking_weights(elpd: np.ndarray, concentration: float = STACKING_CONCENTRATION) -> np.ndarray:
    """Chain weights maximising sum_i log sum_c w_c exp(elpd[c, i]) + (concentration - 1) sum_c log w_c.

    Plain stacking (concentration 1) is degenerate when chains predict alike: every weighting scores
    the same and the optimiser ends in a corner (measured: K=3 chains 0.5 nats apart on 670 rows got
    weights 1, 0, 0, 0, so three quarters of the draws were thrown away). The Dirichlet prior keeps
    chains that are as good as the others while a chain in a clearly worse mode still loses its weight.
    """
    from scipy.optimize import minimize

    C = elpd.shape[0]
    if C == 1:
        return np.ones(1)
    mx = elpd.max(axis=0)
    dens = np.exp(elpd - mx)

    def nll(z):
        w = np.exp(z - z.max())
        w /= w.sum()
        return -np.log(w @ dens + 1e-300).sum() - (concentration - 1.0) * np.log(w + 1e-300).sum()

    res = minimize(nll, np.zeros(C), method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-8})
    w = np.exp(res.x - res.x.max())
    return w / w.sum()


def settings_used(p: TrainParams) -> str:
    """The sampler settings a fit ran with, in words, for the train report.

    The notebook's ``draws``/``tune`` parameters are overrides where 0 means "keep the params file's",
    so the report shows the values actually used instead of a puzzling ``draws 0, tune 0``.
    """
    if p.inference == "advi":
        return f"ADVI, {p.advi_iterations:,} iterations, {p.draws:,} draws, seed {p.seed}"
    return f"{p.inference}: {p.chains} chains x ({p.tune:,} tune + {p.draws:,} draws), seed {p.seed}"


def fit(frame: pd.DataFrame, p: TrainParams, first_season: int, last_season: int) -> tuple[MixtureExpertsBNN, dict]:
    """Fit on the eligible played player-games in ``frame``; returns the model and a fit report."""
    import arviz as az

    if frame.empty:
        raise DataError(f"no eligible played player-games in seasons {first_season}-{last_season}; "
                        f"load the warehouse for those seasons first")
    X = feats.feature_matrix(frame, p.features)
    y = frame[feats.TARGET].astype(float).to_numpy()
    mean, sd = X.mean(axis=0), X.std(axis=0)
    constant = [f for f, v in zip(p.features, sd) if v == 0]
    if constant:  # e.g. mate_out_share without injury reports: held at its training value when predicting
        log.warning("features %s are constant in the training rows, so the model cannot learn from them%s",
                    constant, " (import the injury reports: nfl-bnn import-nflverse --injuries ...)"
                    if "mate_out_share" in constant else "")
    sd[sd == 0] = 1.0
    Xz = (X - mean) / sd
    tf, off = p.target_transform, p.target_offset_yards
    if tf == "log" and y.min() + 0.5 + off <= 0.01:
        raise DataError(f"rushing yards as low as {y.min():.0f} cannot be modelled as log(yards + "
                        f"{off:g}); raise target_offset_yards in the train params above {-y.min():.0f}")
    yt = target_space(y, tf, off)
    y_mean, y_sd = float(yt.mean()), float(yt.std())
    yz = (yt - y_mean) / y_sd
    edges = None
    if tf == "log":  # each whole yard's bin [y - .5, y + .5] in standardised log space
        lo_y = np.log(np.maximum(y - 0.5 + off, 1e-3))
        edges = ((lo_y - y_mean) / y_sd, (target_space(y + 0.5, tf, off) - y_mean) / y_sd)
    d, K, H = X.shape[1], p.n_experts, p.hidden_units
    unknown = [f for f in (p.gate_features or []) if f not in p.features]
    if unknown:
        raise DataError(f"train params: gate_features {unknown} are not among the features {p.features}")
    gate_idx = None if p.gate_features is None else [p.features.index(f) for f in p.gate_features]
    # the floor is scale_floor_yards at the mean yardage (in log space: d log(y + off) = dy / (y + off))
    floor = p.scale_floor_yards / y_sd / (float(y.mean()) + off if tf == "log" else 1.0)
    row_w = season_weights(frame["season"].to_numpy(), p.season_decay)
    if row_w is not None and p.likelihood != "discrete":
        raise DataError("train params: season_decay < 1 needs likelihood: discrete (a weighted likelihood)")
    model = build_pymc_model(Xz, yz, K, H, p.priors.model_dump(), p.shared_slopes, likelihood=p.likelihood,
                             bin_halfwidth=0.5 / y_sd, scale_floor=floor, gate_features=gate_idx,
                             row_weights=row_w, bin_edges=edges, gate=p.gate)
    log.info("fitting %s: %d rows x %d features, K=%d, H=%d, %s", MODEL_VERSION, len(y), d, K, H, p.inference)
    t0 = time.time()
    idata, steps = _sample(model, p)
    wall = time.time() - t0
    arrs = posterior_arrays(idata, d, K, H)
    C, D = arrs["alpha"].shape[:2]
    # predictive diagnostics on the last training season (held out only in the PSIS-LOO sense)
    hold = (frame["season"] == frame["season"].max()).to_numpy()
    flat = {k: v.reshape((C * D,) + v.shape[2:]) for k, v in arrs.items()}
    w, mu, sigma = mixture_params(flat, Xz[hold], y_mean, y_sd, dtype=np.float64, scale_floor=floor, gate=p.gate)
    pred_mean = (w * mu).sum(axis=2).reshape(C, D, -1)
    # P(over) at a typical line per row: the pooled predicted mean rounded to a half-yard line
    centre = pred_mean.mean(axis=(0, 1))
    line = np.floor(np.exp(centre) - off if tf == "log" else centre) + 0.5
    line_t = target_space(line, tf, off)
    p_over = (1.0 - (w * ndtr((line_t[None, :, None] - mu) / sigma)).sum(axis=2)).reshape(C, D, -1)
    if p.likelihood == "discrete":
        ll = mixture_logpmf(y[hold], w, mu, sigma, tf, off).reshape(C, D, -1)
    else:
        ll = mixture_logpdf(yt[hold], w, mu, sigma).reshape(C, D, -1)
    diag: dict = {"wall_s": round(wall, 1), "steps_per_draw": steps, "inference": p.inference,
                  "chains": C, "draws_per_chain": D, "holdout_rows": int(hold.sum())}
    if "diverging" in getattr(idata, "sample_stats", {}):
        diag["divergences"] = int(idata.sample_stats["diverging"].sum())
    if C > 1:
        rh = np.asarray(az.rhat(az.convert_to_dataset({"m": pred_mean}))["m"].values)
        ess = np.asarray(az.ess(az.convert_to_dataset({"m": pred_mean}))["m"].values)
        diag.update(rhat_pred_max=float(rh.max()), rhat_pred_median=float(np.median(rh)),
                    ess_pred_min=float(ess.min()), ess_pred_median=float(np.median(ess)))
        rp = np.asarray(az.rhat(az.convert_to_dataset({"p": p_over}))["p"].values)
        ep = np.asarray(az.ess(az.convert_to_dataset({"p": p_over}))["p"].values)
        diag.update(rhat_pover_max=float(np.nanmax(rp)), ess_pover_min=float(np.nanmin(ep)))
        raw = az.rhat(idata.posterior[["alpha", "scale_c"]])
        diag["rhat_alpha_max"] = float(raw["alpha"].max())
        diag["chain_means"] = {k: np.round(arrs[k].mean(axis=1), 3).tolist() for k in ("alpha", "scale_c", "gate_b")}
    # per-chain PSIS-LOO pointwise elpd -> stacking weights
    elpd = np.empty((C, ll.shape[2]))
    high_k = []
    for c in range(C):
        with warnings.catch_warnings(record=True) as caught:  # ArviZ's Pareto-k warning, named once below
            warnings.simplefilter("always")
            loo = az.loo(az.from_dict(posterior={"a": arrs["alpha"][c:c + 1, :, 0]},
                                      log_likelihood={"y": ll[c:c + 1]}), pointwise=True)
        if any("Pareto" in str(w.message) for w in caught):
            high_k.append(c)
        elpd[c] = np.asarray(loo.loo_i.values)
    if high_k:
        log.info("PSIS-LOO: Pareto k above ArviZ's threshold on some rows of chain(s) %s; the stacking weights "
                 "are approximate (they are not used when the chains agree and are pooled)", high_k)
    if C > 1 and diag.get("rhat_pred_max", np.inf) < RHAT_POOL:
        # the chains agree on every prediction: pool them equally (stacking identical chains is
        # degenerate, any weights fit, and putting all weight on one chain would waste 3/4 of the draws)
        weights = np.full(C, 1.0 / C)
        diag["combination"] = "pooled (chains agree)"
    else:
        weights = stacking_weights(elpd)
        diag["combination"] = "stacking"
    diag["chain_elpd_holdout"] = [float(e) for e in elpd.sum(axis=1)]
    diag["stacking_weights"] = [float(x) for x in weights]
    counts = np.floor(weights * p.keep_draws).astype(int)
    counts[np.argmax(weights)] += p.keep_draws - counts.sum()
    keep = {}
    for name, a in arrs.items():
        parts = []
        for c in range(C):
            if counts[c] > 0:
                idx = np.linspace(0, D - 1, counts[c]).round().astype(int)
                parts.append(a[c, idx])
        keep[name] = np.concatenate(parts).astype(np.float32)
    import arviz
    import pymc
    import pytensor

    meta = {
        "format": ARTIFACT_FORMAT, "model_version": MODEL_VERSION, "feature_names": list(p.features),
        "n_experts": K, "hidden_units": H, "gate": p.gate, "scaler": {"mean": mean.tolist(), "sd": sd.tolist()},
        "target": {"name": feats.TARGET, "mean": y_mean, "sd": y_sd, "transform": tf, "offset": off},
        "training_window": {"first_season": int(first_season), "last_season": int(last_season),
                            "rows": int(len(y))},
        "data_fingerprint": data_fingerprint(X, y, p.features),
        "versions": {"pymc": pymc.__version__, "pytensor": pytensor.__version__, "arviz": arviz.__version__,
                     "numpy": np.__version__},
        "scale_floor": floor, "likelihood": p.likelihood, "constant_features": constant,
        "params": p.model_dump(), "diagnostics": diag, "stacking_weights": diag["stacking_weights"],
    }
    try:
        import nutpie

        meta["versions"]["nutpie"] = nutpie.__version__
    except ImportError:  # pragma: no cover
        pass
    log.info("fit done in %.1f s: %s", wall, {k: v for k, v in diag.items() if k != "chain_elpd_holdout"})
    fitted = MixtureExpertsBNN(keep, meta)
    # every chain's draws of the expert parameters, for the train report's trace and rank plots (not
    # saved: the artifact keeps only the stacked draws prediction needs)
    fitted.posterior_chains = {k: arrs[k] for k in ("alpha", "scale_c") if k in arrs}
    return fitted, diag
