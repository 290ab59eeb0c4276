"""One loader of history: every entry point builds the same features of the same week, on both backends.

The weekly run, the betting backtest, drift and training each once loaded their own slice of the
warehouse (one or two seasons back, or all). The features have no finite look-back, so the same week
got different features depending on who asked. Here each entry point runs on one warehouse of four
seasons and the features its model is handed are compared exactly.
"""
from __future__ import annotations

import pandas as pd
import pytest
from _fakes import fake_model, small_warehouse_frames

from nfl_bnn import backtest_betting, cli, drift, features, pipeline, schema, warehouse
from nfl_bnn.errors import ConfigError

SEASONS = (2016, 2017, 2018, 2019)
SEASON, WEEK = 2019, 10
KEY = ["game_id", "player_id"]


class Recorder:
    """A model that remembers every feature frame it is asked to predict."""

    def __init__(self, model):
        self.model, self.seen = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict(self, X):
        self.seen.append(X.reset_index(drop=True).copy())
        return self.model.predict(X)


@pytest.fixture
def wh(wh_url, project_home):
    games, stats, lines = small_warehouse_frames(SEASONS, weeks=12)
    with warehouse.connect(wh_url) as w:
        schema.create_schema(w)
        w.upsert_df("mart.games", games)
        w.upsert_df("mart.player_game_stats", stats)
        w.upsert_df("best_prop_lines", lines)
        yield w


def _week(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[(frame["season"] == SEASON) & (frame["week"] == WEEK)]
    return out[KEY + features.FEATURES].sort_values(KEY).reset_index(drop=True)


def test_weekly_run_and_backtest_hand_the_model_identical_features(wh):
    p = pipeline.load_weekly_params(SEASON, WEEK, bankroll=1000.0)
    weekly = Recorder(fake_model(features.FEATURES))
    pipeline.run_week(p, wh=wh, model=weekly, record=False)
    backtest = Recorder(fake_model(features.FEATURES))
    backtest_betting.run(SEASON, backtest, p, wh, weeks=[WEEK], lines_mode="warehouse", write=False)
    assert len(weekly.seen) == len(backtest.seen) == 1 and len(weekly.seen[0]) >= 8
    pd.testing.assert_frame_equal(_week(weekly.seen[0]), _week(backtest.seen[0]), check_exact=True)


def test_training_drift_and_weekly_features_of_a_week_are_the_same(wh, monkeypatch):
    """What the model is trained on, what drift judges and what a bet is priced on: one set of numbers."""
    p = pipeline.load_weekly_params(SEASON, WEEK, bankroll=1000.0)
    weekly = Recorder(fake_model(features.FEATURES))
    pipeline.run_week(p, wh=wh, model=weekly, record=False)
    priced = _week(weekly.seen[0])
    monkeypatch.setattr(warehouse, "connect", lambda *a, **k: wh)
    stats, games, injuries, _ = cli._load_frames(2018, SEASON)  # what `nfl-bnn train` fits on
    trained = _week(features.training_frame(stats, games, 2018, SEASON, injuries))
    judged = _week(drift.season_features(SEASON, wh=wh))
    assert len(trained) >= 8
    for other in (trained, judged):
        # training and drift keep only the backs who played: the same rows, the same numbers
        mine = priced.merge(other[KEY], on=KEY).sort_values(KEY).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, other, check_exact=True)


def test_history_loads_every_season_before_and_injuries_of_the_window(wh):
    h = features.load_history(wh, 2018, 2018)
    assert sorted(h.stats["season"].unique()) == [2016, 2017, 2018]
    assert sorted(h.games["season"].unique()) == [2016, 2017, 2018]
    assert h.injuries.empty and (h.first_season, h.last_season) == (2018, 2018)
    with pytest.raises(ConfigError, match="first_season 2019 is after last_season 2018"):
        features.load_history(wh, 2019, 2018)
