"""Shared fixtures: seeded rng, headless matplotlib, isolated project folders, both warehouse backends.

PostgreSQL tests use a throw-away database created on the server named by NFL_BNN_TEST_DATABASE_URL
(default: the local server). Without a server they skip, except under CI=true where they fail, so
that CI always exercises the production backend.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PG_URL = os.environ.get("NFL_BNN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow check: run with --run-slow (or `make test-slow`)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def fresh_logging():
    """``setup_logging`` binds its console handler to the sys.stderr of the moment and a file handler to
    the log path of the moment; drop them around each test so one test's captured stderr or temp log
    folder never receives another test's records."""
    import logging

    def reset():
        lg = logging.getLogger("nfl_bnn")
        for h in [h for h in lg.handlers if hasattr(h, "_nfl_bnn")]:
            lg.removeHandler(h)
            h.close()

    reset()
    yield
    reset()


@pytest.fixture
def rng():
    return np.random.default_rng(20241)


@pytest.fixture
def shared_data() -> Path:
    """Path to ../shared/data (real nflverse files); skips with a reason when it is absent."""
    if not (SHARED_DATA / "nflverse").is_dir():
        pytest.skip(f"real NFL data not found at {SHARED_DATA} (the ../shared folder is absent)")
    return SHARED_DATA


@pytest.fixture
def project_home(tmp_path, monkeypatch) -> Path:
    """Point data/, models/, reports/, logs/ and the embedded warehouse at a temp folder."""
    monkeypatch.setenv("NFL_BNN_HOME", str(tmp_path))
    monkeypatch.setenv("NFL_BNN_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.delenv("NFL_BNN_DATABASE_URL", raising=False)
    return tmp_path


def _pg_admin_connect():
    import psycopg2

    return psycopg2.connect(PG_URL, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_server_url():
    """URL of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    try:
        conn = _pg_admin_connect()
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        msg = f"PostgreSQL not reachable at {PG_URL}: {exc}".splitlines()[0]
        if IN_CI:
            pytest.fail(msg + " (CI=true requires it)")
        pytest.skip(msg)
    name = f"nfl_bnn_test_{uuid.uuid4().hex[:10]}"
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(PG_URL)
    url = urlunsplit(parts._replace(path="/" + name))
    yield url
    conn = _pg_admin_connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def reset_pg(url: str) -> None:
    """Empty the session's PostgreSQL database of every warehouse table."""
    from nfl_bnn.warehouse import connect

    with connect(url) as wh:
        wh.execute("DROP SCHEMA IF EXISTS mart CASCADE")
        for table in ("prop_lines", "best_prop_lines", "bets"):
            wh.execute(f"DROP TABLE IF EXISTS {table}")  # fixed identifiers, not data


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def wh_url(request, tmp_path) -> str:
    """A fresh, empty warehouse on each backend: a DuckDB file, then the session's PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "wh.duckdb")
    url = request.getfixturevalue("pg_server_url")
    reset_pg(url)
    return url


@pytest.fixture
def week4_wh(project_home):
    """The week-4 warehouse (tests/_fakes.py: ``load_week4``) in the project's DuckDB file, open.

    Week 4 of 2024: weeks 1-3 played, 8 best lines; the stakes of tests/test_pipeline.py are checked by
    hand against it with ``_fakes.FakeModel``. Tests on both backends call ``load_week4`` themselves.
    """
    from _fakes import load_week4

    from nfl_bnn import warehouse

    wh = warehouse.connect()
    load_week4(wh)
    yield wh
    wh.close()
