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
from typing import TYPE_CHECKING, Any
from collections.abc import Mapping, MutableMapping

import numpy as np
from pydantic import Field, model_validator

from nfl_bnn import config
from nfl_bnn.errors import ConfigError
from nfl_bnn.params import ModelPath, Season, StrictModel, Week, validate

if TYPE_CHECKING:  # imported where used: the runner checks parameters with this module before a kernel
    from nfl_bnn.train import TrainParams
    from nfl_bnn.weekly_params import WeeklyParams

#: values papermill can inject (it writes Python literals)
_PLAIN = (bool, int, float, str, list, dict, tuple, type(None))
#: names IPython itself puts into a kernel's namespace
_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}


class NotebookParams(StrictModel):
    """Parameters every notebook has: where its run writes, and the random seed."""

    output_dir: str = Field("", description="folder for this run's CSVs, empty for reports/NOTEBOOK/lab")
    seed: int = Field(20241, description="seeds the notebook's own random choices "
                                         "(a fit's seed is in its train params)")


def _weeks_in_order(first_week: int, last_week: int) -> None:
    if first_week > last_week:
        raise ValueError(f"first_week {first_week} is after last_week {last_week}; give the weeks in order")


class TrainNotebookParams(NotebookParams):
    """notebooks/train.ipynb: fit on first_season..last_season, score validate_season, save if it passes."""

    first_season: Season = Field(2012, description="first season trained on")
    last_season: Season = Field(2018, description="last season trained on")
    validate_season: Season = Field(2019, description="walk-forward season held out")
    validate_weeks: Week = Field(17, description="weeks of the held-out season scored")
    train_params: str = Field("params/train.yaml", description="fit settings (params/train_fast.yaml: ADVI, seconds)")
    draws: int = Field(0, ge=0, description="override draws in train_params, 0 keeps them")
    tune: int = Field(0, ge=0, description="override tune in train_params, 0 keeps them")
    model_path: ModelPath = "models/latest.npz"
    max_rhat: float = Field(1.1, gt=1.0)
    min_ess: float = Field(100.0, ge=0)
    max_divergence_share: float = Field(0.02, ge=0, le=1)

    @model_validator(mode="after")
    def _walk_forward(self) -> TrainNotebookParams:
        if self.first_season > self.last_season:
            raise ValueError(f"first_season {self.first_season} is after last_season {self.last_season}; "
                             "give the training seasons in order")
        if self.validate_season <= self.last_season:
            raise ValueError(f"validate_season {self.validate_season} must come after last_season "
                             f"{self.last_season} (walk-forward: the model never sees the season it is scored on)")
        return self


class WeeklyNotebookParams(NotebookParams):
    """notebooks/weekly.ipynb: one weekly run (:func:`nfl_bnn.pipeline.run_week`) and its report."""

    season: Season = 2019
    week: Week = 10
    bankroll: float = Field(0.0, ge=0, description="bankroll (0 uses the ledger: first recorded plus settled profit)")
    profile: str = Field("", description="risk profile, empty for weekly_params' profile")
    paper_trade: bool | None = Field(None, description="every bet marked simulated (files and ledger); "
                                                      "None for weekly_params' paper_trade")
    lines: str = Field("", pattern="^(|warehouse|proxy)$",
                       description="warehouse or proxy lines, empty for weekly_params' lines")
    weekly_params: str = "params/weekly.yaml"
    model_path: ModelPath = "models/latest.npz"
    max_bet_plots: int = Field(12, ge=0, le=60)
    as_of: str = Field("", description="use only quotes and injury reports seen by this UTC time (ISO 8601), "
                       "empty for now")


class CalibrationNotebookParams(NotebookParams):
    """notebooks/calibration.ipynb: how well the predictions of weeks first_week..last_week are calibrated."""

    season: Season = 2019
    first_week: Week = 8
    last_week: Week = 11
    model_path: ModelPath = "models/latest.npz"
    alert_coverage90: float = Field(0.80, gt=0, lt=1)

    @model_validator(mode="after")
    def _weeks(self) -> CalibrationNotebookParams:
        _weeks_in_order(self.first_week, self.last_week)
        return self


class ReviewNotebookParams(NotebookParams):
    """notebooks/review.ipynb: settle a week and review the season's bets."""

    season: Season = 2019
    week: Week = 10
    starting_bankroll: float = Field(0.0, ge=0, description="0 uses the bankroll recorded with the first bets")


class DriftNotebookParams(NotebookParams):
    """notebooks/drift.ipynb: how far this season's features moved from the model's training data."""

    season: Season = 2019
    last_week: Week = Field(22, description="use weeks up to this one")
    model_path: ModelPath = "models/latest.npz"
    threshold_sd: float = Field(0.5, gt=0)


