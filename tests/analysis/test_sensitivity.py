"""Sensitivity analysis: indices checked against analytic values, the study file read strictly,
and a tiny real-model study run end to end (also through `onenet sweep`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from SALib.analyze import morris as salib_morris
from SALib.sample import morris as salib_morris_sample
from SALib.test_functions import Ishigami
from typer.testing import CliRunner

from analysis.cli.sweep import sweep, write_outputs
from analysis.sensitivity import (
    Factor,
    MorrisSpec,
    SobolSpec,
    StudyError,
    apply_factors,
    base_scenario,
    load_study,
    run_study,
    salib_problem,
    sensitivity,
    study_factors,
    top_separated,
)

PI = float(np.pi)
# Ishigami function, a = 7, b = 0.1: analytic Sobol indices (Ishigami & Homma 1990; Saltelli et
# al. 2008, Global Sensitivity Analysis: The Primer, section 4.8)
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
STUDY_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "studies"


def _ishigami(design: np.ndarray) -> np.ndarray:
    return Ishigami.evaluate(design)[:, None]


def _ishigami_factors() -> list[Factor]:
    return [Factor(f"x{i}", group, -PI, PI) for i, group in ((1, "x1_x3"), (2, "x2"), (3, "x1_x3"))]


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    result = sensitivity(_ishigami_factors(), ["y"], _ishigami, sobol=SobolSpec(samples=4096), seed=7)
    frame = result.sobol.set_index("parameter")
    assert list(frame.columns[:2]) == ["group", "outcome"]
    np.testing.assert_allclose(frame.loc[["x1", "x2", "x3"], "S1"], ISHIGAMI_S1, atol=0.03)
    np.testing.assert_allclose(frame.loc[["x1", "x2", "x3"], "ST"], ISHIGAMI_ST, atol=0.03)
    assert (frame["S1_conf"] > 0).all() and (frame["ST_conf"] > 0).all()


def test_grouped_sobol_indices_of_ishigami_match_the_analytic_group_values():
    # group {x1, x3}: S1 = S1 + S3 + S13 = 1 - S2 and ST = 1 - S2 (Ishigami has no x2 interaction)
    result = sensitivity(_ishigami_factors(), ["y"], _ishigami,
                         sobol=SobolSpec(samples=4096, grouped=True), seed=7)
    frame = result.sobol.set_index("parameter")
    assert sorted(frame.index) == ["x1_x3", "x2"]
    np.testing.assert_allclose(frame.loc["x1_x3", ["S1", "ST"]], [1 - 0.4424] * 2, atol=0.03)
    np.testing.assert_allclose(frame.loc["x2", ["S1", "ST"]], [0.4424] * 2, atol=0.03)
    ranking = result.ranking.set_index("group")
    assert ranking.loc["x1_x3", "rank"] == 1  # total effect 0.5576 > 0.4424


def test_morris_of_a_linear_function_recovers_its_coefficients():
    # y = 2 x1 - 5 x2 + 0 x3 on [0, 1]^3: every elementary effect equals the coefficient, so
    # mu = coefficient, mu_star = |coefficient| and sigma = 0 (Morris 1991)
    factors = [Factor("x1", "a", 0.0, 1.0), Factor("x2", "b", 0.0, 1.0), Factor("x3", "c", 0.0, 1.0)]
    coefficients = np.array([2.0, -5.0, 0.0])
    result = sensitivity(factors, ["y"], lambda x: (x @ coefficients)[:, None],
                         morris=MorrisSpec(trajectories=20), seed=3)
    frame = result.morris.set_index("parameter")
    np.testing.assert_allclose(frame["mu"], coefficients, atol=1e-9)
    np.testing.assert_allclose(frame["mu_star"], np.abs(coefficients), atol=1e-9)
    np.testing.assert_allclose(frame["sigma"], 0.0, atol=1e-9)
    assert list(result.ranking["group"]) == ["b", "a", "c"]


def test_morris_through_our_code_path_equals_salib_called_directly():
    factors = _ishigami_factors()
    result = sensitivity(factors, ["y"], _ishigami, morris=MorrisSpec(trajectories=50), seed=11)
    problem = salib_problem(factors, grouped=False)
    design = salib_morris_sample.sample(problem, 50, num_levels=4, seed=11)
    direct = salib_morris.analyze(problem, design, Ishigami.evaluate(design), num_levels=4, seed=11)
    frame = result.morris.set_index("parameter")
    np.testing.assert_allclose(frame["mu_star"], direct["mu_star"])
    np.testing.assert_allclose(frame["mu_star_conf"], direct["mu_star_conf"])
    np.testing.assert_allclose(frame["sigma"], direct["sigma"])
    # x3 has no first-order effect but interacts with x1: its elementary effects vary
    assert frame.loc["x3", "sigma"] > 0.5 * frame.loc["x3", "mu_star"] > 0


def test_sensitivity_needs_a_method():
    with pytest.raises(ValueError, match="at least one method"):
        sensitivity(_ishigami_factors(), ["y"], _ishigami)


# ---- study files -------------------------------------------------------------------------------

TINY = """
[study]
name = "tiny"
scenario = "restrictive_factors"
days = 10
seed = 5
outcomes = ["rating_participation", "visits_per_case"]

