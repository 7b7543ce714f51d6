"""`onenet survey describe|clean|reliability|efa|report` from the command line."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

import survey
from analysis.cli import app

runner = CliRunner()


def test_describe_reliability_and_efa_on_the_example(tmp_path):
    result = runner.invoke(app, ["survey", "describe", "example", "--vars", "age_band,OL1"])
    assert result.exit_code == 0, result.output
    assert "60岁及以上" in result.output and "skewness" in result.output
    result = runner.invoke(app, ["survey", "reliability", "example", "--scale", "online"])
    assert result.exit_code == 0, result.output
    data = survey.load_example()
    alpha = survey.cronbach_alpha(data.data, data.codebook.scales["online"]).alpha
    assert f"{alpha:.3f}" in result.output
    scree = tmp_path / "scree.png"
    result = runner.invoke(app, ["survey", "efa", "example", "--scree", str(scree)])
    assert result.exit_code == 0, result.output
    assert "KMO = " in result.output and "suggests 4 component(s)" in result.output
    assert scree.exists()


def test_clean_then_report_from_files(tmp_path):
    cleaned = tmp_path / "clean.csv"
    result = runner.invoke(app, ["survey", "clean", "example", "--out", str(cleaned), "--id", "respondent_id",
                                 "--duration", "duration_seconds", "--min-seconds", "60"])
    assert result.exit_code == 0, result.output
    log = pd.read_csv(tmp_path / "clean_cleaning_report.csv")
    assert (log["rule"] == "speeder").sum() == 12
    assert len(pd.read_csv(cleaned)) == 806 - int((log["kind"] == "dropped").sum())
    out = tmp_path / "chapter"
    result = runner.invoke(app, ["survey", "report", str(cleaned), "--codebook", str(tmp_path / "clean.codebook.toml"),
                                 "--lang", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.docx").exists() and "Reliability" in (out / "report.html").read_text(encoding="utf-8")


def test_errors_are_one_line_and_name_the_problem(tmp_path):
    result = runner.invoke(app, ["survey", "reliability", str(tmp_path / "missing.sav")])
    assert result.exit_code == 2 and "missing.sav" in result.output
    result = runner.invoke(app, ["survey", "reliability", "example", "--scale", "nosuch"])
    assert result.exit_code == 2 and "no scale 'nosuch'" in result.output
    result = runner.invoke(app, ["survey", "report", "example", "--out", str(tmp_path), "--lang", "fr"])
    assert result.exit_code == 2 and "zh or en" in result.output
