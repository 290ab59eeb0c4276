"""Honest selection (bench/select.py) and the fair baselines (nfl_bnn/fair_baselines.py), on tiny frames.

The model is replaced by a fast fake fitter: what is tested here is the bookkeeping (which seasons
train, which score, what is paired with what, what --final refuses), not the sampler.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench import select as S
from nfl_bnn import features as F
from nfl_bnn import fair_baselines as FB, validate as V
from tests._fakes import fake_model, small_warehouse_frames


# ------------------------------------------------------------------ paired differences, row CRPS


def test_paired_difference_clusters_by_week():
    # two weeks; in each, the differences move together: a cluster SE by hand
    a = np.array([3.0, 3.0, 3.0, 1.0, 1.0, 1.0])
    b = np.zeros(6)
    cl = np.array([1, 1, 1, 2, 2, 2])
    d = V.paired_difference(a, b, cl)
    assert d["diff"] == pytest.approx(2.0) and d["n"] == 6 and d["clusters"] == 2
    # centred sums per week: +3, -3; SE = sqrt(G/(G-1) * (9 + 9)) / n = 6 / 6
    assert d["se"] == pytest.approx(1.0)
    # the same differences spread over 6 independent weeks: a much smaller SE (iid-like)
    iid = V.paired_difference(a, b, np.arange(6))
    assert iid["se"] < d["se"] / 2
    with pytest.raises(ValueError, match="cluster labels"):
        V.paired_difference(a, b, cl[:3])


def test_crps_rows_is_score_per_row():
    fc = V.residual_forecast("pm", np.array([10.0, 20.0]), np.zeros(5))
    y = np.array([10.0, 23.0])
    assert V.crps_rows(fc, y) == pytest.approx([0.0, 3.0])  # point mass: |y - x|
    assert V.crps_rows(fc, y).mean() == pytest.approx(V.score(fc, y)["CRPS"])


# ------------------------------------------------------------------ fair baselines


def _lognormal_data(rng, n, offset=25.0):
    X = rng.normal(size=(n, 3))
    mu = 4.0 + 0.3 * X[:, 0] - 0.2 * X[:, 1]
    y = np.round(np.exp(mu + rng.normal(0, 0.4, n)) - offset)
    return X, np.maximum(y, -offset + 1)


def test_ols_log_recovers_a_lognormal_and_floors_at_minus_offset(rng):
    X, y = _lognormal_data(rng, 4000)
    Xt = np.zeros((1, 3))
    fc = FB.ols_log_forecast(X, y, Xt, offset=25.0)
    # median of exp(4 + N(0, .4)) - 25 = e^4 - 25 = 29.6
    assert fc.median[0] == pytest.approx(np.exp(4.0) - 25.0, abs=2.0)
    assert fc.cdf[0, V.GRID < -25].max() == 0.0  # no mass where log(y + 25) does not exist
    # calibrated on its own kind of data: 90% interval covers ~90% of fresh draws
    Xn, yn = _lognormal_data(rng, 3000)
    s = V.score(FB.ols_log_forecast(X, y, Xn), yn)
    assert 0.87 < s["cov90"] < 0.93
    with pytest.raises(ValueError, match="larger target offset"):
        FB.ols_log_forecast(X, np.full(len(y), -30.0), Xt)


def test_bayes_lognormal_matches_ols_with_much_data_and_widens_with_little(rng):
    X, y = _lognormal_data(rng, 4000)
    Xt = np.zeros((1, 3))
    ols, bay = FB.ols_log_forecast(X, y, Xt), FB.bayes_lognormal_forecast(X, y, Xt, prior_sd=10.0)
    assert bay.median[0] == pytest.approx(ols.median[0], abs=0.5)
    assert bay.q95[0] - bay.q05[0] == pytest.approx(ols.q95[0] - ols.q05[0], rel=0.03)
    # with 12 rows the posterior predictive (Student-t, parameter uncertainty) is wider than plug-in OLS
    few_ols, few_bay = FB.ols_log_forecast(X[:12], y[:12], Xt), FB.bayes_lognormal_forecast(X[:12], y[:12], Xt, prior_sd=10.0)
    assert few_bay.q95[0] - few_bay.q05[0] > few_ols.q95[0] - few_ols.q05[0]
    # a tight prior shrinks the slopes: the predicted medians of two distant rows come together
    two = np.array([[-2.0, 0, 0], [2.0, 0, 0]])
    wide, tight = (FB.bayes_lognormal_forecast(X, y, two, prior_sd=s).median for s in (10.0, 0.001))
    assert abs(tight[1] - tight[0]) < 0.1 * abs(wide[1] - wide[0])


@pytest.fixture(scope="module")
def tiny():
    """Feature frames for 5 synthetic seasons (2020-2024), the same built without game lines, games."""
    games, stats, _ = small_warehouse_frames(seasons=(2020, 2021, 2022, 2023, 2024), weeks=10)
    frame = F.training_frame(stats, games, 2020, 2024)
    nolines = F.training_frame(stats, games.assign(spread_line=np.nan, total_line=np.nan), 2020, 2024)
    return frame, nolines, games


def _valid_cdf(fc, n):
    assert fc.cdf.shape == (n, len(V.GRID))
    assert np.all(np.diff(fc.cdf, axis=1) >= -1e-9) and fc.cdf.min() >= 0 and fc.cdf.max() <= 1


@pytest.mark.parametrize("family", sorted(FB.FAIR_BASELINE_GRID))
def test_every_fair_baseline_runs_on_the_models_features(tiny, family):
    frame, _, _ = tiny
    train, test = S.origin_split(frame, 2022, 2020)
    hp = dict(FB.FAIR_BASELINE_GRID[family][0])
    if family.startswith(("ngboost", "lightgbm")):
        hp["max_estimators"] = 30
    fc, info = FB.fair_baseline(family, hp, train, test, ["proj_carries", "rush_l3", "implied_total"])
    _valid_cdf(fc, len(test))
    assert fc.name.startswith(family + "[")
    if family.startswith(("ngboost", "lightgbm")):
        assert info["trees"]  # early stopping reports the trees it chose
        one_season = train[train["season"] == 2021]
        with pytest.raises(ValueError, match="two training seasons"):
            FB.fair_baseline(family, hp, one_season, test)


# ------------------------------------------------------------------ origins, bet-time variants


def test_origin_split_trains_only_on_earlier_seasons(tiny):
    frame, _, _ = tiny
    train, test = S.origin_split(frame, 2023, 2021)
    assert set(train["season"]) == {2021, 2022} and set(test["season"]) == {2023}
    with pytest.raises(ValueError, match="after the first training season"):
        S.origin_split(frame, 2020, 2020)
    with pytest.raises(ValueError, match="0 test rows"):
        S.origin_split(frame, 2030, 2020)


def test_lagged_implied_total_is_the_previous_games_line(tiny):
    frame, nolines, games = tiny
    lag = S.apply_variant(frame, "implied_total_lag1", games)
    assert len(lag) == len(frame) and (lag["player_id"].to_numpy() == frame["player_id"].to_numpy()).all()
    # change one game's closing line: that game's own rows keep their lagged value; the teams' next game moves
    g = games.sort_values(["season", "week"]).reset_index(drop=True)
    gid = g.loc[len(g) // 2, "game_id"]
    moved = g.copy()
    moved.loc[moved["game_id"] == gid, "total_line"] += 20.0
    lag2 = S.apply_variant(frame, "implied_total_lag1", moved)
    same_game = (frame["game_id"] == gid).to_numpy()
    assert np.allclose(lag2.loc[same_game, "implied_total"], lag.loc[same_game, "implied_total"])
    assert (lag2["implied_total"] - lag["implied_total"]).max() == pytest.approx(10.0)  # half the total
    # rolling points: the features' fallback, and not the closing-line value
    roll = S.apply_variant(frame, "implied_total_rolling_points", no_lines_frame=nolines)
    assert not np.allclose(roll["implied_total"], frame["implied_total"])
    with pytest.raises(ValueError, match="unknown variant"):
        S.apply_variant(frame, "closing_tomorrow")


def test_choice_without_implied_total_drops_it_from_features_and_gate():
    from nfl_bnn.train import load_train_params

    base = load_train_params()
    p = S.choice_params(base, S.Choice("no_implied_total", variant="no_implied_total"))
    assert "implied_total" not in p.features and "implied_total" not in (p.gate_features or [])
    # the additive network keeps two units per remaining hidden feature
    assert "implied_total" not in p.hidden_features and p.hidden_units == 2 * len(p.hidden_features) == 18
    assert "implied_total" in base.features  # the base is untouched
    small = S.choice_params(base, S.Choice("features:small", {"features": ["proj_carries", "rush_l3", "season"]}))
    assert (small.hidden_features, small.hidden_units, small.gate_features) == (["proj_carries", "rush_l3"], 4,
                                                                                ["proj_carries"])
    lin = S.choice_params(base, S.Choice("features:flat", {"features": ["season", "week"]}))
    assert lin.hidden_units == 0 and lin.gate_features is None  # no continuous input left: linear experts
    k2 = S.choice_params(base, S.Choice("n_experts=2", {"n_experts": 2}))
    assert k2.n_experts == 2 and base.n_experts != 2


def test_build_choices_refuses_unknown_features_and_bad_sets():
    cs = S.build_choices(["n_experts=2"], ["small=proj_carries,rush_l3"], bet_time=True)
    assert [c.name for c in cs][:3] == ["default", "n_experts=2", "features:small"]
    assert cs[2].overrides == {"features": ["proj_carries", "rush_l3"]}
    assert {c.variant for c in cs[3:]} == set(S.BET_TIME_VARIANTS)
    assert [c.name for c in S.build_choices([], [], ["no_implied_total"])] == ["default", "no_implied_total"]
    assert [c.name for c in S.build_choices([], [], None)] == ["default"]
    with pytest.raises(SystemExit, match="unknown features"):
        S.build_choices([], ["x=proj_carries,crystal_ball"], False)
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        S.build_choices(["n_experts"], [], False)


def test_candidate_files_are_one_choice_of_several_overrides(tmp_path):
    from pathlib import Path

    from nfl_bnn.train import load_train_params

    shipped = sorted((Path(S.__file__).parent / "candidates").glob("*.yaml"))
    assert shipped, "bench/candidates holds the screened network candidates"
    cs = S.build_choices([], [], None, candidates=[str(f) for f in shipped])
    base = load_train_params()
    for c in cs[1:]:  # every shipped candidate is valid train params, with all its overrides at once
        p = S.choice_params(base, c)
        assert c.name.startswith("cand:") and p.hidden_units > 0
        for key, want in c.overrides.items():  # each override reaches the params (priors: the keys it names)
            got = getattr(p, key)
            got = {k: got.model_dump()[k] for k in want} if isinstance(want, dict) else got
            assert got == want, (c.name, key)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- hidden_units\n")
    with pytest.raises(SystemExit, match="YAML mapping"):
        S.load_candidate(bad)
    with pytest.raises(SystemExit, match="no such file"):
        S.load_candidate(tmp_path / "missing.yaml")
    typo = tmp_path / "typo.yaml"
    typo.write_text("hiden_units: 4\n")
    with pytest.raises(Exception, match="hiden_units"):  # a mistyped key is refused, not ignored
        S.choice_params(base, S.load_candidate(typo))


def test_tune_baselines_picks_the_lowest_mean_crps_over_all_origins():
    rows = pd.DataFrame({
        "method": ["ols_log[offset=15.0]"] * 2 + ["ols_log[offset=25.0]"] * 2 + ["ols_log[offset=40.0]"],
        "origin": [2017, 2018, 2017, 2018, 2017], "crps": [20.0, 20.0, 19.0, 20.5, 1.0]})
    tuned = S.tune_baselines(rows, [2017, 2018])
    # offset 40 scored only 2017: not eligible, however good
    assert tuned["ols_log"]["hp"] == {"offset": 25.0}


# ------------------------------------------------------------------ end to end with a fake model


def _fake_fitter(calls):
    def fit(train, p, first, last):
        calls.append((sorted(train["season"].unique()), list(p.features), first, last))
        return fake_model(feature_names=tuple(p.features), K=2, mean=float(train[F.TARGET].mean()),
                          sd=float(train[F.TARGET].std())), {"steps_per_draw": 1.0, "divergences": 1,
                                                             "divergence_directions": {"scale_c_0": 1}}
    return fit


def test_select_screens_then_scores_final_once(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(FB, "FAIR_BASELINE_GRID", {"ols_log": [{"offset": 15.0}, {"offset": 25.0}],
                                                 "lightgbm_quantile_log": [{"offset": 25.0, "num_leaves": 4,
                                                                            "max_estimators": 20}]})
    # today's untuned baselines cost a minute here (NGBoost, 9 LightGBMs): one cheap stand-in
    monkeypatch.setattr(V, "baselines", lambda train, test, feature_names=None: [
        V.normal_forecast("normal_linear", test["rush_l3"].to_numpy(float), 30.0)])
    calls = []
    out = tmp_path / "screen"
    argv = ["--out", str(out), "--origins", "2022", "--first-season", "2020", "--set", "n_experts=2",
            "--bet-time", "--base-set", "draws=50"]
    assert S.main(argv, fitter=_fake_fitter(calls), frames=tiny) == 0
    # default, n_experts=2 and 3 bet-time variants, each trained on 2020-2021 only
    assert len(calls) == 5 and all(c[0] == [2020, 2021] and c[3] == 2021 for c in calls)
    assert any("implied_total" not in c[1] for c in calls)  # the no_implied_total choice
    rows = S.load_rows(out)
    assert set(rows["origin"]) == {2022}
    ref = rows[rows["method"] == "model:default"]
    assert len(ref) == len(tiny[0][tiny[0]["season"] == 2022])
    t = S.paired_table(rows, "model:default").set_index("method")
    assert t.loc["model:n_experts=2", "n_paired"] == len(ref)
    # the variants are paired with the same baseline on closing lines
    text = (out / "report.md").read_text()
    assert "Bet-time variants" in text and "ols_log[offset=25.0]@implied_total_lag1" in rows["method"].values
    assert "(tuned) | 2022 |" in text and "| model:no_implied_total | 2022 |" in text
    assert "today:normal_linear" in set(rows["method"])  # today's untuned baselines, for comparison
    fits = [json.loads(line) for line in (out / "fits.jsonl").read_text().splitlines()]
    model_fit = next(f for f in fits if f["method"] == "model:default")  # what a divergence ran along
    assert model_fit["divergences"] == 1 and model_fit["divergence_directions"] == {"scale_c_0": 1}
    tuned = json.loads((out / "tuned_baselines.json").read_text())
    assert set(tuned) == {"ols_log", "lightgbm_quantile_log"}
    # a rerun resumes: nothing is fitted again
    S.main(argv, fitter=_fake_fitter(calls), frames=tiny)
    assert len(calls) == 5
    # the test seasons are refused in the screen ...
    with pytest.raises(SystemExit):
        S.main(["--out", str(out), "--origins", "2023"], fitter=_fake_fitter(calls), frames=tiny)
    # ... and scored once, with the frozen hyperparameters, by --final
    fin = tmp_path / "final"
    final_argv = ["--out", str(fin), "--final", "--tuned", str(out / "tuned_baselines.json"), "--first-season", "2020"]
    S.main(final_argv + ["--save-models", str(tmp_path / "models")], fitter=_fake_fitter(calls), frames=tiny)
    # the final's fits are kept for bench.market and bench.projections
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["default_2020_2022.npz", "default_2020_2023.npz"]
    frows = S.load_rows(fin)
    assert set(frows["origin"]) == {2023, 2024}
    assert {"model:default"} | {FB.baseline_name(f, r["hp"]) for f, r in tuned.items()} <= set(frows["method"])
    assert not any("@" in m for m in frows["method"])
    # its report pairs each tuned baseline with the model (the table the README quotes)
    paired = [ln for ln in S.report(fin, "model:default").splitlines() if "(tuned) | 2023,2024 |" in ln]
    assert len(paired) == len(tuned) and all(ln.count("|") > 8 and ln.split("|")[9].strip() for ln in paired)
    assert [c[3] for c in calls[5:]] == [2022, 2023]  # 2023 trains on 2020-2022; 2024 on 2020-2023
    with pytest.raises(SystemExit):
        S.main(final_argv, fitter=_fake_fitter(calls), frames=tiny)
    with pytest.raises(SystemExit):  # no screening choices in the final
        S.main(final_argv[:-2] + ["--set", "n_experts=2"], fitter=_fake_fitter(calls), frames=tiny)


def test_compare_fair_pairs_every_baseline_with_the_model(tiny):
    frame, _, _ = tiny
    train, test = S.origin_split(frame, 2022, 2020)
    names = ["proj_carries", "rush_l3", "implied_total"]
    m = fake_model(feature_names=tuple(names), mean=float(train[F.TARGET].mean()), sd=float(train[F.TARGET].std()))
    t = FB.compare_fair(m, train, test, {"ols_log": {"hp": {"offset": 25.0}},
                                        "bayes_lognormal_k1": {"hp": {"offset": 25.0, "prior_sd": 0.2}}})
    assert list(t["method"]) == ["moe_bnn", "ols_log[offset=25.0]", "bayes_lognormal_k1[offset=25.0,prior_sd=0.2]"]
    assert np.isnan(t.loc[0, "diff_vs_model"])
    # the paired difference is the difference of the mean CRPS (same rows), with a positive SE
    assert t.loc[1, "diff_vs_model"] == pytest.approx(t.loc[1, "CRPS"] - t.loc[0, "CRPS"])
    assert (t.loc[1:, "se"] > 0).all() and (t["n"] == len(test)).all()


def test_roster_eligibility_needs_the_role_tables_and_builds_its_own_cached_frames(tmp_path, monkeypatch):
    """--roster-eligibility (the production rows, for --final) is refused without a warehouse, and its
    frames are cached apart from the box-score rule's, so the two sets of rows never mix."""
    with pytest.raises(SystemExit):
        S.main(["--out", str(tmp_path / "o"), "--roster-eligibility"], fitter=_fake_fitter([]))
    seen = {}

    def fake_training_frame(stats, games, first, last, inj, snaps=None, roles=None):
        seen.setdefault("roles", []).append(roles)
        return pd.DataFrame({"season": [first]})

    import bench.nflverse_frames as NF
    from nfl_bnn import roles as R, warehouse as W

    class FakeWh:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(S.F, "training_frame", fake_training_frame)
    monkeypatch.setattr(NF, "load", lambda: (pd.DataFrame(), pd.DataFrame({"season": [2020]})))
    monkeypatch.setattr(NF, "injuries_frame", lambda: None)
    monkeypatch.setattr(W, "connect", lambda *a, **k: FakeWh())
    monkeypatch.setattr(R, "load_roles", lambda wh: {"rosters": "R"})
    monkeypatch.setattr(R, "load_snaps", lambda wh, a, b: "SNAPS")
    if not (NF.SHARED / "nflverse" / "player_stats_2009_2024.parquet").is_file():
        pytest.skip("../shared/data is absent: _frames refuses to build without the real nflverse files")
    S._frames(tmp_path, 2020, 2021, "W")
    S._frames(tmp_path, 2020, 2021)
    assert seen["roles"] == [{"rosters": "R"}, {"rosters": "R"}, None, None]
    assert (tmp_path / "frame_roster_2020_2021.parquet").is_file() and (tmp_path / "frame_2020_2021.parquet").is_file()


