"""Factor rotations (varimax, quartimax, equamax, promax, oblimin) on numpy arrays.

Orthogonal and oblique rotations as R's stats::varimax, psych::kaiser/Promax and GPArotation's
gradient projection algorithms (GPForth, GPFoblq) compute them; used by `survey.factor.efa`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ORTHOGONAL = ("none", "varimax", "quartimax", "equamax")
OBLIQUE = ("promax", "oblimin")
ROTATIONS = ORTHOGONAL + OBLIQUE

Criterion = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass
class Rotated:
    """A rotated loading matrix.

    Attributes:
        loadings: rotated loadings (the pattern matrix for oblique rotations).
        rotation_matrix: T with loadings = A @ T, A being the (row-normalized, when Kaiser
            normalization is on) unrotated loadings.
        phi: factor correlation matrix, inv(T) @ inv(T).T (identity for orthogonal rotations).
        iterations: iterations used; converged: whether the criterion converged.
    """

    loadings: np.ndarray
    rotation_matrix: np.ndarray
    phi: np.ndarray
    iterations: int
    converged: bool


def rotate(
    loadings: np.ndarray,
    method: str,
    *,
    kaiser_normalize: bool = True,
    power: int = 4,
    gamma: float = 0.0,
    tol: float = 1e-5,
    max_iter: int = 1000,
) -> Rotated:
    """Rotate a p x k loading matrix.

    Kaiser normalization divides each row by its length (the square root of the communality)
    before rotating and multiplies it back afterwards (Kaiser, 1958; SPSS default).

    Args:
        loadings: unrotated loadings.
        method: one of "none", "varimax", "quartimax", "equamax", "promax", "oblimin".
        kaiser_normalize: normalize rows before rotating.
        power: promax power (psych and SPSS default 4).
        gamma: oblimin gamma (0 = direct quartimin, SPSS "delta = 0").
        tol: convergence tolerance: relative change of the varimax criterion (R's stats::varimax
            eps = 1e-5; psych's varimax and promax stop there, which leaves loadings up to about
            .003 from the exact optimum) or norm of the projected gradient (GPArotation's
            eps = 1e-5; never below 1e-6, which rounding may not let it reach). max_iter: iteration limit (1000, as R).

    Returns:
        Rotated.
    """
    if method not in ROTATIONS:
        raise ValueError(f"rotation {method!r} is not one of {ROTATIONS}")
    a = np.asarray(loadings, dtype=float)
    k = a.shape[1]
    if method == "none" or k < 2:
        eye = np.eye(k)
        return Rotated(a.copy(), eye, eye.copy(), 0, True)
    weights = np.sqrt((a**2).sum(axis=1)) if kaiser_normalize else np.ones(a.shape[0])
    weights = np.where(weights > 0, weights, 1.0)
    a_norm = a / weights[:, None]
    gp_tol = max(tol, 1e-6)  # a projected gradient norm much below this is lost in rounding
    if method == "varimax":
        out = _varimax(a_norm, tol=tol, max_iter=max_iter)
    elif method == "quartimax":
        out = _gp_orthogonal(a_norm, _quartimax, tol=gp_tol, max_iter=max_iter)
    elif method == "equamax":
        kappa = k / (2 * a.shape[0])
        out = _gp_orthogonal(a_norm, _crawford_ferguson(kappa), tol=gp_tol, max_iter=max_iter)
    elif method == "promax":
        out = _promax(a_norm, power=power, tol=tol, max_iter=max_iter)
    else:
        out = _gp_oblique(a_norm, _oblimin(gamma), tol=gp_tol, max_iter=max_iter)
    out.loadings = out.loadings * weights[:, None]
    return out


def _varimax(a: np.ndarray, *, tol: float, max_iter: int) -> Rotated:
    """Kaiser's varimax by successive SVDs, as R's stats::varimax (rows already normalized)."""
    p, k = a.shape
    t = np.eye(k)
    criterion = 0.0
    for iteration in range(1, max_iter + 1):
        z = a @ t
        b = a.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(b)
        t = u @ vt
        previous, criterion = criterion, s.sum()
        if criterion < previous * (1 + tol):
            return Rotated(a @ t, t, np.eye(k), iteration, True)
    return Rotated(a @ t, t, np.eye(k), max_iter, False)


def _quartimax(loadings: np.ndarray) -> tuple[float, np.ndarray]:
    return -float((loadings**4).sum()) / 4, -(loadings**3)


def _crawford_ferguson(kappa: float) -> Criterion:
    def criterion(loadings: np.ndarray) -> tuple[float, np.ndarray]:
        p, k = loadings.shape
        l2 = loadings**2
        row_part = l2 @ (np.ones((k, k)) - np.eye(k))
        col_part = (np.ones((p, p)) - np.eye(p)) @ l2
        f = (1 - kappa) * (l2 * row_part).sum() / 4 + kappa * (l2 * col_part).sum() / 4
        return float(f), (1 - kappa) * loadings * row_part + kappa * loadings * col_part

    return criterion


def _oblimin(gamma: float) -> Criterion:
    def criterion(loadings: np.ndarray) -> tuple[float, np.ndarray]:
        p, k = loadings.shape
        l2 = loadings**2
        centre = np.eye(p) - gamma / p * np.ones((p, p))
        x = centre @ l2 @ (np.ones((k, k)) - np.eye(k))
        return float((l2 * x).sum()) / 4, loadings * x

    return criterion


def _gp_orthogonal(a: np.ndarray, vgq: Criterion, *, tol: float, max_iter: int) -> Rotated:
    """GPArotation's GPForth: gradient projection onto orthogonal matrices."""
    k = a.shape[1]
    t = np.eye(k)
    f, gq = vgq(a @ t)
    g = a.T @ gq
    step = 1.0
    for iteration in range(max_iter + 1):
        m = t.T @ g
        gp = g - t @ ((m + m.T) / 2)
        s = np.linalg.norm(gp)
        if s < tol:
            return Rotated(a @ t, t, np.eye(k), iteration, True)
        step *= 2
        for _ in range(11):
            u, _, vt = np.linalg.svd(t - step * gp)
            t_new = u @ vt
            f_new, gq_new = vgq(a @ t_new)
            if f - f_new > 0.5 * s**2 * step:
                break
            step /= 2
        t, f, g = t_new, f_new, a.T @ gq_new
    return Rotated(a @ t, t, np.eye(k), max_iter, False)


