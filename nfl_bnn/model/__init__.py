"""The mixture-of-experts model, in three parts split where PyMC stops being needed.

* :mod:`nfl_bnn.model.forward` and :mod:`nfl_bnn.model.quantiles`: the NumPy forward pass and
  mixture maths (prediction);
* :mod:`nfl_bnn.model.artifact` and :mod:`nfl_bnn.model.checks`: the saved model, its loading and
  validation;
* :mod:`nfl_bnn.model.graph`: the PyMC graph that training samples.

Everything is importable from ``nfl_bnn.model`` as before; the graph's names are resolved lazily,
so ``from nfl_bnn.model import MixtureExpertsBNN`` never imports PyMC or PyTensor.
"""
from __future__ import annotations

from nfl_bnn.model.artifact import MixtureExpertsBNN
from nfl_bnn.model.checks import ARTIFACT_FORMAT, FIX, MODEL_VERSION, data_fingerprint
from nfl_bnn.model.forward import (GATES, PARAM_SHAPES, QUANTILES, TRANSFORMS, _dims,  # noqa: F401
                                   gate_weights, mixture_logpdf, mixture_logpmf, mixture_params,
                                   mixture_quantiles, pooled_cdf, predictive_summary, target_space,
                                   whole_yard_quantiles)

_GRAPH = ("build_pymc_model", "posterior_arrays", "quiet_pytensor")

__all__ = ["ARTIFACT_FORMAT", "FIX", "GATES", "MODEL_VERSION", "MixtureExpertsBNN", "PARAM_SHAPES",
           "QUANTILES", "TRANSFORMS", "data_fingerprint", "gate_weights", "mixture_logpdf",
           "mixture_logpmf", "mixture_params", "mixture_quantiles", "pooled_cdf", "predictive_summary",
           "target_space", "whole_yard_quantiles", "build_pymc_model", "posterior_arrays", "quiet_pytensor"]


def __getattr__(name: str):
    if name in _GRAPH:  # PyMC-backed: imported on first use only
        from nfl_bnn.model import graph

        return getattr(graph, name)
    raise AttributeError(f"module 'nfl_bnn.model' has no attribute {name!r}")
