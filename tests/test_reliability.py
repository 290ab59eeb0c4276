"""Faults: runs killed with SIGKILL at controlled points, two runs at once, the database lost mid-run,
bad model artifacts, a full disk. Each leaves the previous outputs and the ledger exactly as they were.

Kills are real: a child process (the real ``nfl-bnn weekly`` CLI, the hand-checkable fake predictor of
tests/test_pipeline.py) blocks at a chosen point, writes a "ready" file, and is killed with SIGKILL
(no exception handler, no ``finally``). See docs/reliability.md for the map of guarantees to tests.
"""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _fakes import SEASON, WEEK, FakeModel, error_lines, fake_model, load_week4

from nfl_bnn import cli, fileio, pipeline, warehouse
from nfl_bnn.errors import ModelArtifactError, NflBnnError
from nfl_bnn.model import MixtureExpertsBNN

pytestmark = pytest.mark.usefixtures("identity_blend")  # stakes as in test_pipeline (p_bet = the fake p)
TESTS = Path(__file__).resolve().parent

CHILD = r'''
import os, sys, time, pathlib
sys.path.insert(0, os.environ["REL_TESTS"])
from _fakes import IDENTITY_BLEND, FakeModel
import nfl_bnn.model
nfl_bnn.model.MixtureExpertsBNN.load = classmethod(lambda cls, path: FakeModel())
from nfl_bnn import cli, pipeline, warehouse
pipeline.weekly_blend = lambda *a, **k: IDENTITY_BLEND  # stakes as in test_pipeline (p_bet = the fake p_model)

point = os.environ.get("REL_BLOCK_AT", "")

def block():
    pathlib.Path(os.environ["REL_READY"]).write_text(str(os.getpid()))
    release = pathlib.Path(os.environ["REL_READY"] + ".release")
    for _ in range(600):  # at most 60 s; the parent kills us or releases us long before
        if release.exists():
            return
        time.sleep(0.1)

if point == "predict":  # the heavy computation (sampling the posterior predictive)
    real_predict = FakeModel.predict
    def predict(self, X):
        block()
        return real_predict(self, X)
    FakeModel.predict = predict
elif point == "write":  # half of the predictions file written to its temp file
    def writer(df):
        def w(p):
            text = df.to_csv(index=False)
            with open(p, "w") as fh:
                fh.write(text[: len(text) // 2])
                fh.flush()
                block()
                fh.write(text[len(text) // 2:])
        return w
    from nfl_bnn import fileio
    fileio.csv_writer = writer
elif point == "ledger":  # inside the ledger transaction, after the first bet row is inserted
    real_execute = warehouse.Warehouse.execute
    def execute(self, sql, params=()):
        real_execute(self, sql, params)
        if sql.startswith("INSERT INTO bets"):
            block()
    warehouse.Warehouse.execute = execute
elif point == "save":  # a model artifact half written
    import numpy as np
    from _fakes import fake_model
    real_savez = np.savez_compressed
    def savez(fh, **arrays):
        real_savez(fh, **arrays)
        fh.flush()
        fh.truncate(fh.tell() // 2)
        block()
    np.savez_compressed = savez
    fake_model(mean=99.0).save(sys.argv[1])
    sys.exit(0)
sys.exit(cli.main(["weekly", "--season", "2024", "--week", "4", *sys.argv[1:]]))
'''



BOTH = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BOTH)
def backend(request, project_home, monkeypatch):
    """The test_pipeline warehouse (week 4 of 2024, 8 lines) on either backend, chosen by the environment."""
    if request.param == "postgres":
        monkeypatch.setenv("NFL_BNN_DATABASE_URL", request.getfixturevalue("pg_server_url"))
    _build_warehouse()
    return request.param


def _build_warehouse() -> None:
    with warehouse.connect() as wh:
        load_week4(wh)


def params(**kw):
    return pipeline.load_weekly_params(SEASON, WEEK, **kw)


def out_dir() -> Path:
    return pipeline.weekly_dir()


def visible_files(folder: Path) -> dict[str, object]:
    """Every visible output: bytes of files, targets of the latest_* links (lock files excluded)."""
    got: dict[str, object] = {}
    if not folder.exists():
        return got
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        got[p.name] = ("link", os.readlink(p)) if p.is_symlink() else p.read_bytes()
    return got


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp"))


