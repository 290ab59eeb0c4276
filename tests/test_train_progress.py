"""The train report and log say what the sampler is doing and did (issue 16, items 2 and 11)."""
from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from nfl_bnn import sampling, train


class _Sampler:
    """nutpie's inspected trace: every chain padded to the longest, with n_steps 0 where a chain has not drawn
    (``tuned``/``drawn``: per chain, or one count for all)."""

    def __init__(self, tuned, drawn, chains=4):
        def stats(done):
            done = np.broadcast_to(done, (chains,))
            steps = np.zeros((chains, int(max(done.max(), 0))), np.uint64)
            for c, k in enumerate(done):
                steps[c, :k] = 15
            return {"diverging": np.zeros(steps.shape, bool), "n_steps": steps}

        self.trace = az.from_dict(sample_stats=stats(drawn), warmup_sample_stats=stats(tuned), save_warmup=True)

    def inspect(self):
        return self.trace


class _Broken:
    def inspect(self):
        raise RuntimeError("sampler gone")


def test_progress_line_counts_tune_and_draws_over_the_chains():
    p = train.TrainParams(inference="nutpie", chains=4, tune=300, draws=300)
    line = sampling.sampling_progress(_Sampler(300, 150), p, elapsed_s=45.0)
    assert line.startswith("sampling: 4 chains x (300 tune + 300 draws)")
    assert "tune 1200/1200, draws 600/1200 over the chains" in line and "45 s elapsed" in line
    assert "about 15 s left" in line  # 1800 of 2400 iterations in 45 s
    assert "tune 160/1200, draws 0/1200" in sampling.sampling_progress(_Sampler(40, 0), p, 5.0)


def test_progress_line_counts_chains_still_waiting_for_a_core_as_not_done():
    """4 chains on 2 cores: two have finished, two not started; nutpie pads those with zero-step draws.
    Counting the padded length said "draws 300/300 per chain" at half time (seen in a production fit)."""
    p = train.TrainParams(inference="nutpie", chains=4, tune=300, draws=300)
    line = sampling.sampling_progress(_Sampler([300, 300, 0, 0], [300, 300, 0, 0]), p, elapsed_s=60.0)
    assert "tune 600/1200, draws 600/1200 over the chains" in line and "about 60 s left" in line


def test_progress_line_survives_a_sampler_that_cannot_be_inspected():
    p = train.TrainParams(inference="nutpie", chains=2, tune=100, draws=100)
    assert sampling.sampling_progress(_Broken(), p, 12.0) == "sampling: 2 chains x (100 tune + 100 draws), 12 s elapsed"


def test_settings_used_names_the_values_not_zero_overrides():
    nuts = train.TrainParams(inference="nutpie", chains=4, tune=300, draws=300, seed=7)
    assert train.settings_used(nuts) == "nutpie: 4 chains x (300 tune + 300 draws), seed 7"
    advi = train.TrainParams(inference="advi", advi_iterations=400, draws=60, seed=1)
    assert train.settings_used(advi) == "ADVI, 400 iterations, 60 draws, seed 1"


class _Background:
    """A sampler like nutpie's background one: ``wait(timeout)`` raises TimeoutError ``waits`` times
    before it returns the trace; ``inspect`` fails while ``wait`` blocks (nutpie holds the sampler
    then), so progress must be read between waits."""

    def __init__(self, waits):
        self.waits, self.waiting = waits, False
        self.trace = _Sampler(300, 0).trace

    def inspect(self):
        if self.waiting:
            raise RuntimeError("Already mutably borrowed")
        return self.trace

    def wait(self, timeout=None):
        self.waits -= 1
        if self.waits >= 0:
            raise TimeoutError("Timeout while waiting for sampler to finish")
        return "idata"


def test_progress_is_read_between_waits_not_while_wait_blocks(caplog):
    p = train.TrainParams(inference="nutpie", chains=4, tune=300, draws=300)
    with caplog.at_level("INFO", logger="nfl_bnn.train"):
        assert sampling.wait_with_progress(_Background(3), p, every_s=0.0) == "idata"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sampling:")]
    assert len(lines) == 3 and all("tune 1200/1200, draws 0/1200 over the chains" in line for line in lines)


