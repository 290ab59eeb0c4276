"""Entry points of the Makefile a new user meets first (issue 16, items 5, 8 and 14).

Each runs ``make -n`` (print, do not run) or ``make help`` with the venv stamp treated as up to date,
so nothing is installed or started.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from nfl_bnn import config

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed-stamp", *args],
                          cwd=config.PROJ_ROOT, capture_output=True, text=True, check=True,
                          env=None if env is None else {**os.environ, **env})
    return proc.stdout


def test_help_has_no_colour_codes_when_not_a_terminal():
    out = _make("help")
    assert "\033" not in out and "quickstart" in out and "lock" in out


def test_lab_runs_as_root_and_takes_extra_arguments():
    out = _make("-n", "lab", "LAB_ARGS=--no-browser --port 8890")
    assert "jupyter lab notebooks/" in out and "--no-browser --port 8890" in out
    assert ("--allow-root" in out) == (os.geteuid() == 0)


def test_setup_installs_the_locked_versions():
    lock = (config.PROJ_ROOT / "requirements.lock").read_text().splitlines()
    pins = [ln for ln in lock if ln and not ln.startswith("#")]
    assert pins and all("==" in ln for ln in pins), "every line of the lock pins one version"
    names = {ln.split("==")[0].lower().replace("_", "-") for ln in pins}
    assert {"pymc", "pandas", "nutpie", "numpy", "arviz", "pytensor", "pytest"} <= names
    assert "nfl-bnn" not in names  # the project itself is installed editable, not pinned
    out = subprocess.run(["make", "-n", "-B", ".venv/.installed-stamp"], cwd=config.PROJ_ROOT,
                         capture_output=True, text=True, check=True).stdout  # -n: printed, not run
    assert "pip install --quiet -c requirements.lock -e '.[dev]'" in out


def test_weekly_passes_only_the_settings_it_was_given():
    """Without PROFILE, PAPER or LINES, params/weekly.yaml decides them (they used to default to
    conservative, paper_trade=false and warehouse here, overriding the file). LINES=24 in the
    environment, as many shells export it for the terminal's height, is not a lines source."""
    def dry(*extra: str) -> str:
        return " ".join(_make("-n", "weekly", *extra, env={"LINES": "24"}).split())

    plain = dry()
    assert "run-notebook weekly" in plain and "-p season=2019" in plain
    assert not any(f"-p {k}=" in plain for k in ("profile", "paper_trade", "lines"))
    given = dry("PROFILE=moderate", "PAPER=1", "LINES=proxy")
    assert all(s in given for s in ("-p profile=moderate", "-p paper_trade=true", "-p lines=proxy"))
    assert "-p paper_trade=false" in dry("PAPER=0")
