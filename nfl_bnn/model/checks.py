"""What makes a model artifact fit to use: complete metadata, consistent shapes, finite values.

Every check raises :class:`~nfl_bnn.errors.ModelArtifactError` with what is wrong and how to fix it
(retrain), so a bad artifact is refused when it is loaded rather than producing NaN odds later.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from nfl_bnn.errors import ModelArtifactError
from nfl_bnn.model.forward import GATES, OPTIONAL_PARAMS, PARAM_SHAPES, TRANSFORMS, _dims

MODEL_VERSION = "moe-normal-v1"
ARTIFACT_FORMAT = "nfl_bnn.moe.npz/1"
FIX = "retrain it with `nfl-bnn train --first-season A --last-season B --out PATH`"
REQUIRED_META = ("format", "model_version", "feature_names", "n_experts", "hidden_units", "scaler",
                 "target", "training_window", "data_fingerprint")


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _meta_sha(meta: Mapping[str, Any]) -> str:
    """SHA-256 of the metadata without its checksums, as canonical JSON (sorted keys).

    Dumped, parsed and dumped again, so the hash of the dict being saved equals the hash of the dict
    that is read back (tuples become lists, NumPy scalars plain numbers, keys strings).
    """
    body = {k: v for k, v in meta.items() if k != "checksums"}
    canonical = json.dumps(json.loads(json.dumps(body, default=_json_default)), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal(meta: Mapping[str, Any], params: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The metadata with ``checksums``: a SHA-256 of every float32 array and one of the metadata.

    The metadata decides what a model means (target scaling, feature list, model version, which keys
    the ledger's bets are filed under), so an edit there must be caught as surely as a flipped byte
    in an array.
    """
    out = dict(meta)
    sums = {k: _sha(np.ascontiguousarray(v, dtype=np.float32)) for k, v in params.items()}
    sums["__meta__"] = _meta_sha(out)
    out["checksums"] = sums
    return out


def check_checksums(meta: Mapping[str, Any], params: Mapping[str, np.ndarray]) -> None:
    """Refuse an artifact whose arrays or metadata do not match the checksums written with them."""
    sums = meta.get("checksums")
    if not isinstance(sums, dict) or "__meta__" not in sums:
        raise ModelArtifactError(f"model artifact has no checksum of its metadata (saved by an older version "
                                 f"or edited by hand), so an edited target scaling or model version could not "
                                 f"be detected; {FIX}")
    for k, v in params.items():
        if k in sums and _sha(np.ascontiguousarray(v, dtype=np.float32)) != sums[k]:
            raise ModelArtifactError(f"array {k!r} does not match its checksum (corrupted); {FIX}")
    missing = sorted(set(params) - set(sums))
    if missing:
        raise ModelArtifactError(f"arrays {missing} have no checksum (added after saving); {FIX}")
    if _meta_sha(meta) != sums["__meta__"]:
        raise ModelArtifactError(f"metadata does not match its checksum: it was edited or corrupted after "
                                 f"saving (e.g. its target scaling, feature list or model_version), so the "
                                 f"model cannot be trusted; {FIX}")


def data_fingerprint(X: np.ndarray, y: np.ndarray, feature_names) -> str:
    """SHA-256 of the training rows, so an artifact names exactly the data it was fitted on."""
    h = hashlib.sha256(",".join(feature_names).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


def check_meta(m: Mapping[str, Any]) -> None:
    """Refuse metadata that is incomplete, of another format, or holds an unusable scaler or target."""
    missing = [k for k in REQUIRED_META if k not in m]
    if missing:
        raise ModelArtifactError(f"model artifact metadata lacks {missing}; it is incomplete: {FIX}")
    if m["format"] != ARTIFACT_FORMAT:
        raise ModelArtifactError(f"model artifact format {m['format']!r} is not {ARTIFACT_FORMAT!r}: {FIX}")
    d = len(m["feature_names"])
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


def check_params(params: Mapping[str, np.ndarray], m: Mapping[str, Any]) -> None:
    """Refuse posterior draws that are missing, misshapen, of unequal length or not finite."""
    d, K, H = len(m["feature_names"]), int(m["n_experts"]), int(m["hidden_units"])
    S = None
    for name, shape in PARAM_SHAPES.items():
        if name not in params and name in OPTIONAL_PARAMS:  # an older artifact: zeros, see forward.py
            continue
        if name not in params:
            raise ModelArtifactError(f"model artifact lacks posterior draws of {name!r}: {FIX}")
        a = params[name]
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
        gW, gb = params["gate_W"], params["gate_b"]
        gV = params.get("gate_Vh", np.zeros((gW.shape[0], 0, 1)))
        if not (np.allclose(gW, gW[:, :, :1], atol=1e-5) and (np.diff(gb, axis=1) <= 1e-6).all()
                and np.allclose(gV, gV[:, :, :1], atol=1e-5)):
            raise ModelArtifactError(f"model artifact has an ordinal gate whose columns differ or whose "
                                     f"cut-points are not ordered: {FIX}")
