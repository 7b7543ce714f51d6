"""Calibration engine: strict priors, ABC-PMC against closed-form posteriors, the same posterior
on every executor, and a store that resumes a crashed run to the bit-identical result."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from analysis.calibration import CalibrationError, Prior, Priors, calibrate, load_priors
from analysis.calibration.abc import se_weighted_distance
from analysis.calibration.toy import ExactMean, NormalMean, normal_normal_posterior
from analysis.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from simulation import load_scenario

MODEL = NormalMean(n=25, sigma=1.0)
# NormalMean simulates the observed sample itself, so its simulated mean carries exactly the
# observation's sampling error: no noise is added (pilot=0), and ABC at epsilon -> 0 is exact
SETTINGS = {"population": 500, "batch_size": 250, "generations": 15, "min_epsilon": 0.2, "pilot": 0}


def _normal_prior(mean: float = 0.0, sd: float = 2.0) -> Priors:
    return Priors([Prior("theta", "normal", {"mean": mean, "sd": sd}, "test prior")])


# ---- priors ------------------------------------------------------------------------------------

def _write(tmp_path, text: str):
    path = tmp_path / "priors.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[priors."behaviour.missing_material_prob"]
distribution = "uniform"
low = 0.05
high = 0.5
provenance = "assumption"

[priors."departments.*.coordination"]
distribution = "normal"
mean = 0.5
sd = 0.2
low = 0.0
high = 1.0
provenance = "assumption"

[priors."behaviour.habit_strength"]
distribution = "beta"
a = 2.0
b = 3.0
provenance = "assumption"
"""


def test_priors_load_with_densities_sampling_and_support(tmp_path):
    priors = load_priors(_write(tmp_path, GOOD), scenario=load_scenario("baseline"))
    assert priors.names == ["behaviour.missing_material_prob", "departments.*.coordination",
                            "behaviour.habit_strength"]
    draws = priors.sample(np.random.default_rng(0), 4000)
    assert priors.in_support(draws).all()
    assert draws[:, 0].min() >= 0.05 and draws[:, 0].max() <= 0.5
    # Beta(2, 3): mean 2/5, sd sqrt(ab / ((a+b)^2 (a+b+1))) = 0.2
    assert draws[:, 2].mean() == pytest.approx(0.4, abs=4 * 0.2 / math.sqrt(4000))
    assert priors[2].sd() == pytest.approx(0.2)
    point = np.array([[0.25, 0.5, 0.5]])
    expected = (math.log(1 / 0.45) + stats.norm(0.5, 0.2).logpdf(0.5)
                - math.log(stats.norm.cdf(2.5) - stats.norm.cdf(-2.5)) + math.log(12 * 0.5 * 0.25))
    assert priors.logpdf(point)[0] == pytest.approx(expected)
    assert priors.logpdf(np.array([[0.6, 0.5, 0.5]]))[0] == -math.inf


@pytest.mark.parametrize("text, message", [
    ('[priors."behaviour.missing_material_prob"]\ndistribution = "uniform"\nlow = 0.1\nhigh = 0.4\n'
     'provenance = "x"\nmean = 3\n', "mean: unknown key for a uniform prior"),
    ('[priors."behaviour.missing_material_prob"]\ndistribution = "gamma"\nprovenance = "x"\n',
     "'gamma' is not allowed; allowed: uniform, normal, beta"),
    ('[priors."behaviour.missing_material_prob"]\ndistribution = "uniform"\nlow = 0.4\nhigh = 0.1\n'
     'provenance = "x"\n', "low must be below high"),
    ('[priors."behaviour.missing_material_prob"]\ndistribution = "normal"\nmean = 0.2\nsd = 0\n'
     'provenance = "x"\n', "sd: must be positive"),
    ('[priors."behaviour.missing_material_prob"]\ndistribution = "uniform"\nlow = 0.1\nhigh = 0.4\n',
     "provenance: required"),
    ('[priors."behaviour.no_such_thing"]\ndistribution = "uniform"\nlow = 0.1\nhigh = 0.4\n'
     'provenance = "x"\n', "not a parameter of scenario"),
    ('[priors."behaviour.missing_material_prob"]\ndistribution = "uniform"\nlow = 0.1\nhigh = 1.4\n'
     'provenance = "x"\n', "support [0.1, 1.4] is not allowed"),
    ('[prior."behaviour.missing_material_prob"]\n', "one [priors] table"),
])
def test_bad_priors_are_refused_naming_file_and_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(CalibrationError) as error:
        load_priors(path, scenario=load_scenario("baseline"))
    assert str(path) in str(error.value) and message in str(error.value)
    assert "behaviour" in str(error.value) or "priors" in message or "[priors]" in message


