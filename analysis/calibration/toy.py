"""Toy models whose posterior is known in closed form, to check the calibration engine.

`NormalMean`: n observations x_i ~ N(theta, sigma^2); the model reports their mean. With a
normal prior N(m0, s0^2) and an observed mean ybar (standard error sigma / sqrt(n)) the posterior
is N(m1, s1^2) with 1/s1^2 = 1/s0^2 + n/sigma^2 and m1 = s1^2 (m0/s0^2 + n ybar/sigma^2)
(conjugate normal-normal; e.g. Gelman et al., Bayesian Data Analysis, 3rd ed., section 2.5).
With a uniform prior on [low, high] the posterior is N(ybar, sigma^2/n) truncated to [low, high].
`ExactMean` is the deterministic case: it reports theta, and the observation's error is all added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NormalMean:
    """Simulates the mean of `n` draws from N(theta, sigma^2); theta is the parameter `path`."""

    path: str = "theta"
    n: int = 25
    sigma: float = 1.0
    target: str = "mean"
    extra_target: str | None = None  # also report the sample sd under this name (a held-out target)

    def __call__(self, params: dict[str, float], seed: np.random.SeedSequence) -> dict[str, float]:
        draws = np.random.default_rng(seed).normal(params[self.path], self.sigma, self.n)
        out = {self.target: float(draws.mean())}
        if self.extra_target is not None:
            out[self.extra_target] = float(draws.std(ddof=1))
        return out

    @property
    def se(self) -> float:
        return self.sigma / math.sqrt(self.n)


@dataclass(frozen=True)
class ExactMean:
    """Reports theta itself: a deterministic simulator, so a calibration must add the whole
    observation error (the posterior of an observed mean with standard error se is then the
    conjugate one of `normal_normal_posterior`)."""

    path: str = "theta"
    target: str = "mean"

    def __call__(self, params: dict[str, float], seed: np.random.SeedSequence) -> dict[str, float]:
        return {self.target: float(params[self.path])}


def normal_normal_posterior(m0: float, s0: float, ybar: float, se: float) -> tuple[float, float]:
    """Mean and sd of the conjugate posterior of a normal mean (prior N(m0, s0^2), known se)."""
    precision = 1 / s0**2 + 1 / se**2
    s1 = math.sqrt(1 / precision)
    return s1**2 * (m0 / s0**2 + ybar / se**2), s1


__all__ = ["ExactMean", "NormalMean", "normal_normal_posterior"]
