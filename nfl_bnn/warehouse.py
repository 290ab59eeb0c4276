"""How to talk to the warehouse: one small data-access layer over PostgreSQL (production) and DuckDB.

What the tables mean (the readers ``load_stats``, ``load_games``, ... and their column types) lives in
:mod:`nfl_bnn.tables`, next to the DDL in :mod:`nfl_bnn.schema`; both are re-exported here, so
``from nfl_bnn.warehouse import load_stats`` keeps working. This module imports them; they never
import it (only for type annotations), so there is no import circle.

Why two: production keeps its data in PostgreSQL, while a fresh clone must run on real data with no
server at all. DuckDB speaks PostgreSQL's dialect (schemas, ``ON CONFLICT``, window functions), so one
set of SQL serves both. SQL is written once with ``?`` placeholders and translated to ``%s`` for
psycopg2; values always travel as parameters, never inside the SQL text.

Which backend (first match wins):

1. the ``url`` argument of :func:`connect` (``postgresql://...`` or a DuckDB file path);
2. ``NFL_BNN_DATABASE_URL``: a ``postgresql://user:pass@host:port/db`` URL, a libpq ``host=... dbname=...``
   string, or ``duckdb:PATH``; any other text is refused (it is never taken for a file name);
3. the standard libpq variables, when ``PGHOST``, ``PGDATABASE`` or ``PGSERVICE`` is set (``PGUSER``,
   ``PGPASSWORD``, ``PGPORT`` ... are then read by libpq itself; ``PGPASSWORD`` alone does not switch);
4. otherwise the DuckDB file at ``NFL_BNN_WAREHOUSE`` (default ``data/warehouse.duckdb``).

Credentials never appear in logs or errors: URLs are shown with the password masked, and driver
messages (which can echo connection strings) are replaced by our own one-line messages.
A DuckDB file has a single writer at a time, so connections are meant to be short: open with
``with connect() as wh:``, do the work, close. A file locked by another process is retried briefly,
then refused with a clear :class:`~nfl_bnn.errors.DatabaseError`.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from nfl_bnn import config
from nfl_bnn.errors import DatabaseError
from nfl_bnn.tables import (  # what the tables mean, re-exported so existing imports keep working
    DATA_HINT,
    INJURY_COLUMNS,
    eastern_now,
    load_best_lines,
    load_game_lines,
    load_game_lines_as_of,
    load_games,
    load_injuries,
    load_lines_as_of,
    load_quotes,
    load_stats,
    table_counts,
    upcoming_week,
)
from nfl_bnn.warehouse_db import (  # the open warehouse, re-exported
    INIT_HINT,
    UpsertCounts,
    Warehouse,
    _check_ident,  # noqa: F401  (roles.py imports it from here)
)

log = logging.getLogger("nfl_bnn.warehouse")

__all__ = ["DATA_HINT", "INIT_HINT", "INJURY_COLUMNS", "Target", "UpsertCounts", "Warehouse", "connect",
           "eastern_now", "load_best_lines", "load_game_lines", "load_game_lines_as_of", "load_games", "load_injuries",
           "load_lines_as_of", "load_quotes", "load_stats", "mask_url", "resolve",
           "table_counts", "upcoming_week"]



def mask_url(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``; also a password holding an unencoded
    ``/``, ``#``, ``?`` or ``@``, a query-string ``password=`` and a libpq ``password=...`` pair."""
    from nfl_bnn.redact import mask_secrets

    return mask_secrets(url)


#: libpq connection keywords (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS)
_LIBPQ_KEYS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth", "channel_binding",
    "connect_timeout", "client_encoding", "options", "application_name", "fallback_application_name", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication", "gssencmode",
    "sslmode", "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert",
    "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version",
    "krbsrvname", "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts",
    "sslnegotiation",
})
_KV_PAIR = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)+)\s*")


