"""Real-line backtest (issue 11): replay the quote history of a season at a bet time.

Each week is priced like the weekly run (:func:`nfl_bnn.pipeline.price_week`) on the quotes seen at the
bet time (open, close, or H hours before kickoff), with the market blend learned walk-forward from
earlier real lines only; every row is settled and its closing-line value kept. Nothing is written to
the ledger. Re-exported by :mod:`nfl_bnn.backtest_betting`.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn import pipeline
from nfl_bnn.errors import DataError, NflBnnError

log = logging.getLogger("nfl_bnn.backtest_betting")  # the backtest's logger: its records keep their name


# --- real-line backtest (issue 11): replay the quote history at a bet time ----------------------------
#: Columns of ``nfl-bnn backtest-bets --out``; other tools read them, so the names are fixed.
REAL_COLUMNS = ["season", "week", "game_id", "player_id", "player_name", "team", "side", "line", "odds", "book",
                "fetched_at", "p_model", "p_market", "p_bet", "edge", "confidence", "decision", "stake",
                "actual_yards", "result", "profit", "close_line", "close_over_odds", "close_under_odds", "clv"]


def kickoff_utc(games: pd.DataFrame) -> pd.Series:
    """Kickoff of each game in naive UTC (mart.games stores US/Eastern): :func:`nfl_bnn.quotes.kickoffs_utc`,
    one kickoff per game_id."""
    from nfl_bnn import quotes

    k = quotes.kickoffs_utc(games)
    k.index = k.index.astype(str)
    return k.groupby(level=0).first()


def parse_bet_time(text: str | float) -> str | float:
    """'open', 'close', or hours before kickoff (a number >= 0)."""
    if isinstance(text, str) and text in ("open", "close"):
        return text
    try:
        h = float(text)
    except (TypeError, ValueError):
        raise DataError(f"--bet-time {text!r}: use open, close or a number of hours before kickoff") from None
    if not (np.isfinite(h) and h >= 0):
        raise DataError(f"--bet-time {text!r}: hours before kickoff must be >= 0")
    return h


def select_quotes(quotes: pd.DataFrame, kickoff: pd.Series, bet_time: str | float) -> pd.DataFrame:
    """One quote per (game, player, book) as a user betting at ``bet_time`` would have seen it.

    Only quotes fetched strictly before kickoff count. ``open``: the first of them; ``close``: the last;
    hours H: the last one fetched at or before kickoff - H (none when the book had not opened by then).
    A quote fetched after the bet time is never returned.
    """
    bt = parse_bet_time(bet_time)
    q = quotes.dropna(subset=["game_id", "player_id"]).copy()
    q["fetched_at"] = pd.to_datetime(q["fetched_at"])
    q["kickoff_utc"] = q["game_id"].astype(str).map(kickoff)
    q = q[q["kickoff_utc"].notna() & (q["fetched_at"] < q["kickoff_utc"])]
    if isinstance(bt, float):
        q = q[q["fetched_at"] <= q["kickoff_utc"] - pd.to_timedelta(bt, unit="h")]
    q = q.sort_values(["game_id", "player_id", "book", "fetched_at"], kind="mergesort")
    keep = "first" if bt == "open" else "last"
    return q.drop_duplicates(["game_id", "player_id", "book"], keep=keep).reset_index(drop=True)


def best_sides(sel: pd.DataFrame) -> pd.DataFrame:
    """Best price per side across books (over: lowest line, then best odds; under: highest line, then best
    odds); each row keeps both odds of ITS book for de-vigging. Two rows per player-game."""
    from nfl_bnn import betting

    rows = []
    for side, odds_col, line_asc in (("over", "over_odds", True), ("under", "under_odds", False)):
        s = sel[pd.to_numeric(sel[odds_col], errors="coerce").notna()].copy()
        s["_dec"] = [betting.american_to_decimal(o) for o in s[odds_col]]
        s = s.sort_values(["game_id", "player_id", "line", "_dec"], ascending=[True, True, line_asc, False])
        rows.append(s.drop_duplicates(["game_id", "player_id"]).assign(side=side).drop(columns="_dec"))
    return pd.concat(rows, ignore_index=True)


def history_rows(close: pd.DataFrame, frame: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Blend training rows from closing quotes and results: season, week, game_id, player_id, p_model
    (model's P(over | no push) at the closing line), p_market (de-vigged), won (pushes and voids dropped).

    ``close``: one two-sided quote per (game, player, book), e.g. :func:`select_quotes` at ``close``;
    ``frame``: candidate features with ``rushing_yards`` (features.candidate_frame + attach_target).
    Where several books quote a player-game the most common book is kept, so no game counts twice.
    """
    from nfl_bnn import betting, market

    c = close.dropna(subset=["over_odds", "under_odds"])
    if c.empty:
        return pd.DataFrame(columns=["season", "week", "game_id", "player_id", "p_model", "p_market", "won"])
    rank = c["book"].value_counts()
    c = c.assign(_r=c["book"].map(rank)).sort_values("_r", ascending=False).drop_duplicates(["game_id", "player_id"])
    f = frame.dropna(subset=["rushing_yards"]).drop_duplicates(["game_id", "player_id"])
    m = c.drop(columns=[x for x in ("season", "week", "team") if x in c]).merge(f, on=["game_id", "player_id"])
    if m.empty:
        return pd.DataFrame(columns=["season", "week", "game_id", "player_id", "p_model", "p_market", "won"])
    line = m["line"].to_numpy(float)
    over, under, _ = market.outcome_probs(model, m, line, per_draw=False)
    y = m["rushing_yards"].to_numpy(float)
    won = np.where(y > line, 1.0, np.where(y < line, 0.0, np.nan))
    pk = [betting.remove_margin(o, u)[0] for o, u in zip(m["over_odds"], m["under_odds"])]
    out = pd.DataFrame({"season": m["season"].astype(int), "week": m["week"].astype(int), "game_id": m["game_id"],
                        "player_id": m["player_id"], "p_model": market.conditional_over(over, under),
                        "p_market": pk, "won": won})
    return out.dropna(subset=["won"]).reset_index(drop=True)


