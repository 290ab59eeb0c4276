"""Warehouse: backend choice, masking, schema, upsert counts, transactions, errors, readers, hostile strings."""
from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest

from nfl_bnn.errors import DatabaseError
from nfl_bnn.schema import create_schema
from nfl_bnn.warehouse import connect, load_games, load_stats, mask_url, resolve

HOSTILE = ["O'Brien", "Robert'); DROP TABLE mart.games;--", 'say "hi" \\ %s ? $1', "ünïcødé – ok"]



def games_frame(away=("KC",), home=("LV",)):
    n = len(away)
    return pd.DataFrame({
        "game_id": [f"2020_{i + 1:02d}_{a}_{h}" for i, (a, h) in enumerate(zip(away, home))],
        "season": [2020] * n, "week": list(range(1, n + 1)), "season_type": ["REG"] * n,
        "gameday": [pd.Timestamp("2020-09-13").date()] * n, "kickoff": [pd.Timestamp("2020-09-13 13:00")] * n,
        "home_team": list(home), "away_team": list(away),
        "home_score": pd.array([20] * n, dtype="Int64"), "away_score": pd.array([None] * n, dtype="Int64"),
        "spread_line": [3.5] * n, "total_line": [float("nan")] * n, "source": ["test"] * n,
    })


def stats_frame(names=("A Back",)):
    n = len(names)
    return pd.DataFrame({
        "season": [2020] * n, "week": [1] * n, "season_type": ["REG"] * n, "game_id": ["2020_01_KC_LV"] * n,
        "player_id": [f"00-00000{i:02d}" for i in range(n)], "player_name": list(names), "position": ["RB"] * n,
        "team": ["LV"] * n, "opponent": ["KC"] * n, "is_home": [True] * n, "carries": [10] * n,
        "rushing_yards": [-3] * n, "rushing_tds": [1] * n, "targets": pd.array([None] * n, dtype="Int64"),
        "receptions": pd.array([2] * n, dtype="Int64"), "receiving_yards": pd.array([15] * n, dtype="Int64"),
        "source": ["test"] * n,
    })


