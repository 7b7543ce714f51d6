"""Thesis tables: APA 7 number rules, Chinese and English labels, and files that read back.

The rules checked here are APA 7 (Publication Manual, 7th ed., 2020):
- 6.36: no zero before the decimal point for statistics that cannot exceed 1 (correlations,
  proportions, p); exact p to two or three decimals, "p < .001" below that;
- 6.38 / APA "Numbers and Statistics Guide": commas in numbers of 1,000 or more, never in
  degrees of freedom;
- 7.10-7.11: the table number in bold above the table, the title on the next line in italic;
- 7.14: notes below the table start with "Note."; the probability note reads
  "*p < .05. **p < .01. ***p < .001.";
- 7.15: borders only at the top and bottom of the table and beneath the column headings (and
  spanners); no vertical rules.
Chinese tables follow GB/T 7713.1-2006 (表序与表题 "表1  标题" above the table; 注 below;
三线表). The numbers rendered are whatever the result objects hold: every expected string is
built from the result's own attributes, never typed in.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.tables import (
    format_number,
    format_p,
    render_table,
    star_note,
    stars,
    table_spec,
    table_specs,
)

pingouin = pytest.importorskip("pingouin")


def nz(value: float, decimals: int = 3) -> str:
    """A bounded statistic as APA prints it, built independently of the module."""
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("0.", ".", 1) if abs(float(text)) < 1 else text


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    """pingouin's 'cronbach_alpha' questionnaire (15 respondents x 10 items), wide."""
    long = pingouin.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", columns="Items", values="Scores")
    wide.columns = [str(c) for c in wide.columns]
    return wide


@pytest.fixture(scope="module")
def alpha(items):
    return survey.cronbach_alpha(items)


@pytest.fixture(scope="module")
def efa(items):
    return survey.efa(items, 2, method="pca", rotation="varimax")


@pytest.fixture(scope="module")
def big5() -> pd.DataFrame:
    """pingouin's 'pairwise_corr' data: Big Five scores of 500 people (Dolan et al., 2009)."""
    return pingouin.read_dataset("pairwise_corr")


# ---- number rules as properties -------------------------------------------------------------------

def test_p_values_are_exact_to_three_decimals_without_leading_zero_and_below_001_as_a_bound():
    rng = np.random.default_rng(20240501)
    ps = np.concatenate([10 ** rng.uniform(-9, 0, 3000), [0.001, 0.00099999, 0.0005, 0.04999, 0.05, 0.9996, 1.0]])
    for p in ps:
        text = format_p(p)
        if p < 0.001:
            assert text == "< .001", p
            continue
        assert re.fullmatch(r"\.\d{3}|1\.000", text), (p, text)
        assert text != ".000"
        assert abs(float(text) - p) <= 0.0005 + 1e-12, (p, text)
    assert format_p(np.nan) == "" and format_p(None) == ""
    assert format_p(0.0321, 2) == ".03" and format_p(0.004, 2) == "< .01"


def test_the_leading_zero_goes_only_for_statistics_bounded_by_one_and_decimals_are_fixed():
    rng = np.random.default_rng(7)
    for x in rng.uniform(-1, 1, 2000):
        for decimals in (1, 2, 3):
            bounded, plain = format_number(x, decimals, leading_zero=False), format_number(x, decimals)
            for text in (bounded, plain):
                assert len(text.split(".")[1]) == decimals
                assert float(text) == pytest.approx(round(x, decimals), abs=1e-12)
                assert not re.fullmatch(r"-0?\.0+", text), "never a negative zero"
            if abs(float(plain)) < 1:
                assert not re.match(r"-?0\.", bounded) and re.match(r"-?0\.", plain)
            else:
                assert bounded == plain  # 1.000 keeps its digit
    for x in rng.uniform(-5000, 5000, 500):
        assert format_number(x, 2, thousands=True).replace(",", "") == format_number(x, 2)
    assert format_number(-0.0001, 3) == "0.000" and format_number(-0.0001, 3, leading_zero=False) == ".000"
    assert format_number(1234.5678, 2, thousands=True) == "1,234.57" and format_number(15) == "15"


