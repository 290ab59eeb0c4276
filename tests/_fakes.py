"""Shared test builders: hand-built model artifacts (no sampling), the week-4 warehouse, a small 3-season one.

* :func:`fake_model`: a real artifact whose prediction is roughly Normal(mean, sd) for every row.
* The week-4 warehouse (:func:`make_frames`, :data:`LINES`, :func:`load_week4`) with :class:`FakeModel`,
  whose per-draw P(over) is fixed per player so every stake can be checked by hand (see
  tests/test_pipeline.py); the ``week4_wh`` fixture of tests/conftest.py builds it.
* :func:`small_warehouse_frames` / :func:`build_small_warehouse`: 3 seasons x 12 weeks x 8 teams.
* :func:`error_lines`: what a failed CLI run said on stderr, without its INFO/WARNING log lines.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from nfl_bnn.model import ARTIFACT_FORMAT, MODEL_VERSION, MixtureExpertsBNN


def error_lines(stderr: str) -> list[str]:
    """The stderr lines of a run that are not its INFO or WARNING log lines.

    A failing command must print one error line and no traceback; the tests count these lines. A
    run's own notices (the roster WARNING, say) reach stderr or not depending on which earlier tests
    configured logging, so counting every line made the tests depend on their order.
    """
    return [ln for ln in stderr.strip().splitlines() if not ln.startswith(("INFO ", "WARNING "))]


def fake_model(feature_names=("carries_proj", "yards_l3"), K=2, S=20, mean=65.0, sd=30.0, seed=0):
    """A model whose prediction is roughly Normal(mean, sd) for every row, with a sane scaler."""
    rng = np.random.default_rng(seed)
    d = len(feature_names)
    params = {
        "gate_W": np.zeros((S, d, K - 1)), "gate_b": np.zeros((S, K - 1)),
        "alpha": np.tile(np.linspace(-0.01, 0.01, K), (S, 1)) + rng.normal(0, 1e-3, (S, K)),
        "beta": np.zeros((S, K, d)), "scale_c": np.zeros((S, K)), "gamma": np.zeros((S, d)),
        "W_h": np.zeros((S, d, 0)), "v": np.zeros((S, K, 0)),
    }
    meta = {
        "format": ARTIFACT_FORMAT, "model_version": MODEL_VERSION + "-fake", "feature_names": list(feature_names),
        "n_experts": K, "hidden_units": 0,
        "scaler": {"mean": [10.0 + i for i in range(d)], "sd": [3.0 + i for i in range(d)]},
        "target": {"mean": mean, "sd": sd}, "training_window": [2015, 2018], "data_fingerprint": "fake",
    }
    return MixtureExpertsBNN(params, meta)


HOSTILE_NAME = '<script>alert("pwned")</script>'
HOSTILE_BOOK = "<img src=x onerror=alert(1)>Book"
TEAMS = ["BUF", "MIA", "NE", "NYJ", "DAL", "NYG", "PHI", "WAS"]


def small_warehouse_frames(seasons=(2017, 2018, 2019), weeks=12, seed=3):
    """Synthetic but plausible stats, games and best lines: 8 teams, 2 backs each, ``weeks`` weeks.

    One back is named like a script tag and one book like an HTML payload, to prove reports escape.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    games, stats, lines = [], [], []
    for season in seasons:
        for week in range(1, weeks + 1):
            order = rng.permutation(TEAMS)
            for g in range(4):
                away, home = order[2 * g], order[2 * g + 1]
                gid = f"{season}_{week:02d}_{away}_{home}"
                day = pd.Timestamp(f"{season}-09-06") + pd.Timedelta(days=7 * (week - 1))
                hs, as_ = int(rng.integers(10, 35)), int(rng.integers(10, 35))
                games.append({"game_id": gid, "season": season, "week": week, "season_type": "REG",
                              "gameday": day.date(), "kickoff": day + pd.Timedelta(hours=13), "home_team": home,
                              "away_team": away, "home_score": hs, "away_score": as_,
                              "spread_line": float(round(rng.normal(0, 4)) + 0.5), "total_line": 44.5,
                              "source": "test"})
                for team, opp, is_home in ((home, away, True), (away, home, False)):
                    for rank, base in ((1, 17), (2, 8)):
                        pid = f"00-{team}{rank}"
                        name = HOSTILE_NAME if (team, rank) == ("BUF", 1) else f"{team} Back{rank}"
                        carries = max(0, int(rng.poisson(base)))
                        yards = int(round(carries * rng.normal(4.3, 1.2)))
                        stats.append({"season": season, "week": week, "season_type": "REG", "game_id": gid,
                                      "player_id": pid, "player_name": name, "position": "RB", "team": team,
                                      "opponent": opp, "is_home": is_home, "carries": carries,
                                      "rushing_yards": yards, "rushing_tds": int(rng.integers(0, 2)),
                                      "targets": 2, "receptions": 1, "receiving_yards": 8, "source": "test"})
                        if rank == 1 and season == seasons[-1]:
                            line = float(np.floor(base * 4.3 + rng.normal(0, 5))) + 0.5
                            for side in ("over", "under"):
                                lines.append({"season": season, "week": week, "player_id": pid,
                                              "player_name": name, "team": team, "market": "player_rush_yds",
                                              "side": side, "book": HOSTILE_BOOK if team == "BUF" else "bookA",
                                              "line": line, "over_odds": -110, "under_odds": -110,
                                              "fetched_at": pd.Timestamp(f"{season}-09-01"), "source": "test"})
    return pd.DataFrame(games), pd.DataFrame(stats), pd.DataFrame(lines)


