"""Readers that refuse to guess: merged (multi-row) Excel headers are flattened with a note,
unnamed columns and repeated names are errors, a header without rows has no respondents.

Files are generated here with openpyxl / pandas; the expected names follow from the cells written.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import survey
from survey.errors import SurveyAnalysisError
from survey.io.readers import HeaderWarning, SurveyReadError, read

N = 41


def _merged_workbook(path: Path) -> None:
    """序号 | 满意度 (over 服务, 效率, 环境) | 年龄 — the question cells merged over two rows."""
    rng = np.random.default_rng(2)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["E1"] = "序号", "满意度", "年龄"
    sheet["B2"], sheet["C2"], sheet["D2"] = "服务", "效率", "环境"
    for cells in ("A1:A2", "B1:D1", "E1:E2"):
        sheet.merge_cells(cells)
    for row in range(N):
        sheet.append([row + 1, *rng.integers(1, 6, 3).tolist(), int(rng.integers(18, 80))])
    book.save(path)


def test_merged_two_row_excel_header_is_flattened_with_a_note(tmp_path):
    path = tmp_path / "merged.xlsx"
    _merged_workbook(path)
    with pytest.warns(HeaderWarning, match=r"2 rows.*'满意度 / 服务'.*start at row 3"):
        result = read(path)
    assert list(result.data.columns) == ["序号", "满意度 / 服务", "满意度 / 效率", "满意度 / 环境", "年龄"]
    assert result.n == N  # not N + 1: the sub-item row is header, not a respondent
    assert result.data["序号"].tolist() == list(range(1, N + 1))
    assert pd.api.types.is_integer_dtype(result.data["满意度 / 服务"])


def test_one_row_excel_header_gives_no_note(tmp_path):
    path = tmp_path / "plain.xlsx"
    pd.DataFrame({"q1": [1, 2], "q2": [3, 4]}).to_excel(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = read(path)
    assert list(result.data.columns) == ["q1", "q2"] and result.n == 2


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_unmerged_two_row_header_is_refused(tmp_path, suffix):
    rows = [["序号", "满意度", None, None], [None, "服务", "效率", "环境"], [1, 4, 5, 3], [2, 3, 3, 2]]
    path = tmp_path / f"two_rows{suffix}"
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_excel(path, index=False)
    with pytest.raises(SurveyReadError, match=r"columns C \(column 3\), D \(column 4\) hold answers "
                                              r"but have no header"):
        read(path)


def test_empty_unnamed_columns_are_left_out(tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("q1,q2,\n1,2,\n3,4,\n", encoding="utf-8")
    assert list(read(path).data.columns) == ["q1", "q2"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_duplicate_column_names_are_an_error_naming_them(tmp_path, suffix):
    path = tmp_path / f"dup{suffix}"
    if suffix == ".csv":
        path.write_text("id,q1,q2,q1\n1,2,3,4\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        book.active.append(["id", "q1", "q2", "q1 "])
        book.active.append([1, 2, 3, 4])
        book.save(path)
    with pytest.raises(SurveyReadError, match=r"more than once: 'q1' in columns B, D"):
        read(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_header_without_rows_has_no_respondents(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    frame = pd.DataFrame(columns=["q1", "q2", "q3"])
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_excel(path, index=False)
    with pytest.raises(SurveyReadError, match="no respondents: the header names 3 columns"):
        read(path)


def test_reliability_of_a_header_only_file_says_no_respondents(tmp_path):
    from analysis.cli import app

    path = tmp_path / "empty.csv"
    path.write_text("q1,q2,q3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["survey", "reliability", str(path), "--items", "q1,q2,q3"])
    assert result.exit_code == 2
    assert "no respondents" in result.output and "constant" not in result.output


def test_analyses_of_no_respondents_say_so():
    empty = pd.DataFrame({"q1": [], "q2": [], "q3": []}, dtype=float)
    with pytest.raises(SurveyAnalysisError, match="no respondents"):
        survey.cronbach_alpha(empty, ["q1", "q2", "q3"])
    with pytest.raises(SurveyAnalysisError, match="no respondents"):
        survey.describe(empty, ["q1", "q2"])
