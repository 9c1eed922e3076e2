"""lib.gaussian: one-dimensional Gaussian expectations to near machine precision."""

import mpmath as mp
import numpy as np
import pytest

from lib.gaussian import gaussian_expectation, gaussian_rule
from lib.losses import LOSSES

from test_losses import REFERENCES

# 20 digits: the test needs each reference within 1e-14 E|h| of the truth (its tolerance below), and
# mp.quad's tanh-sinh rule aims at an error near 10^-dps of the integrand's scale, E|h|. On these
# cases the 20-digit references differ from 40-digit ones by at most 1.5e-20 E|h| (and 30-digit ones
# from 40-digit ones by 2e-26), six orders below the tolerance, for less than half the time.
pytestmark = pytest.mark.mp_digits(20)
CASES = [(0.3, 0.01), (0.5, 1.0), (-2.0, 3.0), (1.0, 30.0), (-40.0, 100.0), (5.0, 1e3), (0.1, 1e4), (-0.2, 1e6), (3.0, 0.2)]


def _reference(h, mean, std):
    """E[h(mean + std X)] and E|h(...)| by mpmath, with break points at the loss's feature."""
    mean, std = mp.mpf(mean), mp.mpf(std)
    centre = -mean / std
    points = sorted({mp.mpf(-14), mp.mpf(14), *(centre + k / std for k in (-60, -20, -5, -1, 0, 1, 5, 20, 60))})
    points = [p for p in points if -14 <= p <= 14]
    value = mp.quad(lambda x: h(mean + std * x) * mp.npdf(x), points, maxdegree=10)
    size = mp.quad(lambda x: abs(h(mean + std * x)) * mp.npdf(x), points, maxdegree=10)
    return float(value), float(size)


@pytest.mark.parametrize("mean, std", CASES)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_expectations_are_accurate(mean, std, name):
    nodes, weights = gaussian_rule(mean, std)
    loss = LOSSES[name]
    for function, reference in zip((loss.value, loss.first, loss.second), REFERENCES[name]):
        exact, size = _reference(reference, mean, std)
        # relative to E|h|: where h changes sign the expectation itself may be tiny (cancellation)
        assert abs(weights @ function(nodes) - exact) <= 1e-14 * size, (name, mean, std)


def test_weights_sum_to_one_and_point_mass():
    for mean, std in CASES:
        assert abs(gaussian_rule(mean, std)[1].sum() - 1.0) < 1e-14
    nodes, weights = gaussian_rule(2.5, 0.0)
    assert nodes.tolist() == [2.5] and weights.tolist() == [1.0]
    assert abs(gaussian_expectation(lambda v: v**2, 1.0, 2.0) - 5.0) < 1e-13


@pytest.mark.parametrize("mean, std", [(np.nan, 1.0), (0.0, -1.0), (0.0, np.inf)])
def test_invalid_gaussians_are_refused(mean, std):
    with pytest.raises(ValueError, match="finite"):
        gaussian_rule(mean, std)
