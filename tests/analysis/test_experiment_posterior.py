"""Comparisons that carry parameter uncertainty: replication r of every arm runs with posterior
draw r (drawn once per experiment), on top of the same random numbers as a plain comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.calibration.abc import weighted_quantile
from analysis.compare import effects
from analysis.experiment import Experiment, ExperimentError, load_experiment, run_experiment

SMALL = {"jurisdiction.population": 20_000, "jurisdiction.enterprises": 800, "hall.windows": 6}
PATH = "behaviour.missing_material_prob"
KPI = "resubmissions_per_case"


def _experiment(**options) -> Experiment:
    return Experiment.build("baseline", ["data_sharing"], replications=6, seed=3, days=10,
                            updates={**SMALL, **options.pop("updates", {})}, **options)


def _posterior(tmp_path, name: str, values, weights=None):
    path = tmp_path / name
    weights = np.ones(len(values)) if weights is None else weights
    pd.DataFrame({PATH: values, "weight": weights, "distance": 0.1}).to_csv(path, index=False)
    return path


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["arm", "replication"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def plain_at_point(tmp_path_factory):
    return _sorted(run_experiment(_experiment(updates={PATH: 0.3}),
                                  tmp_path_factory.mktemp("plain") / "results.sqlite"))


def test_degenerate_posterior_gives_the_plain_run(tmp_path, plain_at_point):
    posterior = _posterior(tmp_path, "posterior.csv", [0.3] * 5, weights=[0.1, 0.4, 0.2, 0.2, 0.1])
    runs = run_experiment(_experiment(posterior=str(posterior)), tmp_path / "results.sqlite")
    pd.testing.assert_frame_equal(_sorted(runs), plain_at_point)


def test_spread_posterior_spreads_the_replications(tmp_path, plain_at_point):
    values = np.linspace(0.02, 0.6, 30)
    posterior = _posterior(tmp_path, "posterior.csv", values)
    experiment = _experiment(posterior=str(posterior))
    draws = [d[PATH] for d in experiment.posterior_draws()]
    assert len(draws) == 6 and len(set(draws)) > 1 and set(draws) <= set(values)
    assert draws == [d[PATH] for d in experiment.posterior_draws()]  # drawn the same way each time
    spread = run_experiment(experiment, tmp_path / "results.sqlite")

    def spread_of_level(runs):  # the baseline level's sd over replications (CI half-width / t)
        return runs.loc[runs["arm"] == "baseline", KPI].std()

    assert spread_of_level(spread) > 2 * spread_of_level(plain_at_point)
    assert effects(spread, kpis=[KPI])["n"].iloc[0] == 6
    # each replication ran its own draw, the same for both arms
    by_rep = spread.pivot(index="replication", columns="arm", values="seed")
    assert (by_rep["baseline"] == by_rep["data_sharing"]).all()


def test_parameter_uncertainty_widens_the_effect_interval(tmp_path):
    """Data sharing pulls materials from the shared platform, so citizens supply fewer of them;
    each supplied material is missing with probability about missing_material_prob, and a missing
    material means a resubmission. The paired effect on resubmissions per case is therefore
    roughly proportional to that probability. With a degenerate posterior (every particle at the
    median) the replications differ only in their random numbers, which the two arms share; with
    a spread posterior each replication also has its own probability, hence its own effect size,
    so the paired differences vary more and the effect's confidence interval is wider."""
    values = np.linspace(0.02, 0.5, 30)
    median = weighted_quantile(values, np.ones(len(values)), 0.5)
    arms = {"spread": values, "degenerate": np.full(len(values), median)}
    half_width, per_replication = {}, {}
    for name, particles in arms.items():
        experiment = Experiment.build("baseline", ["data_sharing"], replications=12, seed=3, days=30,
                                      updates=SMALL,
                                      posterior=str(_posterior(tmp_path, f"{name}.csv", particles)))
        runs = run_experiment(experiment, tmp_path / name / "results.sqlite")
        row = effects(runs, kpis=[KPI]).iloc[0]
        assert row["n"] == 12 and row["diff"] < 0  # fewer materials to supply, fewer resubmissions
        half_width[name] = (row["ci_high"] - row["ci_low"]) / 2
        wide = runs.pivot(index="replication", columns="arm", values=KPI)
        draws = [d[PATH] for d in experiment.posterior_draws()]
        per_replication[name] = (np.array([draws[r] for r in wide.index]),
                                 (wide["data_sharing"] - wide["baseline"]).to_numpy())
    assert set(per_replication["degenerate"][0]) == {median}
    assert half_width["spread"] > 1.25 * half_width["degenerate"]
    # the mechanism: a replication drawing a larger probability gains more from data sharing
    probability, effect = per_replication["spread"]
    assert np.corrcoef(probability, effect)[0, 1] < -0.7


def test_bad_posterior_is_refused_before_any_run(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({PATH: [0.2, 0.3]}).to_csv(bad, index=False)
    with pytest.raises(ExperimentError, match="weight column"):
        run_experiment(_experiment(posterior=str(bad)), tmp_path / "out" / "results.sqlite")
    unknown = tmp_path / "unknown.csv"
    pd.DataFrame({"behaviour.no_such": [0.2], "weight": [1.0]}).to_csv(unknown, index=False)
    with pytest.raises(ExperimentError, match="not a parameter path"):
        run_experiment(_experiment(posterior=str(unknown)), tmp_path / "out" / "results.sqlite")
    out_of_range = _posterior(tmp_path, "range.csv", [1.7])
    with pytest.raises(ExperimentError, match="range.csv"):
        run_experiment(_experiment(posterior=str(out_of_range)), tmp_path / "out" / "results.sqlite")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ExperimentError, match="draws: needs a posterior"):
        _experiment(draws=3)


def test_experiment_file_accepts_posterior_and_draws(tmp_path):
    _posterior(tmp_path, "posterior.csv", [0.2, 0.4])
    path = tmp_path / "exp.toml"
    path.write_text('[experiment]\nscenario = "baseline"\ncountermeasures = ["data_sharing"]\n'
                    'posterior = "posterior.csv"\ndraws = 3\n', encoding="utf-8")
    experiment = load_experiment(path)
    assert experiment.posterior == str(tmp_path / "posterior.csv") and experiment.draws == 3
    assert len(experiment.posterior_draws()) == 3


def test_cli_compare_with_posterior_says_so(tmp_path):
    from analysis.cli import app

    posterior = _posterior(tmp_path, "posterior.csv", [0.2, 0.4])
    exp = tmp_path / "exp.toml"
    updates = ", ".join(f'"{k}" = {v}' for k, v in SMALL.items())
    exp.write_text('[experiment]\nscenario = "baseline"\ncountermeasures = ["data_sharing"]\n'
                   f'replications = 2\ndays = 5\nseed = 1\nupdates = {{ {updates} }}\n',
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["compare", str(exp), "--posterior", str(posterior),
                                      "--draws", "2", "--out", str(tmp_path / "out"), "--no-figures"])
    assert result.exit_code == 0, result.output
    assert "parameter uncertainty included" in " ".join(result.output.split())
    table = pd.read_csv(tmp_path / "out" / "effects.csv")
    assert table["parameter_uncertainty"].all()
