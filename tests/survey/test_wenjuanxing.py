"""问卷星 exports: the real "按选项文本" and "按选项序号" downloads of one 800-respondent survey
(../shared/reference/wenjuanxing, example data of the reportgen project, MIT), checked against their
raw cells read here with xlrd, and small exports generated here for what the sample lacks (matrix
questions, skipped answers, durations, IP addresses).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.codebook import Codebook, Variable
from survey.io.readers import IP_PATTERN, PersonalDataWarning, SurveyReadError, looks_like_ip, read
from survey.io.wenjuanxing import (
    InferredCodesWarning,
    UninterpretedColumnsWarning,
    infer_codes,
    is_wenjuanxing,
    merge_orders,
    parse_duration,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "wenjuanxing"
BY_TEXT = REFERENCE / "wjx_export_by_text.xls"
BY_NUMBER = REFERENCE / "wjx_export_by_number.xls"
needs_exports = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"reference 问卷星 exports not found at {REFERENCE} (../shared/reference beside the repository)",
)
SINGLE_CHOICE = ["Q1", "Q2", "Q3", "Q4", "Q5", "Q7"]


def _quiet_read(path: Path, **options: object):  # noqa: ANN202 - SurveyData
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read(path, **options)


def _raw(path: Path) -> pd.DataFrame:
    """The export's cells as xlrd sees them, headers untouched (independent of survey.read)."""
    import xlrd

    sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    headers = [str(v) for v in sheet.row_values(0)]
    return pd.DataFrame([sheet.row_values(r) for r in range(1, sheet.nrows)], columns=headers)


@pytest.fixture(scope="module")
def by_text():  # noqa: ANN201
    if not REFERENCE.is_dir():
        pytest.skip(f"reference 问卷星 exports not found at {REFERENCE}")
    return _quiet_read(BY_TEXT)


@pytest.fixture(scope="module")
def by_number():  # noqa: ANN201
    if not REFERENCE.is_dir():
        pytest.skip(f"reference 问卷星 exports not found at {REFERENCE}")
    return _quiet_read(BY_NUMBER)


@pytest.fixture(scope="module")
def paired():  # noqa: ANN201
    if not REFERENCE.is_dir():
        pytest.skip(f"reference 问卷星 exports not found at {REFERENCE}")
    return _quiet_read(BY_TEXT, pair=BY_NUMBER)


# ----------------------------------------------------------------------------- the real exports


@needs_exports
def test_both_exports_hold_800_respondents(by_text, by_number) -> None:  # noqa: ANN001
    assert by_text.n == 800 and by_number.n == 800
    assert by_text.data["seq"].tolist() == list(range(1, 801))
    assert is_wenjuanxing(_raw(BY_TEXT).columns) and is_wenjuanxing(_raw(BY_NUMBER).columns)


@needs_exports
def test_metadata_columns_renamed_and_ip_dropped(by_text) -> None:  # noqa: ANN001
    columns = list(by_text.data.columns)
    assert columns[:5] == ["seq", "submitted_at", "duration_seconds", "source", "source_detail"]
    assert "ip" not in columns and "ip" not in by_text.codebook.variables
    assert by_text.codebook["duration_seconds"].label == "所用时间"
    with pytest.warns(PersonalDataWarning, match="'ip'"):
        read(BY_NUMBER)


@needs_exports
def test_titles_parsed_from_headers_with_stray_spaces(by_text) -> None:  # noqa: ANN001
    raw_headers = list(_raw(BY_TEXT).columns)
    assert "3、性别 " in raw_headers  # the export's trailing space
    labels = {name: by_text.codebook[name].label for name in SINGLE_CHOICE}
    assert labels == {
        "Q1": "手机部数",
        "Q2": "手机价格",
        "Q3": "性别",
        "Q4": "年龄",
        "Q5": "月收入",
        "Q7": "爱好投入占收入比重",
    }
    assert by_text.codebook["Q3"].question == 3
    assert by_text.codebook.mr_sets["Q6"].label == "兴趣爱好"


def _option(label: str) -> str:
    return label.split("：", 1)[-1]


