r"""Seeded random instances for the experiments, the checks and the exercises.

Every generator takes a ``seed`` (or a :class:`numpy.random.Generator`) so that a run is
reproducible, and builds :math:`S` with a prescribed spectrum, so that the condition number
:math:`\kappa = L/\mu` that enters every rate of the book is controlled exactly.
"""

from __future__ import annotations

import numpy as np

from ..core.random import rng_from
from ..core.validation import MAX_CONDITION, as_positive_float, as_positive_int
from .halfspace import Halfspace
from .least_squares import LeastSquares

__all__ = [
    "rng_from",
    "random_rotation",
    "spd_with_spectrum",
    "random_least_squares",
    "direction_at_angle",
    "worst_case_instance",
    "random_halfspace",
    "check_kappa",
]


def check_kappa(kappa, dim: int) -> float:
    """Validate a condition number asked of a generator: a finite real in [1, MAX_CONDITION] (1 in dimension 1)."""
    kappa = as_positive_float("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa = L/mu must be at least 1, got {kappa}")
    if dim == 1 and kappa != 1:
        raise ValueError(f"a 1-dimensional problem has kappa = 1, got kappa = {kappa}")
    if kappa > MAX_CONDITION:
        raise ValueError(
            f"kappa = {kappa:.3g} is beyond what the library resolves in float64: S^-1 and the direction gaps would "
            f"carry relative errors of about kappa * 2.2e-16 = {kappa * 2.2e-16:.1g} and more; expected kappa <= "
            f"{MAX_CONDITION:.0e}"
        )
    return kappa


def random_rotation(dim: int, seed=0) -> np.ndarray:
    """A Haar-distributed orthogonal matrix of size ``dim``."""
    dim = as_positive_int("dim", dim)
    rng = rng_from(seed)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def spd_with_spectrum(eigenvalues, seed=0) -> np.ndarray:
    r""":math:`S = Q\,\mathrm{diag}(\lambda)\,Q^\top` with a random rotation :math:`Q`."""
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    if eigenvalues.ndim != 1 or np.any(eigenvalues <= 0) or not np.all(np.isfinite(eigenvalues)):
        raise ValueError("eigenvalues must be a 1-D array of finite positive numbers")
    q = random_rotation(eigenvalues.size, seed)
    S = (q * eigenvalues) @ q.T
    return 0.5 * (S + S.T)


def random_least_squares(dim: int, kappa: float, seed=0, mu: float = 1.0) -> LeastSquares:
    r"""A least-squares problem with :math:`\lambda(S)` log-spaced in :math:`[\mu, \kappa\mu]`.

    The extreme eigenvalues are exactly :math:`\mu` and :math:`\kappa\mu` (for ``dim >= 2``),
    and :math:`u` is a standard Gaussian vector.
    """
    dim = as_positive_int("dim", dim)
    kappa = check_kappa(kappa, dim)
    mu = as_positive_float("mu", mu)
    rng = rng_from(seed)
    spectrum = mu * np.geomspace(1.0, kappa, dim)
    return LeastSquares(spd_with_spectrum(spectrum, rng), rng.standard_normal(dim))


