"""The samplers behind a fit: MAP-centred overdispersed starts, nutpie (or PyMC's NUTS, or ADVI), a
progress line while it runs, and what the sampler itself reports (divergences, start dispersion, draws
that hit the tree-depth cap).

Kept apart from :mod:`nfl_bnn.train` (the typed parameters and chain stacking) and
:mod:`nfl_bnn.fitting` (data to posterior to artifact), so each stays short.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nfl_bnn.train import TrainParams

log = logging.getLogger("nfl_bnn.train")


def map_start(model, p: TrainParams) -> dict[str, np.ndarray] | None:
    """``init: map``: the MAP by PyMC's ``find_MAP`` (L-BFGS from the default start), else None.

    Each chain then starts from the MAP plus its own U(-1, 1) jitter of every unconstrained value
    (PyMC's and nutpie's ``jitter``). With thousands of rows the posterior sds of these values are a
    few hundredths, so the starts are overdispersed, but by 5-50 sds: warm-up starts far out, and on
    the production rows one chain in a few never adapted well (docs/network.md, session 10). The
    default, ``init: laplace``, finds the MAP on nutpie's compiled model instead (:func:`laplace`).
    """
    import pymc as pm

    if p.init != "map":
        return None
    t0 = time.time()
    with model:
        point = pm.find_MAP(progressbar=False, seed=p.seed)
    log.info("MAP found in %.0f s: every chain starts from it plus its own jitter", time.time() - t0)
    return {rv.name: np.asarray(point[rv.name]) for rv in model.free_RVs}


HEARTBEAT_S = 15  # seconds between sampling progress lines in the log (make train, cron)


def _done(stats) -> np.ndarray:
    """Draws done by each chain in nutpie's inspected trace: it pads the chains still waiting for a core
    (4 chains on 2 cores run two at a time) to the longest, with 0 leapfrog steps, which no real draw has."""
    if "n_steps" in stats:
        return (np.asarray(stats["n_steps"].values) > 0).sum(axis=-1)
    return np.full(stats.sizes.get("chain", 1), stats.sizes.get("draw", 0))


def sampling_progress(sampler, p: TrainParams, elapsed_s: float) -> str:
    """One log line on a running nutpie sampler: draws done by the chains so far, elapsed and left.

    Training sits on one notebook cell for minutes; this line (every :data:`HEARTBEAT_S` seconds,
    streamed to the terminal by ``nfl-bnn run-notebook``) shows it is moving and how far it is. The
    counts are totals over the chains: with more chains than cores, the later chains start only when
    the first are done, so "per chain" counts of the longest chain said "done" at half time.
    """
    head = f"sampling: {p.chains} chains x ({p.tune} tune + {p.draws} draws)"
    try:
        with warnings.catch_warnings():  # ArviZ's "more chains than draws" while no draw is kept yet
            warnings.simplefilter("ignore", UserWarning)
            trace = sampler.inspect()
        tuned = int(_done(trace.warmup_sample_stats).sum()) if "warmup_sample_stats" in trace else 0
        drawn = int(_done(trace.sample_stats).sum()) if "sample_stats" in trace else 0
    except Exception:  # noqa: BLE001 - progress is informative only; never break a fit over it
        return f"{head}, {elapsed_s:.0f} s elapsed"
    C = max(p.chains, 1)
    done_share = (tuned + drawn) / max(C * (p.tune + p.draws), 1)
    left = f", about {elapsed_s / done_share * (1 - done_share):.0f} s left" if 0.05 < done_share < 1 else ""
    return (f"{head}: tune {tuned}/{C * p.tune}, draws {drawn}/{C * p.draws} over the chains, "
            f"{elapsed_s:.0f} s elapsed{left}")


def wait_with_progress(sampler, p: TrainParams, every_s: float = HEARTBEAT_S):
    """Wait for a background nutpie sampler, logging :func:`sampling_progress` every ``every_s`` seconds.

    The progress is read in this thread, between waits that time out (nutpie raises TimeoutError):
    while ``wait()`` blocks, nutpie holds the sampler, so a heartbeat thread's ``inspect()`` failed
    with "Already mutably borrowed" and the progress line lost its draw counts for the whole fit.
    """
    t0 = time.time()
    while True:
        try:
            return sampler.wait(timeout=every_s)
        except TimeoutError:
            log.info("%s", sampling_progress(sampler, p, time.time() - t0))


def run(model, p: TrainParams):
    """Run the chosen sampler, logging progress; returns (idata, steps_per_draw or None)."""
    import pymc as pm

    if p.inference == "advi":
        with model:
            approx = pm.fit(n=p.advi_iterations, method="advi", random_seed=p.seed, progressbar=False)
            idata = approx.sample(p.draws, random_seed=p.seed)
        return idata, None
    start = map_start(model, p)
    if p.inference == "pymc":
        if p.mass_matrix == "low_rank":
            log.warning("mass_matrix: low_rank is a nutpie option; PyMC's NUTS adapts a diagonal mass matrix")
        with model:
            idata = pm.sample(draws=p.draws, tune=p.tune, chains=p.chains, cores=min(p.cores, p.chains),
                              initvals=start, init="jitter+adapt_diag", discard_tuned_samples=False,
                              random_seed=p.seed, target_accept=p.target_accept, progressbar=False,
                              max_treedepth=p.max_treedepth,
                              compute_convergence_checks=False)
        steps = float(idata.sample_stats["n_steps"].mean()) if "n_steps" in idata.sample_stats else None
        return idata, steps
    import nutpie

    compiled = _compiled_with_starts(model, p, start)
    sampler = nutpie.sample(compiled, draws=p.draws, tune=p.tune, chains=p.chains, cores=p.cores,
                            seed=p.seed, target_accept=p.target_accept, progress_bar=False, blocking=False,
                            low_rank_modified_mass_matrix=p.mass_matrix == "low_rank", maxdepth=p.max_treedepth,
                            # for divergence_directions: five vectors of the unconstrained values per draw,
                            # about 18 MB for the default's 100 values over 4 x 1,100 draws
                            store_divergences=True, store_unconstrained=True)
    idata = wait_with_progress(sampler, p)
    st = idata.sample_stats
    steps = float(st["n_steps"].mean()) if "n_steps" in st else None
    return idata, steps


def laplace(logp_grad, x0: np.ndarray, fd_step: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """The MAP in the sampler's unconstrained space and the Laplace approximation's marginal sds there.

    ``logp_grad(x)`` returns (log density, gradient) of the flat unconstrained vector: nutpie's own
    compiled function, so finding the MAP costs no second compilation of the graph (PyMC's
    ``find_MAP`` compiled it again with PyTensor's C backend: 10-40 s of a production fit, most of it on
    a machine whose compile cache is cold). The Hessian is central differences of the gradient (a
    hundred or so parameters: a few hundred gradient calls); directions in which it is not positive
    definite, or flatter than a unit-sd Normal, get sd 1, the scale of the old U(-1, 1) jitter.
    """
    from scipy.optimize import minimize

    def neg(x):
        lp, g = logp_grad(np.asarray(x, dtype=np.float64))
        return -float(lp), -np.asarray(g, dtype=np.float64)

    x = minimize(neg, np.asarray(x0, dtype=np.float64), jac=True, method="L-BFGS-B",
                 options={"maxiter": 10_000, "maxfun": 20_000}).x
    if not (np.isfinite(x).all() and np.isfinite(neg(x)[0])):
        raise RuntimeError("init: laplace: the search for the MAP left the model's support (a non-finite log "
                           "density); set init: map in the train params to start from PyMC's find_MAP instead")
    n = x.size
    hess = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = fd_step
        hess[i] = (neg(x + e)[1] - neg(x - e)[1]) / (2 * fd_step)
    w, V = np.linalg.eigh((hess + hess.T) / 2)
    sd = np.sqrt(np.einsum("ij,j,ij->i", V, 1.0 / np.maximum(w, 1.0), V))
    return x, sd


def laplace_starts(x_map: np.ndarray, sd: np.ndarray, spread: float, seed: int):
    """Chain starts ``x_map + spread * sd * z``, z ~ N(0, I), one independent z per chain seed: spread
    over ``spread`` posterior sds in every coordinate (overdispersed, so R-hat can see chains that
    disagree) rather than the U(-1, 1) jitter's fixed width, which is 5-50 posterior sds for the
    well-pinned parameters of a 7,800-row fit: from there one production fit in three had a chain
    whose warm-up never adapted (docs/network.md, session 10)."""
    def start(chain_seed) -> np.ndarray:
        z = np.random.default_rng([int(seed), int(chain_seed) % 2**32]).standard_normal(x_map.size)
        return x_map + spread * sd * z
    return start


def compile_c(model, initial_points: dict | None = None, jitter_rvs: set | None = None):
    """nutpie's model with the log density and gradient as a PyTensor function on its C backend, called
    from Python (``logp_backend: c``): ``(compiled model, logp_grad, initial point function)``.

    Why: ``nutpie.compile_pymc_model`` builds numba C callbacks around the graph, and numba compiles
    those callbacks from scratch in every process (they cannot be cached): 25-45 s of every fit, 70-80 s
    the first time on a machine. PyTensor's C backend keeps what it compiles in its cache, so once any
    model of this kind has been fitted on the machine the same graph compiles in seconds. The graph is the
    same, so is the posterior (tests/test_fused.py holds its log density and gradient equal to the generic
    graph's). The fused kernel releases the GIL, so chains on different cores can run side by side, but
    each gradient is a Python call: on one machine the production fit compiled in 4 s against 33 s and
    sampled about 70 s slower, so it is not the default (docs/network.md, session 19). nutpie's private
    ``_make_functions`` builds the functions as its own backends do; requirements.lock pins the version.
    """
    from nutpie.compile_pymc import _make_functions, _prepare_dims_and_coords, _wrap_with_lock
    from nutpie.compiled_pyfunc import from_pyfunc
    from pymc.initial_point import make_initial_point_fn

    point = _wrap_with_lock(make_initial_point_fn(
        model=model, overrides=initial_points, default_strategy="support_point",
        jitter_rvs=set(model.free_RVs) if jitter_rvs is None else jitter_rvs, return_transformed=True))
    n_dim, _, logp_fn, expand_fn, initial_point, (names, _slices, shapes) = _make_functions(
        model, mode="FAST_RUN", compute_grad=True, join_expanded=False, pymc_initial_point_fn=point)

    def pair(fn):
        def logp(x):
            lp, g = fn(x)
            return float(lp), np.asarray(g, dtype=np.float64, order="C")
        return logp

    def make_logp():  # nutpie asks once per chain; a PyTensor Function is not thread-safe: a copy each
        return pair(logp_fn.copy())

    def make_expand(_seed1, _seed2, _chain):
        fn = expand_fn.copy()

        def expand(x):
            return {n: np.asarray(v, dtype=np.float64, order="C").reshape(sh)
                    for n, v, sh in zip(names, fn(x), shapes, strict=True)}
        return expand

    dims, coords = _prepare_dims_and_coords(model, (names, _slices, shapes))
    compiled = from_pyfunc(ndim=n_dim, make_logp_fn=make_logp, make_expand_fn=make_expand,
                           make_initial_point_fn=initial_point,
                           expanded_dtypes=[np.dtype("float64")] * len(names),
                           expanded_shapes=shapes, expanded_names=names, dims=dims, coords=coords)
    return compiled, pair(logp_fn), initial_point


def _compiled_with_starts(model, p: TrainParams, start: dict | None):
    """nutpie's compiled model, with every chain's start: the MAP plus the U(-1, 1) jitter (``init:
    map``), Laplace-scaled starts around the MAP found on the compiled function (``init: laplace``), or
    PyMC's jittered default start."""
    import dataclasses

    import nutpie

    t0 = time.time()
    jitter = set() if p.init == "laplace" else set(model.free_RVs)
    if p.logp_backend == "c":
        compiled, logp_grad, initial_point = compile_c(model, initial_points=start, jitter_rvs=jitter)
        starts_field = "_make_initial_points"
    else:
        compiled = nutpie.compile_pymc_model(model, initial_points=start, jitter_rvs=jitter)
        starts_field = "initial_point_func"
    log.info("model compiled for nutpie (%s backend) in %.0f s", p.logp_backend, time.time() - t0)
    if p.init != "laplace":
        return compiled
    if p.logp_backend == "numba":  # nutpie's numba model carries both
        logp_grad, initial_point = compiled.logp_func, compiled.initial_point_func
    t0 = time.time()
    x_map, sd = laplace(logp_grad, initial_point(p.seed))
    log.info("MAP and Laplace sds found in %.1f s on the compiled model (sd %.3g to %.3g): each chain "
             "starts %.1f sds from it", time.time() - t0, sd.min(), sd.max(), p.start_spread)
    return dataclasses.replace(compiled, **{starts_field: laplace_starts(x_map, sd, p.start_spread, p.seed)})


def start_dispersion(idata, names: tuple[str, ...] = ("alpha", "scale_c")) -> float | None:
    """How far apart the chains started, relative to the posterior: the median over ``names``'
    elements of (sd across chains of the first warm-up draw) / (posterior sd).

    Above 1 the starts were overdispersed, which is what lets R-hat flag chains that did not reach the
    same distribution. None without warm-up draws (ADVI) or with one chain.
    """
    if "warmup_posterior" not in idata or idata.posterior.sizes["chain"] < 2:
        return None
    ratios = [(np.asarray(idata.warmup_posterior[n].isel(draw=0).values).std(axis=0)
               / np.maximum(np.asarray(idata.posterior[n].values).std(axis=(0, 1)), 1e-12)).ravel()
              for n in names if n in idata.warmup_posterior and n in idata.posterior]
    return float(np.median(np.concatenate(ratios))) if ratios else None


def divergence_directions(idata) -> dict[str, int]:
    """Where the divergent transitions after warm-up were heading: for each, the unconstrained parameter
    whose value at the divergence's end lies farthest from its posterior mean in posterior sds; counts
    by name, most frequent first.

    A divergence is a trajectory that met curvature its step size could not follow; the coordinate it
    ran away along names the region (session 11 traced a production-size fit's one divergence to a gap
    between two experts' intercepts heading to 0, docs/network.md). Needs nutpie's divergence
    locations and unconstrained draws (``store_divergences``, ``store_unconstrained``); {} without them.
    """
    st = getattr(idata, "sample_stats", None)
    if st is None or not {"diverging", "divergence_end", "unconstrained_draw"} <= set(st.data_vars):
        return {}
    div = np.asarray(st["diverging"].values, dtype=bool)
    if not div.any():
        return {}
    draws = st["unconstrained_draw"]
    flat = np.asarray(draws.values, dtype=np.float64).reshape(-1, draws.shape[-1])
    dim = draws.dims[-1]
    names = [str(n) for n in draws.coords[dim].values] if dim in draws.coords else [str(i) for i in
                                                                                     range(flat.shape[1])]
    z = (np.asarray(st["divergence_end"].values, dtype=np.float64)[div] - flat.mean(axis=0)) / np.maximum(
        flat.std(axis=0), 1e-12)
    z = np.where(np.isfinite(z), np.abs(z), -1.0)
    counts: dict[str, int] = {}
    for j in z.argmax(axis=1):
        counts[names[j]] = counts.get(names[j], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def sampler_diagnostics(idata) -> dict:
    """Divergent transitions after warm-up, draws after warm-up whose trajectory hit the tree-depth cap
    (``max_treedepth``: such a draw is still valid, but a trajectory cut short explores less; the cap is
    meant for the warm-up's first, far-from-typical steps, so this should be 0), and the chains' start
    dispersion (:func:`start_dispersion`); with divergences, the parameters they ran away along
    (:func:`divergence_directions`)."""
    out: dict = {}
    st = getattr(idata, "sample_stats", None)
    if st is not None and "diverging" in st:
        out["divergences"] = int(st["diverging"].sum())
        if out["divergences"]:
            out["divergence_directions"] = divergence_directions(idata)
    capped = next((n for n in ("maxdepth_reached", "reached_max_treedepth") if st is not None and n in st), None)
    if capped:
        out["treedepth_hits"] = int(st[capped].sum())
    spread = start_dispersion(idata)
    if spread is not None:
        out["start_sd_ratio"] = round(spread, 2)
    return out
