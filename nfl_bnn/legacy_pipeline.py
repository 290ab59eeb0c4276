"""The older system's entry point, :class:`BNNMoEProductionPipeline`, kept so its seed code runs unchanged.

Re-exported by :mod:`nfl_bnn.pipeline` and ``nfl_bnn``; it calls :func:`nfl_bnn.pipeline.run_week`
through the pipeline module (imported when a week is run, so the two modules do not import each other
at import time).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from nfl_bnn.errors import NflBnnError
from nfl_bnn.weekly_params import load_weekly_params

if TYPE_CHECKING:
    from nfl_bnn.pipeline import WeekResult

log = logging.getLogger("nfl_bnn.pipeline")  # the weekly run's logger: its records keep their name


class BNNMoEProductionPipeline:
    """Backwards-compatible entry point of the older system.

    ``BNNMoEProductionPipeline(model_path=..., bankroll=..., kelly_fraction=..., max_bet_fraction=...,
    min_edge=..., min_confidence=...).run_pipeline(season=..., week=...)`` returns a dict with
    ``success``, ``predictions``, ``bets`` (DataFrames), ``output_files`` (paths) and ``error`` (None or
    the one-line reason). Values not given come from params/weekly.yaml and the profile.
    """

    def __init__(self, model_path: str | None = None, bankroll: float | None = None,
                 kelly_fraction: float | None = None, max_bet_fraction: float | None = None,
                 min_edge: float | None = None, min_confidence: float | None = None, profile: str | None = None,
                 paper_trade: bool | None = None, **more: Any):
        self.overrides = dict(model_path=None if model_path is None else str(model_path), bankroll=bankroll,
                              kelly_fraction=kelly_fraction, max_bet_fraction=max_bet_fraction, min_edge=min_edge,
                              min_confidence=min_confidence, profile=profile, paper_trade=paper_trade, **more)
        self.last_result: WeekResult | None = None

    def run_pipeline(self, season: int, week: int, wh: Any = None, model: Any = None) -> dict[str, Any]:
        """Run one week (:func:`run_week`), reporting a user error in the result instead of raising it.

        Parameters
        ----------
        season, week : int
            The week to predict and bet.
        wh : Warehouse, optional
            An open warehouse; default :func:`nfl_bnn.warehouse.connect`.
        model : MixtureExpertsBNN, optional
            A loaded model; default the artifact at ``model_path``.

        Returns
        -------
        dict
            ``success`` (bool), ``predictions`` and ``bets`` (DataFrames, None on failure),
            ``output_files`` (paths as str), ``error`` (None, or the one-line reason) and, on success,
            ``alerts`` (monitoring messages).
        """
        try:
            p = load_weekly_params(season, week, **self.overrides)
            from nfl_bnn import pipeline

            res = pipeline.run_week(p, wh=wh, model=model)
        except NflBnnError as exc:
            log.error("weekly run failed: %s", exc)
            return {"success": False, "predictions": None, "bets": None, "output_files": [], "error": str(exc)}
        self.last_result = res
        return {"success": True, "predictions": res.predictions, "bets": res.bets,
                "output_files": [str(f) for f in res.output_files], "error": None,
                "alerts": [a.message for a in res.alerts]}
