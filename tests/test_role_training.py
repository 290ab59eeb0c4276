"""Training with role features (issue 13 item 3): the train params accept them, `nfl-bnn train` adds
them from the history's role tables, and they are the numbers the weekly run prices a bet on; the
model-based screen of bench/select.py adds them to its frame once and screens each group.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _fakes import fake_model, fill_small_warehouse, small_warehouse_frames
from pydantic import ValidationError
from test_history import Recorder
from test_roles import role_tables

from bench import select as S
from nfl_bnn import cli, features, pipeline, role_features as RF, roles, schema, train, warehouse
from nfl_bnn.errors import DataError

SEASONS = (2016, 2017, 2018, 2019)
SEASON, WEEK = 2019, 10
KEY = ["game_id", "player_id"]
GAP_BACK = "00-MIA1"  # no snaps, play-by-play or NGS rows in 2018 nor in 2019 before WEEK: his last are 2017's


def _tables(stats: pd.DataFrame, games: pd.DataFrame, rng) -> dict[str, pd.DataFrame]:
    """Role tables of every season (legacy depth charts throughout), and one back whose latest
    after-game rows are two seasons old: a shorter load than training's would give him other numbers."""
    t = role_tables(stats, games, rng)
    s = stats[stats.position == "RB"]
    rank = s.groupby("game_id")["carries"].rank(ascending=False, method="first").astype(int)
    t["depth_charts"] = pd.DataFrame(dict(season=s.season, week=s.week, team=s.team, player_id=s.player_id, slot="RB",
                                          snapshot="weekly", player_name=s.player_name, position="RB",
                                          depth_rank=rank, published_at=pd.NaT))
    for name in roles.AFTER_GAME:
        if "player_id" in t[name]:
            df = t[name]
            gap = (df.player_id == GAP_BACK) & ((df.season == 2018) | ((df.season == SEASON) & (df.week < WEEK)))
            t[name] = df[~gap]
    return {k: roles._typed(k, v[roles.TABLES[k][0]].copy()) for k, v in t.items()}


@pytest.fixture
def wh(wh_url, project_home, rng):
    with warehouse.connect(wh_url) as w:
        games, stats = fill_small_warehouse(w, SEASONS)
        for name, df in _tables(stats, games, rng).items():
            w.upsert_df(f"mart.{name}", df.assign(source="test"))
        yield w


def test_train_params_take_role_features_and_refuse_unknown_names():
    p = train.TrainParams(features=features.FEATURES + RF.GROUPS["snaps"])
    assert p.features[-3:] == ["snap_share_l3", "snap_trend", "has_snaps"]
    with pytest.raises(ValidationError, match=r"snap_shares'\] are built neither .* role features depth_rank"):
        train.TrainParams(features=features.FEATURES + ["snap_shares"])


def test_train_and_the_weekly_run_give_a_back_the_same_role_features(wh, monkeypatch, tmp_path):
    """`nfl-bnn train` (first season 2018) and the weekly run of 2019 week 10: the same role numbers for
    every back, including one whose last snaps, play-by-play and NGS rows are from 2017."""
    used = features.FEATURES + RF.ROLE_FEATURES
    weekly = Recorder(fake_model(used))
    pipeline.run_week(pipeline.load_weekly_params(SEASON, WEEK, bankroll=1000.0), wh=wh, model=weekly, record=False)
    priced = weekly.seen[0]
    assert set(RF.ROLE_FEATURES) <= set(priced.columns)

    params = tmp_path / "train.yaml"
    params.write_text("features: [" + ", ".join(used) + "]\n")
    seen = {}

    def fake_fit(frame, p, first, last):
        seen["frame"] = frame
        raise KeyboardInterrupt  # stop before sampling: the training frame is what is compared

    monkeypatch.setattr(warehouse, "connect", lambda *a, **k: wh)
    monkeypatch.setattr(train, "fit", fake_fit)
    args = cli.build_parser().parse_args(["train", "--first-season", "2018", "--last-season", str(SEASON),
                                          "--params", str(params), "--out", str(tmp_path / "m.npz")])
    with pytest.raises(KeyboardInterrupt):
        args.handler(args)
    trained = seen["frame"]
    trained = trained[(trained.season == SEASON) & (trained.week == WEEK)]
    both = priced[KEY + RF.ROLE_FEATURES].merge(trained[KEY + RF.ROLE_FEATURES], on=KEY, suffixes=("", "_train"))
    assert len(both) >= 8 and GAP_BACK in set(both.player_id)
    for f in RF.ROLE_FEATURES:
        assert np.array_equal(both[f].to_numpy(), both[f + "_train"].to_numpy()), f
    gap = both[both.player_id == GAP_BACK].iloc[0]
    assert gap.snap_share_l3 > 0 and gap.has_snaps == 1 and gap.has_depth == 1  # read from 2017's rows


def test_training_frame_gets_role_features_only_when_used_and_refuses_a_missing_source(wh):
    h = features.load_history(wh, 2018, 2018)
    frame = h.training_frame(2018, 2018)
    assert RF.for_training_if_used(h, frame, features.FEATURES) is frame
    assert sorted(h.roles["snap_counts"].season.unique()) == [2016, 2017, 2018]  # every season, as the weekly run
    out = RF.for_training_if_used(h, frame, features.FEATURES + ["snap_share_l3"])
    assert len(out) == len(frame) and out.has_snaps.eq(1).any()
    empty = type(h)(**{**h.__dict__, "roles": {**h.roles, "snap_counts": roles.empty("snap_counts")}})
    with pytest.raises(DataError, match=r"mart\.snap_counts.*drop \['snap_share_l3'\]"):
        RF.for_training_if_used(empty, frame, features.FEATURES + ["snap_share_l3"])
    with pytest.raises(DataError, match="mart.depth_charts"):
        RF.for_training_if_used(type(h)(**{**h.__dict__, "roles": None}), frame, ["depth_rank"])


