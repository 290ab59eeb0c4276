"""`python -m bench.market`: face the real market (issue 11): 2024 walk-forward against Bovada's real lines.

The model is trained on 2012-2023 (params/train.yaml; pass --model to reuse a saved artifact). The market
blend (nfl_bnn/market.py) is learned walk-forward: for each 2024 week from Bovada's 2023 weeks 11-18 closing
lines and the 2024 weeks already played, never from the week being priced. The 2023 history rows are priced
by a model trained on 2012-2022 (--history-model) so that they are out of sample like the 2024 rows; without
it the 2012-2023 model prices them in sample and the script says so.

Bets are replayed at the open (first quote before kickoff) and at the close (last quote before kickoff) with
the conservative profile (stakes on a 1,000 bankroll), and the table reports: (a) log loss and Brier of
p_model, p_market and p_bet at the close on the same rows; (b) CLV of the bets placed at the open (mean, SE,
share positive) and the line movement toward them; (c) ROI with a bootstrap 90% interval at each bet time
(Kelly stakes and flat 1-unit stakes); (d) the median edge of placed bets. Real lines come from
../shared/data/lines (validation only: nothing is copied into the project).

    .venv/bin/python -m bench.market [--model /tmp/moe_2012_2023.npz --history-model /tmp/moe_2012_2022.npz]
        [--lines bovada|bettingpros] [--profile conservative] [--out /tmp/market_bench]

Without --model both models are trained first (params/train.yaml) and saved in --out.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.nflverse_frames import SHARED, injuries_frame, load  # noqa: E402
from nfl_bnn import backtest_betting as BB, features as F, names, pipeline  # noqa: E402
from nfl_bnn.model import MixtureExpertsBNN  # noqa: E402

log = logging.getLogger("bench.market")


def _match(s: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Attach player_id and team of the eligible back of the same game with the same normalised name."""
    s = s.assign(key=s["player_name"].map(names.normalise_name)).drop(columns=["team"], errors="ignore")
    f = frame[["game_id", "player_id", "player_name", "team"]].drop_duplicates(["game_id", "player_id"]).copy()
    f["key"] = f["player_name"].map(names.normalise_name)
    f = f.drop_duplicates(["game_id", "key"], keep=False)
    m = s.merge(f[["game_id", "key", "player_id", "team"]], on=["game_id", "key"], how="left")
    return m.dropna(subset=["player_id"]), int(m["player_id"].isna().sum())


def _quote_rows(m: pd.DataFrame, line, over, under, fetched, book: str) -> pd.DataFrame:
    return pd.DataFrame({"season": m["season"].astype(int), "week": m["week"].astype(int), "game_id": m["game_id"],
                         "player_id": m["player_id"], "player_name": m["player_name"], "team": m["team"],
                         "book": book, "market": "player_rush_yds", "line": line.astype(float),
                         "over_odds": over, "under_odds": under,
                         "fetched_at": fetched.dt.tz_convert("UTC").dt.tz_localize(None),
                         "source": book}).reset_index(drop=True)


def bovada_quotes(frame: pd.DataFrame, shared: Path = SHARED) -> tuple[pd.DataFrame, int]:
    """Bovada rushing-yards snapshots as prop_lines quote rows, matched to eligible backs by game and name.

    Returns (quotes, number of unmatched snapshot rows). Only backs eligible for the model can be priced,
    so quotes for other players (QBs, receivers, 'Both Teams Combined') stay unmatched. Implausible quotes
    are left out by the pricer's own validation (nfl_bnn.quotes.validate_quote_frame).
    """
    s = pd.read_parquet(shared / "lines" / "bovada_rushing_yards_snapshots_2023_2024.parquet")
    s = s[(s["game_type"] == "REG") & (s["market_status"] == "O") & (s["over_line"] == s["under_line"])]
    for c in ("over_odds", "under_odds"):
        s[c] = pd.to_numeric(s[c].astype(str).str.replace("EVEN", "100"), errors="coerce")
    m, unmatched = _match(s, frame)
    return _quote_rows(m, m["over_line"], m["over_odds"], m["under_odds"], m["snapshot_utc"], "bovada"), unmatched


def bettingpros_quotes(frame: pd.DataFrame, shared: Path = SHARED) -> tuple[pd.DataFrame, int]:
    """BettingPros consensus rushing-yards snapshots (2024 weeks 4-18) as quote rows, book 'consensus'."""
    s = pd.read_parquet(shared / "lines" / "bettingpros_rushing_snapshots_2024.parquet")
    s = s[(s["market"] == "rushing_yards") & (s["game_type"] == "REG")
          & (s["over_consensus_line"] == s["under_consensus_line"])]
    m, unmatched = _match(s, frame)
    return _quote_rows(m, m["over_consensus_line"], m["over_consensus_odds"], m["under_consensus_odds"],
                       m["snapshot_utc"], "consensus"), unmatched


