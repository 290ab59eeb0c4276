"""Feature drift: how far this season's features have moved from what the model was trained on.

The model's scaler holds each feature's training mean and standard deviation. For each feature we
report the shift of this season's mean in training standard deviations,
``(mean_season - mean_train) / sd_train``; a shift above 0.5 sd on any feature means the network sees
inputs unlike its training data, and we recommend retraining. Calendar features (``season``,
``week``; :data:`nfl_bnn.features.CALENDAR_FEATURES`) move by construction (a new season is always
past the training seasons, September's weeks are below the average week), so they are shown but never
judged.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError, ModelArtifactError
from nfl_bnn.features import CALENDAR_FEATURES

log = logging.getLogger("nfl_bnn.drift")

THRESHOLD_SD = 0.5


def scaler_stats(scaler: Any, feature_names: Sequence[str]) -> pd.DataFrame:
    """Training mean and sd per feature from a scaler (``mean_``/``scale_`` attributes or a mapping)."""
    if isinstance(scaler, dict):
        mean = scaler.get("mean", scaler.get("mean_"))
        sd = scaler.get("scale", scaler.get("sd", scaler.get("scale_", scaler.get("std"))))
    else:
        mean = getattr(scaler, "mean_", getattr(scaler, "mean", None))
        sd = getattr(scaler, "scale_", getattr(scaler, "scale", getattr(scaler, "sd", None)))
    if mean is None or sd is None:
        raise ModelArtifactError("the model's scaler has no training mean/scale; the artifact is incomplete, retrain it")
    mean, sd = np.asarray(mean, float).ravel(), np.asarray(sd, float).ravel()
    if not (len(mean) == len(sd) == len(feature_names)):
        raise ModelArtifactError(f"scaler has {len(mean)} means and {len(sd)} scales for {len(feature_names)} "
                                 "features; the artifact is inconsistent, retrain it")
    return pd.DataFrame({"feature": list(feature_names), "train_mean": mean, "train_sd": sd})


def feature_drift(X: pd.DataFrame, train: pd.DataFrame, threshold_sd: float = THRESHOLD_SD) -> pd.DataFrame:
    """Shift of each feature's mean in ``X`` from its training mean, in training sds (sorted, largest first)."""
    missing = [f for f in train["feature"] if f not in X.columns]
    if missing:
        raise DataError(f"features {missing} are missing from this season's frame; the model was trained "
                        "with other features, rebuild them or retrain")
    if X.empty:
        raise DataError("no rows of this season to measure drift on; check the season and weeks")
    out = train.copy()
    out["season_mean"] = [float(X[f].mean()) for f in train["feature"]]
    out["season_sd"] = [float(X[f].std(ddof=0)) for f in train["feature"]]
    sd = out["train_sd"].where(out["train_sd"] > 0, np.nan)
    out["shift_sd"] = (out["season_mean"] - out["train_mean"]) / sd
    out["calendar"] = out["feature"].isin(CALENDAR_FEATURES)
    out["drifted"] = (out["shift_sd"].abs() > threshold_sd) & ~out["calendar"]
    # judged features first, largest shift first; calendar features last
    order = out.assign(_a=out["shift_sd"].abs()).sort_values(["calendar", "_a"], ascending=[True, False]).index
    return out.reindex(order).reset_index(drop=True)


def recommendation(drift: pd.DataFrame, threshold_sd: float = THRESHOLD_SD) -> str:
    """One sentence: retrain or not, and why."""
    bad = drift[drift["drifted"]]
    if bad.empty:
        judged = drift[~drift["calendar"]] if "calendar" in drift else drift
        worst = (judged if not judged.empty else drift).iloc[0]
        return (f"no retraining needed: the largest shift is {worst['feature']} at "
                f"{worst['shift_sd']:+.2f} sd (threshold {threshold_sd} sd)")
    items = ", ".join(f"{r.feature} {r.shift_sd:+.2f} sd" for r in bad.itertuples())
    msg = f"RETRAIN recommended: {len(bad)} feature(s) shifted more than {threshold_sd} sd ({items})"
    log.warning(msg)
    return msg


def season_features(season: int, last_week: int = 22, wh=None) -> pd.DataFrame:
    """The features of every eligible player-game of ``season`` up to ``last_week`` (pre-kickoff only)."""
    from nfl_bnn import features, warehouse

    wh = wh or warehouse.connect()
    frame = features.load_history(wh, season, season).training_frame(season, season)
    frame = frame[frame["week"] <= last_week]
    if frame.empty:
        raise DataError(f"no eligible player-games in season {season} up to week {last_week}; "
                        "load that season into the warehouse first")
    return frame


def drift_for_model(model, X: pd.DataFrame, threshold_sd: float = THRESHOLD_SD) -> pd.DataFrame:
    return feature_drift(X, scaler_stats(model.scaler, model.feature_names), threshold_sd)
