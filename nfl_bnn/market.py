"""Market-aware probabilities, pushes and closing-line value (issue 11): pure functions, no I/O.

Why a blend: against real sportsbook lines the model alone loses to the de-vigged market (an independent
check on real closing lines: log loss 0.6975 vs 0.6931), yet its deviations from the market carry
information (a logistic blend of both logits, fitted out of fold, beat both at 0.6919, with about 0.37 on
the model's logit). This is Benter's recipe for horse racing: a fundamental model that alone loses to the
public odds, combined with them, beats both. So every stake, edge and confidence is computed from

    logit p_bet = c + a * logit p_model + b * logit p_market

with (c, a, b) fitted by maximum a posteriori under a Gaussian prior centred on :data:`DEFAULT_PRIOR`
(a = 0.3, b = 0.7, c = 0: the model's disagreement with the market counts for 30% of its log-odds), from
real closing lines and results of games that kicked off BEFORE the week being priced (:func:`fit_walk_forward`
refuses anything else). With fewer than ``min_rows`` such rows the prior itself is used and the result says
so (``source = "default"``). The posterior is approximated by a Gaussian at the MAP (Laplace), and the
confidence of a bet draws blend coefficients from it together with the model's posterior draws, so it
carries the model-versus-market error (how far the model's probabilities have been from outcomes relative
to the market's: that is what the weights are learned from), not only the model's parameter uncertainty.

Pushes: yards are whole numbers, so a whole-number line L can push: P(push) = P(Y = L) exactly from the
model's whole-yard distribution, P(Y > L) = P(Y >= L + 1). The three probabilities of a side here
(p_model, p_market, p_bet) are conditional on no push: the de-vigged market price is fair given the bet is
not refunded, so all three live on one scale; on a half-yard line they equal P(side wins). Kelly with
pushes is f* = (p_win b - p_lose) / (b (p_win + p_lose)), b = decimal odds - 1.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.market_math import (  # noqa: F401  (the small maths stay reachable as market.X)
    EPS,
    brier,
    clv,
    conditional_over,
    is_whole,
    kelly_with_push,
    line_move_toward,
    log_loss,
    logit,
    outcome_probs,
    row_log_loss,
    side_prob_at_line,
    sigmoid,
)

#: out-of-sample evidence a blend needs before its edges are staked (see :class:`Skill`)
SKILL_MIN_ROWS = 200
SKILL_Z = 1.645  # one-sided 5%, the conventional bar for evidence (a first try with 1.0: docs/market.md)


@dataclass(frozen=True)
class BlendPrior:
    """Prior of the blend coefficients (and the stated default used with too few earlier real lines)."""

    intercept: float = 0.0
    w_model: float = 0.3
    w_market: float = 0.7
    sd_intercept: float = 0.15
    sd_model: float = 0.25
    sd_market: float = 0.25
    min_rows: int = 150

    @property
    def mean(self) -> np.ndarray:
        return np.array([self.intercept, self.w_model, self.w_market])

    @property
    def cov(self) -> np.ndarray:
        return np.diag([self.sd_intercept, self.sd_model, self.sd_market]) ** 2


DEFAULT_PRIOR = BlendPrior()


@dataclass(frozen=True)
class Skill:
    """Has the blend beaten the market out of sample on the earlier real lines it may learn from?

    Prequential (walk-forward) scoring of the earlier weeks: each week's p_bet comes from a blend fitted
    on the weeks before it only, and is compared with the de-vigged closing market on the same rows.
    ``diff`` is the mean per-row log loss of p_bet minus the market's (negative = better than the market),
    ``se`` its standard error with the rows of one week as a cluster. An in-sample fit always looks at
    least as good as the market (it has three free weights); only this out-of-sample record says whether
    the model's disagreements with the market are worth money. Skill is *shown* when there are at least
    :data:`SKILL_MIN_ROWS` scored rows and ``diff + SKILL_Z * se < 0``.
    """

    n: int = 0
    weeks: int = 0
    diff: float = float("nan")
    se: float = float("nan")

    @property
    def shown(self) -> bool:
        return self.n >= SKILL_MIN_ROWS and bool(np.isfinite(self.diff)) and self.diff + SKILL_Z * self.se < 0

    def describe(self) -> str:
        if self.n == 0:
            return "no earlier real lines to judge the blend on: no skill shown"
        verdict = "skill shown" if self.shown else "NO skill shown"
        return (f"out of sample on {self.n} earlier real lines ({self.weeks} weeks), p_bet log loss minus the "
                f"market's {self.diff:+.4f} (SE {self.se:.4f}): {verdict}")


@dataclass(frozen=True)
class Blend:
    """A fitted (or default) blend: coefficients (c, a, b), their Laplace covariance, and where they came from."""

    coef: tuple[float, float, float]
    cov: tuple[tuple[float, ...], ...]
    n_rows: int
    source: str  # "fitted" or "default"
    window: str  # the games it was learned from, in words
    note: str = ""
    logloss: dict[str, float] = field(default_factory=dict)  # in-sample log loss of model, market, blend
    skill: Skill = field(default_factory=Skill)  # out-of-sample record on the earlier lines (fit_walk_forward)

    @property
    def intercept(self) -> float:
        return self.coef[0]

    @property
    def w_model(self) -> float:
        return self.coef[1]

    @property
    def w_market(self) -> float:
        return self.coef[2]

    def describe(self) -> str:
        """One line for summaries and logs: the window, the weights, and how the model fared against the
        market on those earlier lines (so a reader sees whether there is any evidence of an edge)."""
        text = (f"market blend ({self.source}, {self.n_rows} earlier real closing lines, {self.window}): "
                f"logit p_bet = {self.intercept:+.3f} + {self.w_model:.3f} logit p_model + "
                f"{self.w_market:.3f} logit p_market")
        if self.logloss:
            ll = self.logloss
            text += (f"; log loss on those lines: model {ll['model']:.4f}, market {ll['market']:.4f}, "
                     f"blend {ll['blend']:.4f} (in sample)")
            if ll["model"] > ll["market"]:
                text += "; the model alone has NOT beaten the market there"
        text += f"; {self.skill.describe()}"
        return text + (f"; {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the blend ------------------------------------------------------------------------------------
def _design(p_model, p_market) -> np.ndarray:
    lm, lk = logit(p_model), logit(p_market)
    return np.column_stack([np.ones_like(lm), lm, lk])


def fit_blend(p_model, p_market, won, prior: BlendPrior = DEFAULT_PRIOR, window: str = "") -> Blend:
    """MAP of (c, a, b) under the Gaussian ``prior`` with its Laplace covariance (Newton's method).

    ``p_model``/``p_market`` are probabilities of the same side (e.g. the over, conditional on no push)
    and ``won`` whether it won (pushes left out by the caller). Fewer than ``prior.min_rows`` finite rows:
    the prior itself, ``source="default"``, with a note saying so.
    """
    pm, pk, y = (np.asarray(v, dtype=float) for v in (p_model, p_market, won))
    ok = np.isfinite(pm) & np.isfinite(pk) & np.isfinite(y)
    pm, pk, y = pm[ok], pk[ok], y[ok]
    n = int(ok.sum())
    if n < prior.min_rows:
        return Blend(tuple(prior.mean.tolist()), tuple(map(tuple, prior.cov.tolist())), n, "default",
                     window or "none",
                     note=f"only {n} earlier real closing lines with results (< {prior.min_rows}): the stated "
                          f"default shrinkage a={prior.w_model}, b={prior.w_market}, c={prior.intercept} is used")
    Xd = _design(pm, pk)
    P_inv = np.linalg.inv(prior.cov)
    beta = prior.mean.copy()
    for _ in range(50):
        mu = sigmoid(Xd @ beta)
        grad = Xd.T @ (mu - y) + P_inv @ (beta - prior.mean)
        H = (Xd * (mu * (1 - mu))[:, None]).T @ Xd + P_inv
        step = np.linalg.solve(H, grad)
        beta = beta - step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = sigmoid(Xd @ beta)
    H = (Xd * (mu * (1 - mu))[:, None]).T @ Xd + P_inv
    cov = np.linalg.inv(H)
    ll = {"model": log_loss(pm, y), "market": log_loss(pk, y), "blend": log_loss(mu, y)}
    return Blend(tuple(float(v) for v in beta), tuple(map(tuple, cov.tolist())), n, "fitted", window or "given rows",
                 logloss=ll)


def apply_blend(blend: Blend, p_model, p_market) -> np.ndarray:
    """p_bet at the blend's point estimate (MAP)."""
    return sigmoid(_design(np.atleast_1d(p_model), np.atleast_1d(p_market)) @ np.asarray(blend.coef))


def blend_draws(blend: Blend, p_model_draws: np.ndarray, p_market, seed: int = 0) -> np.ndarray:
    """p_bet per draw (S, n): model draw s paired with blend coefficients drawn from the Laplace posterior.

    The spread therefore holds both the model's parameter uncertainty and the uncertainty of how much
    the model should be trusted against the market.
    """
    pd_ = np.asarray(p_model_draws, dtype=float)
    if pd_.ndim != 2:
        raise DataError(f"per-draw model probabilities must be (draws, rows), got shape {pd_.shape}")
    S = pd_.shape[0]
    rng = np.random.default_rng(seed)
    coefs = rng.multivariate_normal(np.asarray(blend.coef), np.asarray(blend.cov), size=S)  # (S, 3)
    lk = logit(np.asarray(p_market, dtype=float))[None, :]
    return sigmoid(coefs[:, [0]] + coefs[:, [1]] * logit(pd_) + coefs[:, [2]] * lk)


def history_before(history: pd.DataFrame, season: int, week: int) -> pd.DataFrame:
    """The rows of ``history`` from games strictly before (season, week): the only data a blend for
    that week may learn from."""
    if history.empty:
        return history
    key = history["season"].astype(int) * 100 + history["week"].astype(int)
    return history[key < int(season) * 100 + int(week)]


def fit_walk_forward(history: pd.DataFrame, season: int, week: int, prior: BlendPrior = DEFAULT_PRIOR) -> Blend:
    """Fit the blend for (season, week) from ``history`` rows of EARLIER weeks only.

    ``history`` columns: season, week, p_model (P(over | no push) by the model), p_market (de-vigged
    closing P(over)), won (1 over, 0 under; pushes are dropped). Rows of the week itself or later are
    ignored, whatever the caller passes: a week's outcomes must never shape its own prices.
    """
    need = {"season", "week", "p_model", "p_market", "won"}
    if missing := need - set(history.columns):
        raise DataError(f"blend history lacks column(s) {', '.join(sorted(missing))}")
    h = history_before(history, season, week)
    h = h[h["won"].notna()]
    if h.empty:
        window = "none"
    else:
        first = h.sort_values(["season", "week"]).iloc[0]
        last = h.sort_values(["season", "week"]).iloc[-1]
        window = f"{int(first.season)} wk {int(first.week)} - {int(last.season)} wk {int(last.week)}"
    return replace(fit_blend(h["p_model"], h["p_market"], h["won"], prior, window),
                   skill=prequential_skill(h, prior))


def prequential_skill(history: pd.DataFrame, prior: BlendPrior = DEFAULT_PRIOR) -> Skill:
    """:class:`Skill` of the blend on ``history`` (rows with a result, all from earlier weeks): every week
    scored by a blend fitted on the weeks before it only (the first week by the prior itself)."""
    h = history[history["won"].notna()]
    if h.empty:
        return Skill()
    key = h["season"].astype(int) * 100 + h["week"].astype(int)
    sums, counts = [], []
    for k in sorted(key.unique()):
        before, now = h[key < k], h[key == k]
        blend = fit_blend(before["p_model"], before["p_market"], before["won"], prior)
        p_bet = apply_blend(blend, now["p_model"].to_numpy(float), now["p_market"].to_numpy(float))
        d = row_log_loss(p_bet, now["won"]) - row_log_loss(now["p_market"], now["won"])
        d = d[np.isfinite(d)]
        if len(d):
            sums.append(float(d.sum()))
            counts.append(len(d))
    n = int(sum(counts))
    if n == 0:
        return Skill()
    diff = sum(sums) / n
    resid = np.asarray(sums) - diff * np.asarray(counts)  # week clusters
    se = float(np.sqrt(np.sum(resid ** 2)) / n) if len(sums) > 1 else float("nan")
    return Skill(n=n, weeks=len(sums), diff=float(diff), se=se)


# --- pricing a week's lines -----------------------------------------------------------------------
def evaluate(lines: pd.DataFrame, over_draws: np.ndarray, under_draws: np.ndarray, push_draws: np.ndarray,
             blend: Blend, method: str = "power", seed: int = 0) -> pd.DataFrame:
    """Model, market and blended probabilities of each line row's side (one side of one player's market).

    ``*_draws`` are (S, n) from :func:`outcome_probs` at each row's line. Adds: ``odds``, ``decimal_odds``,
    ``p_model``, ``p_market``, ``p_bet`` (side wins | no push), ``p_push`` (model), ``edge`` = p_bet -
    p_market, ``confidence`` = share of (model, blend) draws with p_bet_s * d - 1 > 0, ``ev`` = expected
    profit per unit staked with pushes, ``kelly_full`` (Kelly with pushes), and the ledger's names
    ``model_prob`` (= p_model) and ``market_prob`` (= p_market); stakes use ``p_bet``. A row with no two-sided
    market at its line (its book's, or another book's in ``devig_over_odds``/``devig_under_odds``) cannot
    be de-vigged: it gets NaN probabilities and ``price_note = "one_sided"``.
    """
    from nfl_bnn import betting

    out = lines.reset_index(drop=True).copy()
    n = len(out)
    is_over = (out["side"] == "over").to_numpy()
    num = lambda c: pd.to_numeric(out[c], errors="coerce").to_numpy(float)  # noqa: E731
    oo, uo = num("over_odds"), num("under_odds")
    # the margin comes off a two-sided market: the quoting book's own or, for a one-sided best quote,
    # another book's at the same line (nfl_bnn.quotes.best_as_of: devig_over_odds/devig_under_odds)
    do, du = (num("devig_over_odds"), num("devig_under_odds")) if "devig_over_odds" in out else (oo, uo)
    do, du = np.where(np.isfinite(do), do, oo), np.where(np.isfinite(du), du, uo)
    two = np.isfinite(do) & np.isfinite(du)
    odds = np.where(is_over, oo, uo)
    dec = np.array([betting.american_to_decimal(o) if math.isfinite(o) else np.nan for o in odds])
    two &= np.isfinite(dec)
    q_mkt_over = np.full(n, np.nan)
    for j in np.flatnonzero(two):
        q_mkt_over[j] = betting.remove_margin(do[j], du[j], method)[0]
    q_mod_over_d = conditional_over(over_draws, under_draws)  # (S, n)
    q_bet_over_d = blend_draws(blend, np.nan_to_num(q_mod_over_d, nan=0.5), np.nan_to_num(q_mkt_over, nan=0.5),
                               seed=seed)
    side = lambda a: np.where(is_over[None, :] if np.ndim(a) == 2 else is_over, a, 1.0 - a)  # noqa: E731
    p_model_d, p_bet_d = side(q_mod_over_d), side(q_bet_over_d)
    push = np.asarray(push_draws, dtype=float).mean(axis=0) if n else np.array([])
    out["odds"] = odds
    out["decimal_odds"] = dec
    out["p_model"] = np.where(two, p_model_d.mean(axis=0), np.nan) if n else []
    out["p_market"] = side(q_mkt_over)
    out["p_bet"] = np.where(two, p_bet_d.mean(axis=0), np.nan) if n else []
    out["p_push"] = push
    out["edge"] = out["p_bet"] - out["p_market"]
    conf = np.mean(p_bet_d * dec[None, :] - 1.0 > 0.0, axis=0) if n else np.array([])
    out["confidence"] = np.where(two, conf, np.nan)
    pb = out["p_bet"].to_numpy(float)
    p_win, p_lose = pb * (1 - push), (1 - pb) * (1 - push)
    out["ev"] = p_win * (dec - 1.0) - p_lose
    out["kelly_full"] = [kelly_with_push(w, l_, d) for w, l_, d in zip(p_win, p_lose, dec)]
    out["model_prob"], out["market_prob"] = out["p_model"], out["p_market"]
    out["price_note"] = np.where(two, "", "one_sided")
    return out


def best_side(evaluated: pd.DataFrame) -> pd.DataFrame:
    """One row per player: the side with the larger blended edge (NaN edges last)."""
    if evaluated.empty:
        return evaluated
    order = evaluated.assign(_e=evaluated["edge"].fillna(-np.inf)).sort_values(
        ["player_id", "_e"], ascending=[True, False], kind="mergesort")
    return order.drop_duplicates("player_id", keep="first").drop(columns="_e").reset_index(drop=True)
