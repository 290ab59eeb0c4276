"""A fitted model as a safe artifact: posterior draws plus everything needed to use them.

The artifact is an ``.npz`` read with ``allow_pickle=False``: float32 posterior draws of the arrays in
:data:`~nfl_bnn.model.forward.PARAM_SHAPES` plus one JSON string of metadata (feature list, scaler,
K, target space, training window, data fingerprint, versions, diagnostics, stacking weights) and a
SHA-256 of every array, so corruption is caught when it is loaded. Prediction never builds a PyMC
graph: :class:`MixtureExpertsBNN` runs the NumPy forward pass of :mod:`nfl_bnn.model.forward`.
"""
from __future__ import annotations

import json
import logging
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from nfl_bnn.errors import DataError, ModelArtifactError
from nfl_bnn.model.checks import FIX, _json_default, check_checksums, check_meta, check_params, seal
from nfl_bnn.model.effects import check_effects, location_offset
from nfl_bnn.model.forward import mixture_logpdf, mixture_params, predictive_summary, target_space

log = logging.getLogger("nfl_bnn.model")


class MixtureExpertsBNN:
    """A fitted mixture-of-experts model: posterior draws plus everything needed to use them safely.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        Posterior draws, each (n_draws, *shape) as in :data:`~nfl_bnn.model.forward.PARAM_SHAPES`.
    meta : mapping
        Artifact metadata (see :mod:`nfl_bnn.model.checks` for what is required).

    Raises
    ------
    ModelArtifactError
        If the metadata or the draws are incomplete, inconsistent or not finite.
    """

    def __init__(self, params: Mapping[str, np.ndarray], meta: Mapping[str, Any]):
        self.params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
        self.meta = dict(meta)
        self._validate()
        t = self.meta["target"]
        self._tf = (str(t.get("transform", "identity")), float(t.get("offset", 0.0)))
        self.unseen_effects: str | None = None  # "sample"/"zero" overrides the fit's choice for unseen levels

    # -- public attributes the older system's users call ---------------------------------------
    @property
    def feature_names(self) -> list[str]:
        """The feature columns ``X`` must hold, as built by :mod:`nfl_bnn.features`."""
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
        check_meta(self.meta)
        check_params(self.params, self.meta)
        check_effects(self.params, self.meta.get("effects"))

    def _X(self, X: pd.DataFrame) -> np.ndarray:
        """The model's feature columns of ``X``, standardised with the training scaler: (n, d).

        Only a DataFrame is accepted: a bare array carries no column names, so a reordered or
        shortened array would be standardised with the wrong means and give confident nonsense.
        """
        how = (f"pass a pandas DataFrame holding the columns model.feature_names ({self.feature_names}), as "
               f"built by nfl_bnn.features (training_frame or candidate_frame)")
        if not isinstance(X, pd.DataFrame):
            shape = f" of shape {np.shape(X)}" if hasattr(X, "shape") else ""
            raise DataError(f"model input is a {type(X).__module__}.{type(X).__name__}{shape}, not a DataFrame: "
                            f"{how}; an array in that column order can be wrapped as "
                            f"pd.DataFrame(arr, columns=model.feature_names)")
        missing = [f for f in self.feature_names if f not in X.columns]
        if missing:
            extra = [str(c) for c in X.columns if c not in self.feature_names]
            others = f"; its other columns are {extra[:12]}{' ...' if len(extra) > 12 else ''}" if extra else ""
            raise DataError(f"model input lacks the model's features {missing}{others}: {how}; or, if the model "
                            f"is from an older feature set, {FIX}")
        try:
            A = X[self.feature_names].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            bad = [f for f in self.feature_names if not pd.api.types.is_numeric_dtype(X[f])]
            raise DataError(f"model input features {bad or self.feature_names} are not numeric ({exc}): {how}") from None
        if not np.isfinite(A).all():
            bad = [f for f, ok in zip(self.feature_names, np.isfinite(A).all(axis=0)) if not ok]
            raise DataError(f"model input features {bad} hold NaN or infinite values; rebuild them with "
                            f"nfl_bnn.features")
        sc = self.scaler
        Z = (A - sc["mean"]) / sc["sd"]
        # a feature that was constant in the training rows (injury features without injury reports, the
        # season of a one-season fit) has no learned effect: only its prior would speak, so it is held at
        # its training value instead of adding noise wherever it now varies
        constant = set(self.meta.get("constant_features", []))
        Z[:, [i for i, f in enumerate(self.feature_names) if f in constant]] = 0.0
        return Z

    def mixture(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each posterior draw's mixture for each row of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per player-game with (at least) the columns :attr:`feature_names`.

        Returns
        -------
        tuple of numpy.ndarray
            (w, mu, sigma) in target space (yards, or log(yards + offset)), each (n_draws, n_rows, K).

        Raises
        ------
        DataError
            If ``X`` is not a DataFrame, lacks a feature, or holds non-numeric or non-finite values.
        """
        t, Z = self.meta["target"], self._X(X)  # defence/back effects need X's ID columns (effects.py)
        off = location_offset(self.params, self.meta.get("effects"), X, self.unseen_effects)
        return mixture_params(self.params, Z, t["mean"], t["sd"], scale_floor=float(self.meta.get("scale_floor", 0.0)),
                              gate=self.gate, loc_offset=off)

    # -- prediction -----------------------------------------------------------------------------
    def predict(self, X) -> pd.DataFrame:
        """Posterior predictive summary per row of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per player-game with the columns :attr:`feature_names`.

        Returns
        -------
        pandas.DataFrame
            Columns mean, median, sd, q05, q25, q75, q95 (yards), indexed like ``X``.
        """
        s = predictive_summary(*self.mixture(X), *self._tf)
        out = pd.DataFrame({k: s[k] for k in ("mean", "median", "sd", "q05", "q25", "q75", "q95")})
        if isinstance(X, pd.DataFrame):
            out.index = X.index
        return out

    def prob_over(self, X, lines, per_draw: bool = False) -> np.ndarray:
        """Exact P(yards > line) from the mixture CDF.

        Parameters
        ----------
        X : pandas.DataFrame
            n rows with the columns :attr:`feature_names`.
        lines : array_like
            (n,) one line per row, or (n, L) several per row (yards; a half-yard line cannot push).
        per_draw : bool
            Return each posterior draw's probability instead of their mean, for a Bayesian
            confidence in an edge.

        Returns
        -------
        numpy.ndarray
            Shape like ``lines``, or (n_draws, *lines.shape) with ``per_draw``.
        """
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

    def prob_between(self, X, lo, hi) -> np.ndarray:
        """P(lo <= Y <= hi) for the whole-yard outcome: the predictive mass of the whole yards in [lo, hi].

        With ``lo, hi = mean -/+ sd`` it is what the share of outcomes within one sd of the mean should be
        if the model is calibrated: about 0.68 for a Normal, more for this right-skewed mixture (its sd is
        stretched by the long right tail), so the calibration report judges that share against it.
        """
        lo, hi = np.ceil(np.asarray(lo, float)), np.floor(np.asarray(hi, float))
        p = self.prob_over(X, np.column_stack([lo - 0.5, hi + 0.5]))
        return np.where(hi >= lo, np.clip(p[:, 0] - p[:, 1], 0.0, 1.0), 0.0)

    def logpdf(self, X, y) -> np.ndarray:
        """Posterior predictive log density of ``y`` per row (log of the mean density over draws).

        Parameters
        ----------
        X : pandas.DataFrame
            n rows with the columns :attr:`feature_names`.
        y : array_like
            (n,) yards.

        Returns
        -------
        numpy.ndarray
            (n,) log densities per yard (-inf at or below the log transform's floor).
        """
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
        """Predictive CDF per row on a grid of yards.

        Parameters
        ----------
        X : pandas.DataFrame
            n rows with the columns :attr:`feature_names`.
        grid : numpy.ndarray
            Yards at which to evaluate P(Y <= g); half-integers give whole-yard probabilities.
        chunk : int
            Rows per block, bounding memory (draws x rows x grid x K floats per block).

        Returns
        -------
        numpy.ndarray
            (n, len(grid)).
        """
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
        """Write the artifact atomically (npz, no pickle), with a checksum of every array and of the metadata.

        Parameters
        ----------
        path : str or pathlib.Path
            Destination; a previous artifact there is replaced only once the new one is complete.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        from nfl_bnn.fileio import atomic_write

        meta = seal(self.meta, self.params)
        arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.params.items()}
        arrays["__meta__"] = np.array(json.dumps(meta, default=_json_default))

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path) -> MixtureExpertsBNN:
        """Load and check an artifact; refuse anything incomplete, corrupted, edited or inconsistent.

        The content is validated first (so a malformed artifact gets the specific reason), then every
        array and the metadata are compared with the checksums written by :meth:`save`.

        Parameters
        ----------
        path : str or pathlib.Path
            An ``.npz`` written by :meth:`save`; it is read with ``allow_pickle=False``.

        Returns
        -------
        MixtureExpertsBNN

        Raises
        ------
        ModelArtifactError
            Naming the file, what is wrong with it and how to fix it (retrain).
        """
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
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError, json.JSONDecodeError) as exc:
            raise ModelArtifactError(f"model artifact {p} is corrupted or truncated ({type(exc).__name__}: "
                                     f"{exc}); {FIX}") from None
        try:
            model = cls(params, meta)
            check_checksums(meta, params)
            return model
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

