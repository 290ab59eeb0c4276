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
from typing import Any, Iterator, Sequence

import pandas as pd

from nfl_bnn import config
from nfl_bnn.errors import DatabaseError, DataError
from nfl_bnn.schema import KEYS
from nfl_bnn.tables import (  # what the tables mean, re-exported so existing imports keep working
    DATA_HINT,
    INJURY_COLUMNS,
    eastern_now,
    load_best_lines,
    load_games,
    load_injuries,
    load_lines_as_of,
    load_quotes,
    load_stats,
    table_counts,
    upcoming_week,
)

log = logging.getLogger("nfl_bnn.warehouse")

__all__ = ["DATA_HINT", "INIT_HINT", "INJURY_COLUMNS", "Target", "UpsertCounts", "Warehouse", "connect",
           "eastern_now", "load_best_lines", "load_games", "load_injuries", "load_lines_as_of", "load_quotes",
           "load_stats", "mask_url", "resolve",
           "table_counts", "upcoming_week"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
INIT_HINT = "run `nfl-bnn init-db` (or `nfl-bnn build-demo-data` / `make data` for the embedded data)"


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


@dataclass
class UpsertCounts:
    """What an upsert did, per table: new keys, changed rows, rows already identical (or dropped)."""

    table: str
    inserted: int = 0
    updated: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"{self.table}: {self.inserted} inserted, {self.updated} updated, {self.skipped} skipped"


class Warehouse:
    """A connection to one backend with the few operations the system needs."""

    def __init__(self, conn: Any, backend: str, description: str):
        self.conn = conn
        self.backend = backend
        self.description = description
        self._depth = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Warehouse({self.description})"

    # -- statements ----------------------------------------------------------------------------
    def _sql(self, sql: str, has_params: bool) -> str:
        # psycopg2 interpolates (and needs %% for a literal %) only when parameters are passed
        if self.backend == "postgres" and has_params:
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    @contextlib.contextmanager
    def _errors(self, sql: str) -> Iterator[None]:
        """Turn driver errors into one-line DatabaseErrors (missing table, lost connection...)."""
        if self.backend == "postgres":
            import psycopg2

            try:
                yield
            except psycopg2.errors.UndefinedTable as exc:
                first = str(exc).splitlines()[0]
                raise DatabaseError(f"{self.description}: {first}; {INIT_HINT}") from None
            except psycopg2.errors.InvalidSchemaName as exc:
                first = str(exc).splitlines()[0]
                raise DatabaseError(f"{self.description}: {first}; {INIT_HINT}") from None
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                raise DatabaseError(
                    f"lost the connection to {self.description} ({type(exc).__name__}); "
                    "nothing of the current transaction was kept; check the server and retry"
                ) from None
            except psycopg2.Error as exc:
                first = (str(exc).splitlines() or [type(exc).__name__])[0]
                raise DatabaseError(f"statement failed on {self.description}: {first}") from None
        else:
            import duckdb

            try:
                yield
            except duckdb.CatalogException as exc:
                first = str(exc).splitlines()[0]
                raise DatabaseError(f"{self.description}: {first}; {INIT_HINT}") from None
            except duckdb.ConnectionException as exc:
                raise DatabaseError(f"the connection to {self.description} is closed ({exc})") from None
            except duckdb.Error as exc:
                first = (str(exc).splitlines() or [type(exc).__name__])[0]
                raise DatabaseError(f"statement failed on {self.description}: {first}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement with ``?`` placeholders."""
        with self._errors(sql):
            if self.backend == "postgres":
                with self.conn.cursor() as cur:
                    cur.execute(self._sql(sql, bool(params)), tuple(params) if params else None)
            else:
                self.conn.execute(sql, list(params) if params else None)

    def query_df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a query with ``?`` placeholders and return a DataFrame."""
        with self._errors(sql):
            if self.backend == "postgres":
                with self.conn.cursor() as cur:
                    cur.execute(self._sql(sql, bool(params)), tuple(params) if params else None)
                    cols = [d[0] for d in cur.description]
                    return pd.DataFrame(cur.fetchall(), columns=cols)
            return self.conn.execute(sql, list(params) if params else None).df()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        df = self.query_df(sql, params)
        return None if df.empty else df.iat[0, 0]

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Warehouse"]:
        """All statements inside commit together or not at all (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            with contextlib.suppress(Exception):
                self.execute("ROLLBACK")
            raise
        self._depth = 0
        self.execute("COMMIT")

    # -- metadata ------------------------------------------------------------------------------
    def table_exists(self, table: str) -> bool:
        schema, _, name = table.rpartition(".")
        schema = schema or ("public" if self.backend == "postgres" else "main")
        n = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            (schema, name),
        )
        return bool(n)

    def require_tables(self, *tables: str) -> None:
        missing = [t for t in tables if not self.table_exists(t)]
        if missing:
            raise DatabaseError(f"{self.description} lacks table(s) {', '.join(missing)}; {INIT_HINT}")

    def columns(self, table: str) -> list[str]:
        schema, _, name = table.rpartition(".")
        schema = schema or ("public" if self.backend == "postgres" else "main")
        df = self.query_df(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            (schema, name),
        )
        return df["column_name"].tolist()

    def count(self, table: str) -> int:
        _check_ident(table)
        return int(self.scalar(f"SELECT count(*) FROM {table}"))

    # -- bulk upsert ---------------------------------------------------------------------------
    def upsert_df(self, table: str, df: pd.DataFrame, key: Sequence[str] | None = None) -> UpsertCounts:
        """Insert or update ``df`` into ``table`` on its primary key, in bulk; return the counts.

        Rows are staged in a temporary table (DuckDB: straight from the DataFrame; PostgreSQL: with
        ``execute_values`` in pages), counted against the target (new / changed / identical), then
        merged with one ``INSERT ... ON CONFLICT DO UPDATE``. Runs inside a transaction (joining the
        caller's if there is one), so a failure leaves the table as it was.
        """
        _check_ident(table)
        key = tuple(key or KEYS[table])
        cols = list(df.columns)
        for c in cols:
            _check_ident(c)
        unknown = sorted(set(cols) - set(self.columns(table)))
        if unknown:
            raise DatabaseError(f"{self.description}: table {table} has no column(s) {unknown}; {INIT_HINT}")
        dup = df.duplicated(list(key), keep=False)
        if dup.any():
            example = df.loc[dup, list(key)].head(1).to_dict("records")[0]
            raise DataError(f"duplicate key {example} for table {table} in the rows to import")
        counts = UpsertCounts(table)
        if df.empty:
            return counts
        stage = "_nfl_bnn_stage"
        col_list = ", ".join(cols)
        with self.transaction():
            self.execute(f"DROP TABLE IF EXISTS {stage}")
            self.execute(f"CREATE TEMP TABLE {stage} AS SELECT {col_list} FROM {table} LIMIT 0")
            self._stage_rows(stage, df, cols)
            on = " AND ".join(f"t.{k} = s.{k}" for k in key)
            counts.inserted = int(self.scalar(
                f"SELECT count(*) FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"))
            same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM s.{c}" for c in cols)
            counts.skipped = int(self.scalar(f"SELECT count(*) FROM {stage} s JOIN {table} t ON {on} WHERE {same}"))
            counts.updated = len(df) - counts.inserted - counts.skipped
            non_key = [c for c in cols if c not in key]
            action = ("DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in non_key)) if non_key else "DO NOTHING"
            self.execute(
                f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {stage} "
                f"ON CONFLICT ({', '.join(key)}) {action}"
            )
            self.execute(f"DROP TABLE {stage}")
        log.debug("%s", counts)
        return counts

    def _stage_rows(self, stage: str, df: pd.DataFrame, cols: list[str]) -> None:
        col_list = ", ".join(cols)
        if self.backend == "duckdb":
            name = "_nfl_bnn_stage_df"
            with self._errors("register"):
                self.conn.register(name, df)
                try:
                    self.conn.execute(f"INSERT INTO {stage} ({col_list}) SELECT {col_list} FROM {name}")
                finally:
                    self.conn.unregister(name)
            return
        from psycopg2.extras import execute_values

        obj = df.astype(object).where(df.notna(), None)
        rows = [tuple(r) for r in obj.itertuples(index=False, name=None)]
        with self._errors("stage"):
            with self.conn.cursor() as cur:
                execute_values(cur, f"INSERT INTO {stage} ({col_list}) VALUES %s", rows, page_size=5000)


def _check_ident(name: str) -> None:
    """Table/column names come from our code, never from data; refuse anything else outright."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