def _result(side: str, line: float, y: float | None) -> str:
    if y is None or not np.isfinite(y):
        return "void"
    if y == line:
        return "push"
    return "win" if (y > line) == (side == "over") else "loss"


def _clv_columns(rows: pd.DataFrame, close: pd.DataFrame, X: pd.DataFrame, model: Any, method: str) -> pd.DataFrame:
    """close_line / close odds of the bet's book, and CLV of the side at the bet's line (NaN when unknown)."""
    from nfl_bnn import betting, market

    c = close.set_index(["game_id", "player_id", "book"])[["line", "over_odds", "under_odds"]]
    key = list(zip(rows["game_id"], rows["player_id"], rows["book"]))
    got = c.reindex(key)
    out = rows.copy()
    out["close_line"] = got["line"].to_numpy(float)
    out["close_over_odds"] = pd.to_numeric(got["over_odds"], errors="coerce").to_numpy(float)
    out["close_under_odds"] = pd.to_numeric(got["under_odds"], errors="coerce").to_numpy(float)
    bet_line = out["line"].to_numpy(float)
    cl = np.where(np.isfinite(out["close_line"]), out["close_line"], bet_line)
    o_b, u_b, _ = market.outcome_probs(model, X, bet_line, per_draw=False)
    o_c, u_c, _ = market.outcome_probs(model, X, cl, per_draw=False)
    g_bet, g_close = market.conditional_over(o_b, u_b), market.conditional_over(o_c, u_c)
    clv, move = [], []
    for j, r in enumerate(out.itertuples(index=False)):
        oo, uo = r.close_over_odds, r.close_under_odds
        if not (np.isfinite(oo) and np.isfinite(uo)) or not np.isfinite(r.odds):
            clv.append(np.nan), move.append(np.nan)
            continue
        q_over = betting.remove_margin(oo, uo, method)[0]
        q = market.side_prob_at_line(q_over, g_close[j], g_bet[j], r.side)
        clv.append(market.clv(q, betting.american_to_decimal(r.odds)))
        move.append(market.line_move_toward(r.side, r.line, r.close_line))
    out["clv"], out["line_move"] = clv, move
    return out


