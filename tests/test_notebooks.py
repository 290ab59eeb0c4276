"""Every notebook runs through papermill on tiny settings and renders the report it promises.

One small synthetic warehouse (3 seasons x 12 weeks x 8 teams, a back named like a script tag and a
book named like an HTML payload) serves all notebooks. The train notebook really fits (ADVI, few
draws); the others use a hand-built model so they run in seconds. Each HTML must have its figures
(``<img``) and tables, no code, and escaped data.
"""
from __future__ import annotations

import re

import pytest
import yaml
from _fakes import build_small_warehouse, fake_model

from nfl_bnn import config, reports
from nfl_bnn.features import FEATURES

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbhome")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NFL_BNN_HOME", str(root))
        mp.setenv("NFL_BNN_WAREHOUSE", str(root / "data" / "warehouse.duckdb"))
        mp.delenv("NFL_BNN_DATABASE_URL", raising=False)
        for v in ("PGHOST", "PGDATABASE", "PGSERVICE"):
            mp.delenv(v, raising=False)
        build_small_warehouse()
        fake_model(FEATURES, mean=60.0, sd=28.0).save(config.models_dir() / "fake.npz")
        yield root


def _run(name, **overrides):
    run = reports.run_notebook(name, overrides=overrides, progress=False)
    page = (run / f"{name}.html").read_text()
    assert "check_parameters" not in page and "import " not in page, "code cells leaked into the report"
    assert "<script>alert" not in page and "<img src=x" not in page, "data was not escaped"
    _assert_readable(page)
    return run, page


def _assert_readable(page: str) -> None:
    """What every report promises a reader (issue 16): offline, no empty section, numbers for people."""
    assert "<script" not in page and "cdnjs" not in page and "require.js" not in page, "a script in the report"
    assert not re.search(r"<link[^>]+href=\"https?:", page), "an external stylesheet in the report"
    body = page[page.index("<body"):]
    sections = re.split(r"<h2[ >]", body)[1:]
    for sec in sections:
        heading = re.sub(r"<[^>]+>", "", sec[:sec.index("</h2>")]).strip("¶ ")
        rest = sec[sec.index("</h2>") + 5:]
        assert re.search(r"<(p|table|img|pre|li)[ >]", rest), f"section {heading!r} is empty"
    cells = re.findall(r"<td>([^<]*)</td>", page)
    raw = [c for c in cells if re.fullmatch(r"[-+]?[\d,]+\.\d{3}", c) and c.replace(",", "").lstrip("-+")
           .split(".")[0] in {"100", "110", "115", "120", "1000"}]
    assert not raw, f"odds or money printed as raw floats: {raw[:5]}"
    assert not [c for c in cells if re.fullmatch(r"0\.\d{4,}|nan|NaN|None|NaT", c)], "unformatted cells"


def _n(page, tag):
    return len(re.findall(f"<{tag}[ >]", page))


def test_train_notebook_fits_checks_and_saves(home, tmp_path):
    tiny = tmp_path / "train_tiny.yaml"
    fast = yaml.safe_load((config.PROJ_ROOT / "params" / "train_fast.yaml").read_text())
    tiny.write_text(yaml.safe_dump({**fast, "advi_iterations": 400}))
    run, page = _run("train", first_season=2017, last_season=2018, validate_season=2019, validate_weeks=12,
                     train_params=str(tiny), draws=60, model_path="models/trained.npz",
                     min_ess=0.0, max_rhat=10.0)
    assert _n(page, "img") >= 3  # trace, predictive check, PIT
    assert "Fit diagnostics" in page and "model vs baselines" in page
    # the parameters table shows the notebook's seed; the report says the fit used the params file's
    assert "seed only seeds this notebook" in page and f"seed {fast['seed']} (draws and tune of 0" in page
    for method in ("moe_bnn", "season_to_date", "last3_avg", "normal_linear", "ngboost_normal", "lightgbm_quantile"):
        assert method in page
    assert "CRPS" in page and ("lowest CRPS of all methods" in page or "LOSES on CRPS to" in page)
    assert "if calibrated, this skewed distribution would cover" in page
    # the synthetic warehouse has no injury reports: the report says the model could not learn from them
    assert re.search(r"not learned from:</b> [^<]*mate_out_share", page)
    assert (config.models_dir() / "trained.npz").is_file()
    assert {"validation_predictions.csv", "validation_scores.csv", "train.html", "train.ipynb"} <= {
        p.name for p in run.iterdir()}


