"""Quantiles of the pooled predictive mixture, and of its whole-yard outcome.

The pooled predictive of one row is a Normal mixture of S draws x K experts (3,000 components for the
default's 1,000 kept draws), in the target space of :func:`target_space`. Its quantiles have no closed
form, so they are found by root-finding on its CDF; every evaluation touches every component, which is
what a weekly prediction spends its time on. Nothing here imports PyMC.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, ndtri

#: draws the root-finder's first pass uses at most (evenly thinned): the whole-yard answer is then
#: checked, and if need be found, on every draw, so this sets the speed, never the result
ROOT_DRAWS = 100


def target_space(yards, transform: str = "identity", offset: float = 0.0) -> np.ndarray:
    """Map yards to the space the Normal mixture lives in.

    Rushing yards are right-skewed with a hard floor near 0 (a long run adds 50 yards, nothing takes
    50 away), so a Normal mixture in yards must widen both tails to reach the long runs; in
    ``log(yards + offset)`` one Normal per expert can be skewed the right way.

    Parameters
    ----------
    yards : array_like
        Yards (any shape).
    transform : {"identity", "log"}
        ``identity`` returns the yards; ``log`` returns ``log(yards + offset)``.
    offset : float
        Shift before the log; values at or below ``-offset`` map to ``-inf`` (probability 0).

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape.
    """
    x = np.asarray(yards, dtype=np.float64)
    if transform == "identity":
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x + offset > 0, np.log(np.maximum(x + offset, 1e-300)), -np.inf)


def mixture_quantiles(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray, probs: Sequence[float],
                      iters: int = 60, tol: float = 0.01) -> np.ndarray:
    """Quantiles of the pooled mixture (over draws and experts) per row, by safeguarded Newton.

    The pooled predictive is one Normal mixture of S x K components per row. Start from the
    moment-matched Normal quantile, step ``x -= (F(x) - p) / f(x)``, and fall back to bisection of
    the bracket (kept from the signs of F - p) whenever a step leaves it; stop when every step is
    below ``tol``. A few Newton steps replace the ~22 halvings of plain bisection, each of which
    evaluates every component; ``iters`` only bounds a row whose draws disagree by orders of
    magnitude in scale, where bisection has to finish the job.

    Parameters
    ----------
    w, mu, sigma : numpy.ndarray
        The mixture, each (S, n, K).
    probs : sequence of float
        Probabilities in (0, 1).
    iters : int
        Most iterations.
    tol : float
        Step size (in target-space units) at which a quantile counts as found.

    Returns
    -------
    numpy.ndarray
        Continuous quantiles, shape (len(probs), n). For whole yards use :func:`whole_yard_quantiles`.
    """
    P = np.asarray(probs, dtype=np.float64)[:, None]
    S = mu.shape[0]
    wS = (w / S).astype(np.float32)
    mean = (w * mu).sum(axis=2).mean(axis=0).astype(np.float64)
    second = (w * (sigma.astype(np.float64) ** 2 + mu.astype(np.float64) ** 2)).sum(axis=2).mean(axis=0)
    sd = np.sqrt(np.maximum(second - mean**2, 1e-12))
    x = mean[None, :] + sd[None, :] * ndtri(P)
    lo = np.broadcast_to((mu - 8 * sigma).min(axis=(0, 2)).astype(np.float64), x.shape).copy()
    hi = np.broadcast_to((mu + 8 * sigma).max(axis=(0, 2)).astype(np.float64), x.shape).copy()
    inv_s = (1.0 / sigma).astype(np.float32)
    dens_w = (wS * inv_s * np.float32(1 / np.sqrt(2 * np.pi))).astype(np.float32)
    for _ in range(iters):
        z = (x[:, None, :, None].astype(np.float32) - mu[None]) * inv_s[None]  # (Q, S, n, K)
        F = np.einsum("qsnk,snk->qn", ndtr(z), wS, dtype=np.float64)
        f = np.einsum("qsnk,snk->qn", np.exp(-0.5 * z * z), dens_w, dtype=np.float64)
        below = F < P
        lo = np.where(below, x, lo)
        hi = np.where(below, hi, x)
        nx = x - (F - P) / np.maximum(f, 1e-12)
        nx = np.where((nx > lo) & (nx < hi), nx, 0.5 * (lo + hi))
        done = np.abs(nx - x) < tol
        x = nx
        if done.all():
            break
    return x


def pooled_cdf(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray, x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """P(Z <= x) under the pooled mixture (mean over draws) for target-space points ``x`` (Q, n): (Q, n)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    for i in range(0, x.shape[1], chunk):  # (Q, S, rows, K) float64 per block bounds the memory
        sl = slice(i, i + chunk)
        z = (x[:, None, sl, None] - mu[None, :, sl].astype(np.float64)) / sigma[None, :, sl].astype(np.float64)
        out[:, sl] = np.einsum("qsnk,snk->qn", ndtr(z), w[:, sl].astype(np.float64)) / mu.shape[0]
    return out


