"""Backups hold models, params, reports and the ledger as CSV; restore refuses unsafe archives."""
from __future__ import annotations

import datetime as dt
import io
import json
import tarfile

import pytest
from _fakes import fake_model

from nfl_bnn import backup, config


@pytest.fixture
def home_with_files(project_home):
    fake_model().save(config.models_dir() / "latest.npz")
    run = config.reports_dir() / "weekly" / "s2019_w10_x"
    run.mkdir(parents=True)
    (run / "weekly.html").write_text("<html>report</html>")
    (config.reports_dir() / "weekly" / ".s2019_w11.partial").mkdir()  # staging: never backed up
    return project_home


def _ledger():
    """A minimal bets table (the export is SELECT *, whatever the ledger's full schema)."""
    from nfl_bnn import warehouse

    with warehouse.connect() as wh:
        wh.execute("CREATE TABLE bets (bet_id TEXT, season INT, week INT, player_name TEXT, stake DOUBLE)")
        wh.execute("INSERT INTO bets VALUES (?, ?, ?, ?, ?)", ["b1", 2019, 10, 'A, "Back"', 10.0])


def test_backup_contents_and_restore_roundtrip(home_with_files):
    _ledger()
    arc = backup.backup(now=dt.datetime(2024, 11, 26, 14, 0, 0))
    assert arc.name == "nfl_bnn_backup_20241126T140000.tar.gz"
    with tarfile.open(arc) as tar:
        names = set(tar.getnames())
        ledger = tar.extractfile("ledger/bets.csv").read().decode()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert {"models/latest.npz", "reports/weekly/s2019_w10_x/weekly.html", "ledger/bets.csv",
            "manifest.json"} <= names
    assert any(n.startswith("params/") for n in names)
    assert not any(".partial" in n for n in names)
    assert "b1" in ledger and 'A, ""Back""' in ledger  # CSV, quoted
    assert manifest["ledger_rows"] == 1 and manifest["models"] == ["models/latest.npz"]
    assert backup.latest_backup() == arc

    (config.models_dir() / "latest.npz").unlink()
    out = backup.restore(arc)
    assert list(out["models_loaded"].values()) == ["moe-normal-v1-fake"]
    assert (config.models_dir() / "latest.npz").is_file()
    assert str(config.reports_dir() / "weekly" / "s2019_w10_x" / "weekly.html") in out["kept_existing"]
    assert (config.backups_dir() / "restored" / arc.name.removesuffix(".tar.gz") / "ledger" / "bets.csv").is_file()


def _evil_archive(path, name, data=b"x", kind=tarfile.REGTYPE, linkname=""):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize("name,kind,link", [
    ("../../etc/evil", tarfile.REGTYPE, ""),
    ("/tmp/evil_abs", tarfile.REGTYPE, ""),
    ("models/../../evil", tarfile.REGTYPE, ""),
    ("models/link", tarfile.SYMTYPE, "/etc/passwd"),
    ("models/hard", tarfile.LNKTYPE, "/etc/passwd"),
    ("other/file", tarfile.REGTYPE, ""),
])
def test_restore_refuses_unsafe_members(project_home, tmp_path, name, kind, link):
    arc = _evil_archive(tmp_path / "evil.tar.gz", name, kind=kind, linkname=link)
    with pytest.raises(backup.BackupError, match="refusing|outside|unsafe"):
        backup.restore(arc)
    assert not (tmp_path.parent / "evil").exists() and not (project_home / "models").exists()


def test_restore_refuses_truncated_or_tampered(home_with_files, tmp_path):
    arc = backup.backup(include_ledger=False)
    data = arc.read_bytes()
    bad = tmp_path / "trunc.tar.gz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(backup.BackupError, match="corrupted or truncated"):
        backup.restore(bad)
    # tamper: rebuild with a changed model but the old manifest
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(arc) as src, tarfile.open(tampered, "w:gz") as dst:
        for m in src.getmembers():
            blob = src.extractfile(m).read()
            if m.name == "models/latest.npz":
                blob = blob[:-10] + b"0123456789"
            m.size = len(blob)
            dst.addfile(m, io.BytesIO(blob))
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore(tampered)
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.restore(tmp_path / "nope.tar.gz")


