"""Atomic outputs and run locks: a failure part-way never replaces the previous files."""
from __future__ import annotations

import multiprocessing as mp
import os
import time

import pytest

from nfl_bnn.errors import BusyError, NflBnnError
from nfl_bnn.fileio import atomic_symlink, atomic_write_group, atomic_write_text, ensure_writable_dir, run_lock


def test_atomic_write_replaces_whole_file(tmp_path):
    f = tmp_path / "out.txt"
    atomic_write_text(f, "old")
    atomic_write_text(f, "new")
    assert f.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temp files left


def test_group_write_failure_leaves_previous_files(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    atomic_write_text(a, "A1")
    atomic_write_text(b, "B1")

    def boom(_path):
        raise RuntimeError("disk died")

    with pytest.raises(RuntimeError):
        atomic_write_group({a: lambda p: p.write_text("A2"), b: boom})
    assert (a.read_text(), b.read_text()) == ("A1", "B1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]
    atomic_write_group({a: lambda p: p.write_text("A2"), b: lambda p: p.write_text("B2")})
    assert (a.read_text(), b.read_text()) == ("A2", "B2")


def test_symlink_points_to_newest(tmp_path):
    (tmp_path / "s2019_w1.csv").write_text("1")
    (tmp_path / "s2019_w2.csv").write_text("2")
    link = tmp_path / "latest.csv"
    atomic_symlink(link, "s2019_w1.csv")
    atomic_symlink(link, "s2019_w2.csv")
    assert link.read_text() == "2" and os.readlink(link) == "s2019_w2.csv"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_unwritable_dir_is_a_clear_error(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    with pytest.raises(NflBnnError, match="not writable"):
        ensure_writable_dir(d)


def test_unwritable_dir_via_file_in_the_way(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(NflBnnError, match="not writable"):
        ensure_writable_dir(blocker / "reports")


def _hold(path, ready, release):
    with run_lock(path, "week 1"):
        ready.set()
        release.wait(10)


def _start_holder(lock):
    """Another process that holds the lock until ``release`` is set (or it is killed)."""
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(lock, ready, release))
    proc.start()
    assert ready.wait(10)
    return proc, release


def test_second_run_refuses_then_lock_is_released(tmp_path):
    lock = tmp_path / "w1.lock"
    proc, release = _start_holder(lock)
    with pytest.raises(BusyError, match="another run of week 1 is in progress"):
        with run_lock(lock, "week 1"):
            pass
    release.set()
    proc.join(10)
    with run_lock(lock, "week 1"):  # free again
        pass


def test_killed_holder_does_not_leave_stale_lock(tmp_path):
    lock = tmp_path / "w1.lock"
    proc, _ = _start_holder(lock)
    proc.kill()
    proc.join(10)
    time.sleep(0.05)
    with run_lock(lock, "week 1"):
        pass


def test_outputs_get_normal_permissions_not_private_temp_ones(tmp_path):
    """mkstemp's 0600 would make shared reports unreadable to others; files follow the umask instead."""
    from nfl_bnn import fileio

    f = atomic_write_text(tmp_path / "report.csv", "x")
    assert f.stat().st_mode & 0o777 == 0o666 & ~fileio._UMASK
    assert f.stat().st_mode & 0o044  # readable by group/others under the usual 022 umask