def test_distance_weights_each_target_by_its_standard_error():
    observed, se = np.array([1.0, 10.0]), np.array([0.5, 5.0])
    d = se_weighted_distance({"a": 2.0, "b": 20.0}, observed, se, ["a", "b"])
    assert d == pytest.approx(math.sqrt(2.0**2 + 2.0**2))
    assert se_weighted_distance({"a": math.nan, "b": 1.0}, observed, se, ["a", "b"]) == math.inf


# ---- closed-form posteriors ----------------------------------------------------------------------

def _tolerances(result, s1: float, epsilon: float) -> tuple[float, float]:
    """Monte-Carlo tolerance of the ABC posterior mean and sd against the exact posterior.

    Four standard errors of a weighted sample of size ESS: s1 / sqrt(ESS) for the mean and
    s1 / sqrt(2 ESS) for the sd. Accepting |sim - obs| <= epsilon * se adds at most the variance
    of U(-epsilon se, epsilon se), (epsilon se)^2 / 3, to the posterior (shrunk by the posterior-
    to-likelihood variance ratio <= 1), so the sd may be larger by sqrt(s1^2 + h^2/3) - s1.
    """
    n_eff = result.last.ess
    inflation = math.sqrt(s1**2 + (epsilon * MODEL.se) ** 2 / 3) - s1
    return 4 * s1 / math.sqrt(n_eff), 4 * s1 / math.sqrt(2 * n_eff) + inflation


def test_normal_prior_recovers_conjugate_posterior():
    ybar = 0.8
    m1, s1 = normal_normal_posterior(0.0, 2.0, ybar, MODEL.se)  # N(0.792, 0.199^2)
    result = calibrate(MODEL, _normal_prior(), {"mean": (ybar, MODEL.se)}, seed=3, **SETTINGS)
    assert result.stop_reason == "min_epsilon" and result.last.epsilon == 0.2
    mean_tol, sd_tol = _tolerances(result, s1, result.last.epsilon)
    assert result.mean()["theta"] == pytest.approx(m1, abs=mean_tol)
    assert result.sd()["theta"] == pytest.approx(s1, abs=sd_tol)
    # the prior (sd 2) alone would fail these checks by far
    assert result.sd()["theta"] < 0.25 and result.last.ess > 300


def test_uniform_prior_recovers_truncated_normal_posterior():
    ybar = 0.9  # near the upper bound: the posterior N(0.9, 0.2^2) truncated to [0, 1]
    priors = Priors([Prior("theta", "uniform", {"low": 0.0, "high": 1.0}, "test prior")])
    exact = stats.truncnorm(-ybar / MODEL.se, (1 - ybar) / MODEL.se, loc=ybar, scale=MODEL.se)
    result = calibrate(MODEL, priors, {"mean": (ybar, MODEL.se)}, seed=4, **SETTINGS)
    mean_tol, sd_tol = _tolerances(result, exact.std(), result.last.epsilon)
    assert result.mean()["theta"] == pytest.approx(exact.mean(), abs=mean_tol)  # 0.798
    assert result.sd()["theta"] == pytest.approx(exact.std(), abs=sd_tol)  # 0.139
    assert result.particles.max() <= 1.0


def _pilot_tolerances(result, s1: float, se: float) -> tuple[float, float]:
    n_eff = result.last.ess
    inflation = math.sqrt(s1**2 + (result.last.epsilon * se) ** 2 / 3) - s1
    return 4 * s1 / math.sqrt(n_eff), 4 * s1 / math.sqrt(2 * n_eff) + inflation


def test_a_deterministic_simulator_gets_the_whole_observation_error_added():
    """Noisy ABC (Wilkinson 2013): a simulator without noise of its own is given N(0, se^2), so
    the posterior is the conjugate N(m1, s1^2), not a point at the observation."""
    ybar, se = 0.8, 0.2
    m1, s1 = normal_normal_posterior(0.0, 2.0, ybar, se)
    options = {**SETTINGS, "pilot": 20}
    result = calibrate(ExactMean(), _normal_prior(), {"mean": (ybar, se)}, seed=3, **options)
    assert result.simulator_sd == {"mean": 0.0} and result.added_sd == {"mean": pytest.approx(se)}
    mean_tol, sd_tol = _pilot_tolerances(result, s1, se)
    assert result.mean()["theta"] == pytest.approx(m1, abs=mean_tol)
    assert result.sd()["theta"] == pytest.approx(s1, abs=sd_tol)
    # without the added error the same run collapses onto the observation (what pilot=0 assumes)
    collapsed = calibrate(ExactMean(), _normal_prior(), {"mean": (ybar, se)}, seed=3, **SETTINGS)
    assert collapsed.sd()["theta"] < s1 / 3


