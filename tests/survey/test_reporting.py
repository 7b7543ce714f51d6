"""The thesis chapter: HTML and Word with figures, numbers equal to the analyses, strict spec,
no personal data, nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest

import survey
from survey.codebook import SurveyData, Variable
from survey.errors import SurveyAnalysisError
from survey.reporting import ReportSpec, ReportSpecError
from survey.tables import format_number


@pytest.fixture(scope="module")
def example():
    data = survey.load_example()
    frame = data.data.copy()
    frame["phone"] = [f"1390000{i:04d}" for i in range(len(frame))]
    frame["comment"] = "我的手机号是13912345678"
    book = data.codebook
    book.add(Variable("phone", "手机号", personal=True))
    book.add(Variable("comment", "意见建议"))
    return SurveyData(frame, book)


@pytest.fixture(scope="module")
def written(example, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    spec = ReportSpec(regression={"outcome": "SAT"})
    return out, survey.report(example, out, spec=spec)


def test_the_chapter_is_written_with_its_figure(written):
    out, result = written
    assert (out / "report.html").exists() and (out / "report.docx").exists()
    assert (out / "figures" / "scree.png").stat().st_size > 1000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no scratch left behind


def test_the_numbers_in_the_report_are_the_analyses(written, example):
    out, result = written
    text = (out / "report.html").read_text(encoding="utf-8")
    kmo = survey.kmo(example.data, [i for s in example.codebook.scales.values() for i in s.items])
    assert f"KMO值为{kmo.overall:.3f}" in text
    alpha = survey.cronbach_alpha(example.data, example.codebook.scales["online"])
    assert format_number(alpha.alpha, 3, leading_zero=False) in text
    assert "图1  碎石图" in text and 'src="figures/scree.png"' in text
    assert "回归分析" in text and f"R² = {result.results['regression'].r2:.3f}" in text
    assert "样本基本情况" in text and "60岁及以上" in text
    fit = result.results["cfa"].fit
    assert f"CFI = {fit['cfi']:.3f}" in text and f"SRMR = {fit['srmr']:.3f}" in text
    # reverse-keyed DS4 is scored before the CFA, so every standardized loading is positive
    assert (result.results["cfa"].loadings.stack().dropna() > 0).all()
    online = result.results["differences"]["online"].table
    assert "1>4" in " ".join(online["posthoc"])  # the generator's 60+ shift, found by the post hoc test


def test_the_word_file_has_headings_tables_and_the_picture(written):
    from docx import Document

    out, result = written
    document = Document(out / "report.docx")
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {"样本描述", "信度分析", "效度分析", "验证性因子分析", "差异分析", "相关分析", "回归分析"} <= set(headings)
    n_tables = sum(1 for b in result.blocks if b.kind == "table")
    assert len(document.tables) == n_tables
    assert len(document.inline_shapes) == 1


def test_personal_and_free_text_never_reach_the_report(written):
    out, _ = written
    for name in ("report.html",):
        text = (out / name).read_text(encoding="utf-8")
        assert "1390000" not in text and "13912345678" not in text and "手机号" not in text
    from docx import Document

    document = Document(out / "report.docx")
    body = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "1390000" not in body and "13912345678" not in body


def test_english_report(example, tmp_path):
    survey.report(example, tmp_path, lang="en", formats=["html"])
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Reliability" in text and "Table 1." in text and "Figure 1. Scree plot" in text
    assert not (tmp_path / "report.docx").exists()


def test_existing_reports_are_not_overwritten_and_errors_leave_nothing(example, tmp_path):
    survey.report(example, tmp_path, formats=["html"])
    with pytest.raises(SurveyAnalysisError, match="exists"):
        survey.report(example, tmp_path, formats=["html"])
    other = tmp_path / "bad"
    with pytest.raises(ReportSpecError, match="'nosuch' is not a scale"):
        survey.report(example, other, spec=ReportSpec(scales=["nosuch"]))
    assert not list(other.glob("report.*")) and not list(other.glob(".report-*"))


def test_report_spec_toml_is_strict(tmp_path):
    good = tmp_path / "spec.toml"
    good.write_text('[report]\ntitle = "第四章"\nlang = "en"\nscales = ["online", "offline"]\n'
                    '[report.efa]\nmethod = "ml"\nrotation = "promax"\n[report.regression]\noutcome = "SAT"\n',
                    encoding="utf-8")
    spec = ReportSpec.from_toml(good)
    assert spec.lang == "en" and spec.efa == {"method": "ml", "rotation": "promax"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[report]\nscale = ["online"]\n', encoding="utf-8")
    with pytest.raises(ReportSpecError, match=r"bad\.toml: report\.scale: unknown key"):
        ReportSpec.from_toml(bad)
    bad.write_text('[report]\n[report.efa]\nfactors = 3\n', encoding="utf-8")
    with pytest.raises(ReportSpecError, match=r"report\.efa\.factors: unknown key"):
        ReportSpec.from_toml(bad)
    bad.write_text('[report]\n[report.differences]\noutcome = "online"\n', encoding="utf-8")
    with pytest.raises(ReportSpecError, match=r"report\.differences\.outcome: unknown key"):
        ReportSpec.from_toml(bad)
    bad.write_text('[report]\nlang = "fr"\n', encoding="utf-8")
    with pytest.raises(ReportSpecError, match="'zh' or 'en'"):
        ReportSpec.from_toml(bad)


def test_data_without_scales_gets_a_clear_error(tmp_path):
    with pytest.raises(SurveyAnalysisError, match="defines no scales"):
        survey.report(pd.DataFrame({"a": [1, 2, 3]}), tmp_path)


def test_an_unconverged_cfa_is_marked_not_reportable_in_the_chapter(example, tmp_path, monkeypatch):
    from survey.confirmatory import CFAConvergenceWarning, cfa

    monkeypatch.setattr(survey, "cfa", lambda model, data: cfa(model, data, max_iter=1))
    with pytest.warns(CFAConvergenceWarning):
        survey.report(example, tmp_path, lang="en", formats=["html"])
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Caution: this CFA is not reportable (not converged" in text
