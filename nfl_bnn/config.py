"""Paths and environment variables, in one place.

Paths default to folders of the project checkout and can be moved with environment variables, so
that a cron job or a test can point the whole system somewhere else without touching code.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]

#: Environment variables the system reads (secrets only ever come from the environment).
ENV_DATABASE_URL = "NFL_BNN_DATABASE_URL"
ENV_WAREHOUSE = "NFL_BNN_WAREHOUSE"
ENV_ODDS_API_KEY = "ODDS_API_KEY"
ENV_HOME = "NFL_BNN_HOME"


def _root() -> Path:
    return Path(os.environ.get(ENV_HOME, PROJ_ROOT))


def data_dir() -> Path:
    return _root() / "data"


def models_dir() -> Path:
    return _root() / "models"


def reports_dir() -> Path:
    return _root() / "reports"


def logs_dir() -> Path:
    return _root() / "logs"


def backups_dir() -> Path:
    return _root() / "backups"


def params_dir() -> Path:
    return PROJ_ROOT / "params"


def warehouse_path() -> Path:
    """The embedded DuckDB file used when no PostgreSQL URL is configured."""
    return Path(os.environ.get(ENV_WAREHOUSE, data_dir() / "warehouse.duckdb"))


def resolve_model_path(path: str | Path) -> Path:
    """A model path from a parameter: absolute as given; ``models/...`` under :func:`models_dir` (so it
    follows NFL_BNN_HOME); any other relative path under the project root."""
    p = Path(path)
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] == "models":
        return models_dir().joinpath(*p.parts[1:])
    return PROJ_ROOT / p
