"""Parameters of the notebooks, validated right after papermill injects them.

papermill only *warns* about a parameter the notebook does not declare and happily injects a value of
the wrong type. Each notebook therefore declares its parameters twice: flat annotated defaults in the
cell tagged ``parameters`` (so JupyterLab users can edit them) and a :class:`StrictModel` here (so a
scheduled run rejects a typo). The notebook's next cell calls :func:`check_parameters` with its
``globals()``: every plain value in the namespace must be a declared field, and every field is
validated and coerced. The runner (:mod:`nfl_bnn.reports`) validates the same model before it starts
a kernel, so a typo fails in a second, not after the imports.
"""
from __future__ import annotations

import types
from pathlib import Path
from typing import Any
from collections.abc import Mapping, MutableMapping

from pydantic import Field

from nfl_bnn import config
from nfl_bnn.errors import ConfigError
from nfl_bnn.params import StrictModel, validate

#: values papermill can inject (it writes Python literals)
_PLAIN = (bool, int, float, str, list, dict, tuple, type(None))
#: names IPython itself puts into a kernel's namespace
_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}


class NotebookParams(StrictModel):
    """Parameters every notebook has: where its run writes, and the random seed."""

    output_dir: str = Field("", description="folder for this run's CSVs, empty for reports/NOTEBOOK/lab")
    seed: int = Field(20241, description="random seed")


class TrainParams(NotebookParams):
    first_season: int = Field(2009, ge=1999, le=2100)
    last_season: int = Field(2018, ge=1999, le=2100)
    validate_season: int = Field(2019, ge=1999, le=2100, description="walk-forward season held out")
    validate_weeks: int = Field(17, ge=1, le=22, description="weeks of the held-out season scored")
    train_params: str = "params/train_fast.yaml"
    draws: int = Field(0, ge=0, description="override draws in train_params, 0 keeps them")
    tune: int = Field(0, ge=0, description="override tune in train_params, 0 keeps them")
    model_path: str = "models/latest.npz"
    max_rhat: float = Field(1.1, gt=1.0)
    min_ess: float = Field(100.0, ge=0)
    max_divergence_share: float = Field(0.02, ge=0, le=1)


class WeeklyParams(NotebookParams):
    season: int = Field(2019, ge=1999, le=2100)
    week: int = Field(10, ge=1, le=22)
    bankroll: float = Field(1000.0, gt=0)
    profile: str = "conservative"
    paper: bool = Field(True, description="paper trade: every bet marked simulated")
    lines: str = Field("warehouse", pattern="^(warehouse|proxy)$", description="warehouse or proxy lines")
    weekly_params: str = "params/weekly.yaml"
    model_path: str = "models/latest.npz"
    max_bet_plots: int = Field(12, ge=0, le=60)
    as_of: str = Field("", description="use only quotes and injury reports seen by this UTC time (ISO 8601), "
                       "empty for now")


class CalibrationParams(NotebookParams):
    season: int = Field(2019, ge=1999, le=2100)
    first_week: int = Field(8, ge=1, le=22)
    last_week: int = Field(11, ge=1, le=22)
    model_path: str = "models/latest.npz"
    alert_coverage90: float = Field(0.80, gt=0, lt=1)


class ReviewParams(NotebookParams):
    season: int = Field(2019, ge=1999, le=2100)
    week: int = Field(10, ge=1, le=22)
    starting_bankroll: float = Field(0.0, ge=0, description="0 uses the bankroll recorded with the first bets")


class DriftParams(NotebookParams):
    season: int = Field(2019, ge=1999, le=2100)
    last_week: int = Field(22, ge=1, le=22, description="use weeks up to this one")
    model_path: str = "models/latest.npz"
    threshold_sd: float = Field(0.5, gt=0)


class BacktestParams(NotebookParams):
    season: int = Field(2019, ge=1999, le=2100)
    first_week: int = Field(1, ge=1, le=22)
    last_week: int = Field(17, ge=1, le=22)
    model_path: str = "models/latest.npz"
    lines: str = Field("auto", pattern="^(auto|warehouse|proxy)$",
                       description="auto: best_prop_lines where present, else labelled PROXY lines")
    bankroll: float = Field(1000.0, gt=0)
    profile: str = "conservative"
    weekly_params: str = "params/weekly.yaml"
    bet_times: str = Field("", pattern=r"^\s*((open|close|\d+(\.\d+)?)\s*(,\s*(open|close|\d+(\.\d+)?)\s*)*)?$",
                           description="real lines: replay the quote history at these bet times, e.g. open,close")


NOTEBOOK_PARAMS: dict[str, type[NotebookParams]] = {
    "train": TrainParams,
    "weekly": WeeklyParams,
    "calibration": CalibrationParams,
    "review": ReviewParams,
    "drift": DriftParams,
    "backtest": BacktestParams,
}


def model_for(notebook: str) -> type[NotebookParams]:
    try:
        return NOTEBOOK_PARAMS[notebook]
    except KeyError:
        raise ConfigError(
            f"unknown notebook {notebook!r}; choose one of {', '.join(sorted(NOTEBOOK_PARAMS))}"
        ) from None


def _user_values(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The plain values a user or papermill assigned (not modules, functions, classes or IPython's)."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in _IPYTHON_NAMES:
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, type)) or not isinstance(value, _PLAIN):
            continue
        out[name] = value
    return out


def check_parameters(notebook: str, namespace: MutableMapping[str, Any]) -> NotebookParams:
    """Validate the notebook's parameters in ``namespace`` (its ``globals()``) and write back coerced values.

    Call it in the cell right after the parameters cell, before anything else is assigned: a plain
    value there that is not a declared field can only be an injected typo, and is an error.
    """
    model = model_for(notebook)
    values = _user_values(namespace)
    params = validate(model, values, source=f"parameters of notebook {notebook!r}")
    for name, value in params.model_dump().items():
        namespace[name] = value
    return params


def output_dir(params: NotebookParams, notebook: str) -> Path:
    """The run's output folder (created): the runner's staging folder, or reports/<notebook>/lab."""
    path = Path(params.output_dir) if params.output_dir else config.reports_dir() / notebook / "lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve(path: str) -> Path:
    """A path from a parameter: absolute as given, relative to the project root otherwise."""
    p = Path(path)
    return p if p.is_absolute() else config.PROJ_ROOT / p


model_path = config.resolve_model_path  # notebooks call nbparams.model_path


def default_params(notebook: str) -> dict[str, Any]:
    """The declared defaults (used to write the parameters cell and to document the notebook)."""
    return model_for(notebook)().model_dump()


__all__ = ["NOTEBOOK_PARAMS", "check_parameters", "model_for", "model_path", "output_dir", "resolve"]