def test_calibration_table_reports_both_bands_per_origin():
    rows = pd.DataFrame({"method": ["model:default"] * 4 + ["model:old"] * 2 + ["ols_log[offset=60.0]"] * 2,
                         "origin": [2023, 2023, 2024, 2024, 2023, 2023, 2023, 2023],
                         "crps": 1.0, "in90": [True, False, True, True, True, True, True, False],
                         "in_1sd": [True, True, False, True, None, None, None, None],
                         "p_1sd": [0.7, 0.8, 0.75, 0.75, None, None, 0.6, 0.7]})
    t = S.calibration_by_origin(rows).set_index(["method", "origin"])
    assert t.loc[("model:default", 2023), "cov90"] == 0.5 and t.loc[("model:default", 2024), "within_1sd"] == 0.5
    assert t.loc[("model:default", 2023), "own_1sd"] == 0.75
    assert np.isnan(t.loc[("model:old", 2023), "within_1sd"])  # rows scored before in_1sd existed
    assert "ols_log[offset=60.0]" not in t.index.get_level_values(0)  # the model's bands only by default
    t = S.calibration_by_origin(rows, ["ols_log[offset=60.0]"]).set_index(["method", "origin"])
    assert list(t.index) == [("ols_log[offset=60.0]", 2023)] and t["own_1sd"].iloc[0] == 0.65