def _gp_oblique(a: np.ndarray, vgq: Criterion, *, tol: float, max_iter: int) -> Rotated:
    """GPArotation's GPFoblq: gradient projection onto matrices with unit-length columns."""
    k = a.shape[1]
    t = np.eye(k)
    loadings = a @ np.linalg.inv(t).T
    f, gq = vgq(loadings)
    g = -(loadings.T @ gq @ np.linalg.inv(t)).T
    step = 1.0
    for iteration in range(max_iter + 1):
        gp = g - t @ np.diag((t * g).sum(axis=0))
        s = np.linalg.norm(gp)
        if s < tol:
            return Rotated(loadings, np.linalg.inv(t).T, t.T @ t, iteration, True)
        step *= 2
        for _ in range(11):
            x = t - step * gp
            t_new = x / np.sqrt((x**2).sum(axis=0))
            t_new_inv = np.linalg.inv(t_new)
            loadings = a @ t_new_inv.T
            f_new, gq_new = vgq(loadings)
            if f - f_new > 0.5 * s**2 * step:
                break
            step /= 2
        t, f = t_new, f_new
        g = -(loadings.T @ gq_new @ t_new_inv).T
    return Rotated(loadings, np.linalg.inv(t).T, t.T @ t, max_iter, False)


def _promax(a: np.ndarray, *, power: int, tol: float, max_iter: int) -> Rotated:
    """Promax (Hendrickson & White, 1964) after varimax, as R's stats::promax / psych::Promax."""
    vm = _varimax(a, tol=tol, max_iter=max_iter)
    x = vm.loadings
    target = x * np.abs(x) ** (power - 1)
    u = np.linalg.lstsq(x, target, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u @ np.diag(np.sqrt(d))
    pattern = x @ u
    total = vm.rotation_matrix @ u
    u_inv = np.linalg.inv(total)
    phi = u_inv @ u_inv.T
    return Rotated(pattern, total, phi, vm.iterations, vm.converged)
