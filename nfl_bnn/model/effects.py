"""Partial pooling inside the model: effects of opposing defences and of backs on every expert's location.

The features carry fixed shrinkage (``ypc_shrunk`` toward 4.2 with a prior of 60 carries,
``opp_rush_allowed`` toward the league mean); here the amount of pooling is learned instead. Each
effect is added to every expert's location in the standardised target space (so it shifts the whole
predictive, its shape left to the gate and the experts' scales), non-centred (``sigma * z`` with
``z ~ N(0, 1)``), with a half-normal prior on ``sigma``:

* ``opp_effects``: one effect per opposing defence and season. ``season``: independent seasons,
  ``delta[t, s] = sigma_def * z[t, s]``. ``ar1``: a stationary AR(1) over seasons with a learned
  ``rho ~ Beta(3, 2)``, ``delta[t, s] = rho * delta[t, s-1] + sigma_def * sqrt(1 - rho^2) * z[t, s]``:
  rho near 0 is the independent model, rho near 1 a fixed team effect, and a new season is forecast
  as the last season's effect shrunk by rho (learned shrinkage, not a constant).
* ``back_effects``: one effect per back (GSIS id) over all his training games,
  ``delta[p] = sigma_back * z[p]``.

Prediction (:func:`location_offset`) uses each draw's effect where the training rows define the level
(a weekly retrain has the current season's earlier games). A level they do not define (a back never
seen, a season after the last training season) is predicted from the model itself: ``unseen:
sample`` draws it from its conditional prior per posterior draw (the posterior predictive: a new back
adds ``sigma_back`` to the spread), ``zero`` uses its mean only (0, or ``rho^gap`` times the last
season's effect). The draws of an unseen level are seeded by its key, so every call predicts alike.
Nothing here imports PyMC at module level; :func:`graph_offset` imports it when a graph is built.
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError, ModelArtifactError

OPP_MODES = ("none", "season", "ar1")
UNSEEN = ("sample", "zero")
EFFECT_ARRAYS = ("opp_effect", "opp_sigma", "opp_rho", "back_effect", "back_sigma")
OPP_COLUMNS, BACK_COLUMNS = ("opponent", "season"), ("player_id",)


@dataclass(frozen=True)
class EffectLevels:
    """The levels the training rows define and each training row's level (None: that effect is off)."""

    opp_mode: str
    teams: tuple[str, ...] = ()
    seasons: tuple[int, ...] = ()  # contiguous, first to last training season
    backs: tuple[str, ...] = ()
    opp_idx: np.ndarray | None = None  # (n,) team position * len(seasons) + season position
    back_idx: np.ndarray | None = None  # (n,)

    @property
    def active(self) -> bool:
        return self.opp_idx is not None or self.back_idx is not None


def _ids(frame: pd.DataFrame, cols: tuple[str, ...], what: str) -> pd.DataFrame:
    """The ID columns an effect is keyed by, as strings and ints; one clear error if absent or empty."""
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"{what} need the ID columns {missing} in the rows (nfl_bnn.features builds them: "
                        f"training_frame / candidate_frame keep {list(cols)}); the rows have "
                        f"{[str(c) for c in frame.columns][:15]}")
    sub = frame[list(cols)]
    if sub.isna().any().any():
        bad = [c for c in cols if sub[c].isna().any()]
        raise DataError(f"{what}: {int(sub.isna().any(axis=1).sum())} rows have no value in {bad}; "
                        f"rebuild the rows with nfl_bnn.features")
    out = pd.DataFrame({c: sub[c].astype(str) for c in cols if c != "season"})
    if "season" in cols:
        out["season"] = sub["season"].astype(int).to_numpy()
    return out


def levels(frame: pd.DataFrame, opp_mode: str = "none", backs: bool = False) -> EffectLevels:
    """The effects' levels from the training rows, and each row's level.

    Raises
    ------
    DataError
        If a mode is unknown or the rows lack the ID columns (``opponent``, ``season``, ``player_id``).
    """
    if opp_mode not in OPP_MODES:
        raise DataError(f"opp_effects must be one of {OPP_MODES}, not {opp_mode!r}")
    opp_idx = back_idx = None
    teams, seasons, players = (), (), ()
    if opp_mode != "none":
        ids = _ids(frame, OPP_COLUMNS, f"opp_effects: {opp_mode}")
        teams = tuple(sorted(ids["opponent"].unique()))
        s0, s1 = int(ids["season"].min()), int(ids["season"].max())
        seasons = tuple(range(s0, s1 + 1))
        t_pos = pd.Index(teams).get_indexer(ids["opponent"])
        opp_idx = (t_pos * len(seasons) + (ids["season"].to_numpy() - s0)).astype(np.int64)
    if backs:
        pid = _ids(frame, BACK_COLUMNS, "back_effects")["player_id"]
        players = tuple(sorted(pid.unique()))
        back_idx = pd.Index(players).get_indexer(pid).astype(np.int64)
    return EffectLevels(opp_mode, teams, seasons, players, opp_idx, back_idx)


