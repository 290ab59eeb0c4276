"""The train report and log say what the sampler is doing and did (issue 16, items 2 and 11)."""
from __future__ import annotations

import arviz as az
import numpy as np

from nfl_bnn import train


class _Sampler:
    def __init__(self, tuned, drawn, chains=4):
        self.trace = az.from_dict(sample_stats={"diverging": np.zeros((chains, drawn), bool)},
                                  warmup_sample_stats={"diverging": np.zeros((chains, tuned), bool)},
                                  save_warmup=True)

    def inspect(self):
        return self.trace


class _Broken:
    def inspect(self):
        raise RuntimeError("sampler gone")


def test_progress_line_counts_tune_and_draws_per_chain():
    p = train.TrainParams(inference="nutpie", chains=4, tune=300, draws=300)
    line = train.sampling_progress(_Sampler(300, 150), p, elapsed_s=45.0)
    assert line.startswith("sampling: 4 chains x (300 tune + 300 draws)")
    assert "tune 300/300, draws 150/300 per chain" in line and "45 s elapsed" in line
    assert "about 15 s left" in line  # 450 of 600 steps in 45 s
    assert "tune 40/300, draws 0/300" in train.sampling_progress(_Sampler(40, 0), p, 5.0)


def test_progress_line_survives_a_sampler_that_cannot_be_inspected():
    p = train.TrainParams(inference="nutpie", chains=2, tune=100, draws=100)
    assert train.sampling_progress(_Broken(), p, 12.0) == "sampling: 2 chains x (100 tune + 100 draws), 12 s elapsed"


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
        assert train.wait_with_progress(_Background(3), p, every_s=0.0) == "idata"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sampling:")]
    assert len(lines) == 3 and all("tune 300/300, draws 0/300 per chain" in line for line in lines)
