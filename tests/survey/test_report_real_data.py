"""`survey report` on awkward real data: single-respondent groups, and a spec written from the codebook."""

from __future__ import annotations

import warnings

import pytest
from typer.testing import CliRunner

import survey
from analysis.cli import app
from survey.errors import SurveyAnalysisError
from survey.reporting import ReportSpec, spec_template


@pytest.fixture(scope="module")
def lonely():
    """The example with a single respondent left in channel 4 (帮办代办) and education 5 (研究生)."""
    example = survey.load_example()
    frame = example.data
    frame = frame.drop(frame.index[frame["channel"] == 4][1:])
    frame = frame.drop(frame.index[frame["education"] == 5][1:])
    return survey.SurveyData(frame.reset_index(drop=True), example.codebook)


def test_difference_analysis_leaves_a_single_respondent_group_out_by_its_label(lonely):
    with pytest.raises(SurveyAnalysisError, match=r"group\(s\) \[4\] of 'channel'"):
        survey.difference_analysis(lonely, "SAT", ["channel"])
    result = survey.difference_analysis(lonely, "SAT", ["gender", "channel"], small_groups="leave_out")
    assert result.left_out == [("channel", "帮办代办", 1)]
    assert any("帮办代办 (n = 1)" in note for note in result.notes)
    assert not result.table["level"].str.contains("帮办代办").any()
    assert result.table["level"].str.contains("网上办理").any()


def test_report_does_not_abort_on_single_respondent_groups_and_notes_them(lonely, tmp_path):
    docx = pytest.importorskip("docx")
    spec = ReportSpec(cfa=False, correlation="", efa={"method": "pca", "rotation": "varimax"},
                      differences={"outcomes": ["online"], "groups": ["education", "channel"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = survey.report(lonely, tmp_path / "chapter", spec=spec, formats=("docx",))
    text = " ".join(p.text for p in docx.Document(result.paths[-1]).paragraphs)
    assert "学历中的“研究生”仅1人，未参与比较" in text
    assert "最近一次办事渠道中的“帮办代办”仅1人，未参与比较" in text


def test_init_spec_writes_a_commented_spec_that_loads_and_names_the_codebook(tmp_path):
    path = tmp_path / "report.toml"
    result = CliRunner().invoke(app, ["survey", "report", "example", "--init-spec", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.count("#") > 10 and "reverse-keyed DS4" in text
    spec = ReportSpec.from_toml(path)
    example = survey.load_example()
    assert spec.scales == list(example.codebook.scales)
    assert "respondent_id" not in spec.demographics and "gender" in spec.demographics
    assert spec.regression == {"outcome": "trust", "predictors": ["online", "offline", "sharing"]}
    again = CliRunner().invoke(app, ["survey", "report", "example", "--init-spec", str(path)])
    assert again.exit_code != 0 and "exists" in again.output
    assert spec_template(example) == text