def test_train_notebook_does_not_save_a_fit_that_fails_the_checks(home, tmp_path):
    """The notebook's gate is train.save_if_fit, as the CLI's: a failed check stops the run, nothing saved."""
    tiny = tmp_path / "train_nuts_tiny.yaml"
    fast = yaml.safe_load((config.PROJ_ROOT / "params" / "train_fast.yaml").read_text())
    tiny.write_text(yaml.safe_dump({**fast, "inference": "pymc", "chains": 2, "cores": 1, "init": "default",
                                    "draws": 20, "tune": 20, "keep_draws": 20}))
    with pytest.raises(Exception, match="model NOT saved .*ESS of predicted means down to"):
        reports.run_notebook("train", overrides=dict(first_season=2018, last_season=2018, validate_season=2019,
                             validate_weeks=4, train_params=str(tiny), model_path="models/refused.npz",
                             min_ess=1e9), progress=False)
    assert not (config.models_dir() / "refused.npz").exists()


def test_train_notebook_refuses_to_score_on_training_season(home):
    with pytest.raises(Exception, match="validate_season 2018 must come after last_season 2018"):
        reports.run_notebook("train", overrides={"last_season": 2018, "validate_season": 2018}, progress=False)


def test_weekly_then_review(home):
    run, page = _run("weekly", season=2019, week=10, paper_trade=True, lines="warehouse", model_path="models/fake.npz",
                     bankroll=1000.0)
    assert _n(page, "img") >= 2 and _n(page, "table") >= 4  # every back's intervals + bets' distributions
    assert "Every eligible back" in page and "eligible backs</h4>" in page
    # every back's table shows the blended p_bet its edge is measured from (edge = p_bet - market_prob)
    backs = page.split("eligible backs</h4>", 1)[1].split("</table>", 1)[0]
    assert ">p_bet<" in backs and ">edge<" in backs
    bet_table = page.split(" bets</h4>", 1)[1].split("</table>", 1)[0]
    assert ">p_bet<" in bet_table and ">edge<" in bet_table
    assert "&lt;script&gt;" in page  # the hostile back is there, escaped
    assert "PosixPath(" not in page  # no stray object reprs in a shared report
    assert "Exposure" in page and "Alerts" in page
    assert (run / "s2019_w10_bets.csv").is_file() and (run / "s2019_w10_predictions.csv").is_file()

    run, page = _run("review", season=2019, week=10)
    assert _n(page, "img") >= 1 and "Season to date" in page and "roi_4wk" in page
    assert "<h2>Season 2019 week 10</h2>" in page  # real (warehouse) lines: no PROXY label
    assert (run / "s2019_w10_settled_bets.csv").is_file()


def test_weekly_on_proxy_lines_says_proxy(home):
    run, page = _run("weekly", season=2019, week=10, lines="proxy", model_path="models/fake.npz", bankroll=1000.0)
    assert "PROXY LINES, NOT REAL MARKET PRICES" in page
    pred = __import__("pandas").read_csv(next(run.glob("*_predictions.csv")))
    priced = pred[pred["line"].notna()]
    assert len(priced) and priced["source"].str.startswith("proxy").all()  # the charts' titles read PROXY from this
    assert "All checks passed" in page  # the checks section is not an empty heading


def test_calibration_notebook(home):
    run, page = _run("calibration", season=2019, first_week=8, last_week=11, model_path="models/fake.npz")
    assert _n(page, "img") == 3  # PIT, reliability, coverage by week
    assert "PROXY line" in page and "Coverage by week" in page and "coverage90" in page
    assert "same rule as the weekly run" in page
    # the introduction names both alert edges, the upper one as the code has it
    from nfl_bnn.calibration import ALERT_90_HIGH

    assert "drops below" in page and f"rises above {ALERT_90_HIGH:.0%}" in page
    assert (run / "calibration_by_week.csv").is_file()


def test_drift_notebook(home):
    run, page = _run("drift", season=2019, model_path="models/fake.npz")
    assert _n(page, "img") == 1 and ("RETRAIN recommended" in page or "no retraining needed" in page)
    assert (run / "s2019_drift.csv").is_file()


