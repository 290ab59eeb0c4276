"""What the tables mean (nfl_bnn.tables) is apart from how to reach them (nfl_bnn.warehouse).

Each reader hands back exactly the columns and types of its one type map, on both backends; the table
layer never imports the connection layer; the old import paths keep working.
"""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from _fakes import LINES, line_rows, make_frames

from nfl_bnn import schema, tables, warehouse

DTYPES = {"int": "int64", "int?": "Int64", "float": "float64", "bool": "bool", "timestamp": "datetime64[ns]",
          "text": "object"}


@pytest.fixture
def wh(wh_url):
    games, stats = make_frames()
    injuries = pd.DataFrame([dict(season=2024, week=4, team="KC", player_id="KC-RB1", player_name="KC Back1",
                                  position="RB", report_status="Out", practice_status=None,
                                  reported_at=pd.Timestamp("2024-09-27 16:00"), source="test")])
    with warehouse.connect(wh_url) as w:
        schema.create_schema(w)
        w.upsert_df("mart.games", games)
        w.upsert_df("mart.player_game_stats", stats)
        w.upsert_df("mart.injuries", injuries)
        w.upsert_df("best_prop_lines", line_rows(LINES))
        yield w


@pytest.mark.parametrize("reader, types", [
    (lambda w: tables.load_stats(w), tables.STATS_TYPES),
    (lambda w: tables.load_games(w), tables.GAMES_TYPES),
    (lambda w: tables.load_injuries(w), tables.INJURY_TYPES),
    (lambda w: tables.load_best_lines(w, 2024, 4), tables.BEST_LINES_TYPES),
], ids=["stats", "games", "injuries", "best_lines"])
def test_each_reader_returns_the_columns_and_types_of_its_map(wh, reader, types):
    df = reader(wh)
    assert len(df) > 0 and list(df.columns) == list(types)
    assert {c: str(t) for c, t in df.dtypes.items()} == {c: DTYPES[k] for c, k in types.items()}
    text = [c for c, k in types.items() if k == "text"]
    assert df[text].map(lambda v: v is None or isinstance(v, str)).all().all()  # None for NULL, never NaN


def test_absent_injury_table_is_an_empty_frame_of_the_same_types(tmp_path):
    with warehouse.connect(str(tmp_path / "bare.duckdb")) as w:
        df = tables.load_injuries(w)
    assert df.empty and list(df.columns) == tables.INJURY_COLUMNS
    assert str(df["season"].dtype) == "int64" and str(df["reported_at"].dtype) == "datetime64[ns]"


def test_the_table_layer_never_imports_the_connection_layer():
    code = ("import sys, nfl_bnn.schema, nfl_bnn.tables; "
            "print('nfl_bnn.warehouse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_old_import_paths_keep_working():
    from nfl_bnn.warehouse import (  # noqa: F401
        DATA_HINT,
        INJURY_COLUMNS,
        eastern_now,
        load_best_lines,
        load_games,
        load_injuries,
        load_stats,
        table_counts,
        upcoming_week,
    )

    assert load_stats is tables.load_stats and warehouse.load_games is tables.load_games
