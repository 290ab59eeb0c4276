"""nfl_bnn: leak-free Bayesian mixture-of-experts predictions of NFL rushing yards.

The package holds all logic; notebooks in ``notebooks/`` only orchestrate and show.
Heavy modules (PyMC) are imported lazily so that the CLI and the data layer start fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "MixtureExpertsBNN", "BNNMoEProductionPipeline"]


def __getattr__(name: str):  # lazy re-exports of the public API the older system's users call
    if name == "MixtureExpertsBNN":
        from nfl_bnn.model import MixtureExpertsBNN

        return MixtureExpertsBNN
    if name == "BNNMoEProductionPipeline":
        from nfl_bnn.pipeline import BNNMoEProductionPipeline

        return BNNMoEProductionPipeline
    raise AttributeError(f"module 'nfl_bnn' has no attribute {name!r}")
