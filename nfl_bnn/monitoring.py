"""Weekly monitoring: four health checks whose alerts reach the summary, the log and the exit status.

Why these four: too few predictions means the data or the eligibility rule broke; weeks in a row
without a bet mean lines are missing or the model has collapsed onto the market; a large share of the
bankroll at stake means the caps are too loose for comfort; a low average edge means the bets are
thin enough that the margin and model error can eat them. A cron job notices alerts through the exit
status :data:`ALERT_EXIT_STATUS` (the run itself succeeded and its files are written).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import Field

from nfl_bnn.params import StrictModel

log = logging.getLogger("nfl_bnn.monitoring")

#: Exit status of a weekly run that succeeded but raised at least one alert.
ALERT_EXIT_STATUS = 3


class AlertThresholds(StrictModel):
    min_predictions: int = Field(20, ge=0, description="alert when fewer eligible players are predicted")
    zero_bet_weeks: int = Field(2, ge=1, description="alert after this many weeks in a row without bets")
    max_staked_share: float = Field(0.20, gt=0, le=1, description="alert when stakes exceed this share of bankroll")
    min_avg_edge: float = Field(0.02, ge=0, lt=1, description="alert when the bets' average edge is below this")


@dataclass(frozen=True)
class Alert:
    code: str
    message: str


@dataclass(frozen=True)
class WeekHealth:
    n_predictions: int
    n_bets: int
    zero_bet_streak: int  # weeks in a row without bets, this week included (0 if this week has bets)
    staked: float  # every stake the week holds: this run's bets and the bets kept from earlier runs
    bankroll: float
    avg_edge: float | None  # None when there are no bets
    kept_staked: float = 0.0  # part of ``staked`` kept as placed (games kicked off, settled bets)

    @property
    def staked_share(self) -> float:
        return self.staked / self.bankroll if self.bankroll > 0 else 0.0


def check(h: WeekHealth, th: AlertThresholds) -> list[Alert]:
    """The alerts raised by one week's figures."""
    alerts = []
    if h.n_predictions < th.min_predictions:
        alerts.append(Alert("low_volume", f"only {h.n_predictions} players predicted (< {th.min_predictions}); "
                                          "check the warehouse has this week's games and recent stats"))
    if h.n_bets == 0 and h.zero_bet_streak >= th.zero_bet_weeks:
        alerts.append(Alert("no_bets", f"no bets for {h.zero_bet_streak} weeks running; check the lines import "
                                       "and the model's calibration"))
    if h.staked_share > th.max_staked_share:
        alerts.append(Alert("high_exposure", f"{h.staked_share:.1%} of the bankroll staked (> "
                                             f"{th.max_staked_share:.0%}); tighten the profile's caps"))
    if h.n_bets and h.avg_edge is not None and h.avg_edge < th.min_avg_edge:
        alerts.append(Alert("low_edge", f"average edge {h.avg_edge:.1%} (< {th.min_avg_edge:.0%}); the bets are "
                                        "thin, consider a stricter profile"))
    return alerts


def report(h: WeekHealth, alerts: list[Alert]) -> str:
    """The monitoring block of the summary."""
    edge = "n/a" if h.avg_edge is None else f"{h.avg_edge:.1%}"
    lines = [
        "Monitoring",
        f"  predictions:      {h.n_predictions}",
        f"  bets:             {h.n_bets} (weeks in a row without bets: {h.zero_bet_streak})",
        f"  staked:           {h.staked:,.2f} = {h.staked_share:.1%} of bankroll {h.bankroll:,.2f}"
        + (f" ({h.kept_staked:,.2f} of it kept from earlier runs)" if h.kept_staked else ""),
        f"  average edge:     {edge}",
    ]
    lines.append("  ALERTS:" if alerts else "  alerts:           none")
    lines += [f"    [{a.code}] {a.message}" for a in alerts]
    return "\n".join(lines)


def log_alerts(alerts: list[Alert], context: str) -> None:
    """Send each alert to the log (logs/pipeline.log once logging is set up) as a WARNING."""
    for a in alerts:
        log.warning("ALERT %s [%s] %s", context, a.code, a.message)