def test_row_scores_hold_the_forecasts_own_one_sd_probability():
    """p_1sd is the forecast's probability of a whole yard within mean +/- sd: for a Normal(50, 20) on
    whole yards it is P(30 <= Y <= 70), about 0.68 plus a bin; in_1sd counts the outcomes inside."""
    from scipy.stats import norm

    test = pd.DataFrame({"week": [1, 1], "game_id": ["g", "g"], "player_id": ["a", "b"],
                         "rushing_yards": [60.0, 75.0]})
    fc = V.normal_forecast("n", np.array([50.0, 50.0]), np.array([20.0, 20.0]))
    rs = S.row_scores("n", 2020, test, fc, mean=[50.0, 50.0], sd=[20.0, 20.0])
    want = norm.cdf(70.5, 50, 20) - norm.cdf(29.5, 50, 20)
    np.testing.assert_allclose(rs["p_1sd"], want, atol=0.01)
    assert rs["in_1sd"].tolist() == [1.0, 0.0]


def test_report_of_the_reference_alone(tmp_path):
    """A --final --what model run scores only the default: its report has no paired rows, and no crash."""
    (tmp_path / "rows").mkdir()
    pd.DataFrame({"method": "model:default", "origin": 2023, "week": [1, 2], "game_id": ["a", "b"],
                  "player_id": ["p", "q"], "y": [10.0, 50.0], "crps": [5.0, 7.0], "in90": [True, False],
                  "in_1sd": [True, True]}).to_parquet(tmp_path / "rows" / "model__default__2023.parquet")
    text = S.report(tmp_path, "model:default")
    assert "| model:default | 2023 | 2 | 0.500 | 1.000 |" in text  # the coverage table: both bands


