"""Personal data found by header and by content, removed before anything is written or shown.

Outside sources: the two worked examples of GB 11643-1999 (公民身份号码), Appendix: 11010519491231002X
and 440524188001010014; the mainland numbering plan (mobile 1[3-9]x + 8 digits, area codes 010,
02x, 0[3-9]xx); the real 问卷星 exports in ../shared/reference/wenjuanxing (reportgen, MIT), whose
questions 手机部数 / 手机价格 ask about phones, not for a phone number.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import survey
from survey.codebook import Codebook, SurveyData, Variable
from survey.errors import SurveyAnalysisError
from survey.io.readers import PersonalDataWarning, SurveyReadError, read
from survey.io.wenjuanxing import UninterpretedColumnsWarning
from survey.privacy import (
    column_kind,
    find_personal_columns,
    header_kind,
    protect,
    redact_text,
    valid_resident_id,
    value_kind,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "wenjuanxing"
N = 40
PHONES = [f"13{i % 7 + 3}{i:08d}" for i in range(N)]  # distinct carriers 133..139
# anything that looks like a phone, ID, e-mail or IP: nothing of the sort may survive
LEAK = re.compile(
    r"1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}|\d{17}[\dX]|@|\d+\.\d+\.\d+\.\d+|0\d{2,3}-\d{7,8}|240e"
)


def _leaks(frame: pd.DataFrame) -> list[str]:
    cells = [str(v) for v in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
    return [c for c in cells if LEAK.search(c)]


# ----------------------------------------------------------------------------- values


def test_resident_id_check_character_of_gb_11643():
    assert valid_resident_id("11010519491231002X")  # the standard's worked examples
    assert valid_resident_id("440524188001010014")
    assert valid_resident_id("11010519491231002x")
    assert not valid_resident_id("110105194912310021")  # wrong check character
    assert not valid_resident_id("110105194913310020")  # month 13
    assert valid_resident_id("110105491231002")  # first-generation, 15 digits (YYMMDD)
    assert value_kind("110105194912310021") is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("13812345678", "phone"),
        (13812345678, "phone"),
        (13812345678.0, "phone"),
        ("+86 138 1234 5678", "phone"),
        ("+86-138-1234-5678", "phone"),
        ("010-62751234", "phone"),
        ("0571 87654321", "phone"),
        ("(021)55556666", "phone"),
        ("11010519491231002X", "id_number"),
        ("zhang.san@example.com.cn", "email"),
        ("112.96.33.41(广东-广州)", "ip"),
        ("240e:3b0::1", "ip"),
        # never personal: codes, ages, incomes, years, durations, ids, dates, times, scores
        (5, None),
        (35, None),
        (12000, None),
        (2024, None),
        ("2024-05-01", None),
        ("12:30:45", None),
        (800, None),
        (4.5, None),
        ("12812345678", None),  # no mobile prefix 12x
        ("1.2", None),
        ("3.14.15", None),
    ],
)
def test_value_kinds(value, kind):
    assert value_kind(value) == kind


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("12、联系电话（选填）", "phone"),
        ("手机号", "phone"),
        ("请留下您的手机：", "phone"),
        ("电话", "phone"),
        ("联系方式", "phone"),
        ("您的姓名", "name"),
        ("怎么称呼您？", "name"),
        ("名字", "name"),
        ("身份证号码", "id_number"),
        ("证件号", "id_number"),
        ("家庭住址", "address"),
        ("地址", "address"),
        ("电子邮箱", "email"),
        ("Email", "email"),
        ("微信号", "wechat_qq"),
        ("QQ", "wechat_qq"),
        ("来自IP", "ip"),
        # questions *about* phones, WeChat or names are ordinary questions
        ("1、手机部数", None),
        ("2、手机价格", None),
        ("您使用微信办理政务的频率", None),
        ("您最常用的政务APP名字", None),
        ("所在地区", None),
        ("序号", None),
        ("所用时间", None),
        ("年龄", None),
    ],
)
def test_header_kinds(header, kind):
    assert header_kind(header) == kind


def test_redaction_keeps_the_rest_of_the_answer():
    text = ("办事方便。有问题打 139-1234-5678 或 0571-87654321，邮件 li.si@gov.cn，"
            "证件 11010519491231002X，我的IP是 10.1.2.3。")
    redacted, counts = redact_text(text)
    assert redacted == ("办事方便。有问题打 [电话已删除] 或 [电话已删除]，邮件 [邮箱已删除]，"
                        "证件 [证件号已删除]，我的IP是 [IP已删除]。")
    assert dict(counts) == {"phone": 2, "email": 1, "id_number": 1, "ip": 1}
    assert redact_text(redacted) == (redacted, {})  # tokens are not matched again
    plain = "等了 30 分钟，2024年5月1日上午10:30办完，满意度 4.5 分，编号 800。"
    assert redact_text(plain)[0] == plain


def test_no_false_positives_on_ordinary_survey_columns():
    rng = np.random.default_rng(7)
    n = 800
    frame = pd.DataFrame({
        "序号": np.arange(1, n + 1),
        "q1": rng.integers(1, 6, n),
        "age": rng.integers(18, 90, n),
        "income": rng.integers(1500, 200_000, n),
        "duration_seconds": rng.uniform(30, 3600, n).round(),
        "year": rng.integers(1950, 2024, n),
        "postcode": rng.integers(100000, 999999, n),
        "score": rng.normal(3, 1, n),
        "submitted_at": pd.date_range("2024-05-01", periods=n, freq="min"),
        "respondent_code": [f"R{i:05d}" for i in range(n)],
        "1、手机部数": rng.integers(0, 4, n),
        "联系方式偏好": rng.integers(1, 4, n),  # a choice question coded 1..3
        # SPSS seconds since 1582 for May 2024 look like 13xxxxxxxxx mobile numbers
        "spss_date": 13_911_000_000.0 + 86_400 * rng.integers(0, 30, n),
    })
    assert find_personal_columns(frame) == []
    out, report = protect(frame)
    assert report.empty
    pd.testing.assert_frame_equal(out, frame)


def test_content_detection_needs_most_answers():
    assert column_kind(pd.Series(PHONES)) == "phone"
    assert column_kind(pd.Series([int(p) for p in PHONES])) == "phone"
    mixed = pd.Series(["13812345678"] + ["无"] * 9)
    assert column_kind(mixed) is None  # one phone among answers: redacted, not the column


# ----------------------------------------------------------------------------- files


def _wenjuanxing_export() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    suggestions = []
    for i in range(N):
        if i % 5 == 0:
            suggestions.append(f"希望网上能办更多事，回访请打{PHONES[i]}")
        elif i % 5 == 1:
            suggestions.append(f"发到 user{i}@example.com 即可")
        elif i % 5 == 2:
            suggestions.append("无")
        else:
            suggestions.append(f"窗口态度很好，第{i}号窗口")
    return pd.DataFrame({
        "序号": range(1, N + 1),
        "提交答卷时间": ["2024/5/1 10:00:00"] * N,
        "所用时间": [f"{s}秒" for s in rng.integers(60, 600, N)],
        "来源": ["手机提交"] * N,
        "来源详情": ["直接访问"] * N,
        "来自IP": [f"112.96.{i}.41(广东-广州)" for i in range(N)],
        "1、您的性别": rng.choice(["男", "女"], N),
        "2、手机价格": rng.choice(["1000元以下", "1000-2999元", "3000元以上"], N),
        "3、办事满意度": rng.choice(["非常不满意", "不满意", "一般", "满意", "非常满意"], N),
        "手机号": PHONES,
        "11、您的姓名（选填）": [f"张{i}" for i in range(N)],
        "12、联系电话（选填）": [int(p) for p in PHONES],
        "13、您对政务服务的建议": suggestions,
        "14、身份证号": ["11010519491231002X"] * N,
    })


def _read_all(path: Path, **options):  # noqa: ANN202 - (SurveyData, warnings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = read(path, **options)
    return result, caught


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_wenjuanxing_export_with_personal_questions(tmp_path, suffix):
    path = tmp_path / f"wjx{suffix}"
    frame = _wenjuanxing_export()
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_excel(path, index=False)
    result, caught = _read_all(path)
    assert list(result.data.columns) == ["seq", "submitted_at", "duration_seconds", "source",
                                         "source_detail", "Q1", "Q2", "Q3", "Q13"]
    assert _leaks(result.data) == []
    assert not LEAK.search(repr(result.codebook.variables))
    report = result.privacy.set_index(["variable", "personal_data"])
    assert report.loc[("Q12", "phone"), ["found_by", "action", "cells"]].tolist() == ["header", "dropped", N]
    assert report.loc[("Q11", "name"), "action"] == "dropped"
    assert report.loc[("Q14", "id_number"), "action"] == "dropped"
    assert report.loc[("ip", "ip"), "cells"] == N
    assert report.loc[("Q13", "phone"), ["action", "cells"]].tolist() == ["redacted", N // 5]
    assert report.loc[("Q13", "email"), "cells"] == N // 5
    assert result.data["Q13"].iloc[0] == "希望网上能办更多事，回访请打[电话已删除]"
    assert result.data["Q13"].iloc[3] == "窗口态度很好，第3号窗口"
    messages = [str(w.message) for w in caught]
    assert not any(isinstance(w.message, UninterpretedColumnsWarning) and "手机号" in str(w.message)
                   for w in caught)  # not "kept" and then "dropped"
    (note,) = [str(w.message) for w in caught if isinstance(w.message, PersonalDataWarning)]
    for column in ("ip", "手机号", "Q11", "Q12", "Q13", "Q14"):
        assert note.count(f"{column}: ") == 1  # one note per column
    assert all(not LEAK.search(m) for m in messages) and "张1" not in note


def test_hashing_needs_the_callers_salt(tmp_path):
    path = tmp_path / "wjx.csv"
    _wenjuanxing_export().to_csv(path, index=False)
    with pytest.raises(SurveyReadError, match="salt"):
        read(path, personal="hash")
    result, _ = _read_all(path, personal="hash", salt="机构的秘密")
    expected = hashlib.sha256("机构的秘密".encode() + PHONES[0].encode()).hexdigest()
    assert result.data["Q12"].iloc[0] == expected
    assert result.data["手机号"].iloc[0] == expected  # the same person links across columns
    assert set(result.privacy.loc[result.privacy["action"] != "redacted", "action"]) == {"hashed"}
    assert "机构的秘密" not in repr(result.codebook.variables) + result.privacy.to_string()
    assert _leaks(result.data.drop(columns=["Q12", "手机号", "Q11", "Q14", "ip"])) == []


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"reference 问卷星 exports not found at {REFERENCE}")
@pytest.mark.parametrize("name", ["wjx_export_by_text.xls", "wjx_export_by_number.xls"])
def test_real_exports_lose_only_their_ip_column(name):
    result, _ = _read_all(REFERENCE / name)
    assert result.privacy[["variable", "personal_data", "action"]].values.tolist() == [["ip", "ip", "dropped"]]
    assert {"Q1", "Q2"} <= set(result.data.columns)  # 手机部数, 手机价格 are kept


# ----------------------------------------------------------------------------- cleaning


def _people() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "id": range(1, N + 1),
        "q1": rng.integers(1, 6, N), "q2": rng.integers(1, 6, N), "q3": rng.integers(1, 6, N),
        "seconds": rng.uniform(100, 900, N),
        "contact": PHONES,
        "other": [f"邮件 a{i}@qq.com" if i % 2 else "无" for i in range(N)],
    })


def test_clean_removes_and_counts_personal_data_without_showing_it():
    frame = _people()
    cleaned, report = survey.clean(frame, id="id", items=["q1", "q2", "q3"], straightline=None)
    assert "contact" not in cleaned.data
    assert cleaned.data["other"].iloc[1] == "邮件 [邮箱已删除]"
    assert report.personal[["variable", "personal_data", "action", "cells"]].values.tolist() == [
        ["contact", "phone", "dropped", N], ["other", "email", "redacted", N // 2]]
    text = report.summary() + report.changes.to_string() + report.personal.to_string()
    assert not LEAK.search(text)
    assert "contact: phone numbers (found in its answers); column dropped" in report.summary()
    assert "contact" in frame  # the input is not modified


def test_clean_refuses_a_personal_id_column():
    with pytest.raises(SurveyAnalysisError, match=r"id column 'contact' holds personal data \(phone"):
        survey.clean(_people(), id="contact")


def test_clean_keeps_what_reading_removed_in_its_report(tmp_path):
    path = tmp_path / "wjx.csv"
    _wenjuanxing_export().to_csv(path, index=False)
    loaded, _ = _read_all(path)
    _, report = survey.clean(loaded, id="seq", straightline=None)
    assert set(report.personal["variable"]) == {"ip", "手机号", "Q11", "Q12", "Q13", "Q14"}


def test_cli_clean_writes_no_personal_data(tmp_path):
    from analysis.cli import app

    path = tmp_path / "wjx.csv"
    _wenjuanxing_export().to_csv(path, index=False)
    out = tmp_path / "clean.csv"
    result = CliRunner().invoke(app, ["survey", "clean", str(path), "--out", str(out), "--id", "seq",
                                      "--straightline", "0"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert "Q12" not in written and _leaks(written) == []
    log = pd.read_csv(tmp_path / "clean_cleaning_report.csv")
    assert _leaks(log) == [] and not LEAK.search(result.output)
    assert (log["kind"] == "personal data").sum() == 7


@pytest.mark.parametrize("values", [[np.nan] * 4, [None] * 4])
def test_speeder_rule_on_an_empty_duration_column_is_an_error(values):
    frame = pd.DataFrame({"q1": [1, 2, 3, 4], "dur": values})
    with pytest.raises(SurveyAnalysisError, match=r"duration column 'dur' is empty"):
        survey.clean(frame, duration="dur", min_seconds=60)


def test_speeder_rule_on_text_durations_is_an_error():
    frame = pd.DataFrame({"q1": [1, 2, 3, 4], "dur": ["2分", "3分", "1分", "5分"]})
    with pytest.raises(SurveyAnalysisError, match=r"'dur' has 4 cells that are not numbers"):
        survey.clean(frame, duration="dur", speed_fraction=0.3)


def test_clean_of_no_respondents_says_so():
    with pytest.raises(SurveyAnalysisError, match="no respondents"):
        survey.clean(pd.DataFrame({"q1": [], "q2": []}))


def test_codebook_marked_column_reported_with_its_kind():
    book = Codebook()
    book.add(Variable("who", personal=True))
    data = SurveyData(pd.DataFrame({"who": ["a@b.cn", "c@d.cn"], "q": [1, 2]}), book)
    _, report = protect(data.data, data.codebook)
    assert report[["variable", "personal_data", "found_by"]].values.tolist() == [["who", "email", "codebook"]]
    assert "who" not in data.codebook.variables  # dropped from the codebook as well


def test_answers_coded_as_options_are_redacted_in_the_value_labels(tmp_path):
    """A by-text export codes a free-text question whose answers repeat ("无"): the answers
    become value labels, and a phone number among them must not survive there."""
    frame = _wenjuanxing_export().drop(columns=["13、您对政务服务的建议"])
    frame["13、其他意见"] = ["无"] * (N - 2) + ["打13912345678", "打13912345678"]
    path = tmp_path / "wjx.csv"
    frame.to_csv(path, index=False)
    result, _ = _read_all(path)
    labels = result.codebook["Q13"].value_labels
    assert sorted(labels.values()) == ["打[电话已删除]", "无"]
    row = result.privacy[result.privacy["variable"] == "Q13"]
    assert row[["personal_data", "action", "cells"]].values.tolist() == [["phone", "redacted", 2]]