def test_only_the_error_the_simulator_lacks_is_added():
    """The simulated mean of 100 draws carries se 0.1 of its own; an observation with se 0.3 gets
    N(0, 0.3^2 - v) added (v estimated by the pilot), so the posterior is the conjugate one at se 0.3."""
    model, ybar, se = NormalMean(n=100, sigma=1.0), 0.8, 0.3
    m1, s1 = normal_normal_posterior(0.0, 2.0, ybar, se)
    result = calibrate(model, _normal_prior(), {"mean": (ybar, se)}, seed=6, **{**SETTINGS, "pilot": 40})
    assert result.simulator_sd["mean"] == pytest.approx(model.se, rel=0.35)  # chi-square, 39 df
    assert result.added_sd["mean"] ** 2 == pytest.approx(se**2 - result.simulator_sd["mean"] ** 2)
    assert result.noisy_targets == []
    mean_tol, sd_tol = _pilot_tolerances(result, s1, se)
    assert result.mean()["theta"] == pytest.approx(m1, abs=mean_tol)
    assert result.sd()["theta"] == pytest.approx(s1, abs=sd_tol)
    assert result.history().simulations_total.iloc[-1] == result.simulations
    assert result.simulations == 40 + result.history().simulations.sum()


def test_a_simulator_noisier_than_the_observation_is_flagged():
    result = calibrate(NormalMean(n=4, sigma=1.0), _normal_prior(), {"mean": (0.8, 0.1)}, seed=2,
                       population=20, generations=1, pilot=10)
    assert result.noisy_targets == ["mean"] and result.added_sd == {"mean": 0.0}


def test_epsilon_decreases_and_history_adds_up():
    result = calibrate(MODEL, _normal_prior(), {"mean": (0.8, MODEL.se)}, seed=5, **SETTINGS)
    history = result.history()
    assert math.isinf(history.epsilon.iloc[0])
    assert (np.diff(history.epsilon.iloc[1:]) < 0).all()
    assert history.simulations_total.iloc[-1] == result.simulations == history.simulations.sum()
    assert np.isclose(result.weights.sum(), 1.0)


# ---- reproducibility -----------------------------------------------------------------------------

def test_same_seed_same_posterior_on_serial_and_process_executors():
    options = {"population": 200, "batch_size": 50, "generations": 4, "seed": 9}
    observed = {"mean": (0.8, 2 * MODEL.se)}  # twice the simulator's own se: noise is added
    serial = calibrate(MODEL, _normal_prior(), observed, executor=SerialExecutor(), **options)
    processes = calibrate(MODEL, _normal_prior(), observed, executor=ProcessExecutor(2), **options)
    assert serial.added_sd["mean"] > 0 and serial.added_sd == processes.added_sd
    assert np.array_equal(serial.particles, processes.particles)
    assert np.array_equal(serial.weights, processes.weights)
    assert serial.history().equals(processes.history())
    other = calibrate(MODEL, _normal_prior(), observed, **{**options, "seed": 10})
    assert not np.array_equal(serial.particles, other.particles)


def _worker_pids(executor) -> set[int]:
    return {pid for _, pid in executor.map(lambda _: os.getpid(), range(8))}