def _ar1_matrix(rho, n: int):
    """L (n, n) with ``delta = z @ L.T`` the stationary AR(1) of unit variance:
    ``L[s, j] = rho^(s-j) * (1 if j == 0 else sqrt(1 - rho^2))`` for j <= s."""
    import pytensor.tensor as pt

    lag = np.subtract.outer(np.arange(n), np.arange(n))
    scale = np.ones(n)
    scale_t = pt.set_subtensor(pt.as_tensor_variable(scale)[1:], pt.sqrt(1.0 - rho**2))
    return pt.switch(lag >= 0, rho ** np.maximum(lag, 0), 0.0) * scale_t[None, :]


def graph_offset(lv: EffectLevels, effect_sd: float, n: int):
    """Each training row's summed effect (n,), registering the effects' variables in the current model.

    Deterministics: ``opp_effect`` (T * S_seasons, team-major), ``back_effect`` (P); free: ``opp_sigma``,
    ``opp_rho`` (ar1), ``opp_z``, ``back_sigma``, ``back_z``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    for name, idx in (("opp_effects", lv.opp_idx), ("back_effects", lv.back_idx)):
        if idx is not None and idx.shape != (n,):
            raise ValueError(f"{name}: {idx.shape[0]} row levels for {n} rows; build them from the same rows")
    off = pt.zeros((n,))
    if lv.opp_idx is not None:
        T, n_s = len(lv.teams), len(lv.seasons)
        sigma = pm.HalfNormal("opp_sigma", effect_sd)
        z = pm.Normal("opp_z", 0.0, 1.0, shape=(T, n_s))
        if lv.opp_mode == "ar1":
            z = z @ _ar1_matrix(pm.Beta("opp_rho", 3.0, 2.0), n_s).T
        eff = pm.Deterministic("opp_effect", (sigma * z).reshape((T * n_s,)))
        off = off + eff[lv.opp_idx]
    if lv.back_idx is not None:
        sigma_b = pm.HalfNormal("back_sigma", effect_sd)
        eff_b = pm.Deterministic("back_effect", sigma_b * pm.Normal("back_z", 0.0, 1.0, shape=(len(lv.backs),)))
        off = off + eff_b[lv.back_idx]
    return off


def posterior_effects(posterior) -> dict[str, np.ndarray]:
    """The effects' draws, (chain, draw, ...), from a posterior group (those the graph had)."""
    return {k: np.asarray(posterior[k].values, dtype=np.float64) for k in EFFECT_ARRAYS if k in posterior}


def train_offset(arrays: Mapping[str, np.ndarray], lv: EffectLevels | None, rows: np.ndarray) -> np.ndarray | None:
    """Each draw's summed effect (S, m) for the training rows selected by ``rows`` (their levels are known)."""
    if lv is None or not lv.active:
        return None
    parts = []
    if lv.opp_idx is not None:
        parts.append(arrays["opp_effect"][:, lv.opp_idx[rows]])
    if lv.back_idx is not None:
        parts.append(arrays["back_effect"][:, lv.back_idx[rows]])
    return np.sum(parts, axis=0)


def effects_meta(lv: EffectLevels, unseen: str) -> dict[str, Any]:
    """What prediction needs to find a row's level: the keys, in the order of the stored arrays."""
    return {"opp_mode": lv.opp_mode, "teams": list(lv.teams), "seasons": list(lv.seasons),
            "backs": list(lv.backs), "unseen": unseen}


def check_effects(params: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None) -> None:
    """Refuse an artifact whose effect arrays do not match its keys (or arrays without keys)."""
    present = [k for k in EFFECT_ARRAYS if k in params]
    if not meta:
        if present:
            raise ModelArtifactError(f"model artifact has effect arrays {present} but no 'effects' keys")
        return
    if meta.get("opp_mode") not in OPP_MODES or meta.get("unseen") not in UNSEEN:
        raise ModelArtifactError(f"model artifact effects: opp_mode {meta.get('opp_mode')!r} / unseen "
                                 f"{meta.get('unseen')!r} not in {OPP_MODES} / {UNSEEN}")
    want = {}
    if meta["opp_mode"] != "none":
        want.update(opp_effect=(len(meta["teams"]) * len(meta["seasons"]),), opp_sigma=())
        if meta["opp_mode"] == "ar1":
            want["opp_rho"] = ()
    if meta.get("backs"):
        want.update(back_effect=(len(meta["backs"]),), back_sigma=())
    S = params["alpha"].shape[0]
    for k in EFFECT_ARRAYS:
        if k in want and (k not in params or params[k].shape != (S,) + want[k]):
            got = params[k].shape if k in params else "nothing"
            raise ModelArtifactError(f"model artifact effect array {k!r} has shape {got}, expected {(S,) + want[k]}")
        if k in want and not np.isfinite(params[k]).all():
            raise ModelArtifactError(f"model artifact effect array {k!r} holds NaN or infinite values")
        if k not in want and k in params:
            raise ModelArtifactError(f"model artifact effect array {k!r} is not described by its 'effects' keys")


