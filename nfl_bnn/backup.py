"""Dated backups of everything needed to carry on after a lost disk, and a safe restore.

``backup`` writes ``backups/nfl_bnn_backup_<timestamp>.tar.gz`` holding ``models/``, ``params/``,
``reports/`` and ``ledger/bets.csv`` (the ledger exported as CSV: readable anywhere, never pickle),
plus ``manifest.json`` with a SHA-256 of every file. The archive is written to a temp file and renamed,
so a backup killed part-way never looks complete.

``restore`` trusts nothing in the archive: every member must be a plain file or folder under one of
the known top-level folders (no absolute paths, no ``..``, no links or devices); the manifest must be
JSON whose every name is such a path, listing exactly the archive's files, every checksum must match,
and every model it names (one of those checked files) must load: that is the proof the backup is
usable, so it may never be satisfied by a file outside the archive. Files
are extracted into a staging folder first; models and reports are then moved into place (existing
files are kept unless ``force``), while params and the ledger CSV land in
``backups/restored/<archive>/`` for the user to compare, since they overwrite decisions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from nfl_bnn import config
from nfl_bnn.errors import DatabaseError, NflBnnError
from nfl_bnn.fileio import atomic_write, ensure_writable_dir

log = logging.getLogger("nfl_bnn.backup")

PREFIX = "nfl_bnn_backup_"
TOP_LEVEL = {"models", "params", "reports", "ledger", "manifest.json"}
MODEL_SUFFIXES = {".npz"}


class BackupError(NflBnnError):
    """An archive is unsafe, corrupted or does not hold a usable model."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(root: Path, arc_root: str) -> list[tuple[Path, str]]:
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.is_symlink() and not any(part.startswith(".") for part in rel.parts):
            out.append((p, f"{arc_root}/{rel.as_posix()}"))
    return out


def export_ledger_csv(wh=None) -> tuple[bytes, int]:
    """The whole ``bets`` table as CSV bytes (empty with no rows when the ledger does not exist yet)."""
    from nfl_bnn import warehouse

    own = wh is None
    wh = wh or warehouse.connect(read_only=True)
    try:
        if not wh.table_exists("bets"):
            return b"", 0
        df = wh.query_df("SELECT * FROM bets ORDER BY season, week, bet_id")
    finally:
        if own:
            wh.close()
    return df.to_csv(index=False).encode(), len(df)


def backup(out_dir: str | Path | None = None, now: dt.datetime | None = None, wh=None,
           include_ledger: bool = True) -> Path:
    """Write a dated tar.gz of models, params, reports and the ledger; return its path."""
    out = ensure_writable_dir(out_dir or config.backups_dir())
    now = now or dt.datetime.now()
    target = out / f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S')}.tar.gz"
    if target.exists():
        raise BackupError(f"backup {target} already exists; wait a second and retry")
    members = (_files(config.models_dir(), "models") + _files(config.params_dir(), "params")
               + _files(config.reports_dir(), "reports"))
    manifest: dict = {"created_at": now.isoformat(timespec="seconds"), "files": {}}
    ledger_bytes = b""
    if include_ledger:
        try:
            ledger_bytes, n = export_ledger_csv(wh)
        except DatabaseError as exc:
            raise BackupError(f"cannot export the ledger for the backup ({exc}); fix the database or "
                              "pass --no-ledger to back up files only") from None
        manifest["ledger_rows"] = n
    manifest["models"] = [a for _, a in members if a.startswith("models/") and PurePosixPath(a).suffix in MODEL_SUFFIXES]

    def write(tmp: Path) -> None:
        with tarfile.open(tmp, "w:gz") as tar:
            for path, arc in members:
                data = path.read_bytes()
                manifest["files"][arc] = _sha256(data)
                _add(tar, arc, data)
            if include_ledger:
                manifest["files"]["ledger/bets.csv"] = _sha256(ledger_bytes)
                _add(tar, "ledger/bets.csv", ledger_bytes)
            _add(tar, "manifest.json", json.dumps(manifest, indent=2).encode())

    atomic_write(target, write)
    log.info("backup %s: %d files, %d ledger rows", target, len(manifest["files"]), manifest.get("ledger_rows", 0))
    return target


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(dt.datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def latest_backup(folder: str | Path | None = None) -> Path | None:
    folder = Path(folder or config.backups_dir())
    found = sorted(folder.glob(f"{PREFIX}*.tar.gz"))
    return found[-1] if found else None


def _safe_name(member: tarfile.TarInfo) -> PurePosixPath:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or not name.parts or "\\" in member.name:
        raise BackupError(f"archive member {member.name!r} has an unsafe path; refusing to restore this archive")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"archive member {member.name!r} is a link or special file; refusing to restore")
    if name.parts[0] not in TOP_LEVEL:
        raise BackupError(f"archive member {member.name!r} is outside {sorted(TOP_LEVEL)}; not an nfl_bnn backup")
    return name


