"""The whole-yard bin probability inside the PyMC graph is exact where a fit evaluates it.

``nfl_bnn.model.graph._log_bin_prob`` is the expression every leapfrog step evaluates rows x experts
times, so it is written for speed (one erfc difference); these tests hold it to SciPy's ``log_ndtr``
(an independent, tail-accurate reference) across centres, widths and both tails, and check the floor.
"""
import numpy as np
import pytest
from scipy.special import log_ndtr

pytensor = pytest.importorskip("pytensor")


def _reference(lo, hi):
    """log(Phi(hi) - Phi(lo)) via log_ndtr, flipped to the lower tail (stable everywhere)."""
    flip = lo > 0
    a, b = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    la, lb = log_ndtr(a), log_ndtr(b)
    return lb + np.log1p(-np.exp(la - lb))


@pytest.fixture(scope="module")
def bin_prob():
    import pytensor.tensor as pt

    from nfl_bnn.model.graph import _log_bin_prob

    mu, sg, lo, hi = pt.dvectors("mu", "sg", "lo", "hi")
    return pytensor.function([mu, sg, lo, hi], _log_bin_prob(mu, sg, lo, hi))


def test_log_bin_prob_matches_log_ndtr_over_centres_widths_and_tails(bin_prob):
    rng = np.random.default_rng(7)
    n = 50_000
    centre = rng.uniform(-30, 30, n)  # in sds of the expert: far beyond any row a fit keeps
    half = 10 ** rng.uniform(-4, 0.5, n)  # a yard is 1e-3..1 sd wide in the log target
    mu, sg = rng.normal(0, 2, n), np.exp(rng.normal(0, 0.5, n))
    lo, hi = mu + sg * (centre - half), mu + sg * (centre + half)
    got, ref = bin_prob(mu, sg, lo, hi), _reference(centre - half, centre + half)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_bins_straddling_the_branch_point_are_exact(bin_prob):
    # |z| near 1 is where PyMC's normal_lcdf switches formula; the old form erred there by 2e-5
    z = np.linspace(-1.01, -0.99, 201)
    lo, hi = z - 3e-4, z + 3e-4
    one = np.ones_like(z)
    np.testing.assert_allclose(bin_prob(0 * one, one, lo, hi), _reference(lo, hi), rtol=0, atol=1e-10)
    np.testing.assert_allclose(bin_prob(0 * one, one, -hi, -lo), _reference(-hi, -lo), rtol=0, atol=1e-10)


def test_a_bin_beyond_double_precision_is_floored_not_nan(bin_prob):
    lo, hi = np.array([60.0, -61.0]), np.array([61.0, -60.0])
    got = bin_prob(np.zeros(2), np.ones(2), lo, hi)
    np.testing.assert_allclose(got, np.log(1e-300))
