"""One loader of history: every entry point builds the same features of the same week, on both backends.

The weekly run, the betting backtest, drift and training each once loaded their own slice of the
warehouse (one or two seasons back, or all). The features have no finite look-back, so the same week
got different features depending on who asked. Here each entry point runs on one warehouse of four
seasons and the features its model is handed are compared exactly.
"""
from __future__ import annotations

import pandas as pd
import pytest
from _fakes import fake_model, fill_small_warehouse

from nfl_bnn import backtest_betting, cli, drift, features, pipeline, roles, schema, warehouse
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
    with warehouse.connect(wh_url) as w:
        fill_small_warehouse(w, SEASONS)
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


# --- played or void: snap counts travel with the history (issue 13 item 5) -------------------------------
def _snap_rows(stats: pd.DataFrame) -> pd.DataFrame:
    """One snap-count row per stats row (as mart.snap_counts would hold them), 3 snaps per carry."""
    return pd.DataFrame({"season": stats.season, "week": stats.week, "game_id": stats.game_id,
                         "pfr_player_id": "pfr-" + stats.player_id, "player_id": stats.player_id,
                         "player_name": stats.player_name, "position": "RB", "team": stats.team,
                         "offense_snaps": stats.carries * 3 + 1, "offense_pct": 0.5, "source": "test"})


def test_history_loads_snaps_of_its_seasons_when_the_table_exists_and_none_otherwise(wh):
    stats = warehouse.load_stats(wh)
    rows = _snap_rows(stats[stats.season >= 2018])
    rows.loc[rows.index[0], "offense_snaps"] = 0  # special teams only: not a snap on offence
    rows.loc[rows.index[1], "player_id"] = None  # no GSIS id: belongs to nobody we price
    wh.upsert_df("mart.snap_counts", rows)
    h = features.load_history(wh, 2019, 2019)
    assert h.snaps is not None and sorted(h.snaps.season.unique()) == [2019]
    assert (h.snaps.offense_snaps > 0).all() and h.snaps.player_id.notna().all()
    assert len(h.snaps) == int((rows.season == 2019).sum())
    assert len(features.load_history(wh, 2018, 2019).snaps) == len(rows) - 2
    wh.execute("DROP TABLE mart.snap_counts")
    try:
        assert features.load_history(wh, 2019, 2019).snaps is None
    finally:
        schema.create_schema(wh)


def test_a_back_with_snaps_and_no_stats_row_is_a_zero_yard_target_through_history(wh):
    """Training (History.training_frame) and the real-line backtest (History.with_targets) grade him at 0."""
    full = features.load_history(wh, SEASON, SEASON).training_frame(SEASON, SEASON)
    back = full[(full.week == WEEK)].sort_values("player_id").iloc[0]
    key = (back.game_id, back.player_id)
    stats = warehouse.load_stats(wh)
    hit = (stats.game_id == key[0]) & (stats.player_id == key[1])
    wh.upsert_df("mart.snap_counts", _snap_rows(stats[hit]))
    wh.execute("DELETE FROM mart.player_game_stats WHERE game_id = ? AND player_id = ?", key)

    def row(frame):
        return frame[(frame.game_id == key[0]) & (frame.player_id == key[1])]

    h = features.load_history(wh, SEASON, SEASON)
    assert row(h.training_frame(SEASON, SEASON)).rushing_yards.tolist() == [0]
    assert row(h.with_targets(SEASON, SEASON)).rushing_yards.tolist() == [0]
    wh.execute("DELETE FROM mart.snap_counts")  # snap counts, but none for that game: void, as before
    h = features.load_history(wh, SEASON, SEASON)
    assert row(h.training_frame(SEASON, SEASON)).empty
    assert row(h.with_targets(SEASON, SEASON)).rushing_yards.isna().all()
    wh.execute("DROP TABLE mart.snap_counts")  # no snap table: void, as before
    try:
        h = features.load_history(wh, SEASON, SEASON)
        assert h.snaps is None and row(h.training_frame(SEASON, SEASON)).empty
    finally:
        schema.create_schema(wh)


def test_history_loads_the_role_tables_of_every_season_and_none_when_there_are_none(wh):
    """A week-1 feature reads last season's depth chart and snaps, a back back from a lost season his snaps of
    two seasons ago: the role tables hold every season up to the last, as the weekly run reads them."""
    stats = warehouse.load_stats(wh)
    wh.upsert_df("mart.snap_counts", _snap_rows(stats[stats.season >= 2017]))
    h = features.load_history(wh, 2019, 2019)
    assert h.roles is not None and set(h.roles) == set(roles.TABLES)
    assert sorted(h.roles["snap_counts"].season.unique()) == [2017, 2018, 2019]
    framed = h.with_role_features(h.candidate_frame(2019, 2019))
    assert framed["has_snaps"].eq(1.0).any() and "depth_rank" in framed
    dropped = [n for n in roles.TABLES if wh.table_exists(f"mart.{n}")]
    for name in dropped:
        wh.execute(f"DROP TABLE mart.{name}")
    try:
        h = features.load_history(wh, 2019, 2019)
        assert h.roles is None
        framed = h.with_role_features(h.candidate_frame(2019, 2019))
        assert framed["has_snaps"].eq(0.0).all() and framed["has_depth"].eq(0.0).all()
    finally:
        schema.create_schema(wh)