@needs_exports
@pytest.mark.parametrize("question", [6, 8])
def test_multiple_choice_sets_agree_between_exports(by_text, by_number, question: int) -> None:  # noqa: ANN001
    text_set = by_text.codebook.mr_sets[f"Q{question}"]
    number_set = by_number.codebook.mr_sets[f"Q{question}"]
    raw_number = _raw(BY_NUMBER)
    headers = [h for h in raw_number.columns if h.startswith(f"第{question}题(")]
    # the by-number export names its options in questionnaire order: 第6题(运动), 第6题(阅读), ...
    options = [re.match(r"第\d+题\((.*)\)$", h).group(1) for h in headers]
    assert [_option(by_number.codebook[c].label) for c in number_set.variables] == options
    # the by-text export keeps the order in which 问卷星 joins chosen options with ┋
    assert [_option(by_text.codebook[c].label) for c in text_set.variables] == options
    for text_column, number_column, header in zip(
        text_set.variables, number_set.variables, headers, strict=True
    ):
        assert by_text.data[text_column].tolist() == by_number.data[number_column].tolist()
        assert by_number.data[number_column].tolist() == raw_number[header].astype(float).tolist()


@needs_exports
def test_multiple_choice_counts_match_the_raw_text_cells(by_text) -> None:  # noqa: ANN001
    cells = _raw(BY_TEXT)["6、兴趣爱好"]
    chosen = cells.str.split("┋").explode().str.replace(r"〖.*〗", "", regex=True)
    counts = chosen.value_counts()
    for column in by_text.codebook.mr_sets["Q6"].variables:
        option = _option(by_text.codebook[column].label)
        assert by_text.data[column].sum() == counts[option]


@needs_exports
def test_single_choice_codes_agree_between_exports(by_text, by_number) -> None:  # noqa: ANN001
    raw_number = _raw(BY_NUMBER)
    for name, header in zip(
        SINGLE_CHOICE, [h for h in raw_number.columns if re.match(r"^[123457]、", h)], strict=True
    ):
        number_codes = by_number.data[name]
        assert number_codes.tolist() == raw_number[header].astype(float).tolist()
        # each option text of the by-text export is exactly one code of the by-number export
        pairs = pd.crosstab(by_text.data[name], number_codes)
        assert ((pairs > 0).sum(axis=1) == 1).all() and ((pairs > 0).sum(axis=0) == 1).all()


@needs_exports
def test_paired_exports_give_platform_codes_with_option_labels(paired, by_number) -> None:  # noqa: ANN001
    raw_text = _raw(BY_TEXT)
    text_headers = [h for h in raw_text.columns if re.match(r"^[123457]、", h)]
    for name, header in zip(SINGLE_CHOICE, text_headers, strict=True):
        assert paired.data[name].tolist() == by_number.data[name].tolist()
        labels = paired.data[name].map(lambda v, n=name: paired.codebook.value_label(n, v))
        assert labels.tolist() == raw_text[header].str.replace(r"〖.*〗", "", regex=True).tolist()
    # 年龄: nobody chose the first option, so the bands start at code 2 in the platform's numbering
    assert paired.codebook["Q4"].value_labels[2] == "16~19岁"
    assert paired.codebook["Q3"].value_labels == {1: "男", 2: "女"}
    assert paired.codebook.mr_sets["Q6"].label == "兴趣爱好"
    assert paired.codebook[paired.codebook.mr_sets["Q6"].variables[0]].label == "兴趣爱好：运动"


@needs_exports
def test_pair_order_does_not_matter(paired) -> None:  # noqa: ANN001
    reverse = _quiet_read(BY_NUMBER, pair=BY_TEXT)
    pd.testing.assert_frame_equal(reverse.data, paired.data)
    assert reverse.codebook.variables == paired.codebook.variables


@needs_exports
def test_other_option_text_goes_to_its_own_column(by_text, paired) -> None:  # noqa: ANN001
    raw_text = _raw(BY_TEXT)
    written = raw_text["2、手机价格"].str.extract(r"〖(.*)〗")[0]
    assert sorted(written.dropna()) == ["亲友赠送的", "我妈买的。"]
    for result in (by_text, paired):
        assert result.data["Q2_text"].dropna().to_dict() == written.dropna().to_dict()
        assert (
            result.codebook.value_label("Q2", result.data.loc[written.notna(), "Q2"].iloc[0])
            == "其他【请注明】"
        )
    assert paired.data.loc[written.notna(), "Q2"].tolist() == [10.0, 10.0]
    assert sorted(paired.data["Q6_14_text"].dropna()) == ["军事国防", "宠物"]
    assert paired.data["Q8_10_text"].notna().sum() == 5
    assert (paired.data.loc[paired.data["Q6_14_text"].notna(), "Q6_14"] == 1).all()


