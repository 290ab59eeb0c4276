"""Honest model selection (issue 15 items 2, 3, 6): rolling origins, paired CRPS differences.

Every modelling choice is scored on rolling origins (default 2017-2022: for each origin season S,
train on ``--first-season``..S-1 and score S), as a paired difference in per-row CRPS against the
default (params/train.yaml as given), with a standard error clustered by week (Diebold-Mariano
style: rows of one week share games and news). The seasons used to choose (2017-2022) are never the
seasons used to report: 2023 and 2024 are scored ONCE, with ``--final``, after the choices are
frozen; a second ``--final`` into the same output folder is refused (use a new folder and say so).

What it can screen:

* ``--set KEY=VALUE``: one override of the train params each, compared one at a time with the
  default (``--set n_experts=2 --set hidden_units=2`` = two choices, not one);
* ``--candidate FILE.yaml``: one choice of several overrides together (a YAML mapping of train
  params, e.g. ``bench/candidates/additive_per_expert.yaml``), named after the file;
* ``--features NAME=f1,f2,...``: a candidate feature set (the gate keeps the gate features that are
  in it); ``NAME=+f1,f2`` adds the features to the default's. Role features
  (:mod:`nfl_bnn.role_features`) may be named too;
* ``--role-groups G ...``: issue 13's model-based screen, the default features plus each role group
  (:data:`nfl_bnn.role_features.GROUPS`: depth, roster, snaps, red_zone, efficiency, opp_run_def, ngs).
  The role features are added to the frame from the role tables of ``--roles-warehouse`` (a DuckDB
  copy of the full warehouse; the frame itself is still built from ../shared), once, and cached.
  Choose origins where the group's source exists in training and test seasons
  (:data:`nfl_bnn.role_features.FIRST_SEASON`; docs/roles.md);
* ``--bet-time``: issue 15 item 6, the ``implied_total`` feature as a Tuesday bet would know it
  (it is computed from closing spread and total, which a Tuesday bet cannot see). Variants: without
  the feature, the team's implied total of its previous game (a closing line of a game already played),
  and the team's rolling points (the features' own no-line fallback). Scored for the model and, as a
  cheap proxy, for the tuned baselines;
* the fair baselines of :mod:`nfl_bnn.fair_baselines` (``FAIR_BASELINE_GRID``): each hyperparameter
  setting on every origin; the best by mean CRPS over the origins is written to
  ``OUT/tuned_baselines.json``, which ``--final`` uses.

``--base-set KEY=VALUE`` changes the settings of every model fit (default included), e.g. fewer
draws when CPU is short: the report states them. Per-row scores are written to ``OUT/rows/`` and
the report (``OUT/report.md``) is rebuilt from all of them, so the baselines and the model can be run
separately (``--what``) and the slow model runs resumed origin by origin.

    .venv/bin/python -m bench.select --out /tmp/sel --what baselines
    .venv/bin/python -m bench.select --out /tmp/sel --what model --bet-time --base-set draws=150 --base-set tune=150
    .venv/bin/python -m bench.select --out /tmp/sel --report            # the tables from what is there
    .venv/bin/python -m bench.select --out /tmp/sel_final --final --tuned /tmp/sel/tuned_baselines.json
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import parse_sets  # noqa: E402
from nfl_bnn import fair_baselines as FB, features as F, role_features as RF, validate as V  # noqa: E402
from nfl_bnn.model.forward import predictive_moments  # noqa: E402

log = logging.getLogger("bench.select")
SCREEN_ORIGINS = list(range(2017, 2023))
FINAL_ORIGINS = [2023, 2024]
DEFAULT = "default"
BET_TIME_VARIANTS = ("no_implied_total", "implied_total_lag1", "implied_total_rolling_points")


@dataclass
class Choice:
    """A modelling choice: train-param overrides and/or a frame transform (a feature variant)."""

    name: str
    overrides: dict = field(default_factory=dict)
    variant: str | None = None  # one of BET_TIME_VARIANTS, or None
    extra_features: list[str] = field(default_factory=list)  # added to the base's features


# ------------------------------------------------------------------------------------------ frames


def origin_split(frame: pd.DataFrame, origin: int, first_season: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train: first_season..origin-1, test: origin). Nothing of the origin season or later trains."""
    if origin <= first_season:
        raise ValueError(f"origin {origin} must be after the first training season {first_season}")
    train = frame[(frame["season"] >= first_season) & (frame["season"] < origin)].reset_index(drop=True)
    test = frame[frame["season"] == origin].reset_index(drop=True)
    if train.empty or test.empty:
        raise ValueError(f"origin {origin}: {len(train)} training rows ({first_season}-{origin - 1}) and "
                         f"{len(test)} test rows; the frame holds seasons {sorted(frame['season'].unique())}")
    return train, test