def _key_noise(keys: np.ndarray, S: int) -> np.ndarray:
    """(S, len(keys)) standard normals, each column seeded by its key (the same key, the same draws)."""
    out = np.empty((S, len(keys)))
    for j, k in enumerate(keys):
        out[:, j] = np.random.default_rng(zlib.crc32(str(k).encode())).standard_normal(S)
    return out


def _unseen(mean: np.ndarray, sd: np.ndarray, keys: np.ndarray, unseen: str) -> np.ndarray:
    """Unseen levels (S, m): their conditional mean, plus sd times keyed noise when sampling."""
    if unseen == "zero" or keys.size == 0:
        return mean
    uniq, inv = np.unique(keys, return_inverse=True)
    return mean + sd * _key_noise(uniq, mean.shape[0])[:, inv]


def _opp_offset(params, meta, ids: pd.DataFrame, unseen: str) -> np.ndarray:
    """(S, n) defence effects: the stored draw where known, the model's forecast where not."""
    teams, seasons = pd.Index(meta["teams"]), list(meta["seasons"])
    T, n_s, S = len(teams), len(seasons), params["opp_effect"].shape[0]
    eff = params["opp_effect"].astype(np.float64).reshape(S, T, n_s)
    sigma = params["opp_sigma"].astype(np.float64)[:, None]
    t = teams.get_indexer(ids["opponent"])
    s = ids["season"].to_numpy() - seasons[0]
    known = (t >= 0) & (s >= 0) & (s < n_s)
    out = np.zeros((S, len(ids)))
    out[:, known] = eff[:, t[known], s[known]]
    new = ~known
    mean, sd = np.zeros((S, int(new.sum()))), np.broadcast_to(sigma, (S, int(new.sum())))
    after = (t >= 0) & (s >= n_s)  # a later season of a known defence: forecast from its last season
    if meta["opp_mode"] == "ar1" and after.any():
        gap = (s - n_s + 1)[new]
        rho = params["opp_rho"].astype(np.float64)[:, None]
        fwd = after[new]
        last = eff[:, np.where(after, t, 0)[new], n_s - 1]
        mean = np.where(fwd[None, :], rho ** gap[None, :] * last, 0.0)
        sd = np.where(fwd[None, :], sigma * np.sqrt(1.0 - rho ** (2 * gap[None, :])), sigma)
    keys = (ids["opponent"] + ":" + ids["season"].astype(str)).to_numpy()[new]
    out[:, new] = _unseen(mean, sd, keys, unseen)
    return out


def location_offset(params: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None, frame: pd.DataFrame,
                    unseen: str | None = None) -> np.ndarray | None:
    """Each draw's summed effect on the location of every expert, (S, n), standardised; None without effects.

    Parameters
    ----------
    params : mapping
        The artifact's draws, with the arrays of :data:`EFFECT_ARRAYS` the fit had.
    meta : mapping or None
        The artifact's ``effects`` metadata (:func:`effects_meta`).
    frame : pandas.DataFrame
        The rows, with the ID columns the effects are keyed by.
    unseen : {"sample", "zero"}, optional
        How a level the training rows did not define is predicted (default: as the fit's params said).
    """
    if not meta:
        return None
    unseen = unseen or meta["unseen"]
    if unseen not in UNSEEN:
        raise DataError(f"unseen effects must be one of {UNSEEN}, not {unseen!r}")
    S = params["alpha"].shape[0]
    out = np.zeros((S, len(frame)))
    if meta["opp_mode"] != "none":
        out += _opp_offset(params, meta, _ids(frame, OPP_COLUMNS, "a model with opponent effects"), unseen)
    if meta.get("backs"):
        pid = _ids(frame, BACK_COLUMNS, "a model with back effects")["player_id"].to_numpy()
        pos = pd.Index(meta["backs"]).get_indexer(pid)
        eff = params["back_effect"].astype(np.float64)
        out[:, pos >= 0] += eff[:, pos[pos >= 0]]
        new = pos < 0
        sd = np.broadcast_to(params["back_sigma"].astype(np.float64)[:, None], (S, int(new.sum())))
        out[:, new] += _unseen(np.zeros((S, int(new.sum()))), sd, pid[new], unseen)
    return out
