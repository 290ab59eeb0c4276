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
