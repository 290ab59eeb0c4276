"""The open warehouse: :class:`Warehouse`, the few operations the system needs on either backend.

SQL is written once with ``?`` placeholders and translated to ``%s`` for psycopg2; values always travel
as parameters, never inside the SQL text; table and column names come from our code only
(:func:`_check_ident`). Which backend to open, and how, is :func:`nfl_bnn.warehouse.connect`; every
name here is re-exported by :mod:`nfl_bnn.warehouse`.
"""
from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nfl_bnn.errors import DatabaseError, DataError
from nfl_bnn.schema import KEYS

log = logging.getLogger("nfl_bnn.warehouse")  # the warehouse's logger: its records keep their name

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
INIT_HINT = "run `nfl-bnn init-db` (or `nfl-bnn build-demo-data` / `make data` for the embedded data)"


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
