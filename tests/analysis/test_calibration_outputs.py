"""Calibration outputs: posterior and fit tables, identifiability, the calibrated overlay, the
report, and the held-out validation verdict (function and `onenet validate calibration`)."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.calibration import CalibrationError, Prior, Priors, calibrate
from analysis.calibration.outputs import calibrated_overlay, observed_for_fit, write_outputs
from analysis.calibration.toy import NormalMean, normal_normal_posterior
from analysis.calibration.validation import validate_calibration
from analysis.cli import app
from simulation import load_scenario

MODEL = NormalMean(n=25, sigma=1.0, extra_target="sd")
# sample sd of 25 N(theta, 1) draws: se about 1 / sqrt(2 (n - 1))
TARGETS = {"mean": (0.8, MODEL.se, "calibrate"), "sd": (1.0, 1 / math.sqrt(48), "validate")}


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    priors = Priors([Prior("theta", "normal", {"mean": 0.0, "sd": 2.0}, "test prior"),
                     Prior("nuisance", "uniform", {"low": 0.0, "high": 1.0}, "not in the model")])
    result = calibrate(MODEL, priors, observed_for_fit(TARGETS), population=400, batch_size=200,
                       generations=12, min_epsilon=0.3, seed=8)
    out = tmp_path_factory.mktemp("calibration")
    paths = write_outputs(result, out, simulate=MODEL, targets=TARGETS, targets_file="toy.toml",
                          draws=300)
    return result, out, paths


def test_posterior_csv_holds_the_particles_exactly(calibrated):
    result, out, _ = calibrated
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.columns) == ["theta", "nuisance", "weight", "distance"]
    assert np.array_equal(posterior[["theta", "nuisance"]].to_numpy(), result.particles)
    assert posterior["weight"].sum() == pytest.approx(1.0)


def test_targets_fit_covers_calibration_and_held_out_targets(calibrated):
    result, out, _ = calibrated
    fit = pd.read_csv(out / "targets_fit.csv").set_index("target")
    assert list(fit["role"]) == ["calibrate", "validate"]
    m1, s1 = normal_normal_posterior(0.0, 2.0, 0.8, MODEL.se)
    # predictive mean of the sample mean: the posterior mean; its sd: sqrt(s1^2 + se^2) (posterior
    # spread and the target's sampling error, which the model's own sampling noise already is: the
    # pilot measures it, so almost nothing is added on top)
    assert fit.loc["mean", "pp_mean"] == pytest.approx(m1, abs=4 * s1 / math.sqrt(300))
    assert fit.loc["mean", "simulator_sd"] == pytest.approx(MODEL.se, rel=0.5)  # 20 pilot runs
    assert fit.loc["mean", "added_sd"] ** 2 == pytest.approx(
        max(MODEL.se**2 - fit.loc["mean", "simulator_sd"] ** 2, 0.0))
    expected_sd = math.sqrt(s1**2 + MODEL.se**2 + fit.loc["mean", "added_sd"] ** 2)
    assert fit.loc["mean", "pp_sd"] == pytest.approx(expected_sd, rel=4 / math.sqrt(2 * 300) + 0.05)
    assert fit["covered"].all()
    assert (fit["pp_low"] < fit["pp_mean"]).all() and (fit["pp_mean"] < fit["pp_high"]).all()
    assert fit.loc["sd", "z"] == pytest.approx((1.0 - fit.loc["sd", "pp_mean"]) / fit.loc["sd", "pp_sd"])


def test_identifiability_separates_informed_and_uninformed_parameters(calibrated):
    _, out, _ = calibrated
    table = pd.read_csv(out / "identifiability.csv").set_index("parameter")
    _, s1 = normal_normal_posterior(0.0, 2.0, 0.8, MODEL.se)
    assert table.loc["theta", "prior_sd"] == pytest.approx(2.0)
    assert table.loc["nuisance", "prior_sd"] == pytest.approx(1 / math.sqrt(12))
    assert table.loc["theta", "sd_ratio"] == pytest.approx(s1 / 2.0, rel=0.25)
    assert table.loc["nuisance", "sd_ratio"] == pytest.approx(1.0, abs=0.15)  # the data are silent
    correlation = pd.read_csv(out / "posterior_correlation.csv", index_col=0)
    assert correlation.shape == (2, 2) and np.allclose(np.diag(correlation), 1.0)
    assert abs(correlation.loc["theta", "nuisance"]) < 0.2


def test_report_is_self_contained(calibrated):
    _, out, _ = calibrated
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert "toy.toml" in page and "src='http" not in page and "<script" not in page


def test_calibrated_overlay_loads_on_a_scenario_with_medians_and_provenance(tmp_path):
    scenario = load_scenario("baseline")

    def simulate(params, seed):
        noise = np.random.default_rng(seed).normal(0.0, 0.02)
        return {"m": params["behaviour.missing_material_prob"] + noise,
                "c": params["departments.*.coordination"] + noise}

    priors = Priors([Prior("behaviour.missing_material_prob", "uniform", {"low": 0.0, "high": 0.6},
                           "assumption"),
                     Prior("departments.*.coordination", "normal",
                           {"mean": 0.5, "sd": 0.2, "low": 0.0, "high": 1.0}, "assumption")])
    result = calibrate(simulate, priors, {"m": (0.3, 0.02), "c": (0.7, 0.02)}, population=60,
                       generations=3, seed=5)
    path = tmp_path / "calibrated.toml"
    path.write_text(calibrated_overlay(result, targets_file="targets/q.toml", scenario=scenario),
                    encoding="utf-8")
    text = tomllib.loads(path.read_text(encoding="utf-8"))
    assert text["countermeasure"]["provenance"] == "calibrated to targets/q.toml with seed 5"
    loaded = load_scenario("baseline", [path])
    median = result.median()
    assert loaded.behaviour.missing_material_prob == median["behaviour.missing_material_prob"]
    assert all(d.coordination == median["departments.*.coordination"]
               for d in loaded.departments.values())
    assert loaded.provenance["behaviour.missing_material_prob"].startswith(
        "calibrated to targets/q.toml with seed 5")
    with pytest.raises(CalibrationError, match="needs the scenario"):
        calibrated_overlay(result, targets_file="targets/q.toml")


# ---- validation of held-out targets ----------------------------------------------------------------

def _fit_folder(tmp_path, misses: int, held_out: int = 10):
    rows = [{"target": f"t{i}", "role": "validate", "observed": 0.5, "se": 0.1, "pp_mean": 0.5,
             "pp_sd": 0.1, "pp_low": 0.3, "pp_high": 0.7, "z": 0.0, "covered": i >= misses}
            for i in range(held_out)]
    rows.append({"target": "fit", "role": "calibrate", "observed": 0.5, "se": 0.1, "pp_mean": 0.5,
                 "pp_sd": 0.1, "pp_low": 0.3, "pp_high": 0.7, "z": 0.0, "covered": False})
    folder = tmp_path / f"misses{misses}"
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / "targets_fit.csv", index=False)
    return folder


def _binomial_tail(m: int, n: int, p: float) -> float:
    return 1 - sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(m))


def test_held_out_misses_beyond_chance_fail_the_calibration(tmp_path):
    ok = validate_calibration(_fit_folder(tmp_path, misses=2))
    assert ok.passed and ok.held_out == 10 and ok.misses == 2  # calibration rows do not count
    assert ok.p_value == pytest.approx(_binomial_tail(2, 10, 0.1))  # 0.264
    bad = validate_calibration(_fit_folder(tmp_path, misses=4))
    assert not bad.passed and bad.p_value == pytest.approx(_binomial_tail(4, 10, 0.1))  # 0.013


def test_one_held_out_target_far_outside_fails_though_the_count_cannot(tmp_path):
    """With one held-out target the binomial count never rejects (P = 0.10), so a target further
    than the Bonferroni bound Phi^-1(1 - alpha / 2n) from its prediction fails on its own: for
    n = 1 and alpha 0.05 that is |z| > 1.96; for n = 10, |z| > 2.81 (scipy.stats.norm.ppf)."""
    folder = _fit_folder(tmp_path, misses=1, held_out=1)
    fit = pd.read_csv(folder / "targets_fit.csv")
    fit.loc[0, "z"] = 6.0
    fit.to_csv(folder / "targets_fit.csv", index=False)
    verdict = validate_calibration(folder)
    assert verdict.p_value == pytest.approx(0.1) and verdict.z_critical == pytest.approx(1.959964)
    assert verdict.far == ("t0",) and not verdict.passed
    fit.loc[0, "z"] = 1.9  # outside its 90% interval, but within what chance allows
    fit.to_csv(folder / "targets_fit.csv", index=False)
    assert validate_calibration(folder).passed
    assert validate_calibration(_fit_folder(tmp_path, misses=2)).z_critical == pytest.approx(2.807034)
    result = CliRunner().invoke(app, ["validate", "calibration", str(folder)])
    assert result.exit_code == 0, result.output
    fit.loc[0, "z"] = -3.0
    fit.to_csv(folder / "targets_fit.csv", index=False)
    result = CliRunner().invoke(app, ["validate", "calibration", str(folder)])
    assert result.exit_code == 1 and "further than chance allows" in result.output


def test_cli_validate_calibration_exit_codes(tmp_path, calibrated):
    runner = CliRunner()
    _, out, _ = calibrated
    result = runner.invoke(app, ["validate", "calibration", str(out)])
    assert result.exit_code == 0, result.output
    assert "sd" in result.output and "inside" in result.output
    result = runner.invoke(app, ["validate", "calibration", str(_fit_folder(tmp_path, misses=5))])
    assert result.exit_code == 1 and "outside" in result.output
    assert runner.invoke(app, ["validate", "calibration", str(tmp_path / "nowhere")]).exit_code == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    pd.DataFrame({"target": ["a"], "role": ["validate"]}).to_csv(broken / "targets_fit.csv")
    result = runner.invoke(app, ["validate", "calibration", str(broken)])
    assert result.exit_code == 2 and "missing" in result.output


def test_predictive_draws_of_a_share_stay_between_zero_and_one():
    """A share's posterior-predictive interval (simulated value plus N(0, se^2) sampling error)
    cannot leave [0, 1]; a gap between two shares may be negative."""
    from analysis.calibration.outputs import targets_fit
    from analysis.targets.spec import Moment, Target

    share = Target("online_60_plus", Moment(kpi="online_share"), value=0.02, se=0.05, source="test")
    gap = Target("gap", Moment(kpi="online_share_gap_rural"), value=0.02, se=0.05, source="test")
    satisfaction = Target("sat", Moment(kpi="satisfaction_mean"), value=4.9, se=0.5, source="test")
    predictive = pd.DataFrame({"online_60_plus": np.full(400, 0.01), "gap": np.full(400, 0.01),
                               "sat": np.full(400, 4.8)})
    fit = targets_fit(predictive, {"online_60_plus": share, "gap": gap, "sat": satisfaction},
                      seed=1).set_index("target")
    assert fit.loc["online_60_plus", "pp_low"] == 0.0 and fit.loc["online_60_plus", "pp_high"] <= 1.0
    assert fit.loc["gap", "pp_low"] < 0.0
    assert fit.loc["sat", "pp_high"] == 5.0
    assert share.bounds == (0.0, 1.0) and gap.bounds == (-math.inf, math.inf)