[groups.information_islands]
label = "Information islands"
parameters = { "policy.data_sharing" = [0.0, 0.9], "departments.*.coordination" = [0.1, 0.9] }

[groups.accountability]
parameters = { "policy.evaluation_feedback" = [0.0, 1.0] }

[morris]
trajectories = 2
levels = 4
"""


def _write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "key"), [
    (("days = 10", "dayz = 10"), "study.dayz"),
    (('label = "Information islands"', 'lable = "x"'), "groups.information_islands.lable"),
    (("levels = 4", "levels = 4\nwalkers = 3"), "morris.walkers"),
    (("[morris]", "[morris_method]"), "morris_method"),
])
def test_unknown_keys_in_a_study_are_errors_naming_file_and_key(tmp_path, edit, key):
    path = _write(tmp_path, TINY.replace(*edit))
    with pytest.raises(StudyError) as info:
        load_study(path)
    assert str(path) in str(info.value) and key in str(info.value) and "unknown key" in str(info.value)


@pytest.mark.parametrize(("edit", "message"), [
    (('"visits_per_case"]', '"visits_per_kase"]'), "not a KPI"),
    (("[0.0, 0.9], \"departments", "[0.9, 0.1], \"departments"), "low < high"),
    (("levels = 4", "levels = 3"), "even"),
    (("[morris]\ntrajectories = 2\nlevels = 4\n", ""), "[morris] or a [sobol]"),
    (('scenario = "restrictive_factors"', 'scenario = "atlantis"'), "study.scenario"),
])
def test_invalid_study_values_are_clear_errors(tmp_path, edit, message):
    path = _write(tmp_path, TINY.replace(*edit))
    with pytest.raises(StudyError, match=None) as info:
        study = load_study(path)
        study_factors(study, base_scenario(study))
    assert message in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(("parameter", "bounds", "message"), [
    ("policy.data_shareing", "[0.0, 0.5]", "not a parameter"),
    ("policy.data_sharing", "[0.0, 1.5]", "<= 1.0"),
    ("policy.station_scope", "[0.0, 1.0]", "only numeric"),
])
def test_parameters_must_exist_and_ranges_must_be_allowed(tmp_path, parameter, bounds, message):
    text = TINY.replace('"policy.evaluation_feedback" = [0.0, 1.0]', f'"{parameter}" = {bounds}')
    study = load_study(_write(tmp_path, text))
    with pytest.raises(StudyError, match="groups.accountability.parameters") as info:
        study_factors(study, base_scenario(study))
    assert message in str(info.value)


def test_wildcards_booleans_and_integers_are_applied_to_the_scenario(tmp_path):
    study = load_study(_write(tmp_path, TINY))
    scenario = base_scenario(study)
    factors = study_factors(study, scenario)
    coordination = next(f for f in factors if f.name == "departments.*.coordination")
    assert len(coordination.paths) == len(scenario.departments)
    changed = apply_factors(scenario, factors, np.array([0.3, 0.65, 0.7]))
    assert changed.policy.data_sharing == 0.3
    assert {d.coordination for d in changed.departments.values()} == {0.65}
    assert changed.policy.evaluation_feedback is True
    windows = Factor("hall.windows", "g", 5, 30, paths=("hall.windows",), kind="int")
    assert apply_factors(scenario, [windows], np.array([12.6])).hall.windows == 13


def test_the_shipped_restrictive_factors_study_maps_all_six_groups():
    study = load_study(STUDY_DIR / "restrictive_factors.toml")
    assert len(study.groups) == 6 and study.morris is not None and study.sobol is not None
    factors = study_factors(study, base_scenario(study))
    assert {f.group for f in factors} == set(study.groups)


def test_a_tiny_model_study_runs_end_to_end_and_does_not_depend_on_workers(tmp_path):
    path = _write(tmp_path, TINY)
    serial = run_study(path)
    assert list(serial.morris.columns) == ["parameter", "group", "outcome", "mu_star",
                                           "mu_star_conf", "mu", "sigma"]
    assert len(serial.morris) == 3 * 2 and len(serial.designs["morris"]) == 2 * (3 + 1)
    assert set(serial.ranking["group"]) == {"information_islands", "accountability"}
    # with the rating feedback loop on, every window prompts for a rating (DESIGN.md: 好差评 ratings
    # lead to rectification), so switching it on raises participation in every elementary effect
    row = serial.morris.set_index(["parameter", "outcome"]).loc[("policy.evaluation_feedback",
                                                                 "rating_participation")]
    assert row["mu"] > 0 and row["mu_star"] == pytest.approx(row["mu"])
    parallel = run_study(path, workers=2)
    assert parallel.morris.equals(serial.morris)


def test_onenet_sweep_prints_the_ranking_and_writes_csvs_and_charts(tmp_path):
    study = _write(tmp_path, TINY)
    app = typer.Typer()
    app.command()(sweep)
    app.command("noop")(lambda: None)  # two commands, so typer keeps the command name
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "information_islands" in result.output
    assert "• morris: " in result.output  # whether the top two groups are separated or tied
    import pandas as pd

    assert {"score_low", "score_high", "tied", "p_first"} <= set(pd.read_csv(out / "ranking.csv").columns)
    for name in ("sweep.sqlite", "ranking.csv", "morris_indices.csv", "design_morris.csv", "sensitivity_morris.png",
                 "sensitivity_ranking.png"):
        assert (out / name).stat().st_size > 0, name
    protected = tmp_path / "elsewhere" / "ranking.csv"
    with pytest.raises(ValueError, match="refusing to overwrite"):
        linear = sensitivity(_ishigami_factors(), ["y"], _ishigami, morris=MorrisSpec(trajectories=4))
        write_outputs(linear, protected.parent, protect=[protected])
    assert not protected.parent.exists()
    missing = CliRunner().invoke(app, ["sweep", str(tmp_path / "absent.toml")])
    assert missing.exit_code == 2


# ---- ranking uncertainty and ties ----------------------------------------------------------------

def _ishigami_ungrouped() -> list[Factor]:
    return [Factor(f.name, f.name, f.low, f.high) for f in _ishigami_factors()]


def test_a_large_ishigami_design_separates_its_analytic_ranking():
    # analytic ST (Ishigami & Homma 1990; Saltelli et al. 2008): x1 0.5576 > x2 0.4424 > x3 0.2437
    result = sensitivity(_ishigami_ungrouped(), ["y"], _ishigami, sobol=SobolSpec(samples=2048), seed=3,
                         resamples=100)
    ranking = result.ranking.set_index("group")
    assert list(result.ranking["group"]) == ["x1", "x2", "x3"]
    assert (ranking["score_low"] <= ranking["score"]).all() and (ranking["score"] <= ranking["score_high"]).all()
    assert ranking.loc["x1", "tied"] == "" and ranking.loc["x1", "p_first"] == 1.0
    assert ranking.loc["x1", "rank_low"] == ranking.loc["x1", "rank_high"] == 1
    assert top_separated(result.ranking) == {"sobol": True}


def test_a_small_ishigami_design_says_its_top_ranks_are_tied():
    # at N = 8 the bootstrap cannot tell x1 (ST 0.56) from x2 (ST 0.44)
    result = sensitivity(_ishigami_ungrouped(), ["y"], _ishigami, sobol=SobolSpec(samples=8), seed=3,
                         resamples=100)
    ranking = result.ranking.set_index("group")
    assert "x2" in ranking.loc["x1", "tied"] and "x1" in ranking.loc["x2", "tied"]
    assert top_separated(result.ranking) == {"sobol": False}
    assert result.ranking["p_first"].sum() == pytest.approx(1.0)
    assert ranking.loc["x1", "rank_high"] > 1


def test_morris_rankings_carry_bootstrap_intervals_too():
    result = sensitivity(_ishigami_ungrouped(), ["y"], _ishigami, morris=MorrisSpec(trajectories=20), seed=5,
                         resamples=50)
    assert {"score_low", "score_high", "rank_low", "rank_high", "p_first", "tied"} <= set(result.ranking.columns)
    assert result.ranking["p_first"].sum() == pytest.approx(1.0)
    # the same seed gives the same intervals
    again = sensitivity(_ishigami_ungrouped(), ["y"], _ishigami, morris=MorrisSpec(trajectories=20), seed=5,
                        resamples=50)
    assert again.ranking.equals(result.ranking)


# ---- resuming a study ------------------------------------------------------------------------------

def test_a_stored_study_resumes_without_running_finished_samples_again(tmp_path, monkeypatch):
    import analysis.sensitivity as sens

    path = _write(tmp_path, TINY)
    store = tmp_path / "out" / "sweep.sqlite"
    calls = []
    real = sens._run_indexed

    def counting(task):
        calls.append(task[0])
        if len(calls) == 5:
            raise KeyboardInterrupt  # interrupted midway: four samples are stored
        return real(task)

    monkeypatch.setattr(sens, "_run_indexed", counting)
    with pytest.raises(KeyboardInterrupt):
        run_study(path, store=store)
    from analysis.store import SampleStore

    assert len(SampleStore.open(store, _identity(path))) == 4
    monkeypatch.setattr(sens, "_run_indexed", real)
    resumed = run_study(path, store=store)
    fresh = run_study(path)
    assert resumed.morris.equals(fresh.morris)
    monkeypatch.setattr(sens, "_run_indexed", lambda task: pytest.fail("a stored sample ran again"))
    assert run_study(path, store=store).morris.equals(fresh.morris)


def _identity(path):
    from analysis.sensitivity import base_scenario as base

    study = load_study(path)
    return {"study": path.read_text(encoding="utf-8"), "scenario": base(study).content_hash(),
            "outcomes": list(study.outcomes)}


def test_a_store_of_another_study_is_refused(tmp_path):
    from analysis.store import StoreError

    path = _write(tmp_path, TINY)
    store = tmp_path / "sweep.sqlite"
    run_study(path, store=store)
    other = tmp_path / "other"
    other.mkdir()
    changed = _write(other, TINY.replace("seed = 5", "seed = 6"))
    with pytest.raises(StoreError, match="another study"):
        run_study(changed, store=store)
