"""The one gate before a model is saved, used by ``nfl-bnn train`` and ``notebooks/train.ipynb``.

A check that decides whether a model is fit to use lives here, not in a notebook cell, so the CLI and
the notebook cannot drift apart: :func:`check_fit` returns every problem, :func:`save_if_fit` saves
only when there is none and otherwise raises :class:`~nfl_bnn.errors.FitCheckError` (exit 1).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nfl_bnn import features as feats
from nfl_bnn.calibration import ALERT_90
from nfl_bnn.errors import DataError, FitCheckError
from nfl_bnn.model import MixtureExpertsBNN

log = logging.getLogger("nfl_bnn.train")


@dataclass(frozen=True)
class FitLimits:
    """Thresholds a fit must meet to be saved; the defaults are those of the train notebook."""

    max_rhat: float = 1.1  # R-hat of predicted means across chains
    min_ess: float = 100.0  # effective sample size of predicted means
    max_divergence_share: float = 0.02  # divergent transitions / all draws
    min_coverage90: float = ALERT_90  # of the 90% interval on the check season
    mean_yards: tuple[float, float] = (40.0, 100.0)  # a realistic average forecast for eligible backs


@dataclass(frozen=True)
class Holdout:
    """How the model predicts a season it is checked on: rows, 90% coverage and mean forecast."""

    rows: int
    coverage90: float
    mean_prediction: float
    season: int
    held_out: bool  # False: the last training season, in-sample (no later season in the warehouse)


def holdout_from_predictions(pred: pd.DataFrame, actual, season: int, held_out: bool = True) -> Holdout:
    """Summarise ``model.predict`` output against the actual yards of the same rows.

    Coverage uses whole yards (``q05 <= y <= q95`` with the whole-yard quantiles; see
    :func:`nfl_bnn.model.forward.whole_yard_quantiles`).
    """
    from nfl_bnn.calibration import interval_coverage

    y = np.asarray(actual, dtype=float)
    if len(y) == 0 or len(pred) != len(y):
        raise DataError(f"no rows (or {len(pred)} predictions for {len(y)} actual values) to check the fit "
                        f"on season {season}; load that season into the warehouse")
    return Holdout(rows=len(y), coverage90=interval_coverage(y, pred["q05"], pred["q95"]),
                   mean_prediction=float(pred["mean"].mean()), season=int(season), held_out=held_out)


def check_season(model: MixtureExpertsBNN, frame: pd.DataFrame, valid: pd.DataFrame, season: int,
                 required: bool = False) -> Holdout:
    """Predict the check season ``valid`` (walk-forward); without it, the last training season in-sample.

    Training on every season up to the latest one (to bet the next) leaves no later season to hold
    out; the in-sample check still catches a fit that is badly miscalibrated or unrealistic.
    """
    if len(valid):
        return holdout_from_predictions(model.predict(valid), valid[feats.TARGET], season, held_out=True)
    if required:
        raise DataError(f"no eligible played player-games of season {season} to check the fit on; load that "
                        f"season into the warehouse or leave out --validate-season")
    last = int(frame["season"].max())
    rows = frame[frame["season"] == last]
    log.warning("season %d is not in the warehouse: checking the fit in-sample on season %d", season, last)
    return holdout_from_predictions(model.predict(rows), rows[feats.TARGET], last, held_out=False)


def check_fit(diagnostics: dict, holdout: Holdout | None, limits: FitLimits = FitLimits()) -> list[str]:
    """Every reason the fit must not be saved; an empty list means it may be.

    Parameters
    ----------
    diagnostics : dict
        The fit report of :func:`fit` (divergences, R-hat and ESS of predicted means when there
        are several chains; ADVI and single-chain fits have none, and those checks are skipped).
    holdout : Holdout or None
        Predictions on the check season; None skips the calibration and realism checks.
    limits : FitLimits
        The thresholds.

    Returns
    -------
    list of str
        One sentence per failed check.
    """
    problems = []
    total = int(diagnostics.get("chains", 1)) * int(diagnostics.get("draws_per_chain", 0))
    div = diagnostics.get("divergences")
    if div is not None and total and div / total > limits.max_divergence_share:
        where = diagnostics.get("divergence_directions") or {}
        along = "; they ran along " + ", ".join(f"{k} ({n})" for k, n in where.items()) if where else ""
        problems.append(f"{div} divergences in {total} draws (more than {limits.max_divergence_share:.0%}){along}")
    rhat = diagnostics.get("rhat_pred_max")
    if rhat is not None and not rhat <= limits.max_rhat:  # NaN fails too
        problems.append(f"R-hat of predicted means up to {rhat:.3f} > {limits.max_rhat}: chains disagree")
    ess = diagnostics.get("ess_pred_min")
    if ess is not None and not ess >= limits.min_ess:
        problems.append(f"ESS of predicted means down to {ess:.0f} < {limits.min_ess:g}: too few effective draws")
    if holdout is not None:
        where = f"season {holdout.season}" + ("" if holdout.held_out else " (in-sample)")
        if not holdout.coverage90 >= limits.min_coverage90:
            problems.append(f"90% interval covers only {holdout.coverage90:.1%} of {holdout.rows} player-games "
                            f"of {where} (at least {limits.min_coverage90:.0%} required)")
        lo, hi = limits.mean_yards
        if not lo <= holdout.mean_prediction <= hi:
            problems.append(f"mean prediction {holdout.mean_prediction:.1f} yards on {where} is unrealistic "
                            f"(expected {lo:g}-{hi:g})")
    return problems


def save_if_fit(model: MixtureExpertsBNN, diagnostics: dict, holdout: Holdout | None, path: str | Path,
                limits: FitLimits = FitLimits()) -> Path:
    """Save ``model`` to ``path`` only if :func:`check_fit` finds no problem.

    Raises
    ------
    FitCheckError
        Listing every failed check; nothing is written (a previous artifact at ``path`` stays).
    """
    problems = check_fit(diagnostics, holdout, limits)
    if problems:
        raise FitCheckError(f"training checks failed, model NOT saved to {path}: " + "; ".join(problems)
                            + ". Train longer (draws/tune), with more chains, or on more seasons")
    return model.save(path)
