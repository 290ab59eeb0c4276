"""Training: typed parameters (``params/train.yaml``), the samplers, and chain stacking.

``train.fit`` and its steps are in :mod:`nfl_bnn.fitting`; the gate before saving
(``train.check_fit``, ``train.save_if_fit``) in :mod:`nfl_bnn.fitcheck`. Both are reachable from here.
The samplers themselves (starts, nutpie, progress, sampler diagnostics) are in :mod:`nfl_bnn.sampling`.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from nfl_bnn import features as feats, role_features as role_feats
from nfl_bnn.fitcheck import (FitLimits, Holdout, check_fit, check_season,  # noqa: F401 (train's API)
                              holdout_from_predictions, save_if_fit)
from nfl_bnn.params import StrictModel, load_params

log = logging.getLogger("nfl_bnn.train")
# the default network's inputs: the continuous features (not is_home, week, season, mate_out_share: binary,
# calendar or mostly 0, where a bend has nothing to bend)
HIDDEN_FEATURES = ("proj_carries", "carry_share", "rush_l3", "ypg_std", "ypc_shrunk", "implied_total",
                   "opp_rush_allowed", "last_share", "mates_share", "share_gain")
RHAT_POOL = 1.05  # below this R-hat of predicted means the chains are pooled, above it stacked


class Priors(StrictModel):
    """Prior scales of the model's weights (standardised units); defaults are those of params/train.yaml."""

    gate_sd: float = Field(0.3, gt=0)
    gate_unit_sd: float | None = Field(None, gt=0)  # gating net weights: sd (true) or shrinkage scale; None: gate_sd
    beta_sd: float = Field(0.5, gt=0)
    tau_sd: float = Field(0.2, gt=0)
    gamma_sd: float = Field(0.3, gt=0)
    hidden_sd: float = Field(0.5, gt=0)
    v_sd: float = Field(0.3, gt=0)
    v_scale_shape: float = Field(0.0, ge=0, description="0: v_scale ~ half-normal(v_sd); > 0: Gamma(shape, rate) "
                                 "with the half-normal's mean, zero density at 0 (docs/network.md, session 21)")
    bias_sd: float = Field(1.0, gt=0)  # hidden biases (identified, directional); additive_learned: centres' sd
    hidden_gain: float = Field(1.5, gt=0)  # directional: the length of every unit's input weights; additive: gain
    alpha_gap_shape: float = Field(8.0, ge=0, description="> 0: Gamma(shape, shape/mean) gaps between the experts' "
                                   "intercepts, which removes the mode where two experts share one location; 0: none")
    alpha_gap_mean: float = Field(1.0, gt=0, description="the Gamma gaps' prior mean (standardised target units); "
                                  "Gamma(8, 8) keeps chains out of the neck where two experts merge (docs/network.md)")
    effect_sd: float = Field(0.2, gt=0, description="half-normal scale of the defence and back effects' sds "
                             "(opp_effects, back_effects), standardised target units")