def ledger_state() -> pd.DataFrame:
    with warehouse.connect() as wh:
        return wh.query_df("SELECT * FROM bets ORDER BY bet_id").reset_index(drop=True)


def _child_env(tmp: Path, point: str = "") -> dict[str, str]:
    env = dict(os.environ, REL_TESTS=str(TESTS), REL_BLOCK_AT=point, REL_READY=str(tmp / f"ready-{point}"),
               PYTHONPATH=str(TESTS.parent))
    return env


def _script(tmp: Path) -> Path:
    s = tmp / "child.py"
    s.write_text(CHILD)
    return s


def start_child(tmp: Path, point: str, *args: str) -> tuple[subprocess.Popen, Path]:
    """Start a child that blocks at ``point``; return once it is blocked there."""
    env = _child_env(tmp, point)
    ready = Path(env["REL_READY"])
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, str(_script(tmp)), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not ready.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"child exited {proc.returncode} before reaching {point!r}: {err[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"child never reached {point!r}")
        time.sleep(0.05)
    return proc, ready


def run_child(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(_script(tmp)), *args], env=_child_env(tmp), capture_output=True,
                          text=True, timeout=60)


def sigkill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


# --- a run killed at any point ----------------------------------------------------------------
@pytest.mark.parametrize("point, backend", [
    ("predict", "duckdb"), ("write", "duckdb"), ("ledger", "duckdb"),
    pytest.param("ledger", "postgres", marks=pytest.mark.postgres),
], indirect=["backend"], ids=["during-prediction", "during-file-writing", "during-ledger-insert-duckdb",
                              "during-ledger-insert-postgres"])
def test_sigkill_at_any_point_keeps_previous_outputs_and_ledger(point, backend, project_home, tmp_path):
    pipeline.run_week(params(bankroll=1000.0), model=FakeModel())  # the previous, complete run
    before_files, before_ledger = visible_files(out_dir()), ledger_state()
    assert sorted(before_ledger.stake) == [17.70, 24.00]

    proc, _ = start_child(tmp_path, point, "--bankroll", "5000")
    sigkill(proc)
    assert visible_files(out_dir()) == before_files  # not one byte of a visible output changed
    pd.testing.assert_frame_equal(ledger_state(), before_ledger)  # no partial or duplicate rows

    done = run_child(tmp_path, "--bankroll", "5000")  # the next run succeeds (exit 3: low-volume alert)
    assert done.returncode == 3, done.stderr
    assert sorted(ledger_state().stake) == [88.5, 120.0]
    bets = pd.read_csv(out_dir() / "s2024_w4_bets.csv")
    assert sorted(bets.bet_amount) == [88.5, 120.0]
    assert temp_files(out_dir()) == []  # the killed run's temp files were cleaned up


def test_sigkill_while_saving_a_model_keeps_the_previous_artifact(project_home, tmp_path):
    """Training writes its artifact through MixtureExpertsBNN.save (temp file + rename): a kill while the
    new artifact is half written leaves the previous one byte for byte, and it still loads."""
    path = project_home / "models" / "latest.npz"
    fake_model(mean=65.0).save(path)
    before = path.read_bytes()
    proc, _ = start_child(tmp_path, "save", str(path))
    sigkill(proc)
    assert path.read_bytes() == before
    assert MixtureExpertsBNN.load(path).predict(pd.DataFrame([[10.0, 11.0]], columns=["carries_proj", "yards_l3"]))["mean"].iloc[0] == pytest.approx(65, abs=3)
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "latest.npz"]
    assert leftovers and all(n.startswith(".latest.npz.") and n.endswith(".tmp") for n in leftovers)  # hidden
    fake_model(mean=70.0).save(path)  # the next save succeeds
    assert MixtureExpertsBNN.load(path).predict(pd.DataFrame([[10.0, 11.0]], columns=["carries_proj", "yards_l3"]))["mean"].iloc[0] == pytest.approx(70, abs=3)