def _whitening(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (S^{1/2}, S^{-1/2}) from the eigendecomposition of S."""
    eigenvalues, vectors = np.linalg.eigh(S)
    root = np.sqrt(eigenvalues)
    return (vectors * root) @ vectors.T, (vectors / root) @ vectors.T


def direction_at_angle(problem, angle: float, seed=0) -> np.ndarray:
    r"""A direction whose S-angle to the optimal direction :math:`S^{-1}u` is ``angle`` (radians).

    In whitened coordinates :math:`v = S^{1/2}w` the optimal direction is :math:`a = S^{-1/2}u`;
    the direction returned is :math:`w = S^{-1/2}(\cos\theta\,\hat a + \sin\theta\,p)` for a
    random unit :math:`p \perp a`, so that :math:`\rho(w) - \rho^* = |\rho^*|\sin^2\theta`.
    """
    angle = float(angle)
    if not 0.0 <= angle < np.pi / 2:
        raise ValueError(f"angle must lie in [0, pi/2) so that u.w != 0, got {angle}")
    rng = rng_from(seed)
    root, inverse_root = _whitening(problem.S)
    a = inverse_root @ problem.u
    if not np.any(a):
        raise ValueError("u = 0: there is no optimal direction to measure an angle from")
    a_hat = a / np.linalg.norm(a)
    p = rng.standard_normal(a.size)
    p -= (p @ a_hat) * a_hat
    p /= np.linalg.norm(p)
    return inverse_root @ (np.cos(angle) * a_hat + np.sin(angle) * p)


def worst_case_instance(dim: int, kappa: float, angle: float = 1e-3, seed=0) -> tuple[LeastSquares, np.ndarray]:
    r"""A least-squares problem and a start on which theorem ``thm-ls-rate`` is nearly tight.

    In whitened coordinates :math:`v = S^{1/2}w`, :math:`a = S^{-1/2}u`, the error of a unit
    direction :math:`v` is the part :math:`r = a - (a^\top v)v` of :math:`a` orthogonal to
    :math:`v`, and one Rayleigh step maps it to :math:`(I - S/L)\,r` (proof of theorem
    ``thm-ls-rate``). It shrinks least, by exactly :math:`1 - \mu/L`, when :math:`r` is an
    eigenvector of the smallest eigenvalue :math:`\mu`. This instance makes :math:`a`
    orthogonal to that eigenvector :math:`e_\mu` and starts at
    :math:`v = \cos(\text{angle})\,\hat a + \sin(\text{angle})\,e_\mu`, so that the first
    one-step ratio is within :math:`O(\text{angle}^2)` of :math:`(1-\mu/L)^2`.

    Returns
    -------
    problem : LeastSquares
    w0 : ndarray of shape (dim,)
    """
    dim = as_positive_int("dim", dim)
    if dim < 2:
        raise ValueError("the worst case needs dim >= 2")
    kappa = check_kappa(kappa, dim)
    rng = rng_from(seed)
    eigenvalues = np.geomspace(1.0, kappa, dim)
    q = random_rotation(dim, rng)
    a = q[:, 1:] @ rng.standard_normal(dim - 1)  # orthogonal to e_mu = q[:, 0]
    root = (q * np.sqrt(eigenvalues)) @ q.T  # S^{1/2}
    problem = LeastSquares(root @ root, root @ a)
    v = np.cos(angle) * a / np.linalg.norm(a) + np.sin(angle) * q[:, 0]
    return problem, np.linalg.solve(root, v)  # w = S^{-1/2} v


def random_halfspace(dim: int, kappa: float, energy: float = 0.5, loss="logistic", seed=0):
    r"""A Gaussian-model halfspace problem with :math:`\lambda(S)` log-spaced in :math:`[1, \kappa]`.

    :math:`u = S^{1/2}a` with :math:`\|a\|^2 = u^\top S^{-1}u` equal to ``energy``, which must lie
    in :math:`(0, 1)`: the covariance :math:`S - uu^\top` of :math:`z` is then positive
    definite. Larger energies make the classes easier to separate.
    """
    dim = as_positive_int("dim", dim)
    kappa = check_kappa(kappa, dim)
    if not 0.0 < float(energy) < 1.0:
        raise ValueError(f"energy = u^T S^-1 u must lie in (0, 1), got {energy}")
    rng = rng_from(seed)
    S = spd_with_spectrum(np.geomspace(1.0, kappa, dim), rng)
    root, _ = _whitening(S)
    a = rng.standard_normal(dim)
    a *= np.sqrt(energy) / np.linalg.norm(a)
    return Halfspace(S, root @ a, loss)