def build_small_warehouse(seasons=(2017, 2018, 2019), weeks=12):
    """Create the schema in the current warehouse (NFL_BNN_WAREHOUSE) and load the synthetic frames."""
    from nfl_bnn import warehouse
    from nfl_bnn.schema import create_schema

    games, stats, lines = small_warehouse_frames(seasons, weeks)
    with warehouse.connect() as wh:
        create_schema(wh)
        wh.upsert_df("mart.games", games)
        wh.upsert_df("mart.player_game_stats", stats)
        wh.upsert_df("best_prop_lines", lines)
    return games, stats, lines


# --- the week-4 warehouse: 2 games a week, 2 backs a team, weeks 1-3 played, 8 lines of week 4 -------
SEASON, WEEK = 2024, 4


def make_frames(season=SEASON, weeks_played=3, total_weeks=4):
    """2 games a week (BAL@KC, MIA@BUF), 2 backs a team (18 and 9 carries), weeks 1-3 played."""
    games, stats = [], []
    for w in range(1, total_weeks + 1):
        for i, (home, away) in enumerate((("KC", "BAL"), ("BUF", "MIA"))):
            gid = f"{season}_{w:02d}_{away}_{home}"
            played = w <= weeks_played
            ko = datetime(season, 9, 8, 13 + i) + timedelta(days=7 * (w - 1))
            games.append(dict(game_id=gid, season=season, week=w, season_type="REG", gameday=ko.date(), kickoff=ko,
                              home_team=home, away_team=away, home_score=24 if played else None,
                              away_score=20 if played else None, spread_line=3.0, total_line=45.0, source="test"))
            if not played:
                continue
            for team, opp, is_home in ((home, away, True), (away, home, False)):
                for j, (car, ypc) in enumerate(((18, 4.5), (9, 4.0))):
                    stats.append(dict(season=season, week=w, season_type="REG", game_id=gid,
                                      player_id=f"{team}-RB{j + 1}", player_name=f"{team} Back{j + 1}", position="RB",
                                      team=team, opponent=opp, is_home=is_home, carries=car + w % 2,
                                      rushing_yards=int((car + w % 2) * ypc) + w, rushing_tds=0, targets=2,
                                      receptions=1, receiving_yards=8, source="test"))
    return pd.DataFrame(games), pd.DataFrame(stats)


def line_rows(specs):
    rows = []
    for pid, side, line, over, under, *book in specs:
        rows.append(dict(season=SEASON, week=WEEK, player_id=pid, player_name=pid.replace("-RB", " Back"),
                         team=pid.split("-")[0], market="player_rush_yds", side=side, book=(book or ["bk"])[0],
                         line=line, over_odds=over, under_odds=under, fetched_at=datetime(2024, 10, 1, 9),
                         source="test"))
    return pd.DataFrame(rows)