# ------------------------------------------------------------------ the model-based screen (bench/select.py)


def test_role_groups_are_screened_as_default_plus_the_group():
    cs = S.build_choices([], ["snap=+snap_share_l3", "own=proj_carries,depth_rank"], None, ["snaps", "depth"])
    assert [c.name for c in cs] == ["default", "features:snap", "features:own", "roles:snaps", "roles:depth"]
    base = train.TrainParams(draws=50)
    assert S.choice_params(base, cs[1]).features == features.FEATURES + ["snap_share_l3"]
    own = S.choice_params(base, cs[2])
    assert own.features == ["proj_carries", "depth_rank"] and own.gate_features == ["proj_carries"]
    assert S.choice_params(base, cs[3]).features == features.FEATURES + RF.GROUPS["snaps"]
    assert S.choice_params(base, cs[0]).features == features.FEATURES and S.uses_roles(cs)
    assert not S.uses_roles(S.build_choices(["n_experts=2"], [], None))
    with pytest.raises(SystemExit, match="unknown features"):
        S.build_choices([], ["x=+snap_shares"], None)
    with pytest.raises(SystemExit, match="unknown group"):
        S.build_choices([], [], None, ["snap"])


def test_select_adds_role_features_once_and_pairs_each_group_with_the_default(tmp_path, rng):
    games, stats, _ = small_warehouse_frames(seasons=(2020, 2021, 2022), weeks=8)
    frame = features.training_frame(stats, games, 2020, 2022)
    url = str(tmp_path / "roles.duckdb")
    with warehouse.connect(url) as w:
        schema.create_schema(w)
        w.upsert_df("mart.snap_counts", _tables(stats, games, rng)["snap_counts"].assign(source="test"))
    calls = []

    def fitter(train_, p, first, last):
        calls.append(list(p.features))
        return fake_model(tuple(p.features), mean=float(train_[features.TARGET].mean()),
                          sd=float(train_[features.TARGET].std())), {}

    out = tmp_path / "screen"
    argv = ["--out", str(out), "--what", "model", "--origins", "2022", "--first-season", "2020",
            "--role-groups", "snaps", "--cache", str(tmp_path / "cache")]
    with pytest.raises(SystemExit, match="--roles-warehouse"):
        S.main(argv, fitter=fitter, frames=(frame, frame, games))
    assert S.main(argv + ["--roles-warehouse", url], fitter=fitter, frames=(frame, frame, games)) == 0
    assert calls == [features.FEATURES, features.FEATURES + RF.GROUPS["snaps"]]
    cached = pd.read_parquet(tmp_path / "cache" / "frame_roles_2020_2024.parquet")
    assert (cached[KEY].to_numpy() == frame[KEY].to_numpy()).all() and cached.has_snaps.eq(1).any()
    rows = S.load_rows(out)
    t = S.paired_table(rows, "model:default").set_index("method")
    assert t.loc["model:roles:snaps", "n_paired"] == (frame.season == 2022).sum()
    rt = S.role_table(rows).set_index("group")
    assert rt.loc["snaps", "gain"] == pytest.approx(t.loc["model:roles:snaps", "ref_CRPS_paired"]
                                                    - t.loc["model:roles:snaps", "CRPS_paired"])
    assert rt.loc["snaps", "earns_its_place"] == (rt.loc["snaps", "gain"] > 1.645 * rt.loc["snaps", "se"])
    assert "2022" in rt and "### Role groups" in (out / "report.md").read_text()
    # built once: a second screen reads the cache without the warehouse
    assert S.main(argv[:2] + ["--out", str(tmp_path / "again")] + argv[2:], fitter=fitter,
                  frames=(frame, frame, games)) == 0


def test_the_backtest_scores_a_role_feature_model_on_the_numbers_the_weekly_run_prices(wh, monkeypatch, tmp_path):
    """`nfl-bnn backtest` hands a model trained with role features the same role numbers as the weekly run
    (it used to stop with 'lacks the model's features')."""
    from nfl_bnn.model import MixtureExpertsBNN

    used = features.FEATURES + RF.ROLE_FEATURES
    weekly = Recorder(fake_model(used))
    pipeline.run_week(pipeline.load_weekly_params(SEASON, WEEK, bankroll=1000.0), wh=wh, model=weekly, record=False)
    scored = Recorder(fake_model(used))
    monkeypatch.setattr(warehouse, "connect", lambda *a, **k: wh)
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: scored))
    args = cli.build_parser().parse_args(["backtest", "--season", str(SEASON), "--model", "m.npz",
                                          "--out", str(tmp_path / "bt.csv")])
    assert args.handler(args) == 0
    seen = scored.seen[0]
    week = seen[(seen.season == SEASON) & (seen.week == WEEK)]
    both = weekly.seen[0][KEY + RF.ROLE_FEATURES].merge(week[KEY + RF.ROLE_FEATURES], on=KEY, suffixes=("", "_bt"))
    assert len(both) >= 8
    for f in RF.ROLE_FEATURES:
        assert np.array_equal(both[f].to_numpy(), both[f + "_bt"].to_numpy()), f
