"""The weekly run's parameters: :class:`WeeklyParams` and the risk profiles, validated where they enter.

Merged from params/weekly.yaml < params/profiles/<profile>.yaml < overrides (CLI flags, notebook
parameters) by :func:`load_weekly_params`; a bad value is a ConfigError (exit 2) before any work.
Re-exported by :mod:`nfl_bnn.pipeline`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from nfl_bnn import config, monitoring
from nfl_bnn.errors import ConfigError
from nfl_bnn.params import ModelPath, Season, StrictModel, Week, load_params, read_yaml

PROFILES = ("ultra_conservative", "conservative", "moderate", "aggressive")


class WeeklyParams(StrictModel):
    """Everything a weekly run depends on; merged from params/weekly.yaml, the profile, overrides."""

    season: Season
    week: Week
    bankroll: float = Field(gt=0, le=1e12, allow_inf_nan=False,
                            description="bankroll; stakes are shares of it (at most 1e12, as on the command line)")
    bankroll_from_ledger: bool = Field(True, description="size from the ledger's bankroll (first recorded "
                                       "bankroll + settled profit) once it has bets; off when a bankroll is given")
    profile: str = "conservative"
    kelly_fraction: float = Field(gt=0, le=1, description="share of full Kelly staked")
    max_bet_fraction: float = Field(gt=0, le=1, description="cap on one bet, share of bankroll")
    min_edge: float = Field(ge=0, lt=1, description="minimum edge (probability points)")
    min_confidence: float = Field(ge=0, le=1, description="minimum share of draws with positive EV")
    max_week_fraction: float = Field(gt=0, le=1, description="cap on the week's stakes, share of bankroll")
    max_game_fraction: float = Field(gt=0, le=1, description="cap on one game's stakes, share of bankroll")
    margin_method: Literal["multiplicative", "power", "shin"] = "power"
    paper_trade: bool = False
    model_path: ModelPath = "models/latest.npz"
    market: str = "player_rush_yds"
    lines: Literal["warehouse", "proxy"] = "warehouse"
    nflcom_path: str | None = None
    as_of: str | None = Field(default=None, description="use only quotes fetched and injury reports published "
                              "at or before this time (ISO 8601; no zone = UTC); default: the time of the run")
    require_market_skill: bool = Field(default=True, description="stake on real lines only once the market blend "
                                       "has beaten the de-vigged market out of sample on earlier real lines")
    alerts: monitoring.AlertThresholds = monitoring.AlertThresholds()

    @field_validator("as_of", mode="before")
    @classmethod
    def _iso_time(cls, v: Any) -> Any:
        if v is None:
            return v
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError):
            ts = pd.NaT
        if ts is pd.NaT:
            raise ValueError(f"{v!r} is not a time; use ISO 8601, e.g. 2024-10-06T12:00:00Z")
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        return ts.isoformat()

    @field_validator("bankroll", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"must be a number, not {type(v).__name__} {v!r}")
        return float(v)

    @field_validator("profile")
    @classmethod
    def _profile_name(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z_]+", v):
            raise ValueError(f"profile names are lowercase words ({', '.join(PROFILES)})")
        return v


def load_weekly_params(season: Any, week: Any, weekly_file: str | Path | None = None,
                       **overrides: Any) -> WeeklyParams:
    """params/weekly.yaml < params/profiles/<profile>.yaml < overrides (None = not given)."""
    wf = Path(weekly_file) if weekly_file else config.params_dir() / "weekly.yaml"
    base = read_yaml(wf)
    profile = overrides.get("profile") or base.get("profile", "conservative")
    prof_dir = config.params_dir() / "profiles"
    known = sorted(p.stem for p in prof_dir.glob("*.yaml"))
    if not isinstance(profile, str) or not re.fullmatch(r"[a-z_]+", profile) or profile not in known:
        raise ConfigError(f"unknown risk profile {profile!r}; choose one of {', '.join(known)} "
                          f"(files in {prof_dir})")
    ov = {k: v for k, v in overrides.items() if v is not None}
    if "bankroll" in ov:  # a bankroll the user gives is used as is
        ov.setdefault("bankroll_from_ledger", False)
    ov.update(season=season, week=week, profile=profile)
    return load_params(WeeklyParams, wf, prof_dir / f"{profile}.yaml", overrides=ov)