def lagged_implied_totals(games: pd.DataFrame) -> pd.DataFrame:
    """(game_id, team, implied_total_lag1): the team's implied total in its previous regular-season
    game (that game's closing line, public before this week's Tuesday). First game: league points."""
    tg = F.implied_totals(games).sort_values(["team", "t"])
    lag = tg.groupby("team")["implied_raw"].shift(1)
    tg["implied_total_lag1"] = lag.fillna(F.LEAGUE_POINTS)
    return tg[["game_id", "team", "implied_total_lag1"]]


def apply_variant(frame: pd.DataFrame, variant: str | None, games: pd.DataFrame | None = None,
                  no_lines_frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The frame with ``implied_total`` as a bet-time variant would have it (same rows, same order).

    ``no_lines_frame`` is the feature frame built from games without spread and total (the features'
    fallback: the team's rolling points); ``games`` gives the lagged lines.
    """
    if variant in (None, "no_implied_total"):
        return frame
    out = frame.copy()
    key = ["game_id", "player_id"]
    if variant == "implied_total_lag1":
        if games is None:
            raise ValueError("implied_total_lag1 needs the games frame")
        lag = frame[key + ["team"]].merge(lagged_implied_totals(games), on=["game_id", "team"], how="left")
        vals = lag["implied_total_lag1"].to_numpy(float)
    elif variant == "implied_total_rolling_points":
        if no_lines_frame is None:
            raise ValueError("implied_total_rolling_points needs the frame built without game lines")
        vals = frame[key].merge(no_lines_frame[key + ["implied_total"]], on=key, how="left")["implied_total"].to_numpy(float)
    else:
        raise ValueError(f"unknown variant {variant!r}; known: {BET_TIME_VARIANTS}")
    if np.isnan(vals).any():
        raise ValueError(f"{variant}: {int(np.isnan(vals).sum())} rows without a value")
    out["implied_total"] = vals
    return out


def _narrowed(base, features: list[str], over: dict) -> dict:
    """Overrides that keep the gate's and the hidden units' inputs within ``features``: the gate and the
    network read only given features, and an additive network keeps its units per feature."""
    out = {}
    if "gate_features" not in over and base.gate_features is not None:
        out["gate_features"] = [f for f in base.gate_features if f in features] or None
    if "hidden_features" not in over and base.hidden_features is not None and base.hidden_units:
        kept = [f for f in base.hidden_features if f in features]
        per = base.hidden_units // len(base.hidden_features) if base.network.startswith("additive") else None
        out["hidden_features"] = kept or None
        out["hidden_units"] = (per * len(kept) if per else base.hidden_units) if kept else 0
    return out


def choice_params(base, choice: Choice):
    """The TrainParams of a choice: the base with its overrides; without implied_total when asked."""
    over = dict(choice.overrides)
    if "features" in over:  # a feature set keeps the gate and hidden features that are in it
        over = {**_narrowed(base, over["features"], over), **over}
    p = base.model_copy(update={}) if not over else type(base).model_validate({**base.model_dump(), **over})
    if choice.extra_features:
        p = type(base).model_validate({**p.model_dump(),
                                       "features": p.features + [f for f in choice.extra_features
                                                                 if f not in p.features]})
    if choice.variant == "no_implied_total":
        feats_ = [f for f in p.features if f != "implied_total"]
        p = type(base).model_validate({**p.model_dump(), **_narrowed(p, feats_, {}), "features": feats_})
    return p


# ------------------------------------------------------------------------------------------ scoring


def row_scores(method: str, origin: int, test: pd.DataFrame, fc: V.Forecast, mean=None, sd=None) -> pd.DataFrame:
    """One row per scored player-game: method, origin, week cluster, ids, y, CRPS, inside the 90% interval,
    within mean +/- 1 sd (``in_1sd``) and the forecast's own probability of that (``p_1sd``: what the
    share within 1 sd should be if the forecast is calibrated, :func:`nfl_bnn.validate.own_mass`).
    ``mean``/``sd`` replace the forecast's grid moments (the model's exact predictive moments)."""
    y = test[F.TARGET].to_numpy(float)
    m = fc.mean if mean is None else np.asarray(mean, float)
    s = fc.sd if sd is None else np.asarray(sd, float)
    return pd.DataFrame({"method": method, "origin": int(origin), "week": test["week"].to_numpy(int),
                         "game_id": test["game_id"].to_numpy(), "player_id": test["player_id"].to_numpy(),
                         "y": y, "crps": V.crps_rows(fc, y),
                         "in90": ((y >= fc.q05) & (y <= fc.q95)).astype(float),
                         "in_1sd": (np.abs(y - m) <= s).astype(float),
                         "p_1sd": V.own_mass(fc.cdf, m - s, m + s)})


def paired_table(rows: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per method: origins, rows, mean CRPS and 90% coverage over all its rows; then, on the rows it
    shares with ``reference``, both mean CRPS and the paired difference (negative = better than the
    reference) with its SE clustered by (origin, week). Only the paired columns compare like with
    like when methods were scored on different origins."""
    key = ["origin", "game_id", "player_id"]
    ref = rows[rows["method"] == reference][key + ["crps"]].rename(columns={"crps": "crps_ref"})
    out = []
    for method, part in rows.groupby("method", sort=False):
        rec = {"method": method, "origins": ",".join(str(o) for o in sorted(part["origin"].unique())),
               "n": len(part), "CRPS": part["crps"].mean(), "cov90": part["in90"].mean()}
        both = part.merge(ref, on=key)
        if method != reference and len(both):
            pdiff = V.paired_difference(both["crps"].to_numpy(), both["crps_ref"].to_numpy(),
                                        both["origin"].astype(str) + "-" + both["week"].astype(str))
            rec.update({"n_paired": pdiff["n"], "CRPS_paired": both["crps"].mean(),
                        "ref_CRPS_paired": both["crps_ref"].mean(), "diff_vs_ref": pdiff["diff"],
                        "se": pdiff["se"], "t": pdiff["t"]})
        out.append(rec)
    t = pd.DataFrame(out)
    if "n_paired" in t:
        t["n_paired"] = t["n_paired"].astype("Int64")
    return t