LINES = [
    ("KC-RB1", "over", 80.5, -110, -110), ("KC-RB1", "under", 80.5, -110, -110),
    ("BUF-RB1", "over", 70.5, -110, -110), ("BUF-RB1", "under", 70.5, -110, -110),
    ("MIA-RB1", "over", 50.5, -110, -110), ("MIA-RB1", "under", 50.5, -110, -110),
    ("BAL-RB1", "over", 60.5, -110, -110), ("BAL-RB1", "under", 60.5, -110, -110),
]

# per-draw P(over) for each player (10 draws); the line does not matter to the fake
P_OVER = {
    "KC-RB1": [0.60] * 8 + [0.50] * 2,  # over: mean 0.58, edge 0.08, 8/10 draws > 0.5238 -> conf 0.8
    "BUF-RB1": [0.40] * 10,  # under: 0.6, edge 0.10, conf 1.0
    "MIA-RB1": [0.52] * 10,  # over: edge 0.02 < 0.03 -> fails edge
    "BAL-RB1": [0.56] * 6 + [0.50] * 4,  # over: 0.536, edge 0.036, conf 0.6 < 0.7 -> fails confidence
}


class FakeModel:
    version = "fake-1"
    feature_names: tuple[str, ...] = ()  # reads no feature, so no optional source either

    def learned_from(self, feature):
        return False  # the fake uses no feature

    def predict(self, X):
        n = len(X)
        return pd.DataFrame({"mean": np.full(n, 60.0), "median": 55.0, "sd": 30.0, "q05": 10.0, "q25": 35.0,
                             "q75": 80.0, "q95": 120.0})

    def prob_over(self, X, lines, per_draw=False):
        d = np.array([P_OVER.get(pid, [0.5] * 10) for pid in X["player_id"]], dtype=float).T  # (S, n)
        if np.ndim(lines) == 2:  # (n, L) lines: the same probability at each (no mass near the line: no push)
            d = np.repeat(d[:, :, None], np.shape(lines)[1], axis=2)
        return d if per_draw else d.mean(axis=0)


WEEK4_TABLES = ("bets", "best_prop_lines", "prop_lines", "mart.injuries", "mart.player_game_stats", "mart.games")


def load_week4(wh, lines=LINES, stats: pd.DataFrame | None = None) -> None:
    """Fill ``wh`` with the week-4 warehouse (schema created, earlier rows of its tables removed).

    ``lines``: line specs (see :data:`LINES`), a ready frame of best lines, or None for no lines;
    ``stats``: replaces the player stats of :func:`make_frames` (hostile names, say).
    """
    from nfl_bnn import schema

    schema.create_schema(wh)
    for table in WEEK4_TABLES:  # a PostgreSQL database is shared by the session: start empty
        wh.execute(f"DELETE FROM {table}")  # fixed identifiers, not data
    games, made = make_frames()
    wh.upsert_df("mart.games", games)
    wh.upsert_df("mart.player_game_stats", made if stats is None else stats)
    if lines is not None:
        wh.upsert_df("best_prop_lines", lines if isinstance(lines, pd.DataFrame) else line_rows(lines))


def identity_blend():
    """A market blend that hands the fake model's probability through (p_bet = p_model), so stakes stay
    the hand-computed ones of tests/test_pipeline.py."""
    from nfl_bnn import market

    return market.Blend((0.0, 1.0, 0.0), ((0.0,) * 3,) * 3, 0, "fitted", "test",
                        skill=market.Skill(n=1000, weeks=10, diff=-0.01, se=0.001))  # the gate lets it stake


IDENTITY_BLEND = identity_blend()


def fill_small_warehouse(w, seasons, weeks=12):
    """Create the schema in the open warehouse ``w`` and load :func:`small_warehouse_frames` into it
    (games, stats, best lines); returns (games, stats) for tests that add more tables."""
    from nfl_bnn import schema

    games, stats, lines = small_warehouse_frames(seasons, weeks=weeks)
    schema.create_schema(w)
    w.upsert_df("mart.games", games)
    w.upsert_df("mart.player_game_stats", stats)
    w.upsert_df("best_prop_lines", lines)
    return games, stats