def _libpq_pairs(text: str) -> dict[str, str] | None:
    """The keywords and values of a libpq ``key=value ...`` string, or None if ``text`` is not one."""
    pairs, pos = {}, 0
    while pos < len(text):
        m = _KV_PAIR.match(text, pos)
        if not m:
            return None
        pairs[m.group(1).lower()] = m.group(2)
        pos = m.end()
    return pairs or None


@dataclass(frozen=True)
class Target:
    """Where :func:`connect` will go: backend, DSN or path, and a password-free description."""

    backend: str  # "postgres" | "duckdb"
    dsn: str = field(repr=False)  # URL, libpq string, "" for libpq environment variables, or a file path
    description: str


def resolve(url: str | None = None) -> Target:
    """Decide the backend from the argument and the environment (see the module docstring).

    ``NFL_BNN_DATABASE_URL`` must be a PostgreSQL URL or a libpq ``key=value`` string (or ``duckdb:PATH``):
    anything else is refused, since taking it for a file name would silently create a new, empty DuckDB
    file named after the setting (password included) in the current folder.
    """
    from_env = url is None
    if url is None:
        url = os.environ.get(config.ENV_DATABASE_URL) or None
        if url is None and any(os.environ.get(v) for v in ("PGHOST", "PGDATABASE", "PGSERVICE")):
            desc = "PostgreSQL from PG* variables (host={}, database={})".format(
                os.environ.get("PGHOST", "default"), os.environ.get("PGDATABASE", "default")
            )
            return Target("postgres", "", desc)
    if url is None:
        path = config.warehouse_path()
        return Target("duckdb", str(path), f"DuckDB file {path}")
    url = url.strip()
    if url.startswith(("postgresql://", "postgres://")):
        return Target("postgres", url, f"PostgreSQL {mask_url(url)}")
    pairs = _libpq_pairs(url) if "=" in url and "://" not in url else None
    if pairs is not None:
        unknown = sorted(set(pairs) - _LIBPQ_KEYS)
        if unknown:
            raise DatabaseError(f"{config.ENV_DATABASE_URL if from_env else 'the database setting'} looks like a "
                                f"libpq key=value string but has unknown keyword(s) {', '.join(unknown)}; "
                                "see the PostgreSQL libpq connection keywords")
        shown = " ".join(f"{k}={pairs[k]}" for k in ("host", "port", "dbname", "user", "service") if k in pairs)
        return Target("postgres", url, f"PostgreSQL {shown or 'from libpq defaults'}")
    if from_env and not url.startswith("duckdb:"):
        raise DatabaseError(
            f"{config.ENV_DATABASE_URL} is neither a PostgreSQL URL (postgresql://user:pass@host:port/db) nor a "
            "libpq string (host=... dbname=... user=...); fix it, or unset it to use the embedded DuckDB file "
            f"(moved with {config.ENV_WAREHOUSE}, or write duckdb:PATH)"
        )
    path = url[len("duckdb:"):] if url.startswith("duckdb:") else url
    if "://" in path:
        raise DatabaseError(
            f"unsupported database URL {mask_url(url)}; use postgresql://user:pass@host:port/db or a DuckDB file path"
        )
    return Target("duckdb", path, f"DuckDB file {path}")


def _pg_message(exc: Exception, target: Target) -> str:
    """A one-line, credential-free reason for a failed PostgreSQL connection."""
    text = str(exc).lower()
    where = target.description
    if "password authentication failed" in text or "authentication failed" in text or "no password supplied" in text:
        return f"wrong database credentials for {where}; fix the user/password in NFL_BNN_DATABASE_URL (or PGUSER/PGPASSWORD)"
    if "does not exist" in text and "database" in text:
        return f"the database named in {where} does not exist; create it (createdb) or fix NFL_BNN_DATABASE_URL"
    if "role" in text and "does not exist" in text:
        return f"the database user in {where} does not exist; fix the user in NFL_BNN_DATABASE_URL"
    if "timeout" in text or "refused" in text or "could not connect" in text or "could not translate" in text:
        return f"cannot reach {where} (server down or wrong host/port); start PostgreSQL or fix NFL_BNN_DATABASE_URL"
    return f"cannot connect to {where} ({type(exc).__name__}); check the server and NFL_BNN_DATABASE_URL"