def variant_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Item 6: each bet-time variant against the same method with closing lines, paired on the rows
    both scored (positive = the closing lines made that method look better than a bet could be)."""
    key = ["origin", "game_id", "player_id"]
    pairs = [(m, m.split("@")[0], m.split("@")[1]) for m in rows["method"].unique() if "@" in m]
    pairs += [(f"model:{v}", f"model:{DEFAULT}", v) for v in BET_TIME_VARIANTS
              if f"model:{v}" in set(rows["method"])]
    recs = []
    for m, base_m, variant in pairs:
        both = rows[rows["method"] == m].merge(rows[rows["method"] == base_m][key + ["crps"]], on=key,
                                               suffixes=("", "_closing"))
        if len(both):
            d = V.paired_difference(both["crps"].to_numpy(), both["crps_closing"].to_numpy(),
                                    both["origin"].astype(str) + "-" + both["week"].astype(str))
            recs.append({"method": base_m, "variant": variant,
                         "origins": ",".join(str(o) for o in sorted(both["origin"].unique())), "n": d["n"],
                         "CRPS_closing": both["crps_closing"].mean(), "CRPS_variant": both["crps"].mean(),
                         "diff_vs_closing": d["diff"], "se": d["se"], "t": d["t"]})
    return pd.DataFrame(recs)


def role_table(rows: pd.DataFrame, reference: str = f"model:{DEFAULT}") -> pd.DataFrame:
    """Issue 13's screen: each role group's gain over the default (reference CRPS - group CRPS, positive =
    the group helps), pooled over its origins with the (origin, week)-clustered SE and per origin, and
    whether it earns its place (gain > 1.645 SE, one-sided 5%)."""
    key = ["origin", "game_id", "player_id"]
    ref = rows[rows["method"] == reference][key + ["crps"]].rename(columns={"crps": "crps_ref"})
    recs = []
    for method, part in rows[rows["method"].str.startswith("model:roles:")].groupby("method", sort=False):
        both = part.merge(ref, on=key)
        if not len(both):
            continue
        d = V.paired_difference(both["crps_ref"].to_numpy(), both["crps"].to_numpy(),
                                both["origin"].astype(str) + "-" + both["week"].astype(str))
        rec = {"group": method.removeprefix("model:roles:"), "n": d["n"], "default_CRPS": both["crps_ref"].mean(),
               "group_CRPS": both["crps"].mean(), "gain": d["diff"], "se": d["se"], "gain/se": d["t"],
               "earns_its_place": bool(d["diff"] > 1.645 * d["se"])}
        for o, b in both.groupby("origin"):
            e = V.paired_difference(b["crps_ref"].to_numpy(), b["crps"].to_numpy(), b["week"].to_numpy())
            rec[str(o)] = f"{e['diff']:+.3f} ± {e['se']:.3f}"
        recs.append(rec)
    return pd.DataFrame(recs)


def per_origin(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean CRPS by method (rows) and origin (columns)."""
    return rows.pivot_table(index="method", columns="origin", values="crps", aggfunc="mean", sort=False)