def test_stars_follow_the_conventional_thresholds():
    rng = np.random.default_rng(3)
    for p in np.concatenate([10 ** rng.uniform(-6, 0, 2000), [0.05, 0.01, 0.001]]):
        assert stars(p) == "*" * sum(int(p < cut) for cut in (0.05, 0.01, 0.001))
    assert stars(np.nan) == ""
    assert star_note([1, 2, 3], "en") == "*p < .05. **p < .01. ***p < .001."
    assert star_note([3, 1], "zh") == "*p < .05，***p < .001。"


def test_rendered_columns_get_the_apa_rule_of_their_statistic():
    frame = pd.DataFrame({"r": [0.4567, -0.0004], "p": [0.00002, 0.2501], "df": [215.7066, 1200.0],
                          "n": [1234, 15], "chi2": [12345.6789, 2.5], "mean": [3.14159, 2.0]},
                         index=pd.Index(["a", "b"], name="variable"))
    spec = table_spec(frame, lang="en")
    assert spec.header == ["Variable", "r", "p", "df", "n", "χ²", "M"]
    assert [c.text for c in spec.rows[0]] == ["a", nz(0.4567), "< .001", "215.71", "1,234", "12,345.679", "3.14"]
    assert [c.text for c in spec.rows[1]] == ["b", ".000", ".250", "1200.00", "15", "2.500", "2.00"]
    assert spec.align == ["left"] + ["right"] * 6
    zh = table_spec(frame, lang="zh", decimals={"chi2": 1, "p": 2})
    assert [c.text for c in zh.rows[0]][3:6] == ["215.71", "1234", "12345.7"]  # no thousands commas in Chinese
    assert zh.rows[1][2].text == ".25"
    assert table_spec(frame, decimals=1).rows[0][2].text == "< .001"  # p keeps three decimals


def test_stars_are_attached_to_the_statistic_and_explained_in_the_note():
    frame = pd.DataFrame({"B": [0.5, 0.2, 0.1], "p": [0.0004, 0.03, 0.6]}, index=["x1", "x2", "x3"])
    spec = table_spec(frame, lang="en", stars=True, note="Dependent variable: y.")
    assert [row[1].text for row in spec.rows] == ["0.500***", "0.200*", "0.100"]
    assert spec.note == "Dependent variable: y. *p < .05. ***p < .001."
    assert "**p" not in spec.note.replace("***p", "")  # only the levels used
    plain = table_spec(frame, lang="zh")
    assert [row[1].text for row in plain.rows] == ["0.500", "0.200", "0.100"] and plain.note == ""
    own = table_spec(pd.DataFrame({"t": [2.5], "p": [0.01], "stars": ["*"]}), note="* p < .05")
    assert own.rows[0][0].text == "2.500*" and own.note == "* p < .05"  # an explained note is not repeated


# ---- results in Chinese and English ---------------------------------------------------------------