@needs_exports
@pytest.mark.filterwarnings("ignore::survey.io.readers.PersonalDataWarning")
def test_text_export_alone_says_its_codes_are_inferred() -> None:
    with pytest.warns(InferredCodesWarning) as record:
        read(BY_TEXT)
    columns = next(w.message.columns for w in record if isinstance(w.message, InferredCodesWarning))
    assert columns == SINGLE_CHOICE


@needs_exports
@pytest.mark.filterwarnings("ignore::survey.io.readers.PersonalDataWarning")
def test_codebook_gives_the_text_export_the_platform_codes(by_number) -> None:  # noqa: ANN001
    # 年龄's option numbers as the by-number export records them (nobody chose option 1)
    bands = [
        "16~19岁",
        "20~24岁",
        "25~29岁",
        "30~34岁",
        "35~39岁",
        "40~49岁",
        "50~59岁",
        "60岁以上",
    ]
    codebook = Codebook(
        variables={"Q4": Variable("Q4", value_labels=dict(enumerate(bands, start=2)))}
    )
    with pytest.warns(InferredCodesWarning) as record:
        result = read(BY_TEXT, codebook=codebook)
    inferred = next(
        w.message.columns for w in record if isinstance(w.message, InferredCodesWarning)
    )
    assert "Q4" not in inferred
    assert result.data["Q4"].tolist() == by_number.data["Q4"].tolist()
    assert result.codebook["Q4"].label == "年龄"


@needs_exports
def test_pair_of_the_same_kind_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.xls"
    copy.write_bytes(BY_TEXT.read_bytes())
    with pytest.raises(SurveyReadError, match="both exports by option text"):
        _quiet_read(BY_TEXT, pair=copy)
    with pytest.raises(SurveyReadError, match="same file"):
        _quiet_read(BY_TEXT, pair=BY_TEXT)


# ----------------------------------------------------------------------------- generated exports

META = {
    "序号": [1, 2, 3, 4, 5],
    "提交答卷时间": [
        "2024/5/1 10:00:00",
        "2024/5/1 10:05:12",
        "2024/5/2 9:00:00",
        "2024/5/2 9:30:00",
        "2024/5/3 8:00:00",
    ],
    "所用时间": ["123秒", "2分5秒", "", "1小时2分3秒", "95秒"],
    "来源": ["手机提交", "链接", "微信", "链接", "手机提交"],
    "来源详情": ["直接访问", "直接访问", "N/A", "直接访问", "直接访问"],
    "来自IP": [
        "112.96.33.41(广东-广州)",
        "1.2.3.4(北京-北京)",
        "240e:3b0::1(四川-成都)",
        "36.110.2.9(北京-北京)",
        "112.96.33.41(广东-广州)",
    ],
}


def _text_export() -> pd.DataFrame:
    return pd.DataFrame(
        {
            **META,
            "1、您的性别 ": ["男", "女", "男", "(跳过)", "女"],
            "2、您对办事大厅的总体满意度": ["非常满意", "满意", "一般", "(空)", "不满意"],
            "3、您使用过哪些办事渠道": [
                "网上办┋窗口办",
                "窗口办",
                "(跳过)",
                "网上办┋自助机┋其他〖电话〗",
                "自助机",
            ],
            "4(办事效率)": ["满意", "非常满意", "一般", "不满意", "满意"],
            "4(服务态度)": ["非常满意", "满意", "(跳过)", "非常不满意", "满意"],
            "5、请对渠道排序": ["网上→窗口", "窗口→网上", "网上→窗口", "网上→窗口", "窗口→网上"],
            "备注信息": ["a", "b", "c", "d", "e"],
        }
    )


def _number_export() -> pd.DataFrame:
    return pd.DataFrame(
        {
            **META,
            "1、您的性别 ": [1, 2, 1, -3, 2],
            "2、您对办事大厅的总体满意度": [5, 4, 3, -2, 2],
            "3(网上办)": [1, 0, -3, 1, 0],
            "3(窗口办)": [1, 1, -3, 0, 0],
            "3(自助机)": [0, 0, -3, 1, 1],
            "3(其他)": [0, 0, -3, 1, 0],
            "4(办事效率)": [4, 5, 3, 2, 4],
            "4(服务态度)": [5, 4, -3, 1, 4],
        }
    )