def candidates(stats, games, injuries, season: int) -> pd.DataFrame:
    """Eligible backs of every regular-season week with pre-game features and actual yards (NaN = void)."""
    fr = F.candidate_frame(stats, games, season, season, injuries)
    return F.attach_target(fr, stats, drop_missing=False)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.market")
    ap.add_argument("--model", help="model trained on 2012-(season-1); without it one is trained (params/train.yaml, "
                                    "~5-15 min) and saved in --out")
    ap.add_argument("--history-model", help="model trained on 2012-(season-2), prices the previous season's history "
                                            "out of sample; trained too when --model is not given")
    ap.add_argument("--profile", default="conservative")
    ap.add_argument("--no-market-gate", action="store_true",
                    help="stake edges even before the blend has beaten the market out of sample (what the gate holds back)")
    ap.add_argument("--season", type=int, default=2024)
    ap.add_argument("--out", default="/tmp/market_bench")
    ap.add_argument("--lines", choices=["bovada", "bettingpros"], default="bovada",
                    help="the market bet into in the test season: Bovada (weeks 1-18) or the BettingPros consensus "
                         "(weeks 4-18); the blend's history before it is always Bovada's 2023 weeks 11-18")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stats, games = load()
    injuries = injuries_frame()
    S = args.season
    if not args.model:  # train both models once, with the full-quality params, on real nflverse data
        from nfl_bnn.train import fit, load_train_params

        tp = load_train_params(None)
        for last, attr in ((S - 1, "model"), (S - 2, "history_model")):
            m, diag = fit(F.training_frame(stats, games, 2012, last, injuries), tp, 2012, last)
            setattr(args, attr, str(m.save(out / f"moe_2012_{last}.npz")))
            print(f"trained 2012-{last}: {diag.get('wall_s')} s, R-hat {diag.get('rhat_pred_max')}")
    model = MixtureExpertsBNN.load(args.model)
    hist_model = MixtureExpertsBNN.load(args.history_model) if args.history_model else model
    print(f"model {args.model} (window {model.meta.get('training_window')}); 2023 history priced by "
          f"{args.history_model or 'the same model (IN SAMPLE for 2023: the blend may over-trust the model)'}")
    fr_prev, fr = candidates(stats, games, injuries, S - 1), candidates(stats, games, injuries, S)
    q_prev, un_prev = bovada_quotes(fr_prev)
    q, un = (bovada_quotes if args.lines == "bovada" else bettingpros_quotes)(fr)
    ko = BB.kickoff_utc(games)
    print(f"rushing-yards quotes matched to eligible backs: Bovada {S - 1}: {len(q_prev)} snapshots "
          f"({un_prev} unmatched: other positions/ineligible); {args.lines} {S}: {len(q)} ({un} unmatched)")
    history = BB.history_rows(BB.select_quotes(q_prev, ko, "close"), fr_prev, hist_model)
    print(f"blend history before {S}: {len(history)} closing lines with results ({S - 1})")
    p = pipeline.load_weekly_params(S, 1, profile=args.profile, bankroll=1000.0,
                                    require_market_skill=not args.no_market_gate)
    results, all_rows = [], {}
    for bt in ("open", "close"):
        rows, blends = BB.real_line_backtest(S, q, fr, games, model, p, bet_time=bt, history=history)
        rows.to_csv(out / f"backtest_{S}_{bt}.csv", index=False)
        blends.to_csv(out / f"blends_{S}_{bt}.csv", index=False)
        all_rows[bt] = rows
        results.append(BB.bet_summary(rows, bt))
    sc = BB.prob_scores(all_rows["close"])
    last = pd.read_csv(out / f"blends_{S}_close.csv").iloc[-1]
    table = pd.DataFrame(results)
    table.to_csv(out / "summary.csv", index=False)
    pd.set_option("display.width", 200)
    print(f"\nlast week's blend: {last['source']} on {last['n_rows']} rows ({last['window']}): c={last['intercept']:+.3f} "
          f"a={last['w_model']:.3f} b={last['w_market']:.3f}")
    print(f"(a) at the close, same {int(sc['n'])} settled rows: log loss p_model {sc['logloss_p_model']:.4f}, "
          f"p_market {sc['logloss_p_market']:.4f}, p_bet {sc['logloss_p_bet']:.4f} "
          f"(p_bet - market {sc['ll_bet_minus_market']:+.4f} +- {sc['ll_bet_minus_market_se']:.4f} SE); Brier "
          f"{sc['brier_p_model']:.4f} / {sc['brier_p_market']:.4f} / {sc['brier_p_bet']:.4f}")
    for r in results:
        print(f"({r['bet_time']}) priced {r['priced']}, bets {r['bets']}, staked {r['staked']:.2f}, profit "
              f"{r['profit']:+.2f}: ROI {r['roi']:+.1%} [90% {r['roi_lo']:+.1%}, {r['roi_hi']:+.1%}]; flat 1u ROI "
              f"{r['flat_roi']:+.1%} [{r['flat_lo']:+.1%}, {r['flat_hi']:+.1%}]; won {r['win_share']:.1%}; CLV of bets "
              f"{r['clv_mean']:+.4f} +- {r['clv_se']:.4f} SE (n {r['clv_n']}, {r['clv_pos']:.0%} positive); line "
              f"moved {r['move_mean']:+.2f} yd toward the bets; median edge {r['median_edge']:.2%}")
    for bt, rows in all_rows.items():  # every priced player-game, not only the bets: the information test
        side_model = np.sign(rows["p_model"] - rows["p_market"])  # +1: the model likes the side priced
        move = rows["line_move"] * side_model  # yards the line moved toward the MODEL's side
        print(f"[{bt}] all {len(rows)} priced player-games: line moved toward the model's side {(move > 0).mean():.0%}, "
              f"against {(move < 0).mean():.0%}, mean {move.mean():+.2f} yd; mean CLV of the side priced "
              f"{rows['clv'].mean():+.4f} (at the close it is the margin alone); p_bet's side won "
              f"{(rows['result'] == 'win').sum() / rows['result'].isin(['win', 'loss']).sum():.1%}")
    print(f"\nfiles in {out}")


if __name__ == "__main__":
    main()
