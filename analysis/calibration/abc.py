"""Calibration by adaptive ABC-PMC (approximate Bayesian computation, population Monte Carlo).

The algorithm is Beaumont, Cornuet, Marin & Robert (2009), "Adaptive approximate Bayesian
computation", Biometrika 96(4): generation 0 draws `population` particles from the prior; each
later generation t resamples the previous particles by weight, moves them with a Gaussian kernel
whose covariance is twice the weighted covariance of the previous generation, keeps a proposal
when its distance is at most epsilon_t, and weights it by prior(theta) / sum_j W_j K(theta | theta_j).
Epsilon_t is a quantile (default the median) of the previous generation's distances (Del Moral,
Doucet & Jasra 2012 adapt it the same way).

Distance: the standard-error-weighted Euclidean distance sqrt(sum_k ((sim_k - obs_k) / se_k)^2)
over the calibration targets, so a target measured precisely counts more than a noisy one.

Honouring each target's error (noisy ABC, Wilkinson 2013, "Approximate Bayesian computation
gives exact results under the assumption of model error", SAGMB 12(2)). The observation model is
obs_k = m_k(theta) + e_k with e_k ~ N(0, se_k^2). A stochastic simulator already carries part of
that error (a simulated questionnaire's sampling noise, a short period's case noise): its
variance v_k is estimated from `pilot` replicate simulations at the prior median, and each
simulated value gets N(0, tau_k^2) added before the distance, tau_k^2 = max(se_k^2 - v_k, 0).
As epsilon falls the accepted particles then follow the posterior under that observation model,
whatever part of se_k the simulator reproduces: a deterministic simulator gets the whole se_k, a
simulator that reproduces the target's sampling error gets none. A target whose se is mostly an
assumed gap between definitions (an official figure with no standard error) is then honoured
with its full width instead of being fitted to the point. Where v_k exceeds se_k^2 the simulator
is noisier than the observation and the posterior too wide (`CalibrationResult.noisy_targets`);
more respondents or days fix it. `pilot=0` skips the estimate and adds nothing (the simulator is
taken to reproduce every target's whole error, as a toy model simulating the observed sample does).
The added noise of simulation (t, b, i) comes from SeedSequence(seed, spawn_key=(t, b, i, NOISE)).

Reproducibility: proposals are made in fixed-size batches; batch b of generation t draws from
`default_rng(SeedSequence(seed, spawn_key=(t, b)))` and its simulation i runs with
`SeedSequence(seed, spawn_key=(t, b, i))`. Proposals are accepted in batch order, whatever order
the executor finishes them in, so one seed gives a bit-identical posterior on every executor.
Every simulation is recorded in the store as it finishes, and a re-run replays the stored ones
instead of simulating again, so a resumed calibration equals an uninterrupted one bit for bit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.special import logsumexp

from analysis.calibration.priors import CalibrationError, Priors

Simulate = Callable[[dict[str, float], np.random.SeedSequence], Mapping[str, float]]
Progress = Callable[[int, float, float, float], None]
Observed = Mapping[str, tuple[float, float]]

KERNEL = "gaussian, 2 x weighted covariance (Beaumont et al. 2009)"
PILOT = 2**32 - 2  # generation key of the pilot simulations (never a generation index)
NOISE = 2**32 - 3  # spawn-key domain of the added observation noise


@dataclass(frozen=True)
class Generation:
    """One finished generation: its particles (rows) with normalised weights and distances."""

    index: int
    epsilon: float
    particles: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    simulations: int
    acceptance: float
    ess: float


@dataclass
class CalibrationResult:
    """The posterior (the last finished generation) and the history that led to it."""

    names: list[str]
    priors: Priors
    observed: dict[str, tuple[float, float]]
    seed: int
    generations: list[Generation]
    simulations: int
    stop_reason: str
    store_path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    simulator_sd: dict[str, float] = field(default_factory=dict)  # per target, from the pilot
    added_sd: dict[str, float] = field(default_factory=dict)  # tau_k per calibration target

    @property
    def noisy_targets(self) -> list[str]:
        """Calibration targets the simulator reproduces with more noise than their se."""
        return [t for t, (_, se) in self.observed.items()
                if self.simulator_sd.get(t, 0.0) > se]

    @property
    def last(self) -> Generation:
        return self.generations[-1]

    @property
    def particles(self) -> np.ndarray:
        return self.last.particles

    @property
    def weights(self) -> np.ndarray:
        return self.last.weights

    @property
    def distances(self) -> np.ndarray:
        return self.last.distances

    def mean(self) -> pd.Series:
        return pd.Series(self.weights @ self.particles, index=self.names)

    def sd(self) -> pd.Series:
        centred = self.particles - self.weights @ self.particles
        return pd.Series(np.sqrt(self.weights @ centred**2), index=self.names)

    def quantile(self, q: float) -> pd.Series:
        """Weighted quantile of each parameter (the inverse of the weighted empirical CDF)."""
        return pd.Series([weighted_quantile(self.particles[:, j], self.weights, q)
                          for j in range(len(self.names))], index=self.names)

    def median(self) -> pd.Series:
        return self.quantile(0.5)

    def correlation(self) -> pd.DataFrame:
        cov = _weighted_cov(self.particles, self.weights)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(sd, sd)
        return pd.DataFrame(corr, index=self.names, columns=self.names)

    def frame(self) -> pd.DataFrame:
        """The posterior particles: one column per parameter path, then weight and distance."""
        data = pd.DataFrame(self.particles, columns=self.names)
        data["weight"] = self.weights
        data["distance"] = self.distances
        return data

    def history(self) -> pd.DataFrame:
        """Per generation: epsilon, simulations, acceptance rate, effective sample size;
        `simulations_total` counts the pilot simulations too."""
        rows, total = [], int(self.meta.get("pilot", 0))
        for g in self.generations:
            total += g.simulations
            rows.append({"generation": g.index, "epsilon": g.epsilon, "simulations": g.simulations,
                         "acceptance": g.acceptance, "ess": g.ess, "simulations_total": total})
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Prior and posterior mean, sd and 90% interval of every parameter."""
        return pd.DataFrame({
            "prior_mean": [float(p.frozen.mean()) for p in self.priors],
            "prior_sd": self.priors.sds(),
            "posterior_mean": self.mean().to_numpy(), "posterior_sd": self.sd().to_numpy(),
            "q05": self.quantile(0.05).to_numpy(), "median": self.median().to_numpy(),
            "q95": self.quantile(0.95).to_numpy()}, index=self.names)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose weighted empirical CDF reaches q."""
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order])
    cdf /= cdf[-1]
    return float(values[order][min(int(np.searchsorted(cdf, q)), len(values) - 1)])


def ess(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2."""
    return float(weights.sum() ** 2 / np.sum(weights**2))