def whole_yard_quantiles(w: np.ndarray, mu: np.ndarray, sigma: np.ndarray, probs: Sequence[float],
                         transform: str = "identity", offset: float = 0.0, root_draws: int = ROOT_DRAWS) -> np.ndarray:
    """Quantiles of a whole-yard outcome: for each p, the smallest whole y with ``F(y + 1/2) >= p``.

    Rushing yards are whole numbers and the model gives each the mass of its bin [y - 1/2, y + 1/2),
    so this is the quantile of the discrete outcome the likelihood describes. An interval
    ``[q05, q95]`` of these holds ``F(q95 + 1/2) - F(q05 - 1/2) >= 0.90`` of the mass, so counting
    ``q05 <= y <= q95`` for whole y measures coverage against its nominal level. (A continuous
    quantile compared with whole yards would count a bin as in or out by where inside it the
    quantile fell.)

    How: the continuous quantile ``Q`` of a thinned set of at most ``root_draws`` draws gives the
    candidate ``ceil(Q - 1/2)``; the CDF of every draw at its two bin edges then accepts it, or moves it
    one yard and checks again. A row still unsettled (draws that disagree by many yards) is solved on
    every draw, as all rows were before: Newton on all draws, then the same check at the bin edges. So
    each answer is checked against the definition on all draws; the thinning (the weekly run's 1,000
    draws x 40 backs spent most of its time in the root-finder's iterations) only sets the work.

    Parameters
    ----------
    w, mu, sigma : numpy.ndarray
        The mixture in target space, each (S, n, K).
    probs : sequence of float
        Probabilities in (0, 1).
    transform, offset
        The target space, see :func:`target_space`.
    root_draws : int
        At most this many draws (evenly thinned) for the root-finder's first pass.

    Returns
    -------
    numpy.ndarray
        Whole yards (as floats), shape (len(probs), n).
    """
    P = np.asarray(probs, dtype=np.float64)[:, None]
    step = max(1, -(-mu.shape[0] // max(1, int(root_draws))))
    y = _candidate(w[::step], mu[::step], sigma[::step], probs, transform, offset)

    def cdf(yy, cols=slice(None)):
        return pooled_cdf(w[:, cols], mu[:, cols], sigma[:, cols], target_space(yy, transform, offset))

    down, up = cdf(y - 0.5) >= P, cdf(y + 0.5) < P  # the answer lies below / above y (never both)
    cols = np.flatnonzero((down | up).any(axis=0))
    if cols.size:  # one yard either way, checked at the edge not yet known
        dn, upc = down[:, cols], up[:, cols]
        y2 = y[:, cols] - dn + upc
        edge = cdf(np.where(dn, y2 - 0.5, y2 + 0.5), cols)
        y[:, cols] = y2
        unsettled = cols[((dn & (edge >= P)) | (upc & (edge < P))).any(axis=0)]
        if unsettled.size:  # a candidate two or more yards off: solve those rows on every draw
            y[:, unsettled] = _settle(w[:, unsettled], mu[:, unsettled], sigma[:, unsettled], P,
                                      _candidate(w[:, unsettled], mu[:, unsettled], sigma[:, unsettled], probs,
                                                 transform, offset), transform, offset)
    return y


def _candidate(w, mu, sigma, probs, transform, offset) -> np.ndarray:
    """``ceil(Q - 1/2)`` from the continuous quantile ``Q`` of the pooled mixture (Q, n)."""
    if transform == "log":
        q = np.exp(mixture_quantiles(w, mu, sigma, probs, tol=1e-4)) - offset
    else:
        q = mixture_quantiles(w, mu, sigma, probs)
    return np.ceil(q - 0.5)


def _settle(w, mu, sigma, P, y, transform, offset) -> np.ndarray:
    """Move a candidate at most one yard down, then one up, by the exact CDF at its bin edges."""
    y = np.where(pooled_cdf(w, mu, sigma, target_space(y - 0.5, transform, offset)) >= P, y - 1, y)
    return np.where(pooled_cdf(w, mu, sigma, target_space(y + 0.5, transform, offset)) < P, y + 1, y)
