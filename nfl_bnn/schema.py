"""Warehouse tables, written once in the SQL that PostgreSQL and DuckDB both accept.

Each table is one ``CREATE TABLE IF NOT EXISTS`` statement in :data:`TABLES`, keyed by its qualified
name, so another part of the system adds its own table with one entry here (the ``bets`` ledger does).
Only portable types are used (TEXT, INTEGER, DOUBLE PRECISION, BOOLEAN, DATE, TIMESTAMP) and every
table has a primary key, because importers upsert on it (``INSERT ... ON CONFLICT``).
See docs/architecture.md for what each column means.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nfl_bnn.warehouse import Warehouse

#: Schemas created before the tables.
SCHEMAS: list[str] = ["mart"]

#: Primary key of each table, used by :meth:`nfl_bnn.warehouse.Warehouse.upsert_df`.
KEYS: dict[str, tuple[str, ...]] = {
    "mart.games": ("game_id",),
    "mart.player_game_stats": ("game_id", "player_id"),
    "mart.injuries": ("season", "week", "player_id"),
    "mart.depth_charts": ("season", "week", "team", "player_id", "slot", "snapshot"),
    "mart.rosters": ("season", "week", "player_id"),
    "mart.snap_counts": ("game_id", "pfr_player_id"),
    "mart.rush_usage": ("game_id", "player_id"),
    "mart.run_defense": ("game_id", "team"),
    "mart.ngs_rushing": ("season", "week", "player_id"),
    "mart.game_lines": ("game_id", "book", "fetched_at"),
    "prop_lines": ("season", "week", "market", "book", "player_name", "fetched_at"),
    "best_prop_lines": ("season", "week", "market", "player_name", "side"),
    "bets": ("bet_id",),
}

TABLES: dict[str, str] = {
    "mart.games": """
        CREATE TABLE IF NOT EXISTS mart.games (
            game_id      TEXT PRIMARY KEY,
            season       INTEGER NOT NULL,
            week         INTEGER NOT NULL,
            season_type  TEXT NOT NULL CHECK (season_type IN ('REG', 'POST')),
            gameday      DATE,
            kickoff      TIMESTAMP,
            home_team    TEXT NOT NULL,
            away_team    TEXT NOT NULL,
            home_score   INTEGER,
            away_score   INTEGER,
            spread_line  DOUBLE PRECISION,
            total_line   DOUBLE PRECISION,
            source       TEXT NOT NULL
        )""",
    "mart.player_game_stats": """
        CREATE TABLE IF NOT EXISTS mart.player_game_stats (
            season           INTEGER NOT NULL,
            week             INTEGER NOT NULL,
            season_type      TEXT NOT NULL,
            game_id          TEXT NOT NULL,
            player_id        TEXT NOT NULL,
            player_name      TEXT,
            position         TEXT,
            team             TEXT NOT NULL,
            opponent         TEXT NOT NULL,
            is_home          BOOLEAN NOT NULL,
            carries          INTEGER NOT NULL CHECK (carries >= 0),
            rushing_yards    INTEGER NOT NULL,
            rushing_tds      INTEGER NOT NULL CHECK (rushing_tds >= 0),
            targets          INTEGER CHECK (targets >= 0),
            receptions       INTEGER CHECK (receptions >= 0),
            receiving_yards  INTEGER,
            source           TEXT NOT NULL,
            PRIMARY KEY (game_id, player_id)
        )""",
    # the official injury report of each week (nflverse `injuries`), published before kickoff: Out and
    # Doubtful backs leave the candidates, and their carry share moves to their teammates' features
    "mart.injuries": """
        CREATE TABLE IF NOT EXISTS mart.injuries (
            season           INTEGER NOT NULL,
            week             INTEGER NOT NULL,
            team             TEXT NOT NULL,
            player_id        TEXT NOT NULL,
            player_name      TEXT,
            position         TEXT,
            report_status    TEXT CHECK (report_status IN ('Out', 'Doubtful', 'Questionable')),
            practice_status  TEXT,
            reported_at      TIMESTAMP,
            source           TEXT NOT NULL,
            PRIMARY KEY (season, week, player_id)
        )""",
    # who carries the ball (issue 13; nfl_bnn/ingest/roles.py). When each is known: docs/roles.md
    "mart.depth_charts": """
        CREATE TABLE IF NOT EXISTS mart.depth_charts (
            season        INTEGER NOT NULL,
            week          INTEGER NOT NULL,
            team          TEXT NOT NULL,
            player_id     TEXT NOT NULL,
            slot          TEXT NOT NULL,
            snapshot      TEXT NOT NULL,
            player_name   TEXT,
            position      TEXT,
            depth_rank    INTEGER NOT NULL CHECK (depth_rank >= 0),
            published_at  TIMESTAMP,
            source        TEXT NOT NULL,
            PRIMARY KEY (season, week, team, player_id, slot, snapshot)
        )""",
    "mart.rosters": """
        CREATE TABLE IF NOT EXISTS mart.rosters (
            season                INTEGER NOT NULL,
            week                  INTEGER NOT NULL,
            player_id             TEXT NOT NULL,
            team                  TEXT NOT NULL,
            player_name           TEXT,
            position              TEXT,
            depth_chart_position  TEXT,
            status                TEXT,
            status_detail         TEXT,
            pfr_id                TEXT,
            game_type             TEXT,
            source                TEXT NOT NULL,
            PRIMARY KEY (season, week, player_id)
        )""",
    "mart.snap_counts": """
        CREATE TABLE IF NOT EXISTS mart.snap_counts (
            season         INTEGER NOT NULL,
            week           INTEGER NOT NULL,
            game_id        TEXT NOT NULL,
            pfr_player_id  TEXT NOT NULL,
            player_id      TEXT,
            player_name    TEXT,
            position       TEXT,
            team           TEXT NOT NULL,
            offense_snaps  INTEGER NOT NULL CHECK (offense_snaps >= 0),
            offense_pct    DOUBLE PRECISION,
            source         TEXT NOT NULL,
            PRIMARY KEY (game_id, pfr_player_id)
        )""",
    "mart.rush_usage": """
        CREATE TABLE IF NOT EXISTS mart.rush_usage (
            season      INTEGER NOT NULL,
            week        INTEGER NOT NULL,
            game_id     TEXT NOT NULL,
            team        TEXT NOT NULL,
            player_id   TEXT NOT NULL,
            carries     INTEGER NOT NULL CHECK (carries >= 0),
            rush_yards  INTEGER NOT NULL,
            rz_carries  INTEGER NOT NULL CHECK (rz_carries >= 0),
            gl_carries  INTEGER NOT NULL CHECK (gl_carries >= 0),
            successes   INTEGER NOT NULL CHECK (successes >= 0),
            epa_sum     DOUBLE PRECISION NOT NULL,
            source      TEXT NOT NULL,
            PRIMARY KEY (game_id, player_id)
        )""",
    "mart.run_defense": """
        CREATE TABLE IF NOT EXISTS mart.run_defense (
            season      INTEGER NOT NULL,
            week        INTEGER NOT NULL,
            game_id     TEXT NOT NULL,
            team        TEXT NOT NULL,
            rushes      INTEGER NOT NULL CHECK (rushes >= 0),
            rush_yards  INTEGER NOT NULL,
            successes   INTEGER NOT NULL CHECK (successes >= 0),
            epa_sum     DOUBLE PRECISION NOT NULL,
            source      TEXT NOT NULL,
            PRIMARY KEY (game_id, team)
        )""",
    "mart.ngs_rushing": """
        CREATE TABLE IF NOT EXISTS mart.ngs_rushing (
            season               INTEGER NOT NULL,
            week                 INTEGER NOT NULL,
            player_id            TEXT NOT NULL,
            team                 TEXT,
            player_name          TEXT,
            season_type          TEXT,
            rush_attempts        INTEGER NOT NULL,
            rush_yards           INTEGER NOT NULL,
            expected_rush_yards  DOUBLE PRECISION,
            ryoe                 DOUBLE PRECISION,
            efficiency           DOUBLE PRECISION,
            stacked_box_pct      DOUBLE PRECISION,
            source               TEXT NOT NULL,
            PRIMARY KEY (season, week, player_id)
        )""",
    # game lines as seen at a time (issue 15.6; nfl_bnn/game_lines.py): spread in the schedule's convention
    # (home team's expected margin, positive = home favoured), either value may be NULL, not both
    "mart.game_lines": """
        CREATE TABLE IF NOT EXISTS mart.game_lines (
            game_id      TEXT NOT NULL,
            season       INTEGER NOT NULL,
            week         INTEGER NOT NULL,
            book         TEXT NOT NULL,
            fetched_at   TIMESTAMP NOT NULL,
            spread_line  DOUBLE PRECISION CHECK (spread_line BETWEEN -30 AND 30),
            total_line   DOUBLE PRECISION CHECK (total_line BETWEEN 25 AND 70),
            source       TEXT NOT NULL,
            CHECK (spread_line IS NOT NULL OR total_line IS NOT NULL),
            PRIMARY KEY (game_id, book, fetched_at)
        )""",
    "prop_lines": """
        CREATE TABLE IF NOT EXISTS prop_lines (
            season       INTEGER NOT NULL,
            week         INTEGER NOT NULL,
            player_id    TEXT,
            player_name  TEXT NOT NULL,
            team         TEXT,
            book         TEXT NOT NULL,
            game_id      TEXT,
            market       TEXT NOT NULL,
            line         DOUBLE PRECISION NOT NULL,
            over_odds    INTEGER,
            under_odds   INTEGER,
            fetched_at   TIMESTAMP NOT NULL,
            source       TEXT NOT NULL,
            PRIMARY KEY (season, week, market, book, player_name, fetched_at)
        )""",
    "best_prop_lines": """
        CREATE TABLE IF NOT EXISTS best_prop_lines (
            season       INTEGER NOT NULL,
            week         INTEGER NOT NULL,
            player_id    TEXT,
            player_name  TEXT NOT NULL,
            team         TEXT,
            market       TEXT NOT NULL,
            side         TEXT NOT NULL CHECK (side IN ('over', 'under')),
            book         TEXT NOT NULL,
            line         DOUBLE PRECISION NOT NULL,
            over_odds    INTEGER,
            under_odds   INTEGER,
            fetched_at   TIMESTAMP NOT NULL,
            source       TEXT NOT NULL,
            PRIMARY KEY (season, week, market, player_name, side)
        )""",
    # the betting ledger (nfl_bnn/ledger.py): one row per recommended bet, settled in place
    "bets": """
        CREATE TABLE IF NOT EXISTS bets (
            bet_id         TEXT PRIMARY KEY,
            run_id         TEXT NOT NULL,
            placed_at      TIMESTAMP NOT NULL,
            season         INTEGER NOT NULL,
            week           INTEGER NOT NULL,
            game_id        TEXT,
            player_id      TEXT NOT NULL,
            player_name    TEXT,
            team           TEXT,
            opponent       TEXT,
            market         TEXT NOT NULL,
            side           TEXT NOT NULL CHECK (side IN ('over', 'under')),
            line           DOUBLE PRECISION NOT NULL,
            odds           INTEGER NOT NULL,
            book           TEXT,
            line_source    TEXT,
            model_prob     DOUBLE PRECISION,
            market_prob    DOUBLE PRECISION,
            p_bet          DOUBLE PRECISION,
            edge           DOUBLE PRECISION,
            confidence     DOUBLE PRECISION,
            bet_fraction   DOUBLE PRECISION,
            stake          DOUBLE PRECISION NOT NULL CHECK (stake >= 0),
            bankroll       DOUBLE PRECISION NOT NULL,
            profile        TEXT NOT NULL,
            model_version  TEXT NOT NULL,
            params_json    TEXT NOT NULL,
            paper          BOOLEAN NOT NULL,
            status         TEXT NOT NULL CHECK (status IN ('open', 'win', 'loss', 'push', 'void')),
            actual_yards   INTEGER,
            profit         DOUBLE PRECISION,
            settled_at     TIMESTAMP,
            closing_line   DOUBLE PRECISION,
            closing_odds   INTEGER
        )""",
}


#: Columns added after a table was first released. ``create_schema`` adds each one that an existing
#: warehouse lacks (``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``, accepted by both
#: backends), so a warehouse built by an older version keeps working without a rebuild.
MIGRATIONS: list[tuple[str, str, str]] = [
    # (table, column, statement); issue 11: quotes matched to their game
    ("prop_lines", "game_id", "ALTER TABLE prop_lines ADD COLUMN IF NOT EXISTS game_id TEXT"),
    # issue 11: the market-blended probability that stakes use, beside model_prob and market_prob
    ("bets", "p_bet", "ALTER TABLE bets ADD COLUMN IF NOT EXISTS p_bet DOUBLE PRECISION"),
]


def create_schema(wh: "Warehouse") -> list[str]:
    """Create every schema and table that does not exist yet, then add missing columns (idempotent)."""
    with wh.transaction():
        for schema in SCHEMAS:
            wh.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for ddl in TABLES.values():
            wh.execute(ddl)
        for table, column, statement in MIGRATIONS:
            if column not in wh.columns(table):  # ALTER locks the table: only when there is work to do
                wh.execute(statement)
    return list(TABLES)
