"""Small hand-built model artifacts for ops tests (no sampling): a known predictive distribution."""
from __future__ import annotations

import numpy as np

from nfl_bnn.model import ARTIFACT_FORMAT, MODEL_VERSION, MixtureExpertsBNN


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
