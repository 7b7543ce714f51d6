"""Thesis tables: APA number rules, labels in Chinese and English, and files that read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.tables import format_number, format_p, stars, table_spec


def test_apa_number_rules():
    """APA 7 (6.36): no leading zero for values that cannot exceed 1 (p, r, alpha); exact p to
    three decimals, p < .001 for smaller ones."""
    assert format_p(0.0321) == ".032"
    assert format_p(0.00004) == "< .001"
    assert format_p(1.0) == "1.000"
    assert format_number(0.8734, 2, leading_zero=False) == ".87"
    assert format_number(-0.4321, 3, leading_zero=False) == "-.432"
    assert format_number(12.3456, 2) == "12.35"
    assert format_number(-0.0001, 3) == "0.000"  # no negative zero
    assert format_number(np.nan) == ""
    assert [stars(p) for p in (0.2, 0.04, 0.009, 0.0004)] == ["", "*", "**", "***"]


@pytest.fixture(scope="module")
def alpha():
    data = survey.load_example()
    return survey.cronbach_alpha(data.data, data.codebook.scales["online"])


def test_alpha_table_in_both_languages(alpha):
    zh = survey.render_table(alpha, "markdown", number=3)
    en = survey.render_table(alpha, "markdown", lang="en", number=3)
    assert zh.startswith("**表3  项目总计统计**") and "修正后的项与总计相关性" in zh and "注：" in zh
    assert en.startswith("**Table 3. Item-total statistics**") and "Note." in en
    shown = format_number(round(alpha.alpha, 3), 3, leading_zero=False)
    assert f"α = {shown}" in zh and f"α = {shown}" in en
    corrected = alpha.item_total["Corrected Item-Total Correlation"].iloc[0]
    assert format_number(corrected, 3, leading_zero=False) in zh


def test_html_is_escaped_and_three_line(alpha):
    frame = pd.DataFrame({"group": ["<b>A</b>", "B"], "p": [0.01, 0.2], "stars": ["*", ""]})
    text = survey.render_table(frame, "html", lang="en", title="T")
    assert "&lt;b&gt;A&lt;/b&gt;" in text and "<b>A</b>" not in text
    assert "border-top:2px solid" in text and "border-bottom:1px solid" in text
    assert "* p &lt; .05" in text  # stars explained in the note


def test_xlsx_reads_back_with_values_and_rules(tmp_path, alpha):
    from openpyxl import load_workbook

    path = survey.render_table(alpha, "xlsx", path=tmp_path / "t.xlsx", number=1)
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "表1  项目总计统计"
    assert sheet["B2"].value == "删除项后的标度平均值"
    assert sheet["B2"].border.top.style == "medium" and sheet["B2"].border.bottom.style == "thin"
    last = 2 + len(alpha.item_total)
    assert sheet.cell(row=last, column=2).border.bottom.style == "medium"
    assert sheet["A3"].value == "OL1"
    assert float(sheet["B3"].value) == pytest.approx(alpha.item_total.iloc[0, 0], abs=5e-4)
    with pytest.raises(SurveyAnalysisError, match="exists"):
        survey.render_table(alpha, "xlsx", path=path)


def test_docx_has_a_real_three_line_table(tmp_path, alpha):
    from docx import Document
    from docx.oxml.ns import qn

    path = survey.render_table(alpha, "docx", path=tmp_path / "t.docx", lang="en", number=2)
    document = Document(path)
    assert document.paragraphs[0].text == "Table 2. Item-total statistics"
    assert document.paragraphs[-1].text.startswith("Note. Cronbach's α")
    table = document.tables[0]
    assert table.rows[0].cells[4].text == "Squared multiple correlation"
    assert table.rows[1].cells[0].text == "OL1"
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    values = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
    assert values["top"] == "single" and values["bottom"] == "single"
    assert values["insideV"] == "nil" and values["left"] == "nil" and values["right"] == "nil"
    head = table.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom"))
    assert head.get(qn("w:val")) == "single"


def test_failed_writes_leave_nothing(tmp_path):
    with pytest.raises(SurveyAnalysisError, match="no such folder"):
        survey.render_table(pd.DataFrame({"a": [1]}), "xlsx", path=tmp_path / "nope" / "t.xlsx")
    with pytest.raises(SurveyAnalysisError, match="fmt"):
        survey.render_table(pd.DataFrame({"a": [1]}), "pdf")
    with pytest.raises(SurveyAnalysisError, match="cannot render"):
        table_spec(object())
    assert list(tmp_path.iterdir()) == []
