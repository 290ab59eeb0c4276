"""Sampling in Laplace-scaled coordinates: the sampler sees ``u`` with ``x = x_map + M u`` instead of ``x``.

``x`` is the model's unconstrained vector (after PyMC's own log, ordered, ... transforms), ``x_map`` the
MAP, and ``M`` either the Laplace approximation's marginal sds there (``precondition: sd``, diagonal) or
a square root of its covariance (``covariance``: also undoes the correlations at the MAP), both from
:func:`nfl_bnn.sampling.laplace`. With thousands of rows those sds run from about 0.01 to 0.4, while
nutpie starts its warm-up with an identity mass matrix and a step of 0.1: until the mass matrix has
adapted, trajectories must be long to cross the wide directions with a step small enough for the narrow
ones, and the first 100 warm-up iterations took about half of all the leapfrog steps of a production fit
(docs/network.md, sessions 9, 10 and 12). In ``u`` every direction starts near a posterior sd of 1.

The posterior is the same: an affine change of variables with a constant Jacobian. ``x_map`` and ``M``
are PyTensor shared variables, so the graph is compiled once (with the identity, on which the MAP and
the Laplace approximation are found) and set with nutpie's ``with_data`` before sampling.
"""
from __future__ import annotations

from math import prod

import numpy as np

LOC, SCALE, U_NAME = "precond_loc", "precond_scale", "u_laplace"


def flat_layout(model) -> list[tuple[str, slice, tuple[int, ...]]]:
    """(free variable's name, its slice of the flat unconstrained vector, its value's shape), in the
    order nutpie joins them (``model.free_RVs``; see ``nutpie.compile_pymc._make_functions``)."""
    point = model.initial_point()
    out, start = [], 0
    for rv in model.free_RVs:
        shape = tuple(np.shape(point[model.rvs_to_values[rv].name]))
        n = prod(shape)
        out.append((rv.name, slice(start, start + n), shape))
        start += n
    return out


def laplace_coordinates(model, full: bool = False):
    """A model with the same posterior as ``model`` whose one free variable is ``u``, with
    ``x = loc + scale * u`` (or ``loc + scale @ u`` with ``full``); returns it.

    ``x`` is ``model``'s flat unconstrained vector; ``loc`` and ``scale`` are the shared variables
    :data:`LOC` and :data:`SCALE`, a vector of 0s and a vector of 1s (``full``: the identity matrix) until
    set with nutpie's ``with_data``: until then ``u`` is ``x``. Its log density is ``model``'s (its own
    transforms' Jacobians included) at ``x``, as a Potential; the affine map's Jacobian,
    ``log |det scale|``, is a constant and left out. Every free variable's
    value and every Deterministic of ``model`` is a Deterministic of the new model under its own name, so
    the trace reads as before (:func:`nfl_bnn.model.graph.posterior_arrays`). ``u`` itself has a flat
    prior (``pm.Flat``), so it adds nothing to the density.

    Built as a new model rather than by changing each variable's value transform: PyMC's transform
    rewrites cannot see shared variables that are not in the random graph.
    """
    import pymc as pm
    import pytensor
    from pytensor.graph.replace import graph_replace

    layout = flat_layout(model)
    n = layout[-1][1].stop if layout else 0
    loc = pytensor.shared(np.zeros(n), name=LOC)
    scale = pytensor.shared(np.eye(n) if full else np.ones(n), name=SCALE)
    value_vars = set(model.value_vars)
    # constrained values (an untransformed variable's is its value variable) and Deterministics
    outs = [v for v in model.unobserved_value_vars
            if v not in value_vars or model.rvs_to_transforms.get(model.values_to_rvs[v]) is None]
    with pm.Model() as new:
        u = pm.Flat(U_NAME, shape=(n,))
        x = loc + (scale @ u if full else scale * u)
        repl = {model.rvs_to_values[rv]: x[sl].reshape(shape) for (_, sl, shape), rv in zip(layout, model.free_RVs)}
        logp, *values = graph_replace([model.logp(), *outs], repl, strict=False)
        pm.Potential("logp_laplace", logp)
        for var, value in zip(outs, values):
            pm.Deterministic(var.name, value)
    return new


def initial_flat(model) -> np.ndarray:
    """``model``'s initial point as the flat unconstrained vector (the MAP search starts there; the
    wrapped model's own initial point would be ``u = 0``, which ignores the ordered cut-points' start)."""
    point = model.initial_point()
    return np.concatenate([np.ravel(point[model.rvs_to_values[rv].name]) for rv in model.free_RVs]
                          or [np.zeros(0)]).astype(np.float64)


def unconstrained_names(model) -> list[str]:
    """``model``'s unconstrained coordinates by name, in the order of ``u`` and named as nutpie names them
    (``alpha0``, ``alpha_gap_log___1``)."""
    names = []
    for (_, sl, shape), rv in zip(flat_layout(model), model.free_RVs):
        value = model.rvs_to_values[rv].name
        names += [value] if not shape else [f"{value}_{i}" for i in range(sl.stop - sl.start)]
    return names


POSITIONS = ("unconstrained_draw", "divergence_start", "divergence_end")  # points in u: mapped to x
DIM = "unconstrained_parameter"


def to_model_coordinates(idata, loc: np.ndarray, scale: np.ndarray, names: list[str]):
    """``idata`` with nutpie's stored points in ``u`` (each draw, each divergence's start and end) mapped
    back to the model's coordinates ``x = loc + scale * u`` (``loc + scale @ u`` for a matrix) and labelled
    by their names, so :func:`nfl_bnn.sampling.divergence_directions` names the model's parameters. The
    gradient and momentum at a divergence (``u``-space vectors that map differently) are dropped rather
    than left mislabelled."""
    scale = np.asarray(scale, dtype=np.float64)
    for group in ("sample_stats", "warmup_sample_stats"):
        ds = getattr(idata, group, None)
        if ds is None or DIM not in ds.dims or ds.sizes[DIM] != len(names):
            continue
        ds = ds.drop_vars([v for v in ds.data_vars if DIM in ds[v].dims and v not in POSITIONS])
        for v in POSITIONS:
            if v in ds:
                u = np.asarray(ds[v].values, dtype=np.float64)
                ds[v] = (ds[v].dims, loc + (u @ scale.T if scale.ndim == 2 else u * scale))
        setattr(idata, group, ds.assign_coords({DIM: names}))
    return idata
