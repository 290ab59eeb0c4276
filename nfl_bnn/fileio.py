"""Atomic file output and run locks.

A weekly run must never leave a half-written bets file: every output is written to a temporary file
in the same folder, flushed and fsync'ed, then renamed over the target (rename is atomic on POSIX).
A group of files is staged first and only renamed into place once all of them are complete, so a
failure part-way leaves every previous file as it was.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import tempfile
from pathlib import Path
from collections.abc import Callable, Iterator

import pandas as pd

from nfl_bnn.errors import BusyError, NflBnnError


def ensure_writable_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and prove it is writable before any expensive work starts."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe-", delete=True) as fh:
            fh.write(b"x")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
        raise NflBnnError(f"output folder {p} is not writable ({reason}); free space or fix its permissions") from None
    return p


def _write_error(target: Path, exc: OSError) -> NflBnnError:
    """A full disk or a refused write, as one line that says nothing was replaced and what to do."""
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return NflBnnError(f"cannot write {target} ({reason}); the previous file is unchanged: free space or fix "
                       f"the permissions of {target.parent}, then rerun")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _write_temp(target: Path, writer: Callable[[Path], None]) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        # mkstemp makes 0600 files; reports are meant to be shared, so honour the umask like open() does
        os.fchmod(fd, 0o666 & ~_UMASK)
        os.close(fd)
    except OSError as exc:
        raise _write_error(target, exc) from None
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise _write_error(target, exc) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return tmp_path


def atomic_write(target: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` then rename the temp file over ``target``."""
    target = Path(target)
    tmp = _write_temp(target, writer)
    os.replace(tmp, target)
    return target


def atomic_write_text(target: str | Path, text: str) -> Path:
    return atomic_write(target, lambda p: p.write_text(text))


def stage_files(writers: dict[Path, Callable[[Path], None]]) -> dict[Path, Path]:
    """Write every file to an fsync'ed temp file beside its target; on any failure remove them all.

    Returns ``{target: temp}``; nothing visible has changed yet. Follow with :func:`publish_staged`
    (or :func:`discard_staged` when a later step, such as a ledger transaction, fails).
    """
    staged: dict[Path, Path] = {}
    try:
        for target, writer in writers.items():
            staged[Path(target)] = _write_temp(Path(target), writer)
    except BaseException:
        discard_staged(staged)
        raise
    return staged


def discard_staged(staged: dict[Path, Path]) -> None:
    for tmp in staged.values():
        tmp.unlink(missing_ok=True)


def publish_staged(staged: dict[Path, Path]) -> list[Path]:
    """Rename staged temp files over their targets (each rename is atomic)."""
    for target, tmp in staged.items():
        os.replace(tmp, target)
    return list(staged)


def atomic_write_group(writers: dict[Path, Callable[[Path], None]]) -> list[Path]:
    """Stage every file, then rename them all into place; on any failure nothing is replaced."""
    return publish_staged(stage_files(writers))


#: A text cell a spreadsheet would run as a formula: it starts with = + - @ (or a tab / carriage return,
#: which some spreadsheets strip before looking at the first character).
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell that a spreadsheet would evaluate as a formula prefixed with ``'``.

    Why: a player or book name such as ``=HYPERLINK(...)`` or ``@SUM(...)`` comes from imported data;
    written raw to a CSV it runs when the file is opened in Excel or LibreOffice (CSV injection). The
    apostrophe makes the cell plain text there. Only text cells change (numbers, and text that is a plain
    number such as "-110", stay as they are); the warehouse and the ledger keep the raw value.
    """
    out = df.copy()
    for col in out.columns:
        if not (pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col])):
            continue
        v = out[col]
        text = v.map(lambda x: isinstance(x, str))
        risky = text & v.map(lambda x: isinstance(x, str) and bool(_FORMULA_START.match(x))
                             and not _PLAIN_NUMBER.match(x))
        if risky.any():
            out[col] = v.astype(object).where(~risky, "'" + v[risky].astype(str))
    return out


def csv_writer(df: pd.DataFrame) -> Callable[[Path], None]:
    """A writer for :func:`atomic_write` / :func:`stage_files` that writes ``df`` spreadsheet-safe, no index."""
    safe = spreadsheet_safe(df)
    return lambda p: safe.to_csv(p, index=False)


def atomic_symlink(link: str | Path, target_name: str) -> None:
    """Point ``link`` at ``target_name`` (relative), replacing any previous link atomically."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target_name, tmp)
    os.replace(tmp, link)


@contextlib.contextmanager
def run_lock(path: str | Path, what: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock for ``what``; a second run refuses with a clear message.

    The lock is an ``flock`` on a file, so it is released by the kernel when the process dies: a run
    killed mid-way never leaves a stale lock behind.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fh = open(p, "a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(f"another run of {what} is in progress (lock {p}); wait for it to finish and retry") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()