def test_backtest_notebook_labels_proxy_lines(home):
    run, page = _run("backtest", season=2019, first_week=3, last_week=6, lines="proxy", model_path="models/fake.npz")
    assert _n(page, "img") == 2 and "PROXY" in page
    # the summary (bets, ROI, the proxy note) shows once, and the week-by-week table once, as a table
    assert "bets " in page and "ROI " in page and "lines are proxy:" in page
    assert page.count("roi_4wk") == 1
    assert (run / "s2019_backtest_predictions.csv").is_file()


def test_unknown_parameter_is_an_error_inside_the_kernel(home, tmp_path):
    """papermill itself only warns; the validation cell must fail the run (bypassing the runner's check)."""
    import papermill as pm

    out = tmp_path / "drift.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="unknown parameter 'seasn'"):
        pm.execute_notebook(str(config.PROJ_ROOT / "notebooks" / "drift.ipynb"), str(out),
                            parameters={"seasn": 2019}, kernel_name="nfl_bnn", progress_bar=False)


def test_weekly_without_a_bankroll_sizes_from_the_ledger(home):
    """12.1: `make weekly` without BANKROLL (notebook default 0) uses the ledger's bankroll: the first
    recorded one plus the settled profit of earlier weeks (a won week-1 paper bet, and any settled
    paper bets of the tests above)."""
    from datetime import datetime

    import pandas as pd

    from nfl_bnn import ledger, warehouse

    won = pd.DataFrame({"player_id": ["00-BUF1"], "game_id": ["x"], "side": ["over"], "line": [70.5], "odds": [100],
                        "model_prob": [0.6], "market_prob": [0.5], "edge": [0.1], "confidence": [0.9],
                        "bet_fraction": [0.05], "stake": [50.0]})
    rows = ledger.to_ledger_rows(won, season=2019, week=1, market="player_rush_yds", profile="conservative",
                                 model_version="nb-test", paper=True, bankroll=1000.0, params={}, run_id="r",
                                 placed_at=datetime(2019, 9, 1))
    with warehouse.connect() as wh:
        ledger.record_week(wh, rows, season=2019, week=1, market="player_rush_yds", profile="conservative",
                           model_version="nb-test", paper=True)
        wh.execute("UPDATE bets SET status = 'win', profit = 50.0 WHERE model_version = 'nb-test'")
        lb = ledger.bankroll_before(wh, season=2019, week=11, profile="conservative", paper=True)
    assert lb is not None and lb.start == 1000.0 and lb.bankroll != 1000.0
    run, page = _run("weekly", season=2019, week=11, paper_trade=True, lines="warehouse", model_path="models/fake.npz")
    assert f"bankroll {lb.bankroll:,.2f}" in page and "from the ledger" in page
    with warehouse.connect() as wh:  # any bet the run recorded was sized from that bankroll
        assert set(ledger.load_bets(wh, 2019, 11, paper=True).bankroll) <= {lb.bankroll}


def test_backtest_notebook_on_real_quote_history(tmp_path, monkeypatch):
    """bet_times=open,close: the real-line report (ROI intervals, CLV, scores at the close, reliability,
    P&L band) from the warehouse's quote history; its own warehouse, so other notebooks keep theirs."""
    from test_market import warehouse_with_quote_history

    monkeypatch.setenv("NFL_BNN_HOME", str(tmp_path))
    monkeypatch.setenv("NFL_BNN_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.delenv("NFL_BNN_DATABASE_URL", raising=False)
    warehouse_with_quote_history(seasons=(2017, 2018, 2019), weeks=8)
    fake_model(FEATURES, mean=60.0, sd=28.0).save(config.models_dir() / "fake.npz")
    run, page = _run("backtest", season=2019, first_week=1, last_week=8, model_path="models/fake.npz",
                     bet_times="open,close")
    assert _n(page, "img") == 4  # reliability, CLV histogram, P&L band, coverage
    assert "log loss" in page.lower() and "ROI" in page and "CLV" in page
    for t in ("open", "close"):
        assert (run / f"s2019_backtest_real_{t}.csv").is_file()
        assert (run / f"s2019_backtest_blends_{t}.csv").is_file()
