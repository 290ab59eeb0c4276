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
