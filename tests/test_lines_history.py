"""Quote history in the warehouse: the prop_lines migration, load_quotes, as-of loading (both backends)."""
from __future__ import annotations

import pandas as pd

from nfl_bnn import warehouse
from nfl_bnn.schema import create_schema
from nfl_bnn.warehouse import connect

OLD_PROP_LINES = """
    CREATE TABLE prop_lines (
        season INTEGER NOT NULL, week INTEGER NOT NULL, player_id TEXT, player_name TEXT NOT NULL, team TEXT,
        book TEXT NOT NULL, market TEXT NOT NULL, line DOUBLE PRECISION NOT NULL, over_odds INTEGER,
        under_odds INTEGER, fetched_at TIMESTAMP NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (season, week, market, book, player_name, fetched_at))"""
INSERT = ("INSERT INTO prop_lines (season, week, player_id, player_name, team, book, market, line, over_odds, "
          "under_odds, fetched_at, source) VALUES (2024, 5, 'id-p', 'P', 'KC', 'A', 'player_rush_yds', ?, -110, "
          "-110, ?, 'csv')")


def test_old_warehouse_is_migrated_and_keeps_its_quotes(wh_url):
    with connect(wh_url) as wh:
        wh.execute(OLD_PROP_LINES)
        wh.execute(INSERT, (50.5, pd.Timestamp("2024-10-01 10:00").to_pydatetime()))
        # readable before the migration (game_id reads as NULL)
        before = warehouse.load_quotes(wh, 2024, 5)
        assert len(before) == 1 and before["game_id"].iloc[0] is None
        assert "game_id" not in wh.columns("prop_lines")
        create_schema(wh)
        create_schema(wh)  # idempotent
        assert "game_id" in wh.columns("prop_lines")
        wh.execute(INSERT, (52.5, pd.Timestamp("2024-10-02 10:00").to_pydatetime()))
        hist = warehouse.load_quotes(wh, 2024, 5)
        assert list(hist["line"]) == [50.5, 52.5]  # every snapshot kept
        early = warehouse.load_lines_as_of(wh, 2024, 5, "2024-10-01T12:00:00Z")
        late = warehouse.load_lines_as_of(wh, 2024, 5, "2024-10-03T00:00:00Z")
        assert set(early["line"]) == {50.5} and set(late["line"]) == {52.5}
        assert warehouse.load_lines_as_of(wh, 2024, 5, "2024-09-30").empty


def test_lines_as_of_falls_back_to_best_prop_lines(wh_url):
    with connect(wh_url) as wh:
        create_schema(wh)
        row = {"season": 2024, "week": 5, "player_id": "id-p", "player_name": "P", "team": "KC",
               "market": "player_rush_yds", "side": "over", "book": "A", "line": 50.5, "over_odds": -110,
               "under_odds": -110, "fetched_at": pd.Timestamp("2024-10-02 10:00"), "source": "csv"}
        wh.upsert_df("best_prop_lines", pd.DataFrame([row]))
        assert warehouse.load_lines_as_of(wh, 2024, 5, "2024-10-02T09:00:00Z").empty
        got = warehouse.load_lines_as_of(wh, 2024, 5, "2024-10-02T10:00:00Z")
        assert len(got) == 1 and bool(got["two_sided"].iloc[0]) and got["devig_book"].iloc[0] == "A"