def _weighted_cov(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = weights / weights.sum()
    centred = theta - w @ theta
    return np.atleast_2d((centred * w[:, None]).T @ centred)


def se_weighted_distance(simulated: Mapping[str, float], observed: np.ndarray, se: np.ndarray,
                         targets: list[str], noise: np.ndarray | None = None) -> float:
    """sqrt(sum(((sim + noise - obs) / se)^2)); infinite when a simulated value is not finite."""
    sim = np.array([float(simulated[name]) for name in targets])
    if noise is not None:
        sim = sim + noise
    if not np.all(np.isfinite(sim)):
        return math.inf
    return float(np.sqrt(np.sum(((sim - observed) / se) ** 2)))


def added_noise(seed: int, t: int, b: int, i: int, sd: np.ndarray) -> np.ndarray:
    """The observation noise N(0, sd^2) added to simulation (t, b, i) of a calibration."""
    z = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(t, b, i, NOISE)))
    return sd * z.standard_normal(sd.size)


@dataclass(frozen=True)
class SimulationTask:
    """One simulation: a proposal and its seed (sent to an executor's workers)."""

    simulate: Simulate
    params: dict[str, float]
    seed: np.random.SeedSequence
    generation: int
    batch: int
    index: int


def run_simulation(task: SimulationTask) -> dict[str, float]:
    """Run one `SimulationTask` (top level, so process and Dask workers can import it)."""
    return {str(k): float(v) for k, v in task.simulate(dict(task.params), task.seed).items()}