class BacktestNotebookParams(NotebookParams):
    """notebooks/backtest.ipynb: bet weeks first_week..last_week of a season the model never saw."""

    season: Season = 2019
    first_week: Week = 1
    last_week: Week = 17
    model_path: ModelPath = "models/latest.npz"
    lines: str = Field("auto", pattern="^(auto|warehouse|proxy)$",
                       description="auto: best_prop_lines where present, else labelled PROXY lines")
    bankroll: float = Field(1000.0, gt=0)
    profile: str = "conservative"
    weekly_params: str = "params/weekly.yaml"
    bet_times: str = Field("", pattern=r"^\s*((open|close|\d+(\.\d+)?)\s*(,\s*(open|close|\d+(\.\d+)?)\s*)*)?$",
                           description="real lines: replay the quote history at these bet times, e.g. open,close")

    @model_validator(mode="after")
    def _weeks(self) -> BacktestNotebookParams:
        _weeks_in_order(self.first_week, self.last_week)
        return self


NOTEBOOK_PARAMS: dict[str, type[NotebookParams]] = {
    "train": TrainNotebookParams,
    "weekly": WeeklyNotebookParams,
    "calibration": CalibrationNotebookParams,
    "review": ReviewNotebookParams,
    "drift": DriftNotebookParams,
    "backtest": BacktestNotebookParams,
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
    """A path from a parameter, by the one rule of :func:`nfl_bnn.config.resolve_path` (the runner
    starts kernels in the project root, so "the current folder" is the project root here)."""
    return config.resolve_path(path)


model_path = config.resolve_model_path  # notebooks call nbparams.model_path


def setup(params: NotebookParams, notebook: str) -> tuple[np.random.Generator, Path]:
    """The first cell of every notebook after its parameters are checked, in one place.

    Turns on the package's logging (INFO), shows the parameters of the run as a table (so a report
    says what produced it) and creates the output folder.

    Parameters
    ----------
    params : NotebookParams
        What :func:`check_parameters` returned.
    notebook : str
        The notebook's name (``weekly``, ``train``, ...), for the default output folder.

    Returns
    -------
    rng : numpy.random.Generator
        Seeded with ``params.seed``: every random choice in the notebook draws from it.
    out : pathlib.Path
        The run's output folder (:func:`output_dir`).
    """
    import logging

    import pandas as pd

    from nfl_bnn import reports
    from nfl_bnn.logs import setup_logging

    setup_logging(logging.INFO)
    out = output_dir(params, notebook)
    reports.show_table(pd.DataFrame([params.model_dump(exclude={"output_dir"})]), caption="Parameters of this run")
    return np.random.default_rng(params.seed), out


def train_settings(params: TrainNotebookParams) -> TrainParams:
    """The fit's settings for notebooks/train.ipynb: ``train_params``, with ``draws``/``tune`` when not 0.

    The notebook's ``seed`` is not passed on. It seeds the notebook's own random choices; the fit's
    seed is the one in the train params, so ``make train`` and ``nfl-bnn train`` fit the same model
    from the same file and the benchmarks' fits (``python -m bench``) are the notebook's. Until
    2026-12-07 the notebook's 20241 replaced params/train.yaml's seed without saying so.
    """
    from nfl_bnn import train

    overrides = {k: v for k, v in {"draws": params.draws, "tune": params.tune}.items() if v}
    return train.load_train_params(resolve(params.train_params), **overrides)


def weekly_settings(params: WeeklyNotebookParams) -> WeeklyParams:
    """The weekly notebook's run settings: ``weekly_params`` < its profile < what this run was given.

    An empty ``profile`` or ``lines``, a ``paper_trade`` of None, a ``bankroll`` of 0 and an empty
    ``as_of`` are "not given", so params/weekly.yaml decides them, as it does for ``nfl-bnn weekly``.
    Until 2026-12-07 the notebook's own defaults (and ``make weekly``'s) replaced the file's profile,
    paper_trade and lines: a ``paper_trade: true`` in the file was overridden by ``PAPER=0``.
    """
    from nfl_bnn import pipeline

    return pipeline.load_weekly_params(
        params.season, params.week, resolve(params.weekly_params), profile=params.profile or None,
        bankroll=params.bankroll or None, paper_trade=params.paper_trade, lines=params.lines or None,
        model_path=params.model_path, as_of=params.as_of or None)


def default_params(notebook: str) -> dict[str, Any]:
    """The declared defaults (used to write the parameters cell and to document the notebook)."""
    return model_for(notebook)().model_dump()


__all__ = ["NOTEBOOK_PARAMS", "check_parameters", "model_for", "model_path", "output_dir", "resolve", "setup"]
