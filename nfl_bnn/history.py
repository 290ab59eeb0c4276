"""The one loader of history (:func:`load_history`) and what it returns (:class:`History`).

Moved out of :mod:`nfl_bnn.features` (which re-exports both names) so that the features module stays
short. This module imports nothing of the package at import time: :mod:`nfl_bnn.features` imports it,
and the methods of :class:`History` call back into :mod:`nfl_bnn.features` only when they run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from nfl_bnn.warehouse import Warehouse


@dataclass(frozen=True)
class History:
    """Everything the features of seasons ``first_season``..``last_season`` are built from.

    One object instead of three frames, so that a new source (a depth chart, a roster) is one more
    optional field here and in :func:`load_history`, not one more argument at every entry point.
    ``stats`` and ``games`` hold every season up to ``last_season``; ``injuries`` only
    ``first_season``..``last_season`` (a week's features read that week's report alone) and are
    empty when the warehouse has none.

    ``snaps``: the ``mart.snap_counts`` rows of ``first_season``..``last_season`` that show an offensive
    snap, or None when the warehouse has no snap-count table. They decide played or void for the
    targets (:func:`nfl_bnn.roles.played_yards`): a back with a snap and no stats row ran for 0 yards
    (graded, as books grade him); without snap counts (None, or no rows for that game) no stats row
    = did not play = void, the old rule. Snaps are known only after the game: they never enter a feature.

    ``roles``: the role tables (:data:`nfl_bnn.roles.TABLES`: depth charts, weekly rosters, snap counts,
    play-by-play usage and run defence, NGS) of every season up to ``last_season`` (like ``stats``: the
    role features' as-of joins and rolling windows reach back to a back's last rows), or None when the
    warehouse has none of them. Every row is used only when it was published before the bet time
    (:mod:`nfl_bnn.roles`); the features' as-of joins do that per week. Their weekly rosters and depth
    charts decide who is a candidate and for which team (:mod:`nfl_bnn.eligibility`) in every frame
    built here, so training, backtests and the weekly run price the same backs.
    """

    stats: pd.DataFrame
    games: pd.DataFrame
    injuries: pd.DataFrame
    first_season: int
    last_season: int
    snaps: pd.DataFrame | None = None
    roles: dict[str, pd.DataFrame] | None = None

    def with_role_features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with every role feature (:func:`nfl_bnn.role_features.add_role_features`) from this
        history's role tables; without role tables (None) every source counts as missing (the
        missing-indicators are 0 and the features hold their neutral constants)."""
        from nfl_bnn import role_features

        return role_features.add_role_features(frame, self.roles or {}, self.games)

    def for_week(self, season: int, week: int, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """:func:`nfl_bnn.features.for_week` of one week of this history; its weekly rosters and depth
        charts decide eligibility as known at ``as_of`` (US/Eastern wall clock; None: kickoff)."""
        from nfl_bnn import features

        return features.for_week(self.stats, self.games, season, week, self.injuries, self.roles, as_of)

    def candidate_frame(self, first_season: int, last_season: int) -> pd.DataFrame:
        """:func:`nfl_bnn.features.candidate_frame` of seasons ``first_season``..``last_season``."""
        from nfl_bnn import features

        return features.candidate_frame(self.stats, self.games, first_season, last_season, self.injuries,
                                        self.roles)

    def training_frame(self, first_season: int, last_season: int) -> pd.DataFrame:
        """:func:`nfl_bnn.features.training_frame` of seasons ``first_season``..``last_season``, targets
        graded with this history's snap counts (a snap and no stats row: 0 yards)."""
        from nfl_bnn import features

        return features.training_frame(self.stats, self.games, first_season, last_season, self.injuries,
                                       snaps=self.snaps, roles=self.roles)

    def with_targets(self, first_season: int, last_season: int) -> pd.DataFrame:
        """Candidates of the seasons with their target, NaN kept where the back did not play (void):
        :func:`nfl_bnn.features.attach_target` with ``drop_missing=False`` and this history's snaps."""
        from nfl_bnn import features

        return features.attach_target(self.candidate_frame(first_season, last_season), self.stats,
                                      drop_missing=False, snaps=self.snaps)


def load_history(wh: Warehouse, first_season: int, last_season: int) -> History:
    """Load what the features of seasons ``first_season``..``last_season`` need, from the warehouse.

    The one loader of every entry point (weekly run, backtests, training, drift, doctor, notebooks):
    how far back the features read is decided here, once, so that the features a bet was priced on,
    the features the model was trained on, the features drift judges and the features calibration
    scores are the same numbers. The features have no finite look-back (for example, the carry averages are
    exponentially weighted over a back's whole career, ``ypc_shrunk`` spans his last 24 games however
    long ago, and a back of unknown position stays a back once he has carried like one), so every
    season before ``last_season`` is loaded: with only the two seasons before, most backs' features
    differ from the ones training saw (``python -m bench.features`` measures it; docs/architecture.md).

    Parameters
    ----------
    wh : Warehouse
        An open warehouse (:func:`nfl_bnn.warehouse.connect`).
    first_season, last_season : int
        The seasons whose weeks will be predicted or scored (inclusive).

    Returns
    -------
    History
        Player stats and games of every season up to ``last_season``, injury reports of
        ``first_season``..``last_season`` (an empty frame when the table is absent), and the snap rows
        of ``first_season``..``last_season`` with an offensive snap (None when ``mart.snap_counts`` is
        absent: then a back without a stats row is void, as before snap counts existed).

    Raises
    ------
    ConfigError
        When ``first_season`` is after ``last_season``.
    """
    from nfl_bnn import roles, warehouse
    from nfl_bnn.errors import ConfigError

    first, last = int(first_season), int(last_season)
    if first > last:
        raise ConfigError(f"load_history: first_season {first} is after last_season {last}; "
                          "give the seasons in order")
    return History(stats=warehouse.load_stats(wh, last_season=last),
                   games=warehouse.load_games(wh, last_season=last),
                   injuries=warehouse.load_injuries(wh, first_season=first, last_season=last),
                   first_season=first, last_season=last,
                   snaps=roles.load_snaps(wh, first, last),
                   roles=_role_tables(wh, first, last))


def _role_tables(wh: Warehouse, first: int, last: int) -> dict[str, pd.DataFrame] | None:
    """The role tables of every season up to ``last`` (a feature of week 1 reads last season's depth
    chart; a back back from a lost season reads his snaps of two seasons ago), or None when the
    warehouse has none of them. Every entry point (training, the weekly run's
    :func:`nfl_bnn.role_features.for_week_if_used`) reads the same seasons, so the same numbers;
    ``first`` is not a bound."""
    from nfl_bnn import roles

    if not any(wh.table_exists(f"mart.{name}") for name in roles.TABLES):
        return None
    return roles.load_roles(wh, last_season=last)