def test_backend_choice_from_environment(monkeypatch, tmp_path):
    for v in ("NFL_BNN_DATABASE_URL", "PGHOST", "PGDATABASE", "PGSERVICE"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("NFL_BNN_WAREHOUSE", str(tmp_path / "x.duckdb"))
    assert resolve().backend == "duckdb" and resolve().dsn == str(tmp_path / "x.duckdb")
    monkeypatch.setenv("PGPASSWORD", "secret")  # a password alone does not switch backends
    assert resolve().backend == "duckdb"
    monkeypatch.setenv("PGHOST", "db.example")
    assert resolve().backend == "postgres" and resolve().dsn == ""
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", "postgresql://u:hunter2@h:5544/devdb01")
    t = resolve()
    assert t.backend == "postgres" and "hunter2" not in t.description and "u:***@h:5544" in t.description
    assert resolve(str(tmp_path / "y.duckdb")).backend == "duckdb"
    with pytest.raises(DatabaseError, match="unsupported database URL"):
        resolve("mysql://u:pw@h/db")


def test_mask_url_hides_passwords():
    assert mask_url("postgresql://me:p%40ss@host:5432/db") == "postgresql://me:***@host:5432/db"
    assert mask_url("postgresql://host/db?user=me&password=abc") == "postgresql://host/db?user=me&password=***"
    assert mask_url("postgresql://me@host/db") == "postgresql://me@host/db"


def test_schema_is_idempotent(wh_url):
    with connect(wh_url) as wh:
        first = create_schema(wh)
        create_schema(wh)
        for t in first:
            assert wh.table_exists(t)
        assert wh.count("mart.games") == 0


def test_upsert_counts_inserted_updated_skipped(wh_url):
    with connect(wh_url) as wh:
        create_schema(wh)
        g = games_frame(away=("KC", "NE"), home=("LV", "BUF"))
        c = wh.upsert_df("mart.games", g)
        assert (c.inserted, c.updated, c.skipped) == (2, 0, 0)
        c = wh.upsert_df("mart.games", g)
        assert (c.inserted, c.updated, c.skipped) == (0, 0, 2)
        g2 = pd.concat([g, games_frame(away=("MIA",), home=("NYJ",)).assign(game_id="2020_03_MIA_NYJ")])
        g2.loc[0, "home_score"] = 27
        c = wh.upsert_df("mart.games", g2.reset_index(drop=True))
        assert (c.inserted, c.updated, c.skipped) == (1, 1, 1)
        assert wh.count("mart.games") == 3
        assert wh.scalar("SELECT home_score FROM mart.games WHERE game_id = ?", ("2020_01_KC_LV",)) == 27


def test_transaction_rolls_back_everything(wh_url):
    with connect(wh_url) as wh:
        create_schema(wh)
        wh.upsert_df("mart.games", games_frame())
        with pytest.raises(RuntimeError):
            with wh.transaction():
                wh.upsert_df("mart.games", games_frame(away=("NE",), home=("BUF",)).assign(game_id="2020_09_NE_BUF"))
                wh.execute("DELETE FROM mart.games WHERE game_id = ?", ("2020_01_KC_LV",))
                raise RuntimeError("boom")
        assert wh.query_df("SELECT game_id FROM mart.games")["game_id"].tolist() == ["2020_01_KC_LV"]


def test_constraint_violation_rolls_back_the_whole_upsert(wh_url):
    with connect(wh_url) as wh:
        create_schema(wh)
        wh.upsert_df("mart.player_game_stats", stats_frame())
        bad = stats_frame(("X", "Y")).assign(player_id=["00-0000000", "00-0000099"])
        bad.loc[1, "carries"] = -1  # CHECK (carries >= 0) fails on the second row
        with pytest.raises(DatabaseError):
            wh.upsert_df("mart.player_game_stats", bad)
        assert load_stats(wh)["player_name"].tolist() == ["A Back"]


def test_hostile_strings_round_trip(wh_url):
    with connect(wh_url) as wh:
        create_schema(wh)
        wh.upsert_df("mart.player_game_stats", stats_frame(HOSTILE))
        got = load_stats(wh)
        assert sorted(got["player_name"]) == sorted(HOSTILE)
        for name in HOSTILE:
            df = wh.query_df("SELECT player_id FROM mart.player_game_stats WHERE player_name = ?", (name,))
            assert len(df) == 1
        assert wh.table_exists("mart.games")


def test_missing_table_is_a_clear_error(wh_url):
    with connect(wh_url) as wh:
        with pytest.raises(DatabaseError, match="init-db"):
            load_stats(wh)
        with pytest.raises(DatabaseError, match="init-db"):
            wh.query_df("SELECT * FROM mart.games")


def test_readers_dtypes_and_filters(wh_url):
    with connect(wh_url) as wh:
        create_schema(wh)
        wh.upsert_df("mart.games", games_frame())
        wh.upsert_df("mart.player_game_stats", stats_frame())
        s = load_stats(wh, first_season=2020, last_season=2020)
        assert s["is_home"].dtype == bool and s["carries"].dtype == "int64" and s["targets"].dtype == "Int64"
        assert s.loc[0, "rushing_yards"] == -3 and pd.isna(s.loc[0, "targets"])
        assert load_stats(wh, first_season=2021).empty
        g = load_games(wh)
        assert str(g["kickoff"].dtype) == "datetime64[ns]" and g.loc[0, "kickoff"] == pd.Timestamp("2020-09-13 13:00")
        assert pd.isna(g.loc[0, "away_score"]) and g.loc[0, "home_score"] == 20 and pd.isna(g.loc[0, "total_line"])


@pytest.mark.postgres
def test_postgres_unreachable_or_wrong_credentials(pg_server_url):
    with pytest.raises(DatabaseError, match="cannot reach") as e:
        connect("postgresql://me:topsecret@127.0.0.1:1/nodb", connect_timeout_s=2)
    assert "topsecret" not in str(e.value) and "***" in str(e.value)
    with pytest.raises(DatabaseError) as e:
        connect("postgresql://no_such_role_x:topsecret@127.0.0.1:5432/test")
    assert "topsecret" not in str(e.value) and ("user" in str(e.value) or "credentials" in str(e.value))
    base = pg_server_url.rsplit("/", 1)[0]
    with pytest.raises(DatabaseError, match="does not exist"):
        connect(base + "/no_such_database_nfl_bnn")


def test_duckdb_file_locked_by_another_process(tmp_path):
    path = tmp_path / "locked.duckdb"
    with connect(str(path)) as wh:
        create_schema(wh)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        t0 = time.monotonic()
        with pytest.raises(DatabaseError, match="locked by process"):
            connect(str(path), lock_wait_s=0.5)
        assert time.monotonic() - t0 < 10
    finally:
        holder.kill()
        holder.wait()
    with connect(str(path)) as wh:  # released when the holder dies
        assert wh.count("mart.games") == 0


def test_corrupt_duckdb_file(tmp_path):
    path = tmp_path / "bad.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="bad.duckdb"):
        connect(str(path))


def test_upcoming_week_for_cron(wh_url):
    """`nfl-bnn weekly --week next` picks the first week with a kickoff still ahead (Eastern clock)."""
    from datetime import datetime

    from nfl_bnn.errors import DataError
    from nfl_bnn.schema import create_schema
    from nfl_bnn.warehouse import upcoming_week

    with connect(wh_url) as wh:
        create_schema(wh)
        rows = [("2024_01_KC_LV", 1, "2024-09-08 13:00"), ("2024_02_KC_LV", 2, "2024-09-15 13:00"),
                ("2024_02_DAL_NYG", 2, "2024-09-16 20:15"), ("2024_03_KC_LV", 3, "2024-09-22 13:00")]
        for gid, week, ko in rows:
            wh.execute("INSERT INTO mart.games (game_id, season, week, season_type, gameday, kickoff, home_team, "
                       "away_team, source) VALUES (?, 2024, ?, 'REG', ?, ?, 'LV', 'KC', 'test')",
                       (gid, week, ko[:10], datetime.fromisoformat(ko)))
        assert upcoming_week(wh, 2024, now=datetime(2024, 9, 10, 9, 0)) == 2
        # Monday night of week 2 is still ahead on Monday morning: week 2, not 3
        assert upcoming_week(wh, 2024, now=datetime(2024, 9, 16, 9, 0)) == 2
        assert upcoming_week(wh, 2024, now=datetime(2024, 9, 17, 9, 0)) == 3
        with pytest.raises(DataError, match="no game of season 2024 kicks off after 2024-12-01"):
            upcoming_week(wh, 2024, now=datetime(2024, 12, 1))
