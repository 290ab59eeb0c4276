"""The production checklist passes on a healthy set-up and fails each item with a reason."""
from __future__ import annotations

import pytest
from _fakes import build_small_warehouse, fake_model

from nfl_bnn import backup, config, doctor
from nfl_bnn.features import FEATURES


@pytest.fixture
def healthy(project_home):
    build_small_warehouse()
    path = fake_model(FEATURES, mean=65.0, sd=30.0).save(config.models_dir() / "latest.npz")
    backup.backup()
    return path


def _by_name(results):
    return {r.name: r for r in results}


def test_all_pass_on_healthy_setup(healthy):
    res = _by_name(doctor.run_checks(healthy))
    assert [n for n, r in res.items() if not r.ok] == [], {n: r.reason for n, r in res.items()}
    assert set(res) == {"model", "database", "predictions", "outputs writable", "logging", "backup",
                        "risk parameters", "calibration"}
    assert "no injury reports (the injury feature reads 'nobody out')" in res["database"].reason
    assert "mean predicted yards 65.0" in res["predictions"].reason
    assert "season 2019 week 12" in res["predictions"].reason
    assert res["calibration"].reason.startswith("weeks 9-12 of 2019")


def test_each_failure_has_a_reason(project_home):
    # no model, no warehouse tables, no backup
    fake_model(FEATURES, mean=650.0).save(config.models_dir() / "x10.npz")  # 10x too large: unrealistic
    res = _by_name(doctor.run_checks(config.models_dir() / "missing.npz"))
    assert not res["model"].ok and "does not exist" in res["model"].reason
    assert not res["database"].ok and "init-db" in res["database"].reason
    assert not res["backup"].ok and "make backup" in res["backup"].reason
    assert res["outputs writable"].ok and res["logging"].ok and res["risk parameters"].ok
    assert str(project_home / "logs" / "pipeline.log") in res["logging"].reason
    build_small_warehouse()
    res = _by_name(doctor.run_checks(config.models_dir() / "x10.npz"))
    assert not res["predictions"].ok and "outside 50-85" in res["predictions"].reason
    assert not res["calibration"].ok and "below 80%" in res["calibration"].reason
    assert all(r.line().startswith(("PASS", "FAIL")) for r in res.values())


def test_recent_weeks_skip_a_latest_week_without_eligible_backs(healthy):
    """The warehouse's newest rows may be a postseason week or a Pro Bowl where no back qualifies;
    the prediction and calibration checks use the latest weeks that have eligible backs."""
    from _fakes import small_warehouse_frames

    from nfl_bnn import warehouse

    games, stats, _ = small_warehouse_frames((2017, 2018, 2019), 12)
    g = games[(games["season"] == 2019) & (games["week"] == 12)].head(1).copy()
    g["week"], g["season_type"] = 20, "POST"
    g["game_id"] = "2019_20_" + g["away_team"] + "_" + g["home_team"]
    s = stats[stats["game_id"].isin(games.loc[g.index, "game_id"])].head(1).copy()
    s["week"], s["season_type"], s["game_id"], s["position"] = 20, "POST", g["game_id"].iloc[0], "QB"
    with warehouse.connect() as wh:
        wh.upsert_df("mart.games", g)
        wh.upsert_df("mart.player_game_stats", s)
    res = _by_name(doctor.run_checks(healthy))
    assert "latest stats: season 2019 week 20" in res["database"].reason
    assert res["predictions"].ok and "season 2019 week 12" in res["predictions"].reason
    assert res["calibration"].ok and res["calibration"].reason.startswith("weeks 9-12 of 2019")


def test_calibration_fails_on_both_sides_of_the_coverage_band(healthy):
    """12.14: an over-dispersed model (mean +/- 1 sd covering every player-game) used to PASS; an
    overconfident one failed. Both are now a FAIL that says which side and what to do."""
    wide = fake_model(FEATURES, mean=65.0, sd=300.0).save(config.models_dir() / "wide.npz")
    res = _by_name(doctor.run_checks(wide))
    assert not res["calibration"].ok
    assert "mean±1sd 100.0%" in res["calibration"].reason and "over-dispersed" in res["calibration"].reason
    assert res["predictions"].ok  # the mean is realistic: only the spread is wrong
    narrow = fake_model(FEATURES, mean=65.0, sd=8.0).save(config.models_dir() / "narrow.npz")
    res = _by_name(doctor.run_checks(narrow))
    assert not res["calibration"].ok and "overconfident" in res["calibration"].reason