def _simulate_identity(simulate: Simulate) -> str:
    if dataclasses.is_dataclass(simulate) and not isinstance(simulate, type):
        return repr(simulate)
    identity = getattr(simulate, "identity", None)
    if callable(identity):
        return str(identity())
    kind = simulate if hasattr(simulate, "__qualname__") else type(simulate)
    return f"{kind.__module__}.{kind.__qualname__}"


def _check_observed(observed: Observed) -> dict[str, tuple[float, float]]:
    if not observed:
        raise CalibrationError("observed: at least one calibration target is needed")
    clean: dict[str, tuple[float, float]] = {}
    for name, pair in observed.items():
        try:
            value, se = (float(x) for x in pair)
        except (TypeError, ValueError):
            raise CalibrationError(f"observed.{name}: must be (value, se) (got {pair!r})") from None
        if not math.isfinite(value):
            raise CalibrationError(f"observed.{name}: value must be finite (got {value})")
        if not (math.isfinite(se) and se > 0):
            raise CalibrationError(f"observed.{name}: standard error must be positive (got {se})")
        clean[str(name)] = (value, se)
    return clean


def _check_budget(population: int, generations: int, max_simulations: int, min_acceptance: float,
                  batch_size: int, quantile: float, min_epsilon: float) -> None:
    checks = [("population", population, population >= 2, "an integer >= 2"),
              ("generations", generations, generations >= 1, "an integer >= 1"),
              ("max_simulations", max_simulations, max_simulations >= 1, "an integer >= 1"),
              ("batch_size", batch_size, batch_size >= 1, "an integer >= 1"),
              ("min_acceptance", min_acceptance, 0 <= min_acceptance < 1, "in [0, 1)"),
              ("quantile", quantile, 0 < quantile < 1, "in (0, 1)"),
              ("min_epsilon", min_epsilon, min_epsilon >= 0, ">= 0")]
    for name, value, ok, rule in checks:
        if not ok:
            raise CalibrationError(f"{name}: must be {rule} (got {value!r})")


class _Kernel:
    """The Gaussian move kernel of generation t around the previous particles."""

    def __init__(self, previous: Generation) -> None:
        self.centres, self.weights = previous.particles, previous.weights
        cov = 2.0 * _weighted_cov(previous.particles, previous.weights)
        scale = max(float(np.max(np.diag(cov))), 1e-300)
        ridge = 0.0
        while True:
            try:
                self.chol = np.linalg.cholesky(cov + ridge * np.eye(len(cov)))
                break
            except np.linalg.LinAlgError:  # a degenerate population: widen a little
                ridge = scale * 1e-12 if ridge == 0 else ridge * 10

    def propose(self, rng: np.random.Generator, n: int) -> np.ndarray:
        picks = rng.choice(len(self.centres), size=n, p=self.weights)
        return self.centres[picks] + rng.standard_normal((n, self.chol.shape[0])) @ self.chol.T

    def log_mixture(self, theta: np.ndarray) -> np.ndarray:
        """log sum_j W_j K(theta_i | theta_j), up to a constant common to every theta."""
        diff = theta[:, None, :] - self.centres[None, :, :]
        k = theta.shape[1]
        z = solve_triangular(self.chol, diff.reshape(-1, k).T, lower=True)
        quad = np.sum(z**2, axis=0).reshape(len(theta), len(self.centres))
        return logsumexp(-0.5 * quad + np.log(self.weights)[None, :], axis=1)


def _propose(priors: Priors, kernel: _Kernel | None, rng: np.random.Generator, n: int) -> np.ndarray:
    if kernel is None:
        return priors.sample(rng, n)
    theta = kernel.propose(rng, n)
    for _ in range(10_000):
        outside = ~priors.in_support(theta)
        if not outside.any():
            return theta
        theta[outside] = kernel.propose(rng, int(outside.sum()))
    raise CalibrationError("proposals keep falling outside the prior support; the priors and the "
                           "targets disagree badly")