def _gone(pids: set[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.add(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _pid_after_a_nap(_: int) -> int:
    time.sleep(0.05)  # long enough for every worker to take a share
    return os.getpid()


def test_a_calibration_inside_with_keeps_the_process_workers():
    options = {"population": 40, "batch_size": 20, "generations": 2, "seed": 9}
    with ProcessExecutor(2) as executor:
        workers = {pid for _, pid in executor.map(_pid_after_a_nap, range(8))}
        calibrate(MODEL, _normal_prior(), {"mean": (0.8, MODEL.se)}, executor=executor, **options)
        assert {pid for _, pid in executor.map(_pid_after_a_nap, range(8))} == workers
    assert len(workers) == 2 and os.getpid() not in workers
    assert _gone(workers)


def test_same_seed_same_posterior_on_serial_and_dask_executors():
    """Two single-threaded Dask workers finish the batches' simulations in whatever order they
    like; accepting in batch order makes the posterior and its history bit-identical anyway. The
    calibration enters the executor itself; inside an outer `with` it must leave the cluster
    running (the same worker processes answer afterwards), and the outer `with` closes it."""
    options = {"population": 100, "batch_size": 25, "generations": 4, "seed": 9}
    observed = {"mean": (0.8, 2 * MODEL.se)}  # twice the simulator's own se: noise is added
    serial = calibrate(MODEL, _normal_prior(), observed, executor=SerialExecutor(), **options)
    assert serial.added_sd["mean"] > 0
    with DaskExecutor(workers=2) as executor:
        workers = _worker_pids(executor)
        dask = calibrate(MODEL, _normal_prior(), observed, executor=executor, **options)
        assert _worker_pids(executor) == workers
    assert len(workers) == 2 and os.getpid() not in workers
    assert len(dask.generations) == 4 and dask.simulations > 4 * 100
    assert np.array_equal(serial.particles, dask.particles)
    assert np.array_equal(serial.weights, dask.weights)
    assert np.array_equal(serial.distances, dask.distances)
    assert serial.history().equals(dask.history())
    assert _gone(workers)


@dataclass(frozen=True)
class Crashing:
    """The toy model, raising on its `fail_at`-th call (a crash midway through a batch)."""

    fail_at: int
    calls: list

    def __call__(self, params, seed):
        self.calls.append(1)
        if len(self.calls) == self.fail_at:
            raise RuntimeError("simulated crash")
        return MODEL(params, seed)

    def __repr__(self) -> str:  # the same model whatever the crash point
        return repr(MODEL)


def test_interrupted_calibration_resumes_to_the_identical_posterior(tmp_path):
    options = {"population": 100, "batch_size": 40, "generations": 4, "seed": 2}
    observed = {"mean": (0.8, 2 * MODEL.se)}  # noise is added, and replayed alike on resume
    reference = calibrate(Crashing(0, []), _normal_prior(), observed,
                          store_path=tmp_path / "ref" / "calibration.sqlite", **options)
    store = tmp_path / "run" / "calibration.sqlite"
    first = Crashing(fail_at=730, calls=[])
    with pytest.raises(RuntimeError, match="simulated crash"):
        calibrate(first, _normal_prior(), observed, store_path=store, **options)
    with sqlite3.connect(store) as db:
        stored = db.execute("SELECT COUNT(*) FROM simulations").fetchone()[0]
        generations = db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    assert stored == 729 and 0 < generations < 4
    second = Crashing(fail_at=0, calls=[])
    resumed = calibrate(second, _normal_prior(), observed, store_path=store, **options)
    assert len(second.calls) == reference.simulations - stored  # no finished simulation repeated
    assert np.array_equal(resumed.particles, reference.particles)
    assert np.array_equal(resumed.weights, reference.weights)
    assert resumed.history().equals(reference.history())


def test_a_store_of_another_configuration_is_refused(tmp_path):
    store = tmp_path / "calibration.sqlite"
    options = {"population": 20, "generations": 1, "store_path": store}
    calibrate(MODEL, _normal_prior(), {"mean": (0.8, MODEL.se)}, seed=1, **options)
    for change in ({"seed": 2}, {"observed": {"mean": (0.7, MODEL.se)}},
                   {"priors": _normal_prior(sd=3.0)}):
        args = {"priors": _normal_prior(), "observed": {"mean": (0.8, MODEL.se)}, "seed": 1, **change}
        with pytest.raises(CalibrationError, match="different configuration"):
            calibrate(MODEL, args["priors"], args["observed"], seed=args["seed"], **options)


@pytest.mark.parametrize("change, message", [
    ({"population": 1}, "population: must be an integer >= 2"),
    ({"observed": {"mean": (0.8, 0.0)}}, "observed.mean: standard error must be positive"),
    ({"min_acceptance": 1.5}, "min_acceptance"),
])
def test_bad_settings_are_refused_before_any_simulation(tmp_path, change, message):
    calls = []
    args = {"observed": {"mean": (0.8, MODEL.se)}, "population": 10, **change}
    observed = args.pop("observed")
    with pytest.raises(CalibrationError, match=message):
        calibrate(Crashing(0, calls), _normal_prior(), observed,
                  store_path=tmp_path / "c.sqlite", **args)
    assert calls == [] and not (tmp_path / "c.sqlite").exists()


def test_budget_and_acceptance_stop_the_run():
    result = calibrate(MODEL, _normal_prior(), {"mean": (0.8, MODEL.se)}, population=50,
                       generations=20, max_simulations=600, seed=1)
    assert result.stop_reason == "max_simulations" and result.simulations <= 600
    result = calibrate(MODEL, _normal_prior(), {"mean": (0.8, MODEL.se)}, population=50,
                       generations=20, min_acceptance=0.3, seed=1)
    assert result.stop_reason == "min_acceptance"
    assert (result.history().acceptance.iloc[:-1] >= 0.3).all() or len(result.generations) < 20