class TrainParams(StrictModel):
    """Everything that shapes a fit. The defaults ARE params/train.yaml (a test holds them equal), so this
    class says what a plain ``nfl-bnn train`` runs; params/train_fast.yaml states what it changes."""

    inference: Literal["nutpie", "pymc", "advi"] = "nutpie"
    n_experts: int = Field(3, ge=2, le=8)
    hidden_units: int = Field(20, ge=0, le=64, description="tanh units of the experts' network (0 = the linear-expert "
                              "ablation; at most 16 but for the additive networks, m units per hidden feature)")
    shared_slopes: bool = True
    # the hidden layer (hidden_units > 0), options compared in docs/network.md (nfl_bnn/model/network.py says
    # what each is); the default, chosen on rolling origins 2017-2022: the additive network, two units per
    # continuous feature, each expert with its own output weights, and the gate linear (no gating network)
    network: Literal["plain", "identified", "directional", "additive", "additive_learned"] = "additive"
    hidden_output: Literal["per_expert", "shared"] = "per_expert"
    gate_hidden: bool | Literal["gate_features", "shrunk", "orthogonal"] = Field(
        False, description="a gating network: true = the gate also reads every hidden unit (free weights); "
        "gate_features = only the additive units of the gate's own features, shrunk = every unit, shrunk together; "
        "orthogonal = every unit's part that the linear ordinal gate cannot express (additive network)")
    hidden_features: list[str] | None = Field(  # the hidden units' inputs (None: all features)
        default_factory=lambda: list(HIDDEN_FEATURES))
    draws: int = Field(800, ge=10)
    tune: int = Field(300, ge=10)
    chains: int = Field(4, ge=1, le=16, description="chains that still disagree are combined by stacking")
    cores: int = Field(2, ge=1)
    seed: int = 2024
    target_accept: float = Field(0.85, gt=0.5, lt=1.0)
    max_treedepth: int = Field(
        8, ge=4, le=12, description="NUTS tree-depth cap (at most 2^depth leapfrog steps a draw). Drawing takes "
        "~15 steps; the cap bites in the warm-up's first steps, from starts far from the posterior")
    mass_matrix: Literal["diag", "low_rank"] = Field(
        "low_rank", description="nutpie's mass matrix: diag, or diag plus a low-rank part learned from the draws' "
        "gradients, which follows the correlated slopes of collinear features (carry_share, last_share, mates_share)")
    fused: bool = Field(
        True, description="compute the likelihood and its gradient in one compiled pass over the rows where the "
        "model allows it (ordinal gate, discrete likelihood, additive or no hidden units, any gate_hidden, no "
        "effects; nfl_bnn/model/fused.py): the same posterior, a faster gradient; false: PyTensor's generic graph")
    logp_backend: Literal["c", "numba"] = Field(
        "numba", description="how nutpie evaluates the log density: numba = nutpie's own numba callbacks (compiled "
        "afresh by every fit: 25-80 s); c = PyTensor's C backend called from Python (cached across fits: seconds "
        "once the machine has compiled the model's operations). The same graph and posterior")
    advi_iterations: int = Field(20000, ge=100)
    keep_draws: int = Field(1000, ge=10, description="float32 draws kept in the artifact (stacked over chains)")
    features: list[str] = Field(default_factory=lambda: list(feats.FEATURES))
    priors: Priors = Field(default_factory=Priors)
    likelihood: Literal["discrete", "normal"] = Field("discrete", description="exact P(Y = y) per whole yard, or a density")
    scale_floor_yards: float = Field(1.0, ge=0, description="added to every expert's scale (yards)")
    gate_features: list[str] | None = Field(
        default_factory=lambda: ["proj_carries", "carry_share", "implied_total"],
        description="the gate's inputs, a subset of features (None: all features); a small gate is better identified")
    gate: Literal["softmax", "ordinal"] = Field(
        "ordinal", description="softmax: K-1 free logit vectors; ordinal: one gating score with ordered cut-points "
        "(experts ordered by location, so a higher score moves weight up the ladder; fewer symmetric modes for K >= 3)")
    init: Literal["map", "laplace", "default"] = Field(
        "laplace", description="laplace (nutpie): the MAP and the Laplace sds found on nutpie's compiled model "
        "(no second compilation), each chain start_spread sds from the MAP in every unconstrained value "
        "(overdispersed starts, so R-hat can see chains that disagree); map: the MAP plus a U(-1, 1) jitter of "
        "each value, 5-50 posterior sds for the values thousands of rows pin (warm-ups that sometimes never "
        "recovered; the only NUTS start of inference: pymc); default: PyMC's jittered default start")
    start_spread: float = Field(2.0, gt=0, description="init: laplace: chains start this many Laplace posterior sds "
                                "from the MAP (Normal), over 1 so the starts are overdispersed")
    season_decay: float = Field(
        1.0, gt=0, le=1, description="each row's log-likelihood is weighted season_decay ** (last training season - "
        "its season): 1.0 = all seasons alike; < 1 lets the fit follow the drift in dispersion between eras")
    target_transform: Literal["identity", "log"] = Field(
        "log", description="the space the Normal mixture lives in: yards, or log(yards + target_offset_yards) "
        "(right-skewed, floored near 0); the likelihood stays the exact probability of each whole yard either way")
    target_offset_yards: float = Field(25.0, gt=0)
    # partial pooling inside the model (nfl_bnn/model/effects.py, docs/hierarchical.md): learned effects on every
    # expert's location per opposing defence-season and per back, instead of fixed shrinkage constants only
    opp_effects: Literal["none", "season", "ar1"] = Field(
        "none", description="per opposing defence and season: none; season = independent seasons; ar1 = a "
        "stationary AR(1) over seasons with learned rho (a new season is the last one's effect shrunk by rho)")
    back_effects: bool = Field(False, description="a learned effect per back (GSIS id); an unseen back has mean 0 (unseen_effects)")
    unseen_effects: Literal["sample", "zero"] = Field(
        "sample", description="a level training did not see (new back, new season): sample = draw it from its "
        "conditional prior per posterior draw (adds its sd to the predictive); zero = its mean only")

    @model_validator(mode="after")
    def _network_options_fit_together(self) -> TrainParams:
        if self.hidden_output == "shared" and self.network == "plain":
            raise ValueError("hidden_output: shared needs network: identified, directional or additive (the "
                             "plain network has free per-expert output weights)")
        n_in = len(self.hidden_features or self.features)
        if self.network.startswith("additive") and self.hidden_units % n_in:
            raise ValueError(f"network: {self.network} needs hidden_units ({self.hidden_units}) to be a multiple "
                             f"of the {n_in} hidden features (m units per feature): set hidden_units to "
                             f"m x {n_in}, or choose hidden_features")
        if not self.network.startswith("additive") and self.hidden_units > 16:
            raise ValueError(f"hidden_units {self.hidden_units} > 16 is for the additive networks only "
                             f"(network: {self.network} has that many dense tanh units)")
        if self.gate_hidden and self.hidden_units == 0:
            raise ValueError(f"gate_hidden: {self.gate_hidden} needs hidden_units > 0 (no hidden units to gate on)")
        if self.gate_hidden == "orthogonal" and (self.network != "additive" or self.gate != "ordinal"):
            raise ValueError(f"gate_hidden: orthogonal needs network: additive and gate: ordinal (not "
                             f"{self.network}, {self.gate}): its units must be a fixed basis the ordinal gate can read")
        if self.gate_hidden == "gate_features" and not self.network.startswith("additive"):
            raise ValueError("gate_hidden: gate_features needs network: additive or additive_learned")
        if self.gate_hidden == "gate_features" and not set(self.gate_features or self.features) & set(
                self.hidden_features or self.features):
            raise ValueError("gate_hidden: gate_features needs a gate feature among the hidden_features")
        if self.init == "laplace" and self.inference == "pymc":
            raise ValueError(f"init: laplace finds its starts on nutpie's compiled model; with inference: "
                             f"{self.inference} use init: map (or inference: nutpie)")
        return self

    @model_validator(mode="after")
    def _known_features(self) -> TrainParams:
        """Features the feature builder makes, each once; the gate reads a subset of them."""
        for name, chosen in (("features", self.features), ("gate_features", self.gate_features)):
            if chosen is None:
                continue
            if not chosen:
                raise ValueError(f"{name} is empty; list at least one of {', '.join(feats.FEATURES)}")
            twice = sorted({f for f in chosen if chosen.count(f) > 1})
            if twice:
                raise ValueError(f"{name} lists {twice} more than once")
        unknown = [f for f in self.features if f not in feats.FEATURES and f not in role_feats.ROLE_FEATURES]
        if unknown:
            raise ValueError(f"features {unknown} are built neither by nfl_bnn.features nor by "
                             f"nfl_bnn.role_features; choose from {', '.join(feats.FEATURES)} or the role "
                             f"features {', '.join(role_feats.ROLE_FEATURES)} (docs/roles.md)")
        outside = [f for f in (self.gate_features or []) if f not in self.features]
        if outside:
            raise ValueError(f"gate_features {outside} are not in features; the gate can only read features "
                             "the model is given")
        outside = [f for f in (self.hidden_features or []) if f not in self.features]
        if outside and self.hidden_units > 0:
            left = [f for f in self.hidden_features if f in self.features]
            per = max(self.hidden_units // len(self.hidden_features), 1)
            raise ValueError(f"hidden_features {outside} are not in features; the hidden units can only read "
                             f"features the model is given: set hidden_features to {left} (and hidden_units to "
                             f"{per * len(left)}: {per} units per feature), or hidden_units: 0 for linear experts")
        return self


def load_train_params(path: str | Path | None = None, **overrides) -> TrainParams:
    from nfl_bnn.config import params_dir

    return load_params(TrainParams, path or params_dir() / "train.yaml", overrides=overrides)


def season_weights(seasons: np.ndarray, decay: float) -> np.ndarray | None:
    """Likelihood weight of each row, ``decay ** (newest season - its season)``; None when decay is 1."""
    if decay >= 1.0:
        return None
    s = np.asarray(seasons, dtype=np.int64)
    return np.power(float(decay), (s.max() - s).astype(np.float64))


STACKING_CONCENTRATION = 2.0  # Dirichlet prior on the stacking weights (1 = none)


def stacking_weights(elpd: np.ndarray, concentration: float = STACKING_CONCENTRATION) -> np.ndarray:
    """Chain weights maximising sum_i log sum_c w_c exp(elpd[c, i]) + (concentration - 1) sum_c log w_c.

    Plain stacking (concentration 1) is degenerate when chains predict alike: every weighting scores
    about the same and the optimiser ends in a corner, throwing away the other chains' good draws
    (see docs/model-fitting.md). The Dirichlet prior keeps chains that are as good as the others
    while a chain in a clearly worse mode still loses its weight.

    Parameters
    ----------
    elpd : numpy.ndarray
        (C, n) pointwise PSIS-LOO log predictive densities of each chain.
    concentration : float
        Of the symmetric Dirichlet prior on the weights (1: none).

    Returns
    -------
    numpy.ndarray
        (C,) weights summing to 1.
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


_FITTING = ("Posterior", "Standardised", "Target", "artifact_metadata", "combine_chains", "fit",
            "predictive_diagnostics", "sample", "standardise", "target_bins")

def settings_used(p: TrainParams) -> str:
    """The sampler settings a fit ran with, in words, for the train report.

    The notebook's ``draws``/``tune`` parameters are overrides where 0 means "keep the params file's",
    so the report shows the values actually used instead of a puzzling ``draws 0, tune 0``.
    """
    if p.inference == "advi":
        return f"ADVI, {p.advi_iterations:,} iterations, {p.draws:,} draws, seed {p.seed}"
    return f"{p.inference}: {p.chains} chains x ({p.tune:,} tune + {p.draws:,} draws), seed {p.seed}"



def __getattr__(name: str):
    """``train.fit`` and its steps live in :mod:`nfl_bnn.fitting` (which imports this module)."""
    if name in _FITTING:
        from nfl_bnn import fitting

        return getattr(fitting, name)
    raise AttributeError(f"module 'nfl_bnn.train' has no attribute {name!r}")
