"""The README's survey section runs as written: its Python, its report spec and its commands."""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path

from typer.testing import CliRunner

README = Path(__file__).resolve().parents[1] / "README.md"


def _survey_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Questionnaire data (survey/)")
    return text[start:text.index("\n## ", start + 1)]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _survey_section(), re.S)


def test_the_survey_section_has_python_toml_and_shell_snippets():
    assert _blocks("python") and _blocks("toml") and _blocks("bash")


def test_readme_python_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in _blocks("python"):
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - the README's own code
    assert (tmp_path / "tables.docx").exists()
    assert namespace["alpha"].reversed == ["DS4"]


def test_readme_report_spec_loads(tmp_path):
    from survey.reporting import ReportSpec

    spec_path = tmp_path / "report.toml"
    spec_path.write_text(_blocks("toml")[0], encoding="utf-8")
    spec = ReportSpec.from_toml(spec_path)
    assert spec.regression["outcome"] == "trust"


def test_readme_survey_commands_run_in_order(tmp_path, monkeypatch):
    from analysis.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    commands = [line.split("#")[0].strip() for line in _blocks("bash")[0].splitlines()]
    commands = [c for c in commands if c.startswith("onenet survey")]
    assert len(commands) >= 6
    for command in commands:
        result = runner.invoke(app, shlex.split(command)[1:])
        assert result.exit_code == 0, f"{command}\n{result.output}"
    assert (tmp_path / "chapter" / "report.docx").exists()
    assert (tmp_path / "chapter_example" / "report.html").exists()