def test_sampler_reports_draws_that_hit_the_tree_depth_cap():
    stats = {"diverging": np.zeros((2, 5), bool), "maxdepth_reached": np.zeros((2, 5), bool)}
    stats["maxdepth_reached"][1, :3] = True
    out = sampling.sampler_diagnostics(az.from_dict(sample_stats=stats))
    assert out["divergences"] == 0 and out["treedepth_hits"] == 3


@pytest.mark.parametrize("backend", ["numba", "c"])
def test_max_treedepth_reaches_nutpie(monkeypatch, backend):
    """The cap is nutpie's ``maxdepth``: a params field that never reached the sampler would change nothing
    (through either way of compiling the model: nutpie's numba callbacks or PyTensor's C backend)."""
    import nutpie

    seen = {}
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model, **kw: "compiled" if backend == "numba" else 1 / 0)
    monkeypatch.setattr(sampling, "compile_c", lambda model, **kw: ("compiled", None, None) if backend == "c" else 1 / 0)

    class _Done:
        def wait(self, timeout=None):
            return az.from_dict(sample_stats={"n_steps": np.full((1, 4), 7), "diverging": np.zeros((1, 4), bool)})

    def fake_sample(compiled, **kw):
        assert compiled == "compiled"
        seen.update(kw)
        return _Done()

    monkeypatch.setattr(nutpie, "sample", fake_sample)
    p = train.TrainParams(inference="nutpie", init="default", chains=1, tune=10, draws=10, max_treedepth=7,
                          logp_backend=backend)
    _idata, steps = sampling.run(type("Model", (), {"free_RVs": []})(), p)
    assert seen["maxdepth"] == 7 and steps == 7.0
    with pytest.raises(ValueError, match="max_treedepth"):
        train.TrainParams(max_treedepth=2)


def test_warmup_profile_splits_the_steps_by_phase():
    from bench.warmup import warmup_profile

    warm = np.full((2, 100), 15)
    warm[:, :3] = 255  # the first iterations, far from the posterior, run to the cap
    idata = az.from_dict(sample_stats={"n_steps": np.full((2, 10), 15), "diverging": np.zeros((2, 10), bool),
                                       "maxdepth_reached": np.zeros((2, 10), bool)},
                         warmup_sample_stats={"n_steps": warm}, save_warmup=True)
    out = warmup_profile(idata)
    assert out["warmup_steps_per_50_iterations"] == [2 * (3 * 255 + 47 * 15), 2 * 50 * 15]
    assert out["warmup_steps_per_chain"] == [3 * 255 + 97 * 15] * 2 and out["draw_steps_per_chain"] == [150, 150]
    assert out["draws_at_the_depth_cap"] == 0 and out["steps_per_draw"] == 15.0


def test_divergences_are_traced_to_the_parameter_they_ran_away_along(rng):
    """Each divergence is attributed to the coordinate whose end point lies farthest out in posterior sds:
    here two head down ``gap`` (sd 0.1, ending 2 below the mean) although ``slope`` (sd 10) moved more in
    raw units, and one heads up ``slope``."""
    names = ["gap", "slope", "scale"]
    draws = rng.normal(0.0, [0.1, 10.0, 1.0], size=(2, 400, 3))
    div = np.zeros((2, 400), bool)
    end = np.full((2, 400, 3), np.nan)
    div[0, 5], end[0, 5] = True, [-2.0, 15.0, 0.5]
    div[1, 9], end[1, 9] = True, [-1.5, -12.0, 0.0]
    div[1, 20], end[1, 20] = True, [0.0, 90.0, 1.0]
    stats = {"diverging": div, "divergence_end": end, "unconstrained_draw": draws}
    dims = {"divergence_end": ["unconstrained_parameter"], "unconstrained_draw": ["unconstrained_parameter"]}
    idata = az.from_dict(sample_stats=stats, dims=dims, coords={"unconstrained_parameter": names})
    assert sampling.divergence_directions(idata) == {"gap": 2, "slope": 1}
    out = sampling.sampler_diagnostics(idata)
    assert out["divergences"] == 3 and out["divergence_directions"] == {"gap": 2, "slope": 1}
    quiet = {"diverging": np.zeros((2, 400), bool), "divergence_end": end, "unconstrained_draw": draws}
    assert "divergence_directions" not in sampling.sampler_diagnostics(az.from_dict(sample_stats=quiet, dims=dims))
    assert sampling.divergence_directions(az.from_dict(sample_stats={"diverging": div})) == {}  # PyMC's NUTS