def real_line_backtest(season: int, quotes: pd.DataFrame, frame: pd.DataFrame, games: pd.DataFrame, model: Any,
                       p: pipeline.WeeklyParams, bet_time: str | float = "open",
                       history: pd.DataFrame | None = None, weeks: list[int] | None = None,
                       prior: Any = None, seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Walk-forward backtest of ``season`` against real quotes replayed at ``bet_time``.

    ``quotes``: quote history (prop_lines rows: season, week, game_id, player_id, player_name, team, book,
    line, over_odds, under_odds, fetched_at UTC); ``frame``: candidate features of the season with
    ``rushing_yards`` (NaN = did not play: void); ``history``: blend rows of EARLIER seasons
    (:func:`history_rows`). Week by week the market blend is fitted from ``history`` plus this season's
    closing lines of the weeks already played, never from the week being priced; stakes are sized on the
    current bankroll. Returns (rows with :data:`REAL_COLUMNS` + ``line_move``, blends: one row per week
    with its window and weights).
    """
    from nfl_bnn import market

    prior = prior or market.DEFAULT_PRIOR
    from nfl_bnn import quotes as Q

    ko = kickoff_utc(games)
    q, bad = Q.validate_quote_frame(quotes[quotes["season"] == season], f"quotes of season {season}")
    if len(bad):  # the same validation as at import: a bad quote is left out, never priced
        log.warning("real-line backtest s%s: %d quote(s) left out: %s", season, len(bad), Q.rejection_summary(bad))
    bet_q, close_q = select_quotes(q, ko, bet_time), select_quotes(q, ko, "close")
    fr = frame[frame["season"] == season]
    hist = history if history is not None else pd.DataFrame(
        columns=["season", "week", "game_id", "player_id", "p_model", "p_market", "won"])
    weeks = weeks or sorted(int(w) for w in fr["week"].unique())
    bankroll, out, blends = float(p.bankroll), [], []
    for wk in weeks:
        fw = fr[fr["week"] == wk].drop_duplicates(["game_id", "player_id"])
        lines = best_sides(bet_q[(bet_q["week"] == wk) & bet_q["player_id"].isin(fw["player_id"])])
        blend = market.fit_walk_forward(hist, season, wk, prior)
        blends.append({"season": season, "week": wk, **{k: v for k, v in blend.to_dict().items()
                                                       if k in ("n_rows", "source", "window", "note")},
                       "intercept": blend.intercept, "w_model": blend.w_model, "w_market": blend.w_market,
                       "skill_rows": blend.skill.n, "skill_logloss_diff": blend.skill.diff,
                       "skill_se": blend.skill.se, "skill_shown": blend.skill.shown})
        if not lines.empty:
            pw = p.model_copy(update={"bankroll": max(bankroll, 0.01), "week": wk, "season": season})
            feats = fw.drop(columns=["rushing_yards"]).reset_index(drop=True)
            sized = pipeline.price_week(feats, None, lines, model, pw, blend=blend, seed=seed + wk)
            sized = sized[sized["side"].notna()].reset_index(drop=True)
            yards = fw.set_index("player_id")["rushing_yards"]
            sized["actual_yards"] = sized["player_id"].map(yards).astype(float)
            res = [_result(s, float(ln), y) for s, ln, y in zip(sized["side"], sized["line"], sized["actual_yards"])]
            sized["result"] = res
            dec = sized["decimal_odds"].to_numpy(float)
            st = sized["stake"].to_numpy(float)
            sized["profit"] = np.where(sized["result"] == "win", st * (dec - 1), np.where(sized["result"] == "loss",
                                                                                         -st, 0.0))
            X = feats.set_index("player_id").loc[sized["player_id"]].reset_index()
            sized = _clv_columns(sized, close_q, X, model, p.margin_method)
            sized["season"], sized["week"] = season, wk
            sized["decision"] = sized["reason"]
            bankroll += float(sized["profit"].sum())
            out.append(sized)
            log.info("real-line backtest s%s w%s (%s): %d priced, %d bets, profit %.2f, bankroll %.2f; %s", season,
                     wk, bet_time, len(sized), int((sized["reason"] == "bet").sum()), sized["profit"].sum(), bankroll,
                     blend.describe())
        c_wk = close_q[close_q["week"] == wk]
        new = history_rows(c_wk, fr[fr["week"] == wk], model)
        if len(new):
            hist = new if hist.empty else pd.concat([hist, new], ignore_index=True)
    rows = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=REAL_COLUMNS + ["line_move"])
    return rows[REAL_COLUMNS + ["line_move"]], pd.DataFrame(blends)


def real_summary(rows: pd.DataFrame, bet_time: str | float) -> str:
    """A few lines on a real-line backtest: bets, ROI, CLV, median edge (full table: the CSV)."""
    bets = rows[rows["decision"] == "bet"]
    staked = float(bets["stake"].sum())
    profit = float(bets["profit"].sum())
    c = bets["clv"].dropna()
    roi = f"{profit / staked:+.1%}" if staked > 0 else "n/a"
    clv = (f"{c.mean():+.4f} (SE {c.std(ddof=1) / np.sqrt(len(c)):.4f}, {(c > 0).mean():.0%} positive, n {len(c)})"
           if len(c) > 1 else "unknown (no closing quotes)")
    med = f"{bets['edge'].median():.2%}" if len(bets) else "n/a"
    return (f"real-line backtest at bet time {bet_time}: {len(rows)} player-games priced, {len(bets)} bets, "
            f"staked {staked:,.2f}, profit {profit:+,.2f}, ROI {roi}; mean CLV of the bets {clv}; median edge {med}")


def real_run(season: int, model: Any, p: pipeline.WeeklyParams, wh: Any, bet_time: str | float,
             weeks: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`real_line_backtest` on the warehouse: quote history of ``season`` (and ``season - 1`` for the
    blend's history), stats, games and injury reports; nothing is written to the ledger."""
    from nfl_bnn import features, warehouse

    load = warehouse.load_quotes
    bt = parse_bet_time(bet_time)
    loaded = features.load_history(wh, season - 1, season)  # the features every other entry point builds
    games = loaded.games
    quotes = load(wh, season, market=p.market)
    if quotes.empty:
        raise DataError(f"no quotes for season {season} in prop_lines; import real lines first "
                        "(`nfl-bnn import-lines PATH --format ...`)")
    from nfl_bnn.role_features import for_training_if_used  # role features, when the model uses them

    def frame(s: int) -> pd.DataFrame:  # void: NaN; a snap and no stats row: 0 yards
        return for_training_if_used(loaded, loaded.with_targets(s, s), model.feature_names)
    try:
        prev = load(wh, season - 1, market=p.market)
    except NflBnnError:
        prev = pd.DataFrame()
    history = (history_rows(select_quotes(prev, kickoff_utc(games), "close"), frame(season - 1), model)
               if len(prev) else None)
    return real_line_backtest(season, quotes, frame(season), games, model, p, bt, history=history, weeks=weeks)