# --- the manifest is checked as strictly as the members ----------------------------------------------
def _archive_with(path, files: dict[str, bytes], manifest):
    """An archive holding ``files`` and ``manifest`` (a dict, dumped as JSON, or raw bytes)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**files, "manifest.json": manifest if isinstance(manifest, bytes)
                           else json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("case", ["model-outside", "files-outside", "absolute", "unlisted-member",
                                  "model-not-checked"])
def test_restore_refuses_manifest_names_outside_the_archive(home_with_files, tmp_path, case):
    """Before: a manifest naming ../../models/latest.npz 'proved' the backup by loading the LIVE model, and
    `files` entries were hashed wherever they pointed."""
    live = config.models_dir() / "latest.npz"
    live_bytes = live.read_bytes()
    report = b"<html>r</html>"
    staging_to_live = "../../models/latest.npz"  # from backups/.restore-X.partial/ to the live model
    files = {"reports/weekly/r.html": report}
    manifest = {"files": {"reports/weekly/r.html": _sha(report)}, "models": [staging_to_live]}
    if case == "files-outside":
        manifest["files"][staging_to_live] = _sha(live_bytes)
    elif case == "absolute":
        manifest["files"][str(live)] = _sha(live_bytes)
        manifest["models"] = [str(live)]
    elif case == "unlisted-member":
        files["models/extra.npz"] = live_bytes
        manifest["models"] = ["models/extra.npz"]
    elif case == "model-not-checked":
        files["models/m.npz"] = live_bytes
        manifest["files"]["models/m.npz"] = _sha(live_bytes)
        manifest["models"] = ["models/other.npz"]
    arc = _archive_with(tmp_path / f"{case}.tar.gz", files, manifest)
    with pytest.raises(backup.BackupError, match="refusing") as e:
        backup.restore(arc)
    assert str(arc) in str(e.value)
    assert not (config.reports_dir() / "weekly" / "r.html").exists() and live.read_bytes() == live_bytes


@pytest.mark.parametrize("manifest", [b"{not json", b"\xff\xfe", b"[1, 2]", json.dumps({"files": ["a"]}).encode()],
                         ids=["broken", "binary", "list", "files-list"])
def test_restore_of_a_bad_manifest_is_one_line(home_with_files, tmp_path, capsys, manifest):
    """Before: a manifest that is not JSON ended in a JSONDecodeError traceback."""
    from nfl_bnn import cli

    arc = _archive_with(tmp_path / "bad.tar.gz", {}, manifest)
    assert cli.main(["restore", str(arc)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"nfl-bnn: error: backup archive {arc}: manifest.json") \
        and "Traceback" not in err, err


# --- make restore --------------------------------------------------------------------------------------
def _make(*args, env_home):
    import os
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = config.PROJ_ROOT
    env = {**os.environ, "NFL_BNN_HOME": str(env_home), "PYTHONPATH": str(root)}
    # NFL: this checkout's package, whatever the venv's console script points to; -o: never (re)install
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed-stamp",
                           f"NFL={root / '.venv' / 'bin' / 'python'} -m nfl_bnn.cli", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_make_restore_quotes_the_archive_name(project_home, tmp_path):
    """Before: `make restore ARCHIVE='x; touch FILE'` ran the touch and exited 0."""
    pwned = tmp_path / "pwned"
    for name in (f"x; touch {pwned}", f"x'; touch {pwned}; echo '", f"x` touch {pwned}`"):
        r = _make("restore", f"ARCHIVE={name}", env_home=project_home)
        assert r.returncode != 0 and "does not exist" in r.stderr, r.stderr
        assert not pwned.exists(), name


def test_make_restore_force_passes_force(home_with_files, tmp_path):
    arc = backup.backup(include_ledger=False)
    live = config.models_dir() / "latest.npz"
    live.write_bytes(b"changed after the backup")
    r = _make("restore", f"ARCHIVE={arc}", env_home=home_with_files)
    assert r.returncode == 0 and "kept 2 existing" in r.stdout, r.stdout + r.stderr
    assert live.read_bytes() == b"changed after the backup"
    r = _make("restore", f"ARCHIVE={arc}", "FORCE=1", env_home=home_with_files)
    assert r.returncode == 0 and "restored 2 files; kept 0 existing" in r.stdout, r.stdout + r.stderr
    assert live.read_bytes() != b"changed after the backup"