def test_a_screen_with_tuned_scores_only_the_tuned_settings(tiny, tmp_path, monkeypatch):
    """--tuned on a screen (not --final) reruns the tuned setting of each baseline on the origins, not the grid."""
    monkeypatch.setattr(FB, "FAIR_BASELINE_GRID", {"ols_log": [{"offset": 15.0}, {"offset": 25.0}]})
    monkeypatch.setattr(V, "baselines", lambda train, test, feature_names=None: [
        V.normal_forecast("normal_linear", test["rush_l3"].to_numpy(float), 30.0)])
    tuned = tmp_path / "tuned.json"
    tuned.write_text(json.dumps({"ols_log": {"hp": {"offset": 25.0}}}))
    out = tmp_path / "o"
    S.main(["--out", str(out), "--origins", "2022", "--first-season", "2020", "--what", "baselines",
            "--tuned", str(tuned)], frames=tiny)
    rows = S.load_rows(out)
    assert set(rows["method"]) == {"ols_log[offset=25.0]", "today:normal_linear"}
    assert {"in_1sd", "p_1sd"} <= set(rows.columns) and rows["p_1sd"].between(0, 1).all()
    with pytest.raises(SystemExit):
        S.main(["--out", str(out), "--origins", "2022", "--what", "baselines", "--tuned",
                str(tmp_path / "missing.json")], frames=tiny)
