"""One small data-access layer over two backends: PostgreSQL (production) and DuckDB (embedded default).

Why two: production keeps its data in PostgreSQL, while a fresh clone must run on real data with no
server at all. DuckDB speaks PostgreSQL's dialect (schemas, ``ON CONFLICT``, window functions), so one
set of SQL serves both. SQL is written once with ``?`` placeholders and translated to ``%s`` for
psycopg2; values always travel as parameters, never inside the SQL text.

Which backend (first match wins):

1. the ``url`` argument of :func:`connect` (``postgresql://...`` or a DuckDB file path);
2. ``NFL_BNN_DATABASE_URL`` (a ``postgresql://user:pass@host:port/db`` URL);
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
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from nfl_bnn import config
from nfl_bnn.errors import DatabaseError, DataError

log = logging.getLogger("nfl_bnn.warehouse")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
INIT_HINT = "run `nfl-bnn init-db` (or `nfl-bnn build-demo-data` / `make data` for the embedded data)"
DATA_HINT = ("load data first: `make data` or `nfl-bnn build-demo-data` (embedded nflgame 2009-2019), or "
             "`nfl-bnn import-nflverse`")


def mask_url(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db`` (query-string passwords too)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable database URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = re.sub(r"(password=)[^&]*", r"\1***", parts.query, flags=re.I)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@dataclass(frozen=True)
class Target:
    """Where :func:`connect` will go: backend, DSN or path, and a password-free description."""

    backend: str  # "postgres" | "duckdb"
    dsn: str  # URL, "" for libpq environment variables, or a file path
    description: str


def resolve(url: str | None = None) -> Target:
    """Decide the backend from the argument and the environment (see the module docstring)."""
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
    if url.startswith(("postgresql://", "postgres://")):
        return Target("postgres", url, f"PostgreSQL {mask_url(url)}")
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


def connect(url: str | None = None, *, read_only: bool = False, lock_wait_s: float = 5.0,
            connect_timeout_s: int = 5) -> "Warehouse":
    """Open the warehouse (see module docstring for how the backend is chosen).

    Use as a context manager so the connection (and a DuckDB file's lock) is released promptly.
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
    if read_only and not path.exists():
        raise DatabaseError(f"warehouse file {path} does not exist; {INIT_HINT}")
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
        from nfl_bnn.schema import KEYS

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


# --- readers for the model and the pipeline --------------------------------------------------
def _season_filter(first_season: int | None, last_season: int | None) -> tuple[str, list[int]]:
    where, params = [], []
    if first_season is not None:
        where.append("season >= ?")
        params.append(int(first_season))
    if last_season is not None:
        where.append("season <= ?")
        params.append(int(last_season))
    return (" WHERE " + " AND ".join(where)) if where else "", params


def _require_not_empty(wh: Warehouse, df: pd.DataFrame, table: str) -> None:
    """An empty result from an entirely empty table means no data was loaded: say so and how to fix it."""
    if df.empty and wh.count(table) == 0:
        raise DataError(f"the warehouse ({wh.description}) is empty: {table} has no rows; {DATA_HINT}")


STATS_INT = ["season", "week", "carries", "rushing_yards", "rushing_tds"]
STATS_NULLABLE_INT = ["targets", "receptions", "receiving_yards"]


def load_stats(wh: Warehouse, first_season: int | None = None, last_season: int | None = None) -> pd.DataFrame:
    """``mart.player_game_stats`` as a DataFrame ordered by season, week, game, player.

    ints are int64 (targets/receptions/receiving_yards nullable ``Int64``: the nflgame source lacks
    targets), ``is_home`` is bool.
    """
    wh.require_tables("mart.player_game_stats")
    where, params = _season_filter(first_season, last_season)
    df = wh.query_df(
        "SELECT season, week, season_type, game_id, player_id, player_name, position, team, opponent, is_home, "
        "carries, rushing_yards, rushing_tds, targets, receptions, receiving_yards, source "
        f"FROM mart.player_game_stats{where} ORDER BY season, week, game_id, player_id",
        params,
    )
    _require_not_empty(wh, df, "mart.player_game_stats")
    for c in STATS_INT:
        df[c] = df[c].astype("int64")
    for c in STATS_NULLABLE_INT:
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    df["is_home"] = df["is_home"].astype(bool)
    for c in ("season_type", "game_id", "player_id", "player_name", "position", "team", "opponent", "source"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.reset_index(drop=True)


def load_games(wh: Warehouse, first_season: int | None = None, last_season: int | None = None) -> pd.DataFrame:
    """``mart.games`` ordered by kickoff; ``kickoff``/``gameday`` datetime64, scores nullable Int64."""
    wh.require_tables("mart.games")
    where, params = _season_filter(first_season, last_season)
    df = wh.query_df(
        "SELECT game_id, season, week, season_type, gameday, kickoff, home_team, away_team, home_score, "
        f"away_score, spread_line, total_line, source FROM mart.games{where} ORDER BY kickoff, game_id",
        params,
    )
    _require_not_empty(wh, df, "mart.games")
    for c in ("season", "week"):
        df[c] = df[c].astype("int64")
    for c in ("home_score", "away_score"):
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    for c in ("spread_line", "total_line"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    df["gameday"] = pd.to_datetime(df["gameday"]).astype("datetime64[ns]")
    df["kickoff"] = pd.to_datetime(df["kickoff"]).astype("datetime64[ns]")
    return df.reset_index(drop=True)


INJURY_COLUMNS = ["season", "week", "team", "player_id", "player_name", "position", "report_status",
                  "practice_status", "reported_at"]


def load_injuries(wh: Warehouse, first_season: int | None = None, last_season: int | None = None) -> pd.DataFrame:
    """``mart.injuries`` (weekly injury reports); an empty frame when the table is absent or empty.

    Injury reports are optional: without them the injury features read as "nobody listed", which the
    weekly run warns about (see :func:`nfl_bnn.features.injury_coverage`).
    """
    if not wh.table_exists("mart.injuries"):
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("season", "week") else object)
                             for c in INJURY_COLUMNS})
    where, params = _season_filter(first_season, last_season)
    df = wh.query_df("SELECT season, week, team, player_id, player_name, position, report_status, practice_status, "
                     f"reported_at FROM mart.injuries{where} ORDER BY season, week, team, player_id", params)
    for c in ("season", "week"):
        df[c] = df[c].astype("int64")
    df["reported_at"] = pd.to_datetime(df["reported_at"]).astype("datetime64[ns]")
    for c in ("team", "player_id", "player_name", "position", "report_status", "practice_status"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.reset_index(drop=True)


def load_best_lines(wh: Warehouse, season: int, week: int, market: str = "player_rush_yds") -> pd.DataFrame:
    """``best_prop_lines`` of one week and market (one row per player and side)."""
    wh.require_tables("best_prop_lines")
    df = wh.query_df(
        "SELECT season, week, player_id, player_name, team, market, side, book, line, over_odds, under_odds, "
        "fetched_at, source FROM best_prop_lines WHERE season = ? AND week = ? AND market = ? "
        "ORDER BY player_name, side",
        (int(season), int(week), market),
    )
    for c in ("season", "week"):
        df[c] = df[c].astype("int64")
    for c in ("over_odds", "under_odds"):
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    df["line"] = pd.to_numeric(df["line"]).astype("float64")
    df["fetched_at"] = pd.to_datetime(df["fetched_at"]).astype("datetime64[ns]")
    return df.reset_index(drop=True)


QUOTES_SQL = ("SELECT season, week, game_id, player_id, player_name, team, book, market, line, over_odds, "
              "under_odds, fetched_at, source FROM prop_lines WHERE season = ? AND market = ? AND week >= ? "
              "AND week <= ? ORDER BY week, player_name, book, fetched_at")
#: the same for a warehouse whose prop_lines predates the game_id column (read before any migration)
QUOTES_SQL_V1 = QUOTES_SQL.replace("game_id,", "CAST(NULL AS TEXT) AS game_id,", 1)


def _typed_quotes(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("season", "week"):
        df[c] = df[c].astype("int64")
    for c in ("over_odds", "under_odds"):
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    df["line"] = pd.to_numeric(df["line"]).astype("float64")
    df["fetched_at"] = pd.to_datetime(df["fetched_at"]).astype("datetime64[ns]")
    for c in ("game_id", "player_id", "team"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.reset_index(drop=True)


def load_quotes(wh: Warehouse, season: int, week: int | None = None,
                market: str = "player_rush_yds") -> pd.DataFrame:
    """Every quote snapshot of ``prop_lines`` for a season (or one week) and market, oldest first.

    The raw history that :mod:`nfl_bnn.quotes` selects from (``best_as_of``, ``open_close``); nothing
    is filtered here, so the as-of rule lives in one place. Empty frame if the table is absent.
    """
    cols = ["season", "week", "game_id", "player_id", "player_name", "team", "book", "market", "line",
            "over_odds", "under_odds", "fetched_at", "source"]
    if not wh.table_exists("prop_lines"):
        return _typed_quotes(pd.DataFrame({c: pd.Series(dtype=object) for c in cols}))
    sql = QUOTES_SQL if "game_id" in wh.columns("prop_lines") else QUOTES_SQL_V1
    weeks = (1, 22) if week is None else (int(week), int(week))
    df = wh.query_df(sql, (int(season), market) + weeks)
    return _typed_quotes(df)


def load_lines_as_of(wh: Warehouse, season: int, week: int, as_of: Any,
                     market: str = "player_rush_yds") -> pd.DataFrame:
    """The best price per player and side from quotes fetched at or before ``as_of`` (UTC).

    From the quote history (``prop_lines``) when it has this week; otherwise from ``best_prop_lines``
    (a warehouse filled by hand or by an older version), still dropping rows fetched after ``as_of``.
    Columns: :data:`nfl_bnn.quotes.BEST_COLUMNS`.
    """
    from nfl_bnn import quotes

    cut = quotes.to_utc_naive(as_of)
    hist = load_quotes(wh, season, week, market)
    if not hist.empty:
        return quotes.best_as_of(hist, cut)
    best = load_best_lines(wh, season, week, market)
    best = best[best["fetched_at"] <= cut].copy()  # validated by the caller (quotes.priceable), as every quote
    best["game_id"] = None
    best["two_sided"] = best["over_odds"].notna() & best["under_odds"].notna()
    best["devig_book"] = best["book"].where(best["two_sided"], None)
    best["devig_over_odds"] = best["over_odds"].where(best["two_sided"])
    best["devig_under_odds"] = best["under_odds"].where(best["two_sided"])
    return best[quotes.BEST_COLUMNS].reset_index(drop=True)


def eastern_now() -> datetime:
    """The current US/Eastern wall-clock time, the clock kickoffs are stored in."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("America/New_York")).replace(tzinfo=None)


def upcoming_week(wh: Warehouse, season: int, now: datetime | None = None) -> int:
    """The week a cron job should run now: the first week of ``season`` with a kickoff still ahead.

    Kickoffs are stored as US/Eastern wall-clock times, so ``now`` defaults to the Eastern clock.
    """
    now = now or eastern_now()
    wh.require_tables("mart.games")
    week = wh.scalar("SELECT min(week) FROM mart.games WHERE season = ? AND kickoff >= ?", (int(season), now))
    if week is None or pd.isna(week):
        raise DataError(f"no game of season {season} kicks off after {now:%Y-%m-%d %H:%M} (US/Eastern) in the "
                        "warehouse; import that season's schedule (`nfl-bnn import-nflverse --schedules ...`) "
                        "or pass --week N")
    return int(week)


def table_counts(wh: Warehouse) -> dict[str, int]:
    """Row count of every known table that exists (for `doctor` and command summaries)."""
    from nfl_bnn.schema import TABLES

    return {t: wh.count(t) for t in TABLES if wh.table_exists(t)}
