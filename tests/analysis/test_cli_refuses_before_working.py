"""Bad options are refused before any simulation or analysis runs, and nothing is written."""

from __future__ import annotations

import socket
import tomllib
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _experiment_file(folder: Path, **table) -> Path:
    lines = ['[experiment]', 'scenario = "baseline"', 'countermeasures = ["data_sharing"]']
    lines += [f"{key} = {value}" for key, value in table.items()]
    lines.append('updates = { "jurisdiction.population" = 2000, "jurisdiction.enterprises" = 50, '
                 '"scenario.warmup_days" = 0 }')
    path = folder / "experiment.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["run", "baseline", "--days", "2"],
                                     ["compare", "baseline", "-c", "data_sharing", "--reps", "2", "--days", "2"]])
def test_out_naming_an_existing_file_is_refused_before_any_run(tmp_path, command):
    out = tmp_path / "results"
    out.write_text("my notes\n", encoding="utf-8")
    result = runner.invoke(app, [*command, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"--out {out} is a file" in result.output and "Traceback" not in result.output
    assert "KPI" not in result.output  # no table: nothing ran
    assert _tree(tmp_path) == {"results": b"my notes\n"}


@pytest.mark.parametrize("command", [["run", "baseline"], ["compare", "baseline", "-c", "data_sharing"],
                                     ["demo"]])
def test_a_negative_seed_is_refused_naming_the_option(tmp_path, command):
    out = tmp_path / "out"
    result = runner.invoke(app, [*command, "--seed", "-1", "--out", str(out)])
    assert result.exit_code == 2
    assert "Invalid value for '--seed'" in result.output and "0" in result.output.split("--seed")[-1]
    assert not out.exists()


@pytest.mark.parametrize("command", [["run", "baseline"], ["compare", "baseline", "-c", "data_sharing"],
                                     ["demo"]])
def test_days_are_bounded_by_the_limit_scenario_files_have(tmp_path, command):
    from analysis.cli.common import MAX_DAYS
    from simulation.scenario import Meta

    bound = next(m.le for m in Meta.model_fields["days"].metadata if hasattr(m, "le"))
    assert MAX_DAYS == bound
    out = tmp_path / "out"
    result = runner.invoke(app, [*command, "--days", str(MAX_DAYS + 1), "--out", str(out)])
    assert result.exit_code == 2
    assert "Invalid value for '--days'" in result.output and str(MAX_DAYS) in result.output
    assert not out.exists()


def test_an_unreachable_scheduler_is_refused_before_anything_is_written(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", "baseline", "-c", "data_sharing", "--reps", "2",
                                 "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"--scheduler tcp://127.0.0.1:{port}" in result.output and "within 10 s" in result.output
    assert not out.exists()


def test_a_scheduler_that_never_answers_is_given_up_after_the_timeout(monkeypatch):
    import typer

    from analysis.cli import common

    def silent(address, timeout):
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", silent)
    with pytest.raises(typer.Exit) as caught:
        common.check_scheduler("tcp://10.255.255.1:8786", timeout=0.1)
    assert caught.value.exit_code == 2


def test_compare_without_a_countermeasure_is_refused_at_once(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", "baseline", "--reps", "2", "--out", str(out)])
    assert result.exit_code == 2
    assert "at least one countermeasure" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("option", "value", "key"), [("--reps", "3", "replications"),
                                                       ("--days", "4", "days"), ("--seed", "5", "seed")])
def test_an_option_that_contradicts_the_experiment_file_is_an_error_naming_both(tmp_path, option, value, key):
    path = _experiment_file(tmp_path, replications=2, days=3, seed=1)
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", str(path), option, value, "--out", str(out)])
    assert result.exit_code == 2, result.output
    table = tomllib.loads(path.read_text(encoding="utf-8"))["experiment"]
    assert f"{option} {value} conflicts with {key} = {table[key]}" in result.output
    assert str(path) in result.output
    assert not out.exists()


def test_an_option_fills_in_what_the_experiment_file_leaves_out(tmp_path):
    from analysis.experiment import load_experiment

    path = _experiment_file(tmp_path)
    experiment = load_experiment(path, {"replications": 3, "seed": 7, "days": 4})
    assert (experiment.replications, experiment.seed, experiment.days) == (3, 7, 4)
    agreeing = _experiment_file(tmp_path, replications=3)
    assert load_experiment(agreeing, {"replications": 3, "seed": None, "days": None}).replications == 3


@pytest.mark.parametrize(("options", "named"), [(["--method", "foo"], "--method 'foo'"),
                                                (["--rotation", "twist"], "--rotation 'twist'"),
                                                (["--suppress", "2"], "--suppress 2")])
def test_efa_options_are_checked_before_kmo_and_parallel_analysis(options, named):
    result = runner.invoke(app, ["survey", "efa", "example", *options])
    assert result.exit_code == 2
    assert named in result.output and "KMO" not in result.output and "Parallel" not in result.output


def test_reliability_missing_option_is_checked_first():
    result = runner.invoke(app, ["survey", "reliability", "example", "--missing", "some"])
    assert result.exit_code == 2 and "--missing 'some': choose one of listwise, pairwise" in result.output


def test_help_texts_show_table_names_literally():
    compare_help = runner.invoke(app, ["compare", "--help"]).output
    assert compare_help.count("[experiment]") >= 2
    assert "[report]" in runner.invoke(app, ["survey", "report", "--help"]).output


def test_version_is_the_distribution_version():
    from importlib.metadata import PackageNotFoundError, version

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    try:
        expected = version("onenet-lab")
    except PackageNotFoundError:
        expected = declared
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"onenet-lab {expected}"


def test_a_missing_cjk_font_is_said_once_per_process(monkeypatch):
    from analysis import fonts

    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    monkeypatch.setattr(fonts, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            assert fonts.cjk_font_or_warn() is None
    assert [w.category for w in caught] == [fonts.CJKFontWarning]


def test_the_cli_prints_the_font_warning_as_one_note_line(capsys):
    from analysis import cli
    from analysis.fonts import INSTALL_HINT, CJKFontWarning

    cli._show_warning(CJKFontWarning(INSTALL_HINT), CJKFontWarning, "plots.py", 1)
    err = capsys.readouterr().err
    assert err.startswith("note: No CJK font found") and err.count("\n") == 1
    assert "CJKFontWarning" not in err and "warnings.warn" not in err