# --- two runs of the same week at once --------------------------------------------------------
def test_two_runs_of_the_same_week_one_refuses_neither_corrupts(backend, project_home, tmp_path):
    first, ready = start_child(tmp_path, "predict", "--bankroll", "1000")  # holds the week's lock
    second = run_child(tmp_path, "--bankroll", "5000")
    assert second.returncode == 75
    err = error_lines(second.stderr)
    assert len(err) == 1 and "another run of the weekly run of season 2024 week 4 is in progress" in err[0]
    assert "Traceback" not in second.stderr
    assert visible_files(out_dir()) == {}  # the refused run wrote nothing (a DuckDB file has one writer:
    # the ledger is checked once the first run is done, and holds its rows only)

    Path(str(ready) + ".release").write_text("go")
    out, err1 = first.communicate(timeout=60)
    assert first.returncode == 3, err1
    # the first run's results, complete and consistent between files and ledger
    assert sorted(ledger_state().stake) == [17.70, 24.00]
    assert sorted(pd.read_csv(out_dir() / "s2024_w4_bets.csv").bet_amount) == [17.70, 24.00]
    assert run_child(tmp_path, "--bankroll", "5000").returncode == 3  # retried later: it runs
    assert sorted(ledger_state().stake) == [88.5, 120.0]


# --- the database goes away mid-run -----------------------------------------------------------
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_backend_terminated_during_ledger_transaction(backend, project_home, pg_server_url, monkeypatch,
                                                               capsys):
    import psycopg2

    pipeline.run_week(params(bankroll=1000.0), model=FakeModel())
    before_files, before_ledger = visible_files(out_dir()), ledger_state()

    real_execute = warehouse.Warehouse.execute
    killed = {"n": 0}

    def execute(self, sql, params=()):
        real_execute(self, sql, params)
        if sql.startswith("INSERT INTO bets") and not killed["n"]:
            killed["n"] += 1
            admin = psycopg2.connect(pg_server_url)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", (self.conn.get_backend_pid(),))
                assert cur.fetchone()[0] is True
            admin.close()

    monkeypatch.setattr(warehouse.Warehouse, "execute", execute)
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    rc = cli.main(["weekly", "--season", "2024", "--week", "4", "--bankroll", "5000"])
    err = error_lines(capsys.readouterr().err)  # one error line and no traceback
    assert rc == 1 and killed["n"] == 1
    assert len(err) == 1 and "lost the connection to PostgreSQL" in err[0] and "nothing of the current" in err[0]
    monkeypatch.setattr(warehouse.Warehouse, "execute", real_execute)
    pd.testing.assert_frame_equal(ledger_state(), before_ledger)  # no partial rows
    assert visible_files(out_dir()) == before_files and temp_files(out_dir()) == []
    assert cli.main(["weekly", "--season", "2024", "--week", "4", "--bankroll", "5000"]) == 3  # next run ok
    assert sorted(ledger_state().stake) == [88.5, 120.0]


def test_database_on_a_closed_port_is_a_clear_error_and_changes_nothing(backend, project_home, monkeypatch,
                                                                          capsys):
    pipeline.run_week(params(bankroll=1000.0), model=FakeModel())
    before = visible_files(out_dir())
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", "postgresql://nfl:pw@127.0.0.1:1/nfl")
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    rc = cli.main(["weekly", "--season", "2024", "--week", "4", "--bankroll", "5000"])
    err = error_lines(capsys.readouterr().err)
    assert rc == 1 and len(err) == 1
    assert "cannot reach PostgreSQL postgresql://nfl:***@127.0.0.1:1/nfl" in err[0] and "start PostgreSQL" in err[0]
    assert visible_files(out_dir()) == before


# --- model artifacts: corrupted, truncated, mismatched, other features ---------------------------
@pytest.fixture
def artifact(project_home) -> Path:
    path = project_home / "models" / "m.npz"
    fake_model().save(path)
    return path


