"""The production checklist: each item PASS or FAIL with the reason, so a bad set-up is caught before money moves.

Checks: the model loads and its scaler is sane; the database answers and has the tables; predictions
look realistic (mean of eligible backs' predicted yards around 60-70); outputs are writable; logging
writes a file; a recent backup exists; the configured risk parameters are within the profiles; and
calibration on the most recent settled weeks is on target (neither too narrow nor too wide). A check
that raises is a FAIL with the exception's message, never a traceback.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nfl_bnn import config

log = logging.getLogger("nfl_bnn.doctor")

REQUIRED_TABLES = ("mart.games", "mart.player_game_stats", "prop_lines", "best_prop_lines", "bets")
REALISTIC_MEAN = (50.0, 85.0)  # eligible backs average ~60-70 yards; outside this the model is off
MAX_BACKUP_AGE_DAYS = 8
#: the most any profile allows (the 'aggressive' row of the risk table) and the least edge it accepts
RISK_LIMITS = {"kelly_fraction": 0.25, "max_bet_fraction": 0.07, "min_edge": 0.01}
#: The calibration check fails on BOTH sides of the coverage band. Too little coverage (overconfident)
#: sizes stakes on probabilities that are too extreme; too much (over-dispersed: mean +/- 1 sd covering
#: nearly everything) flattens every probability towards the market, so the edge and confidence figures
#: mean nothing either. A calibrated model covers ~90% and ~68%; a 90% interval covering more than 97%
#: of 200 player-games, or mean +/- 1 sd covering more than 85%, is many standard errors off.
MAX_COVERAGE90 = 0.97
MAX_COVERAGE68 = 0.85


@dataclass
class Check:
    name: str
    ok: bool
    reason: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name:<22} {self.reason}"


@dataclass
class Context:
    model_path: Path
    calibration_weeks: int = 4
    _model: object = None
    _latest: tuple[int, int] | None = None

    def model(self):
        if self._model is None:
            from nfl_bnn.model import MixtureExpertsBNN

            self._model = MixtureExpertsBNN.load(self.model_path)
        return self._model


def check_model(ctx: Context) -> str:
    import numpy as np

    m = ctx.model()
    sc = m.scaler
    mean, sd = np.asarray(sc["mean"], float), np.asarray(sc["sd"], float)
    if not (np.isfinite(mean).all() and np.isfinite(sd).all() and (sd > 0).all()):
        raise AssertionError("scaler has NaN, infinite or non-positive values")
    if len(mean) != m.n_features:
        raise AssertionError(f"scaler has {len(mean)} entries for {m.n_features} features")
    return f"{ctx.model_path.name}: {m.version}, {m.n_features} features, {m.n_experts} experts, scaler sane"


def check_database(ctx: Context) -> str:
    from nfl_bnn import warehouse

    with warehouse.connect(read_only=True) as wh:
        missing = [t for t in REQUIRED_TABLES if not wh.table_exists(t)]
        if missing:
            raise AssertionError(f"{wh.description} lacks tables {missing}; {warehouse.INIT_HINT}")
        counts = warehouse.table_counts(wh)
        last = wh.query_df("SELECT season, max(week) AS week FROM mart.player_game_stats "
                           "WHERE season = (SELECT max(season) FROM mart.player_game_stats) GROUP BY season")
        desc = wh.description
    if counts.get("mart.player_game_stats", 0) == 0:
        raise AssertionError(f"{desc} has no player stats; {warehouse.INIT_HINT}")
    ctx._latest = (int(last.season[0]), int(last.week[0]))
    n_inj = counts.get("mart.injuries", 0)
    inj = f"{n_inj} injury reports" if n_inj else "no injury reports (the injury feature reads 'nobody out')"
    return (f"{desc} answers; {counts['mart.player_game_stats']} player-games, {counts['mart.games']} games, "
            f"{counts['bets']} bets, {inj}; latest stats: season {ctx._latest[0]} week {ctx._latest[1]}")


def _recent_frame(ctx: Context, weeks: int):
    from nfl_bnn import features, warehouse

    if ctx._latest is None:
        check_database(ctx)
    season, last_week = ctx._latest
    with warehouse.connect(read_only=True) as wh:
        history = features.load_history(wh, season, season)
    frame = history.training_frame(season, season)
    frame = frame[frame["week"] <= last_week]
    # the last `weeks` weeks that HAVE eligible player-games: the latest rows may be a postseason week
    # (or a Pro Bowl) where few or no backs qualify
    recent = sorted(frame["week"].unique())[-weeks:]
    if not recent:
        raise AssertionError(f"no eligible player-games in season {season} up to week {last_week}")
    return frame[frame["week"].isin(recent)]


def check_predictions(ctx: Context) -> str:
    frame = _recent_frame(ctx, 1)
    pred = ctx.model().predict(frame)
    mean = float(pred["mean"].mean())
    lo, hi = REALISTIC_MEAN
    where = f"season {int(frame.season.iloc[0])} week {int(frame.week.max())}"
    if not lo <= mean <= hi:
        raise AssertionError(f"mean predicted yards {mean:.1f} for {len(pred)} backs ({where}) is outside "
                             f"{lo:g}-{hi:g}; wrong scaler or a mismatched model")
    return f"mean predicted yards {mean:.1f} for {len(pred)} eligible backs ({where}), within {lo:g}-{hi:g}"


def check_writable(ctx: Context) -> str:
    from nfl_bnn.fileio import ensure_writable_dir

    dirs = [config.reports_dir(), config.models_dir(), config.logs_dir(), config.backups_dir(), config.data_dir()]
    for d in dirs:
        ensure_writable_dir(d)
    return "writable: " + ", ".join(str(d) for d in dirs)


def check_logging(ctx: Context) -> str:
    from nfl_bnn.logs import setup_logging

    path = setup_logging(logging.getLogger("nfl_bnn").level or logging.INFO)
    files = [h for h in logging.getLogger("nfl_bnn").handlers
             if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == Path(path).resolve()]
    if not files:
        raise AssertionError(f"no log file handler (cannot write {path}); cron alerts would be lost")
    log.info("doctor: logging check")
    for h in files:
        h.flush()
    if not Path(files[0].baseFilename).is_file():
        raise AssertionError(f"log file {files[0].baseFilename} was not written")
    return f"logging to {files[0].baseFilename}"


def check_backup(ctx: Context) -> str:
    from nfl_bnn.backup import latest_backup

    b = latest_backup()
    if b is None:
        raise AssertionError(f"no backup in {config.backups_dir()}; run `make backup`")
    age = dt.datetime.now() - dt.datetime.fromtimestamp(b.stat().st_mtime)
    if age.days > MAX_BACKUP_AGE_DAYS:
        raise AssertionError(f"latest backup {b.name} is {age.days} days old (> {MAX_BACKUP_AGE_DAYS}); run `make backup`")
    return f"latest backup {b.name} ({age.total_seconds() / 3600:.1f} h old)"


def check_risk(ctx: Context) -> str:
    from nfl_bnn.params import read_yaml

    weekly = read_yaml(config.params_dir() / "weekly.yaml")
    profile = weekly.get("profile", "conservative")
    pfile = config.params_dir() / "profiles" / f"{profile}.yaml"
    values = {**read_yaml(pfile), **{k: v for k, v in weekly.items() if k in RISK_LIMITS}}
    problems = []
    for key in ("kelly_fraction", "max_bet_fraction"):
        v = values.get(key)
        if v is None or not 0 < float(v) <= RISK_LIMITS[key]:
            problems.append(f"{key}={v} outside (0, {RISK_LIMITS[key]}]")
    if values.get("min_edge") is None or float(values["min_edge"]) < RISK_LIMITS["min_edge"]:
        problems.append(f"min_edge={values.get('min_edge')} below {RISK_LIMITS['min_edge']}")
    if problems:
        raise AssertionError(f"profile {profile!r}: " + "; ".join(problems))
    return (f"profile {profile!r}: kelly {values['kelly_fraction']}, max bet {values['max_bet_fraction']}, "
            f"min edge {values['min_edge']} (within the aggressive profile's limits)")


def check_calibration(ctx: Context) -> str:
    from nfl_bnn import calibration

    frame = _recent_frame(ctx, ctx.calibration_weeks)
    pred = ctx.model().predict(frame)
    scored = pred.assign(actual=frame["rushing_yards"].to_numpy(), week=frame["week"].to_numpy())
    s = calibration.summary(scored)
    weeks = f"weeks {int(frame.week.min())}-{int(frame.week.max())} of {int(frame.season.iloc[0])}"
    msg = (f"{weeks}: 90% interval covers {s['coverage90']:.1%}, mean±1sd {s['coverage68']:.1%} "
           f"of {s['n']} player-games")
    if s["coverage90"] < calibration.ALERT_90:
        raise AssertionError(msg + f" (below {calibration.ALERT_90:.0%}): overconfident; retrain or recalibrate")
    if s["coverage90"] > MAX_COVERAGE90 or s["coverage68"] > MAX_COVERAGE68:
        raise AssertionError(msg + f" (above {MAX_COVERAGE90:.0%} / {MAX_COVERAGE68:.0%}): over-dispersed, its "
                                   "intervals are too wide to price lines; retrain or recalibrate")
    return msg


CHECKS: list[tuple[str, Callable[[Context], str]]] = [
    ("model", check_model),
    ("database", check_database),
    ("predictions", check_predictions),
    ("outputs writable", check_writable),
    ("logging", check_logging),
    ("backup", check_backup),
    ("risk parameters", check_risk),
    ("calibration", check_calibration),
]


def run_checks(model_path: str | Path | None = None, calibration_weeks: int = 4) -> list[Check]:
    """Run every check; each returns PASS with what it saw or FAIL with why (never raises)."""
    ctx = Context(Path(model_path) if model_path else config.models_dir() / "latest.npz", calibration_weeks)
    results = []
    for name, fn in CHECKS:
        try:
            results.append(Check(name, True, fn(ctx)))
        except Exception as exc:  # noqa: BLE001 - a failing check is a reported FAIL, not a crash
            results.append(Check(name, False, str(exc) or type(exc).__name__))
    for r in results:
        (log.info if r.ok else log.warning)("doctor %s", r.line())
    return results