def calibrate(simulate: Simulate, priors: Priors, observed: Observed, *, population: int = 500,
              generations: int = 10, max_simulations: int = 100_000, min_acceptance: float = 0.01,
              seed: int = 0, executor: Any = None, store_path: str | Path | None = None,
              progress: Progress | None = None, batch_size: int | None = None,
              quantile: float = 0.5, min_epsilon: float = 0.0, pilot: int = 20) -> CalibrationResult:
    """Calibrate the parameters in `priors` to the `observed` targets by adaptive ABC-PMC.

    Args:
        simulate: (params by path, SeedSequence) -> simulated value of every target; a top-level
            function or a picklable object when the executor runs processes or Dask.
        priors: the priors (`load_priors`).
        observed: target name -> (observed value, standard error); only these enter the fit.
        population: particles per generation.
        generations: at most this many generations (generation 0 is the prior).
        max_simulations: total budget; a generation that would exceed it is not started, and
            one that cannot finish within it is dropped (the result is the last full one).
        min_acceptance: stop after a generation accepting fewer proposals than this share, and
            drop a generation once it has simulated population / min_acceptance proposals.
        seed: the calibration seed (see the module docstring).
        executor: an `analysis.executors` executor (default: serial).
        store_path: the SQLite history (calibration.sqlite); a re-run resumes from it.
        progress: called after each generation with (generation, epsilon, acceptance, ESS).
        batch_size: proposals per batch (default: population); part of the configuration.
        quantile: epsilon_t is this quantile of generation t-1's distances.
        min_epsilon: epsilon never goes below this; reaching it ends the calibration.
        pilot: replicate simulations at the prior median that estimate the simulator's own
            noise per target (module docstring); 0 adds no observation noise. Part of the
            configuration; its simulations count toward `max_simulations`.

    Returns:
        The `CalibrationResult`.

    Raises:
        CalibrationError: bad input (before anything runs) or a store of another configuration.
    """
    from analysis.calibration.store import CalibrationStore
    from analysis.executors import SerialExecutor

    observed = _check_observed(observed)
    if not isinstance(priors, Priors):
        raise CalibrationError("priors: must be a Priors collection (see load_priors)")
    batch_size = population if batch_size is None else batch_size
    _check_budget(population, generations, max_simulations, min_acceptance, batch_size,
                  quantile, min_epsilon)
    if isinstance(pilot, bool) or not isinstance(pilot, int) or pilot == 1 or pilot < 0:
        raise CalibrationError(f"pilot: must be 0 or an integer >= 2 (got {pilot!r})")
    targets = list(observed)
    obs = np.array([observed[t][0] for t in targets])
    se = np.array([observed[t][1] for t in targets])
    names = priors.names
    identity = {"priors": json.loads(priors.identity()), "seed": int(seed),
                "observed": [[t, observed[t][0], observed[t][1]] for t in sorted(targets)],
                "population": population, "batch_size": batch_size, "quantile": quantile,
                "min_epsilon": min_epsilon, "kernel": KERNEL, "pilot": pilot,
                "simulate": _simulate_identity(simulate)}
    store = CalibrationStore.open(store_path, identity) if store_path is not None else None
    executor = executor or SerialExecutor()
    tau = np.zeros(len(targets))  # the added observation noise sd per target (set by the pilot)

    def distance(t: int, b: int, i: int, values: Mapping[str, float]) -> float:
        noise = added_noise(seed, t, b, i, tau) if tau.any() else None
        return se_weighted_distance(values, obs, se, targets, noise)

    def run_batch(t: int, b: int, theta: np.ndarray) -> list[dict[str, float]]:
        params = [dict(zip(names, map(float, row), strict=True)) for row in theta]
        texts = [json.dumps(p) for p in params]
        done = store.simulations(t, b) if store is not None else {}
        results: dict[int, dict[str, float]] = {}
        for i, (text, values) in done.items():
            if i >= len(texts) or texts[i] != text:
                raise CalibrationError(f"{store.path}: stored simulation ({t}, {b}, {i}) does not "
                                       "match this calibration's proposal; choose another --out")
            results[i] = values
        tasks = [SimulationTask(simulate, params[i], np.random.SeedSequence(seed, spawn_key=(t, b, i)),
                                t, b, i) for i in range(len(params)) if i not in results]
        for task, values in executor.map(run_simulation, tasks):
            missing = [name for name in targets if name not in values]
            if missing:
                raise CalibrationError(f"simulate returned no value for target(s) {missing}; it "
                                       f"returned {sorted(values)}")
            results[task.index] = values
            if store is not None:
                store.add_simulation(t, b, task.index, texts[task.index], values,
                                     distance(t, b, task.index, values))
        return [results[i] for i in range(len(params))]

    finished: list[Generation] = []
    total, stop = 0, "generations"
    simulator_sd: dict[str, float] = {}
    resources = contextlib.ExitStack()
    try:
        if hasattr(executor, "__enter__"):  # keep the workers between batches
            resources.enter_context(executor)
        if pilot:
            if pilot > max_simulations:
                raise CalibrationError(f"max_simulations={max_simulations} does not cover the "
                                       f"{pilot} pilot simulations")
            centre = np.array([float(p.frozen.median()) for p in priors])
            runs = run_batch(PILOT, 0, np.tile(centre, (pilot, 1)))
            total += pilot
            keys = sorted(set.intersection(*(set(r) for r in runs)))
            for key in keys:
                column = np.array([r[key] for r in runs], dtype=float)
                if np.all(np.isfinite(column)):
                    simulator_sd[key] = float(np.std(column, ddof=1))
            v = np.array([simulator_sd.get(name, 0.0) ** 2 for name in targets])
            tau[:] = np.sqrt(np.maximum(se**2 - v, 0.0))
        for t in range(generations):
            previous = finished[-1] if finished else None
            epsilon = math.inf if previous is None else max(
                float(np.quantile(previous.distances, quantile)), min_epsilon)
            kernel = None if previous is None else _Kernel(previous)
            limit = math.ceil(population / min_acceptance) if min_acceptance > 0 else math.inf
            kept: list[np.ndarray] = []
            kept_d: list[float] = []
            simulated, b, abandoned = 0, 0, None
            while len(kept) < population:
                if total + simulated + batch_size > max_simulations:
                    abandoned = "max_simulations"
                    break
                if simulated >= limit:
                    abandoned = "min_acceptance"
                    break
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(t, b)))
                theta = _propose(priors, kernel, rng, batch_size)
                for i, (row, values) in enumerate(zip(theta, run_batch(t, b, theta), strict=True)):
                    d = distance(t, b, i, values)
                    if d <= epsilon and math.isfinite(d) and len(kept) < population:
                        kept.append(row)
                        kept_d.append(d)
                simulated += batch_size
                b += 1
            if abandoned is not None:
                stop = abandoned
                break
            total += simulated
            particles = np.array(kept)
            if kernel is None:
                weights = np.full(population, 1.0 / population)
            else:
                logw = priors.logpdf(particles) - kernel.log_mixture(particles)
                weights = np.exp(logw - logw.max())
                weights /= weights.sum()
            generation = Generation(t, epsilon, particles, weights, np.array(kept_d), simulated,
                                    population / simulated, ess(weights))
            finished.append(generation)
            if store is not None:
                store.add_generation({"generation": t, "epsilon": epsilon, "simulations": simulated,
                                      "accepted": population, "acceptance": generation.acceptance,
                                      "ess": generation.ess, "simulations_total": total},
                                     names, particles, weights, generation.distances)
            if progress is not None:
                progress(t, epsilon, generation.acceptance, generation.ess)
            if t > 0 and generation.acceptance < min_acceptance:
                stop = "min_acceptance"
                break
            if t > 0 and epsilon <= min_epsilon:
                stop = "min_epsilon"
                break
    finally:
        resources.close()
        if store is not None:
            store.close()
    if not finished:
        raise CalibrationError(f"the budget (max_simulations={max_simulations}) does not cover "
                               f"generation 0 ({population} accepted prior draws)")
    return CalibrationResult(names=names, priors=priors, observed=observed, seed=int(seed),
                             generations=finished, simulations=total, stop_reason=stop,
                             store_path=None if store_path is None else Path(store_path),
                             meta={"population": population, "batch_size": batch_size,
                                   "quantile": quantile, "kernel": KERNEL, "pilot": pilot},
                             simulator_sd=simulator_sd,
                             added_sd=dict(zip(targets, map(float, tau), strict=True)))


__all__ = ["NOISE", "PILOT", "CalibrationResult", "Generation", "SimulationTask", "added_noise",
           "calibrate", "ess",
           "run_simulation", "se_weighted_distance", "weighted_quantile"]
