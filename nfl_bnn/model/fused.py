"""The default model's likelihood and its gradient as one compiled pass over the rows (``fused: true``).

Why: a fit is ~100,000 evaluations of the log density and its gradient, and the generic graph
(:mod:`nfl_bnn.model.graph`) spends most of each one moving (rows x experts) arrays between some
thirty separate array operations of PyTensor's automatic gradient. This module computes the same
numbers in one loop over the rows, keeping each row's few dozen values in registers, and hands
PyTensor the gradient it computed on the way (docs/network.md, session 15, has the timings).

It covers the models whose every row-level quantity is a fixed design times the parameters: an
ordinal gate whose score is linear in its features, or in its features and the fixed additive units
(the gating networks ``gate_hidden: true | gate_features | shrunk | orthogonal``: the kernel reads them
as more gate columns, and PyTensor carries the gradient back to whatever builds their weights),
experts linear in ``Z = [X, h]`` (the features and fixed additive units, ``network: additive`` or no
hidden units), scales ``floor + exp(c_k + x @ gamma)``, the whole-yard (``discrete``) likelihood,
optional row weights. Everything else (a softmax gate, learned hidden units, defence and back effects,
the density likelihood) keeps the generic graph. The priors stay in PyMC; only the likelihood term is
replaced, and tests/test_fused.py holds its value and gradient equal to the generic graph's.

PyTensor and numba are imported inside functions, so importing ``nfl_bnn.model`` pulls in neither.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_FLOOR_P = 1e-300  # as graph._log_bin_prob: a bin ~37 sds out underflows; floored, no gradient


def _loglik_grad(alpha, B, scale_c, gamma, wg, kappa, Z, X, Xg, lo, hi, floor, rw):  # pragma: no cover (numba)
    """Sum over rows of ``rw * log sum_k w_k(x) P_k(bin)``, and its gradient in each parameter.

    Per row: expert locations ``alpha_k + Z_i @ B_k``, scales ``floor + exp(c_k + X_i @ gamma)``, gate
    ``P(expert > j) = sigmoid(Xg_i @ wg - kappa_j)``. The bin probability flips an upper-tail bin to the
    lower tail exactly as the graph does (``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)``), and the gate's log
    weights use the graph's ``log_up + log1mexp(log_dn - log_up)``, clamped where the graph clamps it and
    differentiated as the graph differentiates it (no gradient through a clamped gap): NUTS needs the
    gradient of the very function whose value it is given, so both agree to rounding everywhere.
    """
    n, m = Z.shape
    K, d, g = alpha.shape[0], X.shape[1], Xg.shape[1]
    ga, gB, gc = np.zeros(K), np.zeros((K, m)), np.zeros(K)
    gg, gw, gk = np.zeros(d), np.zeros(g), np.zeros(K - 1)
    ex, lq, dmu, dsd = np.empty(K), np.empty(K), np.empty(K), np.empty(K)
    lw, dlw, lgt, sneg = np.empty(K), np.empty(K), np.empty(K - 1), np.empty(K - 1)
    total = 0.0
    for i in range(n):
        xs = 0.0
        for j in range(d):
            xs += X[i, j] * gamma[j]
        score = 0.0
        for j in range(g):
            score += Xg[i, j] * wg[j]
        for j in range(K - 1):
            c = score - kappa[j]
            e = math.log1p(math.exp(-abs(c)))
            lgt[j] = -(max(-c, 0.0) + e)  # log sigmoid(c)
            sneg[j] = math.exp(-(max(c, 0.0) + e))  # sigmoid(-c) = d log sigmoid(c) / dc
        for k in range(K):
            up = 0.0 if k == 0 else lgt[k - 1]
            gap = (lgt[k] if k < K - 1 else -np.inf) - up
            x = min(gap, -1e-12)  # clamped as the graph clamps it: there, no gradient flows through the gap
            lw[k] = up + (math.log(-math.expm1(x)) if x > -0.6931471805599453 else math.log1p(-math.exp(x)))
            dlw[k] = -1.0 / math.expm1(-gap) if gap < -1e-12 else 0.0  # d log1mexp(gap) / d gap
            loc = alpha[k]
            for j in range(m):
                loc += Z[i, j] * B[k, j]
            ex[k] = math.exp(scale_c[k] + xs)
            s = floor + ex[k]
            a, b = (lo[i] - loc) / s, (hi[i] - loc) / s
            lz, hz = (-b, -a) if a > 0 else (a, b)
            p = 0.5 * (math.erfc(-hz * _SQRT_HALF) - math.erfc(-lz * _SQRT_HALF))
            if p > _FLOOR_P:
                lq[k] = math.log(p)
                pa, pb = math.exp(-0.5 * a * a) * _INV_SQRT_2PI, math.exp(-0.5 * b * b) * _INV_SQRT_2PI
                dmu[k] = (pa - pb) / (s * p)
                dsd[k] = (a * pa - b * pb) / (s * p)
            else:
                lq[k], dmu[k], dsd[k] = math.log(_FLOOR_P), 0.0, 0.0
        top = lw[0] + lq[0]
        for k in range(1, K):
            top = max(top, lw[k] + lq[k])
        acc = 0.0
        for k in range(K):
            ex_k = math.exp(lw[k] + lq[k] - top)
            lw[k] = ex_k  # lw is not needed again: keep exp(lw + lq - top) in its place
            acc += ex_k
        ll = top + math.log(acc)
        w = rw[i]
        total += w * ll
        scale_sum = 0.0
        for k in range(K):
            r = w * lw[k] / acc  # the row's responsibility of expert k
            dm = r * dmu[k]
            ga[k] += dm
            for j in range(m):
                gB[k, j] += dm * Z[i, j]
            ds = r * dsd[k] * ex[k]
            gc[k] += ds
            scale_sum += ds
        for j in range(d):
            gg[j] += scale_sum * X[i, j]
        dscore = 0.0
        for j in range(K - 1):  # log sigmoid(c_j) is expert j+1's "up" and expert j's "down" (as in the graph)
            r_hi, r_lo = w * lw[j + 1] / acc, w * lw[j] / acc  # responsibilities (lw now holds exp(lw + lq - top))
            t = (r_hi * (1.0 - dlw[j + 1]) + r_lo * dlw[j]) * sneg[j]
            dscore += t
            gk[j] -= t
        for j in range(g):
            gw[j] += dscore * Xg[i, j]
    return np.asarray(total), ga, gB, gc, gg, gw, gk


@lru_cache(maxsize=None)
def kernel():
    """The numba-compiled kernel (compiled once a process; numba's cache keeps it across processes)."""
    import numba

    return numba.njit(cache=True, nogil=True)(_loglik_grad)


@lru_cache(maxsize=None)
def _op():
    """The PyTensor Op (built on first use, so PyTensor loads only when a graph does)."""
    import pytensor.tensor as pt
    from pytensor.gradient import DisconnectedType, disconnected_type
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op
    from pytensor.link.numba.dispatch import numba_funcify

    class FusedLoglik(Op):
        """Inputs: alpha, B, scale_c, gamma, wg, kappa (parameters), Z, X, Xg, lo, hi, floor, rw (data).
        Outputs: the log-likelihood and its gradient in each parameter."""

        __props__ = ()
        n_params = 6

        def make_node(self, *inputs):
            inputs = [pt.as_tensor_variable(np.float64(x) if np.isscalar(x) else x).astype("float64")
                      for x in inputs]
            outs = [pt.dscalar()] + [x.type() for x in inputs[:self.n_params]]
            return Apply(self, inputs, outs)

        def perform(self, node, inputs, outputs):
            args = [*inputs[:11], float(inputs[11]), inputs[12]]
            for slot, value in zip(outputs, kernel()(*args)):
                slot[0] = np.asarray(value, dtype=np.float64)

        def grad(self, inputs, output_grads):
            if any(not isinstance(g.type, DisconnectedType) for g in output_grads[1:]):
                raise NotImplementedError("the fused likelihood has no second derivatives (a Hessian through "
                                          "it); build the model with fused=False (train params: fused: false)")
            parts = self(*inputs)[1:]
            return [output_grads[0] * gp for gp in parts] + [disconnected_type() for _ in inputs[self.n_params:]]

        def connection_pattern(self, node):
            n = len(node.inputs)
            return [[True] * len(node.outputs) if i < self.n_params else [False] * len(node.outputs)
                    for i in range(n)]

    @numba_funcify.register(FusedLoglik)
    def _numba(op, node=None, **kwargs):
        import numba

        fn = kernel()

        @numba.njit(nogil=True)
        def fused(alpha, B, scale_c, gamma, wg, kappa, Z, X, Xg, lo, hi, floor, rw):
            return fn(alpha, B, scale_c, gamma, wg, kappa, Z, X, Xg, lo, hi, floor.item(), rw)

        return fused

    return FusedLoglik()


def supported(gate: str, likelihood: str, H: int, network: str, gate_hidden, effects) -> bool:
    """Whether this module computes the model's likelihood (fixed row designs only, see the docstring)."""
    return (gate == "ordinal" and likelihood == "discrete" and (int(H) == 0 or network == "additive")
            and gate_hidden in (False, True, "gate_features", "shrunk", "orthogonal")
            and not (effects is not None and effects.active))


def check(gate: str, likelihood: str, H: int, network: str, gate_hidden, effects) -> None:
    """Refuse ``fused: true`` for a model the kernel does not compute, saying what it covers."""
    if not supported(gate, likelihood, H, network, gate_hidden, effects):
        raise ValueError("fused: true covers an ordinal gate, the discrete likelihood, network: additive (or no "
                         "hidden units), gate_hidden false, true, gate_features, shrunk or orthogonal, and no effects; "
                         "set fused: false for this model")


def model_loglik(m, Xz, H: int, hidx, gidx, gain: float, edges, floor: float, rw=None, gate_hidden=False):
    """:func:`loglik` from a PyMC model's registered parameters (``alpha``, ``beta``, ``v``, ``scale_c``,
    ``gamma``, ``gate_wg``, ``gate_kappa``; for a gating network ``gate_Vh``, or ``gate_u`` on the
    orthogonal basis) and its training rows; the fixed units are the graph's."""
    from nfl_bnn.model.network import additive_basis, orthogonal_gate_basis

    Xz = np.asarray(Xz, dtype=np.float64)
    d, gidx = Xz.shape[1], list(gidx)
    h = additive_basis(Xz, d, H, list(range(d)) if hidx is None else hidx, gain) if H else None
    Z, Xg, B, wg = Xz if not H else np.hstack([Xz, h]), Xz[:, gidx], m["beta"], m["gate_wg"]
    if H:  # a gating network needs hidden units (the graph refuses one without)
        import pytensor.tensor as pt

        B = pt.concatenate([B, m["v"]], axis=1)
        if gate_hidden == "orthogonal":  # the score reads Z_orth @ gate_u, exactly as the graph builds it
            Xg, wg = np.hstack([Xg, orthogonal_gate_basis(h, Xg)[0]]), pt.concatenate([wg, m["gate_u"]])
        elif gate_hidden:  # h @ u, u the gate's unit weights (zeros where a gating network leaves units out)
            Xg, wg = np.hstack([Xg, h]), pt.concatenate([wg, m["gate_Vh"][:, 0]])
    return loglik(m["alpha"], B, m["scale_c"], m["gamma"], wg, m["gate_kappa"], Z, Xz, Xg,
                  edges[0], edges[1], floor, rw)


def loglik(alpha, B, scale_c, gamma, wg, kappa, Z, X, Xg, lo, hi, floor, rw=None):
    """The fused log-likelihood as a PyTensor scalar (its gradient is the kernel's).

    ``alpha`` (K,), ``B`` (K, m) expert coefficients on ``Z`` (n, m), ``scale_c`` (K,), ``gamma`` (d,)
    on ``X`` (n, d), ``wg`` (g,) on ``Xg`` (n, g), ordered ``kappa`` (K-1,); ``lo``/``hi`` (n,) the
    bin edges, ``floor`` the scale floor, ``rw`` (n,) row weights (None: 1).
    """
    n = np.asarray(lo).shape[0]
    data = [np.ascontiguousarray(a, dtype=np.float64) for a in (Z, X, Xg, lo, hi)]
    weights = np.ones(n) if rw is None else np.ascontiguousarray(rw, dtype=np.float64)
    return _op()(alpha, B, scale_c, gamma, wg, kappa, *data, np.float64(floor), weights)[0]
