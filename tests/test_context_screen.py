"""bench/context_screen.py: the game-context columns and their proxy screen (issue 15 item 2)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import context_screen as C
from nfl_bnn import features as F
from tests._fakes import small_warehouse_frames

TUNED = {"ols_log": {"hp": {"offset": 60.0}}, "bayes_lognormal_k1": {"hp": {"offset": 60.0, "prior_sd": 0.2}}}


@pytest.fixture(scope="module")
def frame_and_schedule():
    games, stats, _ = small_warehouse_frames(seasons=(2020, 2021, 2022, 2023), weeks=10)
    frame = F.training_frame(stats, games, 2020, 2023)
    rng = np.random.default_rng(11)
    sched = games[["game_id", "spread_line", "total_line"]].assign(
        home_rest=7, away_rest=rng.choice([6, 7, 13], len(games)), div_game=rng.integers(0, 2, len(games)),
        roof=rng.choice(["dome", "outdoors", "closed", "open"], len(games)))
    return frame, sched


def test_context_columns_take_each_teams_side_of_the_schedule_row(frame_and_schedule):
    frame, sched = frame_and_schedule
    out = C.context_columns(frame, sched)
    assert len(out) == len(frame) and (out["game_id"].to_numpy() == frame["game_id"].to_numpy()).all()
    row = out.merge(sched, on="game_id")
    home = row["is_home"].astype(float) > 0.5
    # nflverse's spread_line is the home team's margin: the away team's is its negative
    assert np.allclose(row.loc[home, "team_spread"], row.loc[home, "spread_line"])
    assert np.allclose(row.loc[~home, "team_spread"], -row.loc[~home, "spread_line"])
    assert np.allclose(row.loc[home, "rest_days"], 7)
    assert np.allclose(row.loc[~home, "rest_days"], row.loc[~home, "away_rest"].clip(4, 14))
    assert np.array_equal(row["dome"], row["roof"].isin(["dome", "closed"]).astype(float))


def test_context_columns_fill_a_game_without_lines_and_refuse_a_schedule_without_the_columns(frame_and_schedule):
    frame, sched = frame_and_schedule
    gid = frame["game_id"].iloc[0]
    out = C.context_columns(frame, sched.assign(total_line=np.where(sched["game_id"] == gid, np.nan, 40.0)))
    assert out[list(C.CONTEXT)].notna().all().all() and (out["game_total"] == 40.0).all()
    with pytest.raises(ValueError, match=r"lacks \['roof'\]"):
        C.context_columns(frame, sched.drop(columns="roof"))


def test_screen_finds_a_column_that_drives_the_yards_and_pairs_row_for_row(frame_and_schedule):
    frame, sched = frame_and_schedule
    out = C.context_columns(frame, sched)
    y = out[F.TARGET].to_numpy(float)
    out[F.TARGET] = np.where(out["dome"] > 0, 2.5 * y + 20, 0.5 * y)   # yards ruled by the roof
    table = C.screen(out, TUNED, origins=[2022, 2023], first_season=2020).set_index("method")
    for proxy in C.PROXIES:
        assert table.loc[f"{proxy}:+dome", "n_paired"] == table.loc[f"{proxy}:base", "n"]
        assert table.loc[f"{proxy}:+dome", "t"] < -3, table
        others = [f"{proxy}:+{c}" for c in C.CONTEXT if c != "dome"]
        assert table.loc[f"{proxy}:+dome", "diff_vs_ref"] < table.loc[others, "diff_vs_ref"].min()


def test_main_refuses_the_held_out_seasons(tmp_path):
    with pytest.raises(SystemExit, match="held out"):
        C.main(["--cache", str(tmp_path), "--origins", "2022", "2023"])