def _register_numpy_adapters() -> None:
    import numpy as np
    from psycopg2.extensions import AsIs, register_adapter

    for t in (np.int8, np.int16, np.int32, np.int64):
        register_adapter(t, lambda v: AsIs(int(v)))
    for t in (np.float32, np.float64):
        register_adapter(t, lambda v: AsIs(repr(float(v))) if np.isfinite(v) else AsIs("'NaN'::float8"))
    register_adapter(np.bool_, lambda v: AsIs("true" if v else "false"))


_EXISTING_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("existing_file_only", default=False)


@contextlib.contextmanager
def existing_file_only() -> Iterator[None]:
    """Within this block :func:`connect` refuses a DuckDB file that does not exist instead of creating it.

    The CLI wraps every command that reads the warehouse in it: a mistyped ``NFL_BNN_WAREHOUSE`` would
    otherwise create an empty database there, and the command would report it ("no bets") or fail on it.
    """
    token = _EXISTING_ONLY.set(True)
    try:
        yield
    finally:
        _EXISTING_ONLY.reset(token)


def connect(url: str | None = None, *, read_only: bool = False, lock_wait_s: float = 5.0,
            connect_timeout_s: int = 5) -> "Warehouse":
    """Open the warehouse (see module docstring for how the backend is chosen).

    Use as a context manager so the connection (and a DuckDB file's lock) is released promptly.

    Parameters
    ----------
    url : str, optional
        ``postgresql://...`` or a DuckDB file path (``duckdb:`` prefix optional); default
        ``NFL_BNN_DATABASE_URL``, then the ``PG*`` variables, then the DuckDB file at
        ``NFL_BNN_WAREHOUSE``.
    read_only : bool
        Open a DuckDB file read-only, so readers do not block one another.
    lock_wait_s : float
        How long to wait for a DuckDB file another process holds before giving up.
    connect_timeout_s : int
        PostgreSQL connection timeout.

    Returns
    -------
    Warehouse
        The open connection.

    Raises
    ------
    DatabaseError
        The server cannot be reached, the file is locked or unreadable, or the URL is not understood
        (the message never shows a password).
    """
    target = resolve(url)
    if target.backend == "postgres":
        import psycopg2

        _register_numpy_adapters()
        try:
            conn = psycopg2.connect(target.dsn, connect_timeout=connect_timeout_s)
        except psycopg2.Error as exc:
            raise DatabaseError(_pg_message(exc, target)) from None
        conn.autocommit = True  # transactions are explicit, see Warehouse.transaction
        return Warehouse(conn, "postgres", target.description)

    import duckdb

    path = Path(target.dsn)
    if (read_only or _EXISTING_ONLY.get()) and not path.is_file():
        raise DatabaseError(f"warehouse file {path} does not exist; check {config.ENV_WAREHOUSE}, or {INIT_HINT}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder for warehouse file {path} ({exc.strerror})") from None
    deadline = time.monotonic() + lock_wait_s
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                pid = re.search(r"PID (\d+)", msg)
                who = f"process {pid.group(1)}" if pid else "another process"
                raise DatabaseError(
                    f"warehouse file {path} is locked by {who} (DuckDB allows one writer); "
                    "wait for that run to finish or close the program holding it, then retry"
                ) from None
            raise DatabaseError(f"cannot open warehouse file {path}: {msg.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise DatabaseError(
                f"cannot open warehouse file {path} ({str(exc).splitlines()[0]}); "
                "if it is corrupted, restore a backup or delete it and rebuild"
            ) from None
    return Warehouse(conn, "duckdb", target.description)