@pytest.fixture()
def exports(tmp_path: Path) -> tuple[Path, Path]:
    text, number = tmp_path / "by_text.xlsx", tmp_path / "by_number.xlsx"
    _text_export().to_excel(text, index=False)
    _number_export().to_excel(number, index=False)
    return text, number


def test_matrix_rows_are_told_from_multiple_choice_options(exports: tuple[Path, Path]) -> None:
    _, number = exports
    result = _quiet_read(number)
    assert result.codebook.mr_sets["Q3"].variables == ["Q3_1", "Q3_2", "Q3_3", "Q3_4"]
    assert "Q4" not in result.codebook.mr_sets
    assert result.data["Q4_1"].tolist() == [4, 5, 3, 2, 4]
    assert result.codebook["Q4_1"].measure == "ordinal"
    assert result.codebook["Q4_2"].label == "服务态度"
    assert result.codebook["Q3_1"].value_labels == {0: "未选中", 1: "选中"}


def test_text_matrix_of_likert_anchors_gets_scale_codes(exports: tuple[Path, Path]) -> None:
    text, number = exports
    by_text, by_number = _quiet_read(text), _quiet_read(number)
    # 非常不满意 ... 非常满意 is the 5-point order 1..5, the codes 问卷星 gives them by number
    for column in ("Q2", "Q4_1", "Q4_2"):
        pd.testing.assert_series_equal(by_text.data[column], by_number.data[column])
        assert by_text.codebook[column].measure == "ordinal"
    # the rows of a matrix share one set of options
    assert by_text.codebook["Q4_1"].value_labels == {
        1: "非常不满意",
        2: "不满意",
        3: "一般",
        4: "满意",
        5: "非常满意",
    }
    assert by_text.codebook["Q4_2"].value_labels == by_text.codebook["Q4_1"].value_labels


def test_skipped_and_empty_cells_are_missing(exports: tuple[Path, Path]) -> None:
    text, number = exports
    for path in (text, number):
        result = _quiet_read(path)
        assert result.data["Q1"].isna().tolist() == [False, False, False, True, False]
        assert result.data["Q2"].isna().tolist() == [False, False, False, True, False]
        assert result.data.loc[2, ["Q3_1", "Q3_2", "Q3_3", "Q3_4"]].isna().all()
        kept = _quiet_read(path, user_missing="keep")
        assert kept.data["Q1"].iloc[3] == -3  # (跳过)
        assert kept.data["Q2"].iloc[3] == -2  # (空)
        assert kept.codebook["Q2"].missing_values == [-3, -2]


def test_multiple_choice_by_text_with_other_text(exports: tuple[Path, Path]) -> None:
    text, number = exports
    by_text, by_number = _quiet_read(text), _quiet_read(number)
    for k in range(1, 5):
        pd.testing.assert_series_equal(by_text.data[f"Q3_{k}"], by_number.data[f"Q3_{k}"])
    assert by_text.data["Q3_4_text"].tolist()[3] == "电话"
    assert by_text.codebook["Q3_4"].label == "您使用过哪些办事渠道：其他"


def test_duration_and_submission_time(exports: tuple[Path, Path]) -> None:
    text, _ = exports
    result = _quiet_read(text)
    np.testing.assert_array_equal(result.data["duration_seconds"], [123, 125, np.nan, 3723, 95])
    assert result.data["submitted_at"].iloc[1] == pd.Timestamp("2024-05-01 10:05:12")
    assert parse_duration("45秒") == 45 and np.isnan(parse_duration("很久"))


@pytest.mark.filterwarnings("ignore::survey.io.readers.PersonalDataWarning")
@pytest.mark.filterwarnings("ignore::survey.io.wenjuanxing.InferredCodesWarning")
def test_uninterpreted_columns_are_named_in_a_warning(exports: tuple[Path, Path]) -> None:
    text, _ = exports
    with pytest.warns(UninterpretedColumnsWarning) as record:
        result = read(text)
    warning = next(w.message for w in record if isinstance(w.message, UninterpretedColumnsWarning))
    assert warning.columns == ["5、请对渠道排序", "备注信息"]
    assert result.data["备注信息"].tolist() == ["a", "b", "c", "d", "e"]


