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


#: first folders of a relative path that mean the folder of that name under NFL_BNN_HOME
HOME_FOLDERS = ("data", "models", "reports", "logs", "backups")


def resolve_path(path: str | Path) -> Path:
    """THE rule for every path a user gives (CLI options, parameter files, notebook parameters).

    ``~`` is expanded; an absolute path is used as given; a relative path starting with ``data/``,
    ``models/``, ``reports/``, ``logs/`` or ``backups/`` is that folder of :func:`_root` (so it follows
    ``NFL_BNN_HOME``, as the weekly run's default ``models/latest.npz`` does); ``params/...`` is the
    project's params folder; any other relative path is relative to the current folder.
    Why one rule: ``train --out models/x.npz`` must write the very file that ``weekly --model
    models/x.npz`` reads, wherever the command is started from.
    """
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] in HOME_FOLDERS:
        return _root() / p
    if p.parts and p.parts[0] == "params":
        return params_dir().joinpath(*p.parts[1:])
    return Path.cwd() / p


resolve_model_path = resolve_path  # the older name, used by the weekly run and the notebooks
