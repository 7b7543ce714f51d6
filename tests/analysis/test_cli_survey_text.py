"""`onenet survey describe` on text columns: a GBK .sav's city names, a CSV's 性别 in words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()
GBK_SAV = Path("/work/shared/reference/spss/satisfaction_gbk.sav")


def test_describe_tabulates_the_city_text_column_of_a_gbk_sav():
    result = runner.invoke(app, ["survey", "describe", str(GBK_SAV)])
    assert result.exit_code == 0, result.output
    assert "城市" in result.output
    for city in ("北京", "上海", "广州", "深圳"):
        assert city in result.output
    by_label = runner.invoke(app, ["survey", "describe", str(GBK_SAV), "--vars", "城市"])
    assert by_label.exit_code == 0, by_label.output
    assert "北京" in by_label.output


def test_describe_vars_accepts_a_text_column(tmp_path):
    path = tmp_path / "answers.csv"
    pd.DataFrame({"性别": ["男", "女", "女", "男", "女"], "满意度": [4, 5, 3, 4, 2]}).to_csv(path, index=False)
    result = runner.invoke(app, ["survey", "describe", str(path), "--vars", "性别,满意度"])
    assert result.exit_code == 0, result.output
    assert "男" in result.output and "女" in result.output
    assert "60.0" in result.output  # 女: 3 of 5
    assert "skewness" in result.output  # 满意度 still gets descriptives


def test_free_text_with_many_answers_is_named_not_dropped_silently(tmp_path):
    path = tmp_path / "open.csv"
    pd.DataFrame({"comment": [f"answer {i}" for i in range(40)], "q1": [1, 2, 3, 4, 5] * 8}).to_csv(path, index=False)
    result = runner.invoke(app, ["survey", "describe", str(path)])
    assert result.exit_code == 0, result.output
    assert "comment" in result.output and "free text with 40 different answers" in result.output