@pytest.mark.filterwarnings("ignore::survey.io.wenjuanxing.UninterpretedColumnsWarning")
def test_no_ip_address_survives_anywhere(exports: tuple[Path, Path]) -> None:
    text, number = exports
    for path in (text, number):
        with pytest.warns(PersonalDataWarning, match="ip"):
            result = read(path, pair=number if path == text else text)
        cells = [str(v) for v in result.data.to_numpy().ravel()]
        assert not any(looks_like_ip(c) or IP_PATTERN.search(c) for c in cells)
        assert not IP_PATTERN.search(repr(result)) and not IP_PATTERN.search(repr(result.codebook))
        assert "240e:" not in repr(result.codebook) and "240e:" not in "".join(cells)


def test_ip_hashed_on_request(exports: tuple[Path, Path]) -> None:
    text, _ = exports
    with pytest.warns(PersonalDataWarning, match="SHA-256"):
        result = _hash_read(text)
    expected = hashlib.sha256(b"salt" + "112.96.33.41(广东-广州)".encode()).hexdigest()
    assert result.data["ip"].tolist()[0] == expected == result.data["ip"].tolist()[4]
    assert not any(looks_like_ip(str(v)) for v in result.data["ip"])


def _hash_read(path: Path):  # noqa: ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UninterpretedColumnsWarning)
        warnings.simplefilter("ignore", InferredCodesWarning)
        return read(path, personal="hash", salt=b"salt")


def test_paired_generated_exports_label_number_codes(exports: tuple[Path, Path]) -> None:
    text, number = exports
    result = _quiet_read(number, pair=text)
    assert result.codebook["Q1"].value_labels == {1: "男", 2: "女"}
    assert result.codebook["Q1"].label == "您的性别"
    labels = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}
    assert result.codebook["Q4_1"].value_labels == result.codebook["Q4_2"].value_labels == labels
    assert (
        result.codebook["Q2"].value_labels == labels
    )  # anchors agree with the codes: all five kept
    assert result.data["Q3_4_text"].tolist()[3] == "电话"
    assert "备注信息" in result.data


def test_numeric_option_text_labels_the_platform_codes(tmp_path: Path) -> None:
    # a 0-10 rating: the by-text export shows the option text "0".."10", by number it is 1..11
    text, number = tmp_path / "t.xlsx", tmp_path / "n.xlsx"
    pd.DataFrame(
        {**META, "1、推荐意愿": ["0", "10", "7", "9", "10"], "2、性别": list("男女男男女")}
    ).to_excel(text, index=False)
    pd.DataFrame({**META, "1、推荐意愿": [1, 11, 8, 10, 11], "2、性别": [1, 2, 1, 1, 2]}).to_excel(
        number, index=False
    )
    result = _quiet_read(number, pair=text)
    assert result.data["Q1"].tolist() == [1, 11, 8, 10, 11]
    assert result.codebook["Q1"].value_labels == {1: "0", 8: "7", 10: "9", 11: "10"}


def test_mismatched_pair_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "t.xlsx"
    number = tmp_path / "n.xlsx"
    _text_export().to_excel(text, index=False)
    _number_export().iloc[:3].to_excel(number, index=False)
    with pytest.raises(SurveyReadError, match="different numbers of respondents"):
        _quiet_read(text, pair=number)


# ----------------------------------------------------------------------------- helpers


def test_likert_anchors_are_coded_in_scale_order() -> None:
    codes, ordinal = infer_codes(["满意", "一般", "非常满意", "不满意"])
    assert ordinal and codes == {"非常不满意": 1, "不满意": 2, "一般": 3, "满意": 4, "非常满意": 5}
    codes, _ = infer_codes(["比较同意", "不确定", "非常同意"])
    assert codes == {"非常不同意": 1, "比较不同意": 2, "不确定": 3, "比较同意": 4, "非常同意": 5}
    codes, ordinal = infer_codes(["3001-5000元", "3000元以下", "15000元以上", "10001-15000元"])
    assert not ordinal
    assert sorted(codes, key=codes.get) == [
        "3000元以下",
        "3001-5000元",
        "10001-15000元",
        "15000元以上",
    ]


def test_option_order_merged_from_partial_orders() -> None:
    # each cell lists chosen options in questionnaire order; the union must respect every cell
    assert merge_orders([["b", "d"], ["a", "b"], ["c", "d"], ["b", "c"]]) == ["a", "b", "c", "d"]