def tune_baselines(rows: pd.DataFrame, origins: list[int]) -> dict[str, dict]:
    """For each baseline family, the hyperparameters with the lowest mean CRPS over ``origins``
    (only settings scored on every one of them count)."""
    best: dict[str, tuple[float, dict]] = {}
    for method, part in rows[rows["method"].str.contains(r"\[")].groupby("method"):
        if set(origins) - set(part["origin"]):
            continue
        family, _, inner = method.partition("[")
        hp = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in inner.rstrip("]").split(",") if kv)}
        score = float(part[part["origin"].isin(origins)]["crps"].mean())
        if family not in best or score < best[family][0]:
            best[family] = (score, hp)
    return {fam: {"hp": hp, "screen_crps": s, "origins": origins} for fam, (s, hp) in best.items()}


# ------------------------------------------------------------------------------------------ running


Fitter = Callable  # (train, params, first_season, last_season) -> (model, diag)


def run_model(choice: Choice, base, frame: pd.DataFrame, origins: list[int], first_season: int, out: Path,
              fitter: Fitter, games=None, no_lines_frame=None, save_models: Path | None = None) -> list[Path]:
    """Fit and score one choice on each origin; each origin's rows are written as soon as it is done
    (an origin already in ``out/rows`` is skipped, so a long run resumes). ``save_models``: also save each
    fit there as ``{choice}_{first}_{S-1}.npz`` (e.g. the final's fits, for bench.market and bench.projections)."""
    p = choice_params(base, choice)
    fr = apply_variant(frame, choice.variant, games, no_lines_frame)
    written = []
    for S in origins:
        path = out / "rows" / f"model__{choice.name}__{S}.parquet"
        if path.is_file():
            log.info("%s %d: already scored (%s)", choice.name, S, path)
            continue
        train, test = origin_split(fr, S, first_season)
        t0 = time.perf_counter()
        model, diag = fitter(train, p, first_season, S - 1)
        # scored through its grid CDF alone, like every baseline (quantiles for in90 interpolated on the
        # same grid); model.predict's exact quantiles would add minutes per origin and change no CRPS
        tgt = model.meta["target"]
        mom = predictive_moments(*model.mixture(test), tgt.get("transform", "identity"), float(tgt.get("offset", 0.0)))
        # mean +/- 1 sd from the exact predictive moments (issue 15's band), not the grid's
        rs = row_scores(f"model:{choice.name}", S, test, V.from_cdf("moe_bnn", model.cdf(test, V.GRID)),
                        mom["mean"], mom["sd"])
        if save_models is not None:
            Path(save_models).mkdir(parents=True, exist_ok=True)
            model.save(Path(save_models) / f"{choice.name.replace('/', '_')}_{first_season}_{S - 1}.npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        rs.to_parquet(path)
        _append_fitlog(out, {"method": f"model:{choice.name}", "origin": S,
                             "fit_and_score_s": round(time.perf_counter() - t0, 1),
                             **{("sampler_s" if k == "wall_s" else k): diag.get(k)
                                for k in ("steps_per_draw", "divergences", "divergence_directions", "rhat_pred_max",
                                          "ess_pred_min", "treedepth_hits", "wall_s")
                                if isinstance(diag, dict) and k in diag}})
        log.info("model %s %d: CRPS %.3f (%.0f s)", choice.name, S, rs["crps"].mean(), time.perf_counter() - t0)
        written.append(path)
    return written


def run_baselines(grid: dict[str, list[dict]], frame: pd.DataFrame, origins: list[int], first_season: int,
                  out: Path, feature_names: list[str], tag: str = "", variant: str | None = None,
                  games=None, no_lines_frame=None) -> list[Path]:
    """Score every (family, hyperparameters) of ``grid`` on each origin, on ``feature_names``."""
    fr = apply_variant(frame, variant, games, no_lines_frame)
    names = [f for f in feature_names if not (variant == "no_implied_total" and f == "implied_total")]
    written = []
    for S in origins:
        train, test = origin_split(fr, S, first_season)
        for family, settings in grid.items():
            for hp in settings:
                method = FB.baseline_name(family, hp) + (f"@{tag}" if tag else "")
                path = out / "rows" / f"base__{method}__{S}.parquet"
                if path.is_file():
                    continue
                fc, info = FB.fair_baseline(family, hp, train, test, names)
                path.parent.mkdir(parents=True, exist_ok=True)
                rs = row_scores(method, S, test, fc)
                rs.to_parquet(path)
                _append_fitlog(out, {"method": method, "origin": S, **info})
                log.info("%s %d: CRPS %.3f", method, S, rs["crps"].mean())
                written.append(path)
    return written


def run_today_baselines(frame: pd.DataFrame, origins: list[int], first_season: int, out: Path,
                        feature_names: list[str]) -> list[Path]:
    """Today's untuned baselines (:func:`nfl_bnn.validate.baselines`: yards target, Normal or
    residual distributions, fixed hyperparameters), for comparison with the fair ones."""
    written = []
    for S in origins:
        path = out / "rows" / f"today__{S}.parquet"
        if path.is_file():
            continue
        train, test = origin_split(frame, S, first_season)
        rs = pd.concat([row_scores(f"today:{fc.name}", S, test, fc)
                        for fc in V.baselines(train, test, feature_names=feature_names)])
        path.parent.mkdir(parents=True, exist_ok=True)
        rs.to_parquet(path)
        written.append(path)
    return written


def _append_fitlog(out: Path, rec: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "fits.jsonl", "a") as fh:
        fh.write(json.dumps(rec, default=str) + "\n")


def load_rows(out: Path) -> pd.DataFrame:
    files = sorted((out / "rows").glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no scored rows under {out / 'rows'}; run with --what first")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def markdown_table(t: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table (no tabulate dependency); floats to ``digits`` decimals, NaN blank."""
    def cell(v) -> str:
        if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
            return ""
        if isinstance(v, (float, np.floating)):
            return f"{v:.{digits}f}"
        return str(v)
    lines = ["| " + " | ".join(map(str, t.columns)) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in t.itertuples(index=False)]
    return "\n".join(lines)


def calibration_by_origin(rows: pd.DataFrame, methods: list[str] | None = None) -> pd.DataFrame:
    """Per method (default: the model's choices) and origin: rows, share inside the 90% interval, share
    within mean +/- 1 sd and what that share should be if the forecast is calibrated (``own_1sd``, the
    mean of ``p_1sd``); rows scored before these were recorded leave them blank."""
    m = rows[rows["method"].isin(methods) if methods is not None else rows["method"].str.startswith("model:")]
    if m.empty:
        return pd.DataFrame()
    m = m.assign(in90=m["in90"].astype(float))
    agg = {"n": ("crps", "size"), "cov90": ("in90", "mean")}
    for col, name in (("in_1sd", "within_1sd"), ("p_1sd", "own_1sd")):
        if col in m:
            m = m.assign(**{col: m[col].astype(float)})
            agg[name] = (col, "mean")
    return m.groupby(["method", "origin"]).agg(**agg).round(3).reset_index()


def report(out: Path, reference: str, header: str = "") -> str:
    """Markdown tables from every scored row in ``out`` (and ``out/tuned_baselines.json`` if there):

    1. the model's choices, the tuned baselines and today's baselines against ``reference`` (the
       default model), paired on the rows the reference was scored on;
    2. the baseline hyperparameter screen, every setting on every origin it was scored on;
    3. the bet-time variants against closing lines (item 6);
    4. mean CRPS by origin of the methods in table 1.
    """
    rows = load_rows(out)
    fmt = markdown_table
    parts = [header, ""] if header else []
    tuned_path = out / "tuned_baselines.json"
    tuned = json.loads(tuned_path.read_text()) if tuned_path.is_file() else {}
    tuned_names = {FB.baseline_name(f, r["hp"]) for f, r in tuned.items()}
    methods = set(rows["method"])
    main_set = [m for m in methods if m.startswith(("model:", "today:")) or m in tuned_names]
    if reference in methods:
        t = paired_table(rows[rows["method"].isin(main_set)], reference)
        t["method"] = [m + (" (tuned)" if m in tuned_names else "") for m in t["method"]]
        parts += [f"### Choices and baselines vs `{reference}` (negative = better; SE clustered by week)", "",
                  fmt(t.sort_values("diff_vs_ref", na_position="first") if "diff_vs_ref" in t else t), ""]
    grid = rows[rows["method"].str.contains(r"\[") & ~rows["method"].str.contains("@")]
    if len(grid):
        ref_b = min(tuned_names & set(grid["method"]), default=None, key=lambda m: grid.loc[grid["method"] == m, "crps"].mean())
        g = (paired_table(grid, ref_b) if ref_b else paired_table(grid, ""))
        cols = [c for c in ["method", "origins", "n", "CRPS", "cov90", "diff_vs_ref", "se"] if c in g]
        parts += [f"### Baseline hyperparameter screen (diff to the best tuned baseline `{ref_b}`)", "",
                  fmt(g[cols].sort_values("CRPS")), ""]
    rt = role_table(rows, reference)
    if len(rt):
        parts += ["### Role groups: default + group vs default (gain > 0 = the group helps; earns its place "
                  "when gain > 1.645 SE)", "", fmt(rt.fillna("")), ""]
    vt = variant_table(rows)
    if len(vt) and tuned_names:  # only the tuned setting of each baseline (earlier screens leave others)
        vt = vt[vt["method"].isin(tuned_names) | vt["method"].str.startswith("model:")]
    if len(vt):
        parts += ["### Bet-time variants of implied_total vs closing lines (positive = closing lines flatter)",
                  "", fmt(vt), ""]
    parts += ["### Mean CRPS by origin season", "",
              fmt(per_origin(rows[rows["method"].isin(main_set)]).reset_index().rename(columns=str)), ""]
    cal_methods = sorted(m for m in set(rows["method"]) if m.startswith("model:") or m in tuned_names)
    cal = calibration_by_origin(rows, cal_methods)
    if len(cal):
        parts += ["### Interval coverage by origin (targets: 90% interval 0.88-0.92; mean +/- 1 sd 0.64-0.72; "
                  "own_1sd: the forecast's own probability of mean +/- 1 sd, what within_1sd is if it is "
                  "calibrated)", "", fmt(cal), ""]
    text = "\n".join(parts)
    (out / "report.md").write_text(text)
    return text


def load_candidate(path: str | Path) -> Choice:
    """A ``--candidate`` file: a YAML mapping of train-param overrides, one choice named after the file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"--candidate {path}: no such file")
    over = yaml.safe_load(path.read_text())
    if not isinstance(over, dict) or not over:
        raise SystemExit(f"--candidate {path}: must be a YAML mapping of train params, e.g. 'hidden_units: 20'")
    return Choice(f"cand:{path.stem}", over)


def build_choices(sets: list[str], feature_sets: list[str], bet_time: bool | list[str],
                  role_groups: list[str] = (), candidates: list[str] = ()) -> list[Choice]:
    """The default plus one choice per ``--set``, per ``--candidate`` file, per ``--features NAME=f1,f2``
    (``NAME=+f1,f2``: added to the default's), per role group and per bet-time variant."""
    choices = [Choice(DEFAULT)]
    for key, value in parse_sets(sets, "--set"):
        choices.append(Choice(f"{key}={json.dumps(value)}", {key: value}))
    choices += [load_candidate(c) for c in candidates]
    for item in feature_sets:
        name, sep, cols = item.partition("=")
        if not sep or not cols:
            raise SystemExit(f"--features {item!r}: use NAME=feature1,feature2,...")
        plus = cols.startswith("+")
        fl = [c.strip() for c in cols.lstrip("+").split(",") if c.strip()]
        unknown = [c for c in fl if c not in F.FEATURES and c not in RF.ROLE_FEATURES]
        if unknown:
            raise SystemExit(f"--features {name}: unknown features {unknown}; known: {F.FEATURES} and the "
                             f"role features {RF.ROLE_FEATURES}")
        choices.append(Choice(f"features:{name}", extra_features=fl) if plus
                       else Choice(f"features:{name}", {"features": fl}))
    for g in role_groups:
        if g not in RF.GROUPS:
            raise SystemExit(f"--role-groups {g!r}: unknown group; known: {', '.join(RF.GROUPS)}")
        choices.append(Choice(f"roles:{g}", extra_features=list(RF.GROUPS[g])))
    if bet_time is not None and bet_time is not False:
        named = BET_TIME_VARIANTS if bet_time is True or not bet_time else bet_time
        choices += [Choice(v, variant=v) for v in named]
    return choices


def _frames(cache: Path, first_season: int, last_season: int, roster_warehouse: str | None = None):
    """(frame, frame built without game lines, games) from ../shared/data/nflverse, cached in ``cache``.

    With ``roster_warehouse`` (a warehouse holding the weekly rosters, depth charts and snap counts,
    read-only) the rows are the production model's: candidates by the roster rule from 2021 on
    (:mod:`nfl_bnn.eligibility`) and a back with a snap and no stats row graded at 0 yards, as
    ``nfl-bnn train`` does; without it, the box-score rule and no snap grading (the earlier screens' rows).
    """
    tag = "_roster" if roster_warehouse else ""
    paths = [cache / f"frame{tag}_{first_season}_{last_season}.parquet",
             cache / f"frame_nolines{tag}_{first_season}_{last_season}.parquet", cache / "games.parquet"]
    if all(p.is_file() for p in paths):
        return tuple(pd.read_parquet(p) for p in paths)
    from bench.nflverse_frames import SHARED, injuries_frame, load

    if not (SHARED / "nflverse" / "player_stats_2009_2024.parquet").is_file():
        raise SystemExit(f"{SHARED}/nflverse is absent: the selection needs the real nflverse data")
    stats, games = load()
    inj = injuries_frame()
    roles = snaps = None
    if roster_warehouse:  # the production rule: roster eligibility, targets graded with snap counts
        from nfl_bnn import roles as R
        from nfl_bnn.warehouse import connect

        with connect(roster_warehouse, read_only=True) as wh:
            roles, snaps = R.load_roles(wh), R.load_snaps(wh, first_season, last_season)
    frame = F.training_frame(stats, games, first_season, last_season, inj, snaps=snaps, roles=roles)
    nolines = F.training_frame(stats, games.assign(spread_line=np.nan, total_line=np.nan), first_season,
                               last_season, inj, snaps=snaps, roles=roles)
    cache.mkdir(parents=True, exist_ok=True)
    for p, df in zip(paths, (frame, nolines, games)):
        df.to_parquet(p)
    return frame, nolines, games


def uses_roles(choices: list[Choice]) -> bool:
    """Whether any choice reads a role feature (then the frame needs the role columns)."""
    named = [f for c in choices for f in c.extra_features + list(c.overrides.get("features", []))]
    return any(f in RF.ROLE_FEATURES for f in named)


def with_roles(frame: pd.DataFrame, games: pd.DataFrame, cache: Path, warehouse: str | None,
               tag: str) -> pd.DataFrame:
    """``frame`` with every role feature (:func:`nfl_bnn.role_features.add_role_features`), the role
    tables read once from ``warehouse`` (read-only) and the result cached as ``cache/frame_roles_TAG``.
    The same rows and order as ``frame``: only columns are added, so the default's rows pair as before."""
    path = cache / f"frame_roles_{tag}.parquet"
    if path.is_file():
        cached = pd.read_parquet(path)
        if len(cached) == len(frame) and (cached[["game_id", "player_id"]].to_numpy()
                                          == frame[["game_id", "player_id"]].to_numpy()).all():
            return cached
    if not warehouse:
        raise SystemExit("role features need the role tables: give --roles-warehouse PATH (a copy of a "
                         "warehouse with depth charts, rosters, snaps, play-by-play and NGS imported)")
    from nfl_bnn import roles as R
    from nfl_bnn.warehouse import connect

    with connect(warehouse, read_only=True) as wh:
        tables = R.load_roles(wh)
    out = RF.add_role_features(frame, tables, games)
    cache.mkdir(parents=True, exist_ok=True)
    out.to_parquet(path)
    return out


def main(argv: list[str] | None = None, fitter: Fitter | None = None, frames=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.select", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for per-row scores, fits.jsonl, report.md")
    ap.add_argument("--params", default=None, help="TrainParams YAML of the default (params/train.yaml)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a choice to screen")
    ap.add_argument("--candidate", action="append", default=[], metavar="FILE.yaml",
                    help="a choice of several train-param overrides together (YAML mapping)")
    ap.add_argument("--features", action="append", default=[], metavar="NAME=f1,f2", help="a candidate feature set")
    ap.add_argument("--role-groups", nargs="+", default=[], choices=list(RF.GROUPS), metavar="GROUP",
                    help=f"screen default features + each role group ({', '.join(RF.GROUPS)})")
    ap.add_argument("--roles-warehouse", default=None,
                    help="DuckDB path/URL with the role tables (read-only), for role features")
    ap.add_argument("--roster-eligibility", action="store_true",
                    help="candidates by the weekly roster rule (needs --roles-warehouse): the rows the "
                         "production model is trained and scored on from 2021; use it with --final")
    ap.add_argument("--bet-time", nargs="*", choices=BET_TIME_VARIANTS, default=None,
                    help="screen the bet-time variants of implied_total (all when none is named)")
    ap.add_argument("--base-set", action="append", default=[], metavar="KEY=VALUE",
                    help="settings of every model fit (e.g. fewer draws); stated in the report")
    ap.add_argument("--what", nargs="+", choices=["baselines", "model"], default=["baselines", "model"])
    ap.add_argument("--origins", type=int, nargs="+", default=None, help=f"default {SCREEN_ORIGINS}")
    ap.add_argument("--first-season", type=int, default=2012)
    ap.add_argument("--final", action="store_true",
                    help=f"score the frozen default and tuned baselines ONCE on {FINAL_ORIGINS}")
    ap.add_argument("--tuned", type=Path, default=None, help="tuned_baselines.json of the screen: --final needs "
                    "it; on a screen, only these settings of the baselines are scored")
    ap.add_argument("--save-models", type=Path, default=None, metavar="DIR",
                    help="also save every model fit in DIR (e.g. the final's 2012-2022 and 2012-2023 fits)")
    ap.add_argument("--report", action="store_true", help="only rebuild the report from OUT/rows")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/nfl_bnn_select"), help="feature frames cache")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    out: Path = args.out
    ref = f"model:{DEFAULT}"
    if args.report:
        print(report(out, ref))
        return 0
    if args.final:
        if args.set or args.candidate or args.features or args.role_groups or args.bet_time is not None or args.origins:
            ap.error("--final scores the frozen default and tuned baselines on 2023-2024 only: "
                     "screen choices (--set/--features/--bet-time/--origins) without --final")
        if args.tuned is None or not args.tuned.is_file():
            ap.error("--final needs --tuned OUT/tuned_baselines.json from the screen (the frozen hyperparameters)")
        if (out / "final_done.json").is_file():
            ap.error(f"{out} already holds a final scoring ({out / 'final_done.json'}): 2023-2024 are "
                     f"scored once; use a new --out and report that it is a second look")
    origins = FINAL_ORIGINS if args.final else (args.origins or SCREEN_ORIGINS)
    if not args.final and set(origins) & set(FINAL_ORIGINS):
        ap.error(f"origins {sorted(set(origins) & set(FINAL_ORIGINS))} are the held-out test seasons: "
                 f"score them with --final")
    from nfl_bnn.train import fit, load_train_params

    base_over = dict(parse_sets(args.base_set, "--base-set"))
    base = load_train_params(args.params, **base_over)
    choices = [Choice(DEFAULT)] if args.final else build_choices(args.set, args.features, args.bet_time,
                                                                args.role_groups, args.candidate)
    last = max(origins + FINAL_ORIGINS)
    if args.roster_eligibility and not args.roles_warehouse:
        ap.error("--roster-eligibility needs --roles-warehouse PATH (a warehouse with the weekly rosters)")
    frame, nolines, games = frames if frames is not None else _frames(
        args.cache, args.first_season, last, args.roles_warehouse if args.roster_eligibility else None)
    if uses_roles(choices) and not set(RF.ROLE_FEATURES) <= set(frame.columns):
        frame = with_roles(frame, games, args.cache, args.roles_warehouse, f"{args.first_season}_{last}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps({"argv": argv if argv is not None else sys.argv[1:],
                                              "origins": origins, "base_set": base_over,
                                              "choices": [c.__dict__ for c in choices]}, default=str, indent=1))
    if "baselines" in args.what:
        if args.tuned is not None:  # --final; or a screen rerun of the tuned settings only
            if not args.tuned.is_file():
                ap.error(f"--tuned {args.tuned}: no such file (the screen's tuned_baselines.json)")
            tuned = json.loads(args.tuned.read_text())
            grid = {fam: [rec["hp"]] for fam, rec in tuned.items()}
            if (out / "tuned_baselines.json").resolve() != args.tuned.resolve():  # the report pairs them
                (out / "tuned_baselines.json").write_text(json.dumps(tuned, indent=1))
        else:
            grid = FB.FAIR_BASELINE_GRID
        run_baselines(grid, frame, origins, args.first_season, out, base.features)
        run_today_baselines(frame, origins, args.first_season, out, base.features)
        if not args.final:
            rows = load_rows(out)
            tuned = tune_baselines(rows[~rows["method"].str.contains("@")], origins)
            (out / "tuned_baselines.json").write_text(json.dumps(tuned, indent=1))
            if args.bet_time is not None:  # the cheap proxy of item 6: the tuned baselines on each variant
                for v in (args.bet_time or BET_TIME_VARIANTS):
                    run_baselines({fam: [rec["hp"]] for fam, rec in tuned.items()}, frame, origins,
                                  args.first_season, out, base.features, tag=v, variant=v, games=games,
                                  no_lines_frame=nolines)
    if "model" in args.what:
        for S_ in origins:  # origin by origin: every finished origin pairs all choices
            for c in choices:
                run_model(c, base, frame, [S_], args.first_season, out, fitter or fit, games, nolines,
                          args.save_models)
    if args.final:
        (out / "final_done.json").write_text(json.dumps({"origins": origins, "time": time.time()}))
    header = (f"Origins {origins} (train {args.first_season}..S-1, score S); model settings: "
              f"{args.params or 'params/train.yaml'} with {base_over or 'no changes'}.")
    print(report(out, ref, header))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
