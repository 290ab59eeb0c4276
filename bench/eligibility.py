"""Eligibility coverage before/after the weekly roster and depth chart decide who is a candidate (issue 13).

For each season: backs with 10+ carries in a game who were NOT candidates (the model never priced
them), void share (candidates who did not play: no stats row and no offensive snap for that team),
candidate rows per week; once with today's box-score rule (no role tables) and once with the rosters
and depth charts known at the bet time (``nfl_bnn.eligibility``; bet time = kickoff, or kickoff minus
``--hours-before`` to see what a market bet time days earlier gets: last week's roster).

    .venv/bin/python -m bench.eligibility --warehouse /tmp/elig/full.duckdb --seasons 2022 2023 2024

With ``--models OLD NEW`` instead: OLD (trained with today's rule) scored on today's candidates and NEW
(trained with the rosters) on the roster candidates of ``--season`` (played rows, targets graded with
snap counts as in training), each on its own rows and both on their common rows (paired, SE clustered
by week), and how many NFL.com-projected rows each covers.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nfl_bnn import features as F, nflcom, validate as V  # noqa: E402
from nfl_bnn.warehouse import connect  # noqa: E402


def frame_at(history, seasons: list[int], roles, hours_before: float) -> pd.DataFrame:
    """Candidates of the seasons with their target (NaN: void), rosters known ``hours_before`` kickoff."""
    if hours_before <= 0:
        cand = F.candidate_frame(history.stats, history.games, min(seasons), max(seasons), history.injuries, roles)
    else:  # one week at a time: the bet time is a fixed time before the week's first kickoff
        g = history.games[(history.games.season_type == "REG") & history.games.season.isin(seasons)]
        parts = []
        for (s, w), gw in g.groupby(["season", "week"]):
            as_of = pd.to_datetime(gw["kickoff"]).min() - pd.Timedelta(hours=hours_before)
            parts.append(F.for_week(history.stats, history.games, s, w, history.injuries, roles, as_of))
        cand = pd.concat(parts, ignore_index=True)
    return F.attach_target(cand, history.stats, drop_missing=False, snaps=history.snaps)


def coverage(frame: pd.DataFrame, stats: pd.DataFrame, seasons: list[int]) -> pd.DataFrame:
    """Per season: backs with 10+ carries not candidates, void share, rows per week."""
    big = stats[stats.season.isin(seasons) & (stats.season_type == "REG") & (stats.carries >= 10)
                & (stats.position.fillna("") != "QB")]
    m = big.merge(frame[["season", "week", "player_id", "team"]].assign(c=True), how="left",
                  on=["season", "week", "player_id", "team"])
    out = []
    for s in seasons:
        f, b = frame[frame.season == s], m[m.season == s]
        out.append({"season": s, "backs_10plus": len(b), "not_candidates": int((~b.c.eq(True)).sum()),
                    "rows": len(f), "void": int(f[F.TARGET].isna().sum()),
                    "void_share": round(float(f[F.TARGET].isna().mean()), 4),
                    "rows_per_week": round(len(f) / f.week.nunique(), 1)})
    return pd.DataFrame(out)


def score(model_path: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Per-row CRPS and absolute error of the median of the model at ``model_path`` on ``frame``."""
    from nfl_bnn.model import MixtureExpertsBNN

    model = MixtureExpertsBNN.load(model_path)
    fc = V.moe_forecast(model, frame)
    y = frame[F.TARGET].to_numpy(float)
    return frame[["season", "week", "game_id", "player_id", "team", "player_name", F.TARGET]].assign(
        crps=V.crps_rows(fc, y), ae=abs(y - fc.median))


def compare_models(h, old_path: str, new_path: str, season: int) -> None:
    """Both models on their own rows and on their common rows (paired: NEW minus OLD)."""
    from bench.nflverse_frames import SHARED

    old_f = F.training_frame(h.stats, h.games, season, season, h.injuries, snaps=h.snaps)
    new_f = h.training_frame(season, season)
    proj = nflcom.read_projections(SHARED / "nflcom" / f"rb_projections_{season}.csv")
    a, b = score(old_path, old_f), score(new_path, new_f)
    for label, f, sc in (("OLD, today's rule", old_f, a), ("NEW, rosters", new_f, b)):
        covered = int(nflcom.join_projections(f, proj).notna().sum())
        print(f"{label}: {len(f)} played rows, CRPS {sc.crps.mean():.3f}, MAE {sc.ae.mean():.3f}, "
              f"NFL.com-projected rows covered {covered}")
    key = ["season", "week", "game_id", "player_id", "team"]
    m = a.merge(b, on=key, suffixes=("_old", "_new"))
    m = m[m[F.TARGET + "_old"] == m[F.TARGET + "_new"]]
    for col in ("crps", "ae"):
        d = V.paired_difference(m[col + "_new"].to_numpy(), m[col + "_old"].to_numpy(), m["week"].to_numpy())
        print(f"common rows {len(m)}: {col} OLD {m[col + '_old'].mean():.3f} NEW {m[col + '_new'].mean():.3f} "
              f"NEW-OLD {d['diff']:+.3f} (SE {d['se']:.3f})")
    only = b.merge(a[key], on=key, how="left", indicator=True)
    only = only[only["_merge"] == "left_only"]
    print(f"rows only NEW prices: {len(only)}, NEW's CRPS there {only.crps.mean():.3f}, MAE {only.ae.mean():.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--seasons", nargs="+", type=int, default=[2022, 2023, 2024])
    ap.add_argument("--hours-before", type=float, default=0.0,
                    help="bet time this many hours before each week's first kickoff (0: each team's kickoff)")
    ap.add_argument("--models", nargs=2, metavar=("OLD", "NEW"), help="compare two models on --season instead")
    ap.add_argument("--season", type=int, default=2024)
    args = ap.parse_args(argv)
    first = args.season if args.models else min(args.seasons)
    with connect(args.warehouse, read_only=True) as wh:
        h = F.load_history(wh, first, args.season if args.models else max(args.seasons))
    pd.set_option("display.width", 160)
    if args.models:
        compare_models(h, *args.models, args.season)
        return 0
    for label, roles in (("today's rule (no rosters)", None), ("rosters + depth charts", h.roles)):
        fr = frame_at(h, args.seasons, roles, args.hours_before)
        cov = coverage(fr, h.stats, args.seasons)
        tot = cov.sum(numeric_only=True)
        print(f"{label}, bet time {'kickoff' if args.hours_before <= 0 else f'{args.hours_before:g} h before'}:")
        print(cov.to_string(index=False))
        print(f"  all: {int(tot.not_candidates)} of {int(tot.backs_10plus)} backs with 10+ carries not candidates; "
              f"void {int(tot.void)} of {int(tot.rows)} ({tot.void / tot.rows:.2%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