def verify(archive: str | Path, staging: Path) -> dict:
    """Check every member, extract into ``staging``, check checksums; return the manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"backup archive {archive} does not exist; list backups/ for the available ones")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for m in members:
                _safe_name(m)
            tar.extractall(staging, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"backup archive {archive} is corrupted or truncated ({exc}); use another backup") from None
    mf = staging / "manifest.json"
    if not mf.is_file():
        raise BackupError(f"backup archive {archive} has no manifest.json; not an nfl_bnn backup")
    manifest = _read_manifest(mf, archive)
    stored = {m.name.rstrip("/") for m in members if m.isfile()} - {"manifest.json"}
    listed = set(manifest["files"])
    for arc in sorted(listed | set(manifest["models"])):
        _check_listed_name(arc, archive)
    unlisted = sorted(stored - listed)
    if unlisted:
        raise BackupError(f"backup archive {archive}: {unlisted[0]} is not in its manifest; refusing an unverified file")
    unchecked = sorted(set(manifest["models"]) - listed)
    if unchecked:
        raise BackupError(f"backup archive {archive}: model {unchecked[0]} of the manifest is not among its "
                          "checked files; refusing to restore this archive")
    for arc, digest in sorted(manifest["files"].items()):
        f = staging / arc
        if arc not in stored or not f.is_file() or _sha256(f.read_bytes()) != digest:
            raise BackupError(f"backup archive {archive}: {arc} is missing or does not match its checksum")
    return manifest


def _read_manifest(mf: Path, archive: Path) -> dict:
    """The manifest as ``{"files": {name: sha256}, "models": [name], ...}``, or a clear BackupError."""
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"backup archive {archive}: manifest.json is not valid JSON ({exc}); "
                          "not an nfl_bnn backup, or damaged: use another backup") from None
    if not isinstance(manifest, dict):
        manifest = {"files": None}
    files, models = manifest.get("files", {}), manifest.get("models", [])
    if not (isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
            and isinstance(models, list) and all(isinstance(m, str) for m in models)):
        raise BackupError(f"backup archive {archive}: manifest.json does not have the layout of an nfl_bnn "
                          'backup ({"files": {name: sha256}, "models": [name]}); use another backup')
    return {**manifest, "files": files, "models": models}


def _check_listed_name(arc: str, archive: Path) -> None:
    """A name in the manifest must be a plain relative path inside the archive's own folders, so that
    neither the checksums nor the model-loading proof can reach a file outside the staging folder."""
    name = PurePosixPath(arc)
    if (name.is_absolute() or not name.parts or ".." in name.parts or "\\" in arc or "\x00" in arc
            or name.parts[0] not in TOP_LEVEL - {"manifest.json"} or len(name.parts) < 2):
        raise BackupError(f"backup archive {archive}: manifest entry {arc!r} is not a file inside "
                          f"{sorted(TOP_LEVEL - {'manifest.json'})}; refusing to restore this archive")


def restore(archive: str | Path, force: bool = False) -> dict:
    """Restore models and reports (params and the ledger CSV beside them); prove it by loading the models."""
    from nfl_bnn.model import MixtureExpertsBNN

    archive = Path(archive)
    root = ensure_writable_dir(config.backups_dir())
    staging = root / f".restore-{archive.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        manifest = verify(archive, staging)
        loaded = {}
        for arc in manifest["models"]:
            m = MixtureExpertsBNN.load(staging / arc)  # raises a clear ModelArtifactError if unusable
            loaded[arc] = m.version
        if not loaded:
            raise BackupError(f"backup archive {archive} holds no model; nothing usable to restore")
        written, kept = [], []
        for top, dest in (("models", config.models_dir()), ("reports", config.reports_dir())):
            for f in sorted((staging / top).rglob("*")) if (staging / top).is_dir() else []:
                if not f.is_file():
                    continue
                target = dest / f.relative_to(staging / top)
                if target.exists() and not force:
                    kept.append(str(target))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(target, lambda tmp, src=f: shutil.copyfile(src, tmp))
                written.append(str(target))
        side = root / "restored" / archive.name.removesuffix(".tar.gz")
        for top in ("params", "ledger"):
            if (staging / top).is_dir():
                shutil.rmtree(side / top, ignore_errors=True)
                side.mkdir(parents=True, exist_ok=True)
                shutil.copytree(staging / top, side / top)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("restored %s: %d files written, %d existing kept; models loaded: %s", archive, len(written),
             len(kept), loaded)
    return {"models_loaded": loaded, "written": written, "kept_existing": kept, "params_and_ledger": str(side)}