def test_alpha_item_total_table_in_chinese_and_english(alpha):
    zh = render_table(alpha, "markdown", number=3)
    en = render_table(alpha, "markdown", lang="en", number=3)
    assert zh.startswith("**表3  项目总计统计**\n")
    assert en.startswith("**Table 3**\n\n*Item-Total Statistics*\n")
    for label in ("校正的项总计相关性", "删除项后的α", "删除项后的标度平均值", "题项"):
        assert label in zh
    for label in ("Corrected item-total correlation", "Cronbach's α if item deleted", "Item"):
        assert label in en
    shown = nz(round(alpha.alpha, 3))
    assert f"注：Cronbach's α = {shown}，" in zh and f"*Note.* Cronbach's α = {shown}," in en
    assert f"n = {alpha.n}" in en
    table = alpha.item_total
    first = table.index[0]
    row = next(line for line in zh.splitlines() if line.startswith(f"| {first} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == f"{table.iloc[0, 0]:.3f}"  # scale mean: unbounded, keeps its zero
    assert cells[3] == nz(table.loc[first, "Corrected Item-Total Correlation"])
    assert cells[5] == nz(table.loc[first, "Cronbach's Alpha if Item Deleted"])
    stats = table_spec(alpha, part="statistics", lang="en")
    assert stats.columns[:4] == ["Cronbach's α", "Standardized α", "95% CI LL", "95% CI UL"]
    assert stats.rows[0][0].text == nz(alpha.alpha) and stats.rows[0][5].text == str(alpha.k)


def test_efa_gives_the_suppressed_loadings_and_the_variance_table(efa):
    loadings, variance = table_specs(efa, lang="zh")
    assert loadings.title == "旋转后的成分矩阵" and variance.title == "总方差解释"
    assert loadings.header == ["题项", "成分1", "成分2", "共同度"]
    shown = {row[0].text: [c.text for c in row[1:]] for row in loadings.rows}
    for item, values in efa.loadings.iterrows():
        for j, value in enumerate(values):
            assert shown[item][j] == ("" if abs(value) < 0.4 else nz(value)), (item, j)
        assert shown[item][-1] == nz(efa.communalities.loc[item, "Extraction"])
    order = [row[0].text for row in loadings.rows]
    main = efa.loadings.abs().idxmax(axis=1)[order]
    assert list(main) == sorted(main)  # grouped by main factor (SPSS "sorted by size")
    assert "小于.40的载荷未显示" in loadings.note and "最大方差法" in loadings.note
    assert ("初始特征值", 1, 3) in variance.spanners and variance.header[1:4] == ["总计", "方差百分比", "累积%"]
    assert len(variance.rows) == max(efa.n_factors, efa.kaiser_n)
    assert variance.rows[0][1].text == f"{efa.eigenvalues.iloc[0]:.3f}"
    en = render_table(efa, "markdown", lang="en", number=4)
    assert "**Table 4**" in en and "**Table 5**" in en and "*Rotated Component Matrix*" in en
    assert "Component 1" in en and "h²" in en and "Initial eigenvalues Total" in en
    only = render_table(efa, "markdown", lang="en", part="variance", suppress=0.3)
    assert "Total Variance Explained" in only and "Rotated" not in only


def test_kmo_and_bartlett_together_as_spss_prints_them(items):
    kmo, bartlett = survey.kmo(items), survey.bartlett(items)
    spec = table_spec((bartlett, kmo), lang="zh")
    assert spec.title == "KMO和Bartlett检验"
    assert [[c.text for c in row] for row in spec.rows] == [
        ["KMO取样适切性量数", "", nz(kmo.overall)],
        ["Bartlett球形度检验", "近似卡方", f"{bartlett.chi2:.3f}"],
        ["", "自由度", str(bartlett.df)],
        ["", "显著性", format_p(bartlett.p)]]
    msa = table_spec(kmo, lang="en")
    assert msa.rows[-1][0].text == "Overall KMO" and msa.rows[-1][1].text == nz(kmo.overall)


def test_regression_coefficients_keep_beta_leading_zero_and_translate_rows(big5):
    fit = survey.ols(big5, "Neuroticism", ["Extraversion", "Openness"])
    zh = table_spec(fit, lang="zh")
    assert zh.rows[0][0].text == "常量" and zh.header[:4] == ["变量", "B", "标准误", "β"]
    assert ("非标准化系数", 1, 2) in zh.spanners and ("标准化系数", 3, 3) in zh.spanners
    beta = fit.coefficients.loc["Extraversion", "Beta"]
    row = next(r for r in zh.rows if r[0].text == "Extraversion")
    assert row[3].text == f"{beta:.3f}"  # beta can exceed 1 in size, so it keeps its zero (APA 6.36)
    assert row[5].text == format_p(fit.coefficients.loc["Extraversion", "p"])
    assert f"R² = {nz(fit.r2)}" in zh.note and f"F({fit.df[0]}, {fit.df[1]})" in zh.note
    en = render_table(fit, "markdown", lang="en", part=["coefficients", "model_summary"], number=1)
    assert "Regression Coefficients Predicting Neuroticism" in en and "*Model Summary*" in en
    assert "95% CI for B LL" in en and "(Constant)" in en


def test_correlation_matrix_has_stars_explained(big5):
    corr = survey.correlate(big5, ["Neuroticism", "Extraversion", "Openness"])
    text = render_table(corr, "markdown", lang="en", number=2)
    r, p = corr.r.loc["Extraversion", "Neuroticism"], corr.p.loc["Extraversion", "Neuroticism"]
    assert nz(r, 2) + stars(p) in text.replace("\\*", "*")
    assert "Means, Standard Deviations, and Correlations" in text
    spec = table_spec(corr, lang="zh")
    levels = sorted({len(stars(v)) for v in corr.p.to_numpy().ravel() if np.isfinite(v) and stars(v)})
    assert spec.note.endswith(star_note(levels, "zh")) and "Pearson相关系数" in spec.note
    pairs = table_spec(corr, part="pairs", lang="en")
    assert pairs.header == ["Variable 1", "Variable 2", "r", "p", "n"]
    first = corr.to_frame().iloc[0]
    assert pairs.rows[0][2].text == nz(first["r"]) + first["stars"]


def test_unknown_results_fall_back_to_to_frame_and_a_result_may_describe_itself():
    class Unknown:
        def to_frame(self):
            return pd.DataFrame({"estimate": [1.23456], "p": [0.0321]}, index=pd.Index(["x"], name="term"))

    spec = table_spec(Unknown(), lang="en")
    assert spec.header == ["term", "Estimate", "p"] and [c.text for c in spec.rows[0]] == ["x", "1.235", ".032"]

    class Described(Unknown):
        def table_spec(self, lang):
            return {"frame": self.to_frame(), "title": "自定义表" if lang == "zh" else "Own table",
                    "labels": {"estimate": "估计" if lang == "zh" else "Est."}, "decimals": {"estimate": 1}}

    own = table_spec(Described(), lang="zh")
    assert own.title == "自定义表" and own.header == ["term", "估计", "p"] and own.rows[0][1].text == "1.2"
    with pytest.raises(SurveyAnalysisError, match="cannot render"):
        table_spec(object())


def test_options_pick_columns_titles_captions_and_spanners(alpha, efa):
    spec = table_spec(alpha, lang="en", columns=["Cronbach's Alpha if Item Deleted"], title="Own")
    assert spec.header == ["Item", "Cronbach's α if item deleted"] and spec.title == "Own"
    two = table_specs(efa, lang="en", title=["Loadings", "Variance"], note=["n1", "n2"])
    assert [s.title for s in two] == ["Loadings", "Variance"] and [s.note for s in two] == ["n1", "n2"]
    with pytest.raises(SurveyAnalysisError, match="1 titles for 2 tables"):
        table_specs(efa, title=["only one"])
    inline = render_table(alpha, "markdown", lang="en", number=7, caption_style="inline")
    assert inline.startswith("**Table 7. Item-Total Statistics**")
    decked = pd.DataFrame([[1.5, 0.25, 2.5, 0.75]], index=pd.Index(["x"], name="term"),
                          columns=pd.MultiIndex.from_product([["Model 1", "Model 2"], ["B", "R2"]]))
    spec = table_spec(decked, lang="en")
    assert spec.spanners == [("Model 1", 1, 2), ("Model 2", 3, 4)]
    assert [c.text for c in spec.rows[0]] == ["x", "1.500", ".250", "2.500", ".750"]
    assert spec.columns[1:3] == ["Model 1 B", "Model 1 R²"]


# ---- HTML, Excel and Word ----------------------------------------------------------------------

def test_html_is_self_contained_escaped_and_three_line(efa):
    frame = pd.DataFrame({"group": ["<b>A</b> & B", "C"], "t": [2.5, 0.4], "p": [0.004, 0.7]})
    text = render_table(frame, "html", lang="en", title="Groups <1>", stars=True, number=1)
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text and 'charset="utf-8"' in text
    assert "&lt;b&gt;A&lt;/b&gt; &amp; B" in text and "<b>A</b>" not in text and "Groups &lt;1&gt;" in text
    assert "<strong>Table 1</strong><br><em>Groups &lt;1&gt;</em>" in text
    assert "border-top:1.5pt solid" in text and "border-bottom:1.5pt solid" in text
    assert "border-left:none" in text and not re.search(r"border-(left|right):\s*\d", text)
    assert '<td class="num">2.500**</td>' in text and "<em>Note.</em> **p &lt; .01." in text
    zh = render_table(efa, "html", lang="zh", number=1)
    assert "表1  旋转后的成分矩阵" in zh and "表2  总方差解释" in zh
    assert '<th colspan="3">初始特征值</th>' in zh and '<th rowspan="2">成分</th>' in zh


def test_markdown_escapes_table_syntax():
    text = render_table(pd.DataFrame({"label": ["a|b", "x_y *z*"]}), "markdown")
    assert "a\\|b" in text and "x\\_y \\*z\\*" in text


def test_xlsx_reads_back_with_values_number_formats_and_rules(tmp_path, alpha, efa):
    from openpyxl import load_workbook

    path = render_table(alpha, "xlsx", path=tmp_path / "alpha.xlsx", lang="en", number=1)
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "Table 1" and sheet["A1"].font.b
    assert sheet["A2"].value == "Item-Total Statistics" and sheet["A2"].font.i
    header, body = 3, 4
    assert [sheet.cell(row=header, column=j).value for j in (1, 4)] == ["Item", "Corrected item-total correlation"]
    last = header + len(alpha.item_total)
    for j in range(1, 7):
        assert sheet.cell(row=header, column=j).border.top.style == "medium"
        assert sheet.cell(row=header, column=j).border.bottom.style == "thin"
        assert sheet.cell(row=last, column=j).border.bottom.style == "medium"
        assert sheet.cell(row=body, column=j).border.bottom.style is None
    for row in sheet.iter_rows(min_row=1, max_row=last + 1):
        for cell in row:
            assert not (cell.border.left and cell.border.left.style)
            assert not (cell.border.right and cell.border.right.style)
    for i, (item, values) in enumerate(alpha.item_total.iterrows()):
        assert sheet.cell(row=body + i, column=1).value == item
        citc = sheet.cell(row=body + i, column=4)
        assert citc.value == pytest.approx(values["Corrected Item-Total Correlation"])
        assert citc.number_format == ".000"  # bounded: shown without the leading zero
        mean = sheet.cell(row=body + i, column=2)
        assert mean.value == pytest.approx(values["Scale Mean if Item Deleted"]) and mean.number_format == "0.000"
        assert mean.alignment.horizontal == "right"
    assert sheet.cell(row=last + 1, column=1).value.startswith(f"Note. Cronbach's α = {nz(alpha.alpha)}")

    two = load_workbook(render_table(efa, "xlsx", path=tmp_path / "efa.xlsx", number=5))
    assert two.sheetnames == ["表5", "表6"]
    variance = two["表6"]
    assert variance["A1"].value == "表6  总方差解释"
    assert "B2:D2" in {str(r) for r in variance.merged_cells.ranges} and variance["B2"].value == "初始特征值"
    assert variance["B2"].border.bottom.style == "thin" and variance["B3"].value == "总计"
    assert variance["B4"].value == pytest.approx(efa.eigenvalues.iloc[0])


def test_p_below_001_is_text_and_stars_stay_numeric_in_excel(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({"r": [0.5, -0.12], "p": [0.00001, 0.02]}, index=pd.Index(["a", "b"], name="pair"))
    sheet = load_workbook(render_table(frame, "xlsx", path=tmp_path / "t.xlsx", stars=True)).active
    assert sheet["A1"].value == "pair" and sheet["A2"].value == "a"  # no title: the header comes first
    assert sheet["C2"].value == "< .001" and sheet["C3"].value == pytest.approx(0.02)
    assert sheet["C3"].number_format == ".000"
    assert sheet["B2"].value == pytest.approx(0.5) and sheet["B2"].number_format == '.000"***"'
    assert sheet["B3"].value == pytest.approx(-0.12) and sheet["B3"].number_format == '.000"*"'
    assert sheet["A4"].value == "注：*p < .05，***p < .001。"


def test_docx_is_a_real_three_line_table(tmp_path, alpha):
    from docx import Document
    from docx.oxml.ns import qn

    path = render_table(alpha, "docx", path=tmp_path / "alpha.docx", lang="zh", number=2)
    document = Document(path)
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "表2  项目总计统计" and document.paragraphs[0].runs[0].bold
    assert texts[-1].startswith(f"注：Cronbach's α = {nz(alpha.alpha)}")
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells][:4] == ["题项", "删除项后的标度平均值", "删除项后的标度方差",
                                                          "校正的项总计相关性（CITC）"]
    for i, (item, values) in enumerate(alpha.item_total.iterrows(), start=1):
        cells = [c.text for c in table.rows[i].cells]
        assert cells[0] == item and cells[3] == nz(values["Corrected Item-Total Correlation"])
        assert cells[1] == f"{values['Scale Mean if Item Deleted']:.3f}"
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    edges = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
    assert edges["top"] == "single" and edges["bottom"] == "single"
    assert edges["left"] == edges["right"] == edges["insideV"] == edges["insideH"] == "nil"
    for tc in table._tbl.iter(qn("w:tc")):
        cell_borders = tc.find(qn("w:tcPr")).find(qn("w:tcBorders"))
        if cell_borders is not None:
            for side in ("left", "right", "start", "end", "insideV"):
                node = cell_borders.find(qn(f"w:{side}"))
                assert node is None or node.get(qn("w:val")) in ("nil", "none")
    for tc in table.rows[0]._tr.tc_lst:
        assert tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom")).get(qn("w:val")) == "single"
    assert table.rows[1]._tr.tc_lst[0].tcPr.find(qn("w:tcBorders")) is None
    fonts = table.rows[1].cells[3].paragraphs[0].runs[0]._element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "SimSun" and fonts.get(qn("w:ascii")) == "Times New Roman"


def test_docx_in_english_follows_apa_captions_and_spanners(tmp_path, efa):
    from docx import Document

    document = Document(render_table(efa, "docx", path=tmp_path / "efa.docx", lang="en", number=1))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:2] == ["Table 1", "Rotated Component Matrix"]
    assert "Table 2" in texts and "Total Variance Explained" in texts
    notes = [t for t in texts if t.startswith("Note.")]
    assert len(notes) == 2
    number = next(p for p in document.paragraphs if p.text == "Table 2")
    title = next(p for p in document.paragraphs if p.text == "Total Variance Explained")
    assert number.runs[0].bold and title.runs[0].italic and notes[1].startswith("Note. Extraction")
    variance = document.tables[1]
    assert variance.rows[0].cells[1].text == "Initial eigenvalues" and variance.rows[1].cells[1].text == "Total"
    assert variance.rows[0].cells[0].text == "Component"  # spans both header rows
    assert variance.rows[2].cells[1].text == f"{efa.eigenvalues.iloc[0]:.3f}"


# ---- files are safe ------------------------------------------------------------------------------

def test_existing_files_are_kept_and_failed_writes_leave_nothing(tmp_path, alpha, monkeypatch):
    import survey.tables as tables

    target = tmp_path / "t.xlsx"
    target.write_bytes(b"keep me")
    with pytest.raises(SurveyAnalysisError, match="exists"):
        render_table(alpha, "xlsx", path=target)
    assert target.read_bytes() == b"keep me"
    render_table(alpha, "xlsx", path=target, overwrite=True)
    assert target.read_bytes()[:2] == b"PK"

    def broken(specs, path, **kwargs):
        path.write_bytes(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(tables, "_write_docx", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        render_table(alpha, "docx", path=tmp_path / "t.docx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]

    with pytest.raises(SurveyAnalysisError, match="no such folder"):
        render_table(alpha, "xlsx", path=tmp_path / "nope" / "t.xlsx")
    with pytest.raises(SurveyAnalysisError, match=r"must end in \.docx"):
        render_table(alpha, "docx", path=tmp_path / "t.doc")
    with pytest.raises(SurveyAnalysisError, match="give path"):
        render_table(alpha, "xlsx")
    md = render_table(alpha, "markdown", path=tmp_path / "t.md")
    assert (tmp_path / "t.md").read_text(encoding="utf-8") == md
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md", "t.xlsx"]


def test_bad_options_are_named(alpha):
    with pytest.raises(SurveyAnalysisError, match="fmt"):
        render_table(alpha, "pdf")
    with pytest.raises(SurveyAnalysisError, match="lang"):
        render_table(alpha, lang="fr")
    with pytest.raises(SurveyAnalysisError, match="decimals"):
        render_table(alpha, decimals=-1)
    with pytest.raises(SurveyAnalysisError, match="number"):
        render_table(alpha, number=0)
    with pytest.raises(SurveyAnalysisError, match=r"no table 'loadings'.*item_total"):
        render_table(alpha, part="loadings")
    with pytest.raises(SurveyAnalysisError, match="no columns"):
        render_table(pd.DataFrame(index=["a"]), "markdown")
    with pytest.raises(SurveyAnalysisError, match=r"columns \['nope'\]"):
        render_table(pd.DataFrame({"a": [1]}), columns=["nope"])
