"""Partial pooling of defences and backs (nfl_bnn/model/effects.py, docs/hierarchical.md): the sampled
graph equals the NumPy forward pass row by row, unseen levels are predicted as designed, the effects
round-trip in the artifact and bad input is refused where it enters."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn.errors import DataError, ModelArtifactError
from nfl_bnn.model import PARAM_SHAPES, MixtureExpertsBNN, mixture_logpmf, mixture_params
from nfl_bnn.model import effects as fx
from tests.test_model import NAMES, make_model


def _ids(rng, n=12):
    return pd.DataFrame({"opponent": rng.choice(["BUF", "DAL", "KC"], n), "season": rng.choice([2020, 2022], n),
                         "player_id": rng.choice(["00-01", "00-02", "00-03", "00-04"], n)})


@pytest.mark.parametrize("opp_mode,backs", [("season", True), ("ar1", True), ("ar1", False), ("none", True)])
def test_effects_graph_equals_the_numpy_forward_pass(rng, opp_mode, backs):
    """Row by row: the graph's log-likelihood with the effects is the NumPy pass's with location_offset."""
    import arviz as az

    from nfl_bnn.model import build_pymc_model, posterior_arrays

    n, d, K = 12, 3, 3
    ids = _ids(rng, n)
    lv = fx.levels(ids, opp_mode, backs)
    assert lv.seasons == ((2020, 2021, 2022) if opp_mode != "none" else ())  # contiguous, for the AR(1)
    Xz, yz = rng.normal(size=(n, d)), rng.integers(-2, 3, size=n).astype(float)
    m = build_pymc_model(Xz, yz, K, 0, likelihood="discrete", bin_halfwidth=0.5, scale_floor=0.1, gate="ordinal",
                         gate_features=[0, 2], priors={"alpha_gap_shape": 4.0}, effects=lv)
    point = {k: v + rng.normal(0, 0.3, size=np.shape(v)) for k, v in m.initial_point().items()}
    pot = m.potentials[0]
    graph_rows = m.compile_fn(m.replace_rvs_by_values([pot.owner.inputs[0]]), inputs=m.value_vars,
                              on_unused_input="ignore")(point)[0]
    names = [k for k in list(PARAM_SHAPES) + list(fx.EFFECT_ARRAYS) if k in m.named_vars]
    det = m.compile_fn(m.replace_rvs_by_values([m[k] for k in names]), inputs=m.value_vars,
                       on_unused_input="ignore")(point)
    post = az.from_dict(posterior={k: np.asarray(v)[None, None] for k, v in zip(names, det)}).posterior
    arrs = {k: v[0] for k, v in posterior_arrays(az.InferenceData(posterior=post), d, K, 0).items()}
    arrs.update({k: v[0] for k, v in fx.posterior_effects(post).items()})
    off = fx.location_offset(arrs, fx.effects_meta(lv, "sample"), ids)
    assert off.shape == (1, n) and np.abs(off).min() > 0  # the effects are not zero, so dropping them shows
    w, mu, sigma = mixture_params(arrs, Xz, 0.0, 1.0, dtype=np.float64, scale_floor=0.1, gate="ordinal",
                                  loc_offset=off)
    np.testing.assert_allclose(mixture_logpmf(yz, w, mu, sigma)[0], graph_rows, rtol=1e-7)
    # the in-sample offset used by the fit's diagnostics is the same as prediction's for known levels
    np.testing.assert_allclose(fx.train_offset(arrs, lv, np.ones(n, bool)), off)
    if opp_mode == "ar1":  # the graph's AR(1) has unit stationary variance: L @ L.T = rho^|i - j|
        L = fx._ar1_matrix(0.6, 4).eval()
        lag = np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
        np.testing.assert_allclose(L @ L.T, 0.6**lag, atol=1e-12)


def _effects_model(rng, S=400, opp_mode="ar1", backs=True, unseen="sample"):
    m = make_model(rng, S=S)
    meta = {"opp_mode": opp_mode, "teams": ["BUF", "KC"], "seasons": [2021, 2022],
            "backs": ["00-01", "00-02"] if backs else [], "unseen": unseen}
    p = dict(m.params)
    if opp_mode != "none":
        p["opp_effect"] = rng.normal(0.3, 0.1, size=(S, 4)).astype(np.float32)
        p["opp_sigma"] = np.full(S, 0.2, np.float32)
        if opp_mode == "ar1":
            p["opp_rho"] = np.full(S, 0.5, np.float32)
    if backs:
        p["back_effect"] = rng.normal(0.5, 0.1, size=(S, 2)).astype(np.float32)
        p["back_sigma"] = np.full(S, 0.3, np.float32)
    return MixtureExpertsBNN(p, dict(m.meta, effects=meta))


def _rows(rng, opponent, season, player, n=1):
    X = pd.DataFrame(rng.normal(1, 2, size=(n, 3)), columns=NAMES)
    return X.assign(opponent=opponent, season=season, player_id=player)


def test_known_levels_use_their_draws_and_unseen_levels_follow_the_model(rng):
    m = _effects_model(rng)
    eff = m.params["opp_effect"].reshape(-1, 2, 2)
    X = pd.concat([_rows(rng, "KC", 2022, "00-02"), _rows(rng, "KC", 2024, "00-09"), _rows(rng, "NYJ", 2022, "00-09"),
                   _rows(rng, "KC", 2024, "00-09")], ignore_index=True)
    off = fx.location_offset(m.params, m.meta["effects"], X)
    np.testing.assert_allclose(off[:, 0], eff[:, 1, 1] + m.params["back_effect"][:, 1], rtol=1e-6)
    # KC two seasons after the last: AR(1) forecast rho^2 * last effect, sd sqrt(0.2^2 (1 - rho^4) + 0.3^2)
    assert off[:, 1].mean() == pytest.approx(0.25 * eff[:, 1, 1].mean(), abs=0.05)
    assert off[:, 1].std() == pytest.approx(np.sqrt(0.04 * (1 - 0.5**4) + 0.09), rel=0.12)
    # an unknown defence: stationary sd 0.2 around 0; the same key draws the same noise in every call
    assert abs(off[:, 2].mean()) < 0.06 and off[:, 2].std() == pytest.approx(np.sqrt(0.04 + 0.09), rel=0.12)
    np.testing.assert_array_equal(off[:, 1], off[:, 3])
    np.testing.assert_array_equal(off, fx.location_offset(m.params, m.meta["effects"], X))
    zero = fx.location_offset(m.params, m.meta["effects"], X, unseen="zero")
    np.testing.assert_allclose(zero[:, 1], 0.25 * eff[:, 1, 1], rtol=1e-6)
    assert (zero[:, 2] == 0).all()
    season = _effects_model(rng, opp_mode="season", backs=False)
    np.testing.assert_array_equal(fx.location_offset(season.params, season.meta["effects"], X, "zero")[:, 1], 0.0)
    # prediction: the effect moves the predictive; "sample" widens it for a new back, "zero" does not
    m.unseen_effects = "zero"
    narrow = m.predict(X)
    m.unseen_effects = None
    wide = m.predict(X)
    assert wide["sd"].iloc[2] > narrow["sd"].iloc[2] and wide["sd"].iloc[1] > narrow["sd"].iloc[1]
    pd.testing.assert_series_equal(wide.iloc[0], narrow.iloc[0])  # known levels: no unseen draws at all
    plain = MixtureExpertsBNN({k: v for k, v in m.params.items() if k not in fx.EFFECT_ARRAYS},
                              {k: v for k, v in m.meta.items() if k != "effects"})
    assert m.predict(X)["mean"].iloc[0] > plain.predict(X)["mean"].iloc[0] + 5  # +0.9 sd of log-yards


def test_effects_round_trip_and_bad_effect_arrays_are_refused(rng, tmp_path):
    m = _effects_model(rng, S=60)
    X = _rows(rng, "BUF", 2022, "00-01", n=5)
    loaded = MixtureExpertsBNN.load(m.save(tmp_path / "fx.npz"))
    assert loaded.meta["effects"] == m.meta["effects"]
    pd.testing.assert_frame_equal(loaded.predict(X), m.predict(X))
    with pytest.raises(ModelArtifactError, match="back_effect.*shape"):
        MixtureExpertsBNN(dict(m.params, back_effect=m.params["back_effect"][:, :1]), m.meta)
    with pytest.raises(ModelArtifactError, match="opp_rho"):
        MixtureExpertsBNN({k: v for k, v in m.params.items() if k != "opp_rho"}, m.meta)
    with pytest.raises(ModelArtifactError, match="no 'effects' keys"):
        MixtureExpertsBNN(m.params, {k: v for k, v in m.meta.items() if k != "effects"})
    with pytest.raises(DataError, match="ID columns.*player_id"):
        m.predict(X.drop(columns=["player_id"]))
    with pytest.raises(DataError, match="no value in.*opponent"):
        m.predict(X.assign(opponent=None))


def test_effect_options_are_validated_where_they_enter(rng):
    from nfl_bnn.errors import ConfigError
    from nfl_bnn.model import build_pymc_model
    from nfl_bnn.train import load_train_params

    with pytest.raises((ConfigError, ValueError), match="opp_effects"):
        load_train_params(opp_effects="team")
    with pytest.raises((ConfigError, ValueError), match="unseen_effects"):
        load_train_params(unseen_effects="mean")
    assert load_train_params().opp_effects == "none" and not load_train_params().back_effects
    with pytest.raises(DataError, match="opp_effects must be one of"):
        fx.levels(_ids(rng), "team")
    with pytest.raises(DataError, match="back_effects need the ID columns"):
        fx.levels(_ids(rng).drop(columns=["player_id"]), "none", True)
    lv = fx.levels(_ids(rng, 5), "season", False)
    with pytest.raises(ValueError, match="5 row levels for 4 rows"):
        build_pymc_model(np.zeros((4, 2)), np.zeros(4), 2, 0, effects=lv)


def test_a_fit_with_both_effects_runs_end_to_end(rng, tmp_path):
    """nutpie on rows with ids: the defence and back effects are sampled, saved, reloaded and predict."""
    from nfl_bnn.features import FEATURES
    from nfl_bnn.train import fit, load_train_params

    n = 240
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df["season"] = np.repeat([2020, 2021], n // 2)
    df["opponent"] = rng.choice(["BUF", "DAL", "KC", "NYJ"], n)
    df["player_id"] = rng.choice([f"00-{i:02d}" for i in range(12)], n)
    back = df["player_id"].str[-2:].astype(int).to_numpy()
    df["rushing_yards"] = np.round(np.exp(3.8 + 0.3 * df["proj_carries"] + 0.05 * (back - 6)
                                          + rng.normal(0, 0.4, n)) - 20)
    p = load_train_params(draws=40, tune=60, chains=2, keep_draws=60, opp_effects="ar1", back_effects=True)
    model, diag = fit(df, p, 2020, 2021)
    assert {"opp_sigma_mean", "opp_rho_mean", "back_sigma_mean"} <= set(diag) and diag["back_sigma_mean"] > 0
    assert model.params["opp_effect"].shape == (60, 4 * 2) and model.params["back_effect"].shape == (60, 12)
    loaded = MixtureExpertsBNN.load(model.save(tmp_path / "fx.npz"))
    pred = loaded.predict(df.iloc[:30].assign(season=2022))  # a new season: the AR(1) forecast
    assert np.isfinite(pred["mean"]).all()
    # the backs' true effects rise with their number; their posterior means follow
    assert np.corrcoef(model.params["back_effect"].mean(axis=0), np.arange(12))[0, 1] > 0.3


def test_the_feature_frames_carry_the_ids_the_effects_are_keyed_by():
    """Training, bench and the weekly run all predict from nfl_bnn.features frames: their ID columns
    must hold what location_offset looks up, or a model with effects could not price a week."""
    from nfl_bnn.features import COLUMNS, ID_COLUMNS

    assert set(fx.OPP_COLUMNS + fx.BACK_COLUMNS) <= set(ID_COLUMNS) <= set(COLUMNS)