def _rewrite(path: Path, change) -> None:
    """Rewrite an artifact's arrays/metadata (keeps the npz container valid)."""
    import json

    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")[()]))
    change(arrays, meta)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, __meta__=np.array(json.dumps(meta)), **arrays)


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _flip_bytes(p: Path) -> None:
    b = bytearray(p.read_bytes())
    for i in range(len(b) // 3, len(b) // 3 + 64):
        b[i] ^= 0xFF
    p.write_bytes(bytes(b))


def _tamper_array(p: Path) -> None:
    _rewrite(p, lambda a, m: a.__setitem__("alpha", a["alpha"] + 1))


def _wrong_scaler(p: Path) -> None:
    _rewrite(p, lambda a, m: m["scaler"].__setitem__("mean", [1.0]))


def _other_format(p: Path) -> None:
    _rewrite(p, lambda a, m: m.__setitem__("format", "someone-else/9"))


def _missing_array(p: Path) -> None:
    _rewrite(p, lambda a, m: a.pop("beta"))


def _not_a_model(p: Path) -> None:
    with open(p, "wb") as fh:
        np.savez(fh, x=np.arange(3))


def _text_file(p: Path) -> None:
    p.write_text("hello, I am not a model\n")


@pytest.mark.parametrize("damage, message", [
    (_truncate, "corrupted or truncated"),
    (_flip_bytes, "corrupted"),
    (_tamper_array, "'alpha' does not match its checksum"),
    (_wrong_scaler, "scaler has shape"),
    (_other_format, "format 'someone-else/9' is not"),
    (_missing_array, "lacks posterior draws of 'beta'"),
    (_not_a_model, "has no metadata: it is not an nfl_bnn model"),
    (_text_file, "corrupted or truncated"),
], ids=lambda v: getattr(v, "__name__", "")[1:] or None)
def test_damaged_artifact_is_refused_with_what_and_how_to_fix(artifact, damage, message, capsys):
    damage(artifact)
    with pytest.raises(ModelArtifactError, match=message) as e:
        MixtureExpertsBNN.load(artifact)
    assert str(artifact) in str(e.value) and "retrain it with `nfl-bnn train" in str(e.value)
    # through the CLI: one line, exit 1, and nothing written
    rc = cli.main(["weekly", "--season", "2024", "--week", "4", "--model", str(artifact)])
    err = error_lines(capsys.readouterr().err)
    assert rc == 1 and len(err) == 1 and message.split("'")[0] in err[0]
    assert visible_files(out_dir()) == {}


def test_model_trained_on_other_features_is_refused(backend, project_home, capsys):
    path = project_home / "models" / "other.npz"
    fake_model(feature_names=("proj_carries", "opp_yards_allowed_l9")).save(path)
    rc = cli.main(["weekly", "--season", "2024", "--week", "4", "--model", str(path)])
    err = error_lines(capsys.readouterr().err)
    assert rc == 1 and len(err) == 1
    assert "lacks the model's features" in err[0] and "opp_yards_allowed_l9" in err[0] and "retrain" in err[0]
    assert visible_files(out_dir()) == {} and ledger_state().empty
    m = MixtureExpertsBNN.load(path)
    with pytest.raises(ModelArtifactError, match="trained on features"):
        m.check_features(["proj_carries"])


# --- disk full, unwritable output folder -------------------------------------------------------
def test_disk_full_while_writing_outputs(backend, project_home, monkeypatch, capsys):
    pipeline.run_week(params(bankroll=1000.0), model=FakeModel())
    before_files, before_ledger = visible_files(out_dir()), ledger_state()

    def full_disk(df):
        def w(p):
            with open(p, "w") as fh:
                fh.write("season,week\n")
            raise OSError(errno.ENOSPC, "No space left on device")
        return w

    monkeypatch.setattr(fileio, "csv_writer", full_disk)
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    rc = cli.main(["weekly", "--season", "2024", "--week", "4", "--bankroll", "5000"])
    err = error_lines(capsys.readouterr().err)
    assert rc == 1 and len(err) == 1
    assert "the disk is full" in err[0] and "s2024_w4_predictions.csv" in err[0] and "unchanged" in err[0]
    assert visible_files(out_dir()) == before_files and temp_files(out_dir()) == []
    pd.testing.assert_frame_equal(ledger_state(), before_ledger)


def test_disk_full_while_saving_a_model(project_home, monkeypatch):
    path = project_home / "models" / "latest.npz"
    fake_model(mean=65.0).save(path)
    before = path.read_bytes()

    def full(fh, **arrays):
        fh.write(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    with pytest.raises(NflBnnError, match="latest.npz .the disk is full.; the previous file is unchanged"):
        fake_model(mean=70.0).save(path)
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == ["latest.npz"]


def test_disk_full_before_any_work(project_home, monkeypatch):
    """The output folder is probed before anything heavy runs; a full disk is named as such."""
    import tempfile

    from nfl_bnn import fileio

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)

    class Exploding:
        def predict(self, X):
            raise AssertionError("heavy work must not start")

    with pytest.raises(NflBnnError, match="not writable .the disk is full.; free space"):
        pipeline.run_week(params(), model=Exploding())
    with pytest.raises(NflBnnError, match="the disk is full"):
        fileio.ensure_writable_dir(project_home / "x")
