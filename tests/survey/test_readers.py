"""survey.read: SPSS, Stata, SAS, CSV and Excel files, checked against the values the reference
files are documented to hold.

Reference files live beside the repository in ../shared/reference/spss (pyreadstat's test data,
Apache-2.0, with `sample.csv`, `sample_missing.csv` and `sample_missing_user.csv` giving the values
the SPSS/Stata files hold; `satisfaction_gbk.sav` written in the GBK code page by IBM's SPSS I/O
library, its labels listed in ../shared/reference/README.md). CSV and Excel files are generated here.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import survey
from survey.codebook import Codebook, Scale, Variable
from survey.io.readers import (
    EncodingFallbackWarning,
    MetadataWarning,
    PersonalDataWarning,
    SurveyReadError,
    looks_like_ip,
    read,
    sav_declared_encoding,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
SPSS = REFERENCE / "spss"
needs_spss = pytest.mark.skipif(
    not SPSS.is_dir(),
    reason=f"reference SPSS files not found at {SPSS} (../shared/reference beside the repository)",
)
SATISFACTION_LABELS = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}


def _sample_csv(name: str) -> pd.DataFrame:
    """pyreadstat's own record of what the sample files hold (#NULL! is SPSS's system-missing)."""
    frame = pd.read_csv(SPSS / name, keep_default_na=False, na_values=["#NULL!", ""])
    frame["mychar"] = pd.read_csv(SPSS / name, keep_default_na=False, dtype=str)["mychar"]
    return frame


def _check_against_csv(data: pd.DataFrame, expected: pd.DataFrame) -> None:
    data = data.rename(columns=str.lower)
    assert data["mychar"].fillna("").tolist() == expected["mychar"].tolist()
    for column in ("mynum", "mylabl", "myord"):
        np.testing.assert_allclose(
            data[column].astype(float), expected[column].astype(float), equal_nan=True
        )
    assert data["mydate"].tolist() == pd.to_datetime(expected["mydate"]).tolist()
    assert data["dtime"].tolist() == pd.to_datetime(expected["dtime"]).tolist()
    times = pd.to_datetime(expected["mytime"], format="%H:%M:%S.%f").dt.time
    assert [None if pd.isna(t) else t for t in data["mytime"]] == [
        None if pd.isna(t) else t for t in times
    ]


# ----------------------------------------------------------------------------- SPSS, Stata


@needs_spss
@pytest.mark.parametrize("name", ["sample.sav", "sample.zsav", "sample.por", "sample.dta"])
def test_sample_files_hold_the_values_of_sample_csv(name: str) -> None:
    result = read(SPSS / name)
    assert result.n == 5
    _check_against_csv(result.data, _sample_csv("sample.csv"))


@needs_spss
@pytest.mark.parametrize("name", ["sample.sav", "sample.zsav", "sample.por", "sample.dta"])
def test_value_and_variable_labels_survive(name: str) -> None:
    # README: mylabl 1 Male / 2 Female; myord 1 low / 2 medium / 3 high; variable labels as named
    codebook = read(SPSS / name).codebook
    lower = {k.lower(): v for k, v in codebook.variables.items()}
    assert lower["mylabl"].value_labels == {1: "Male", 2: "Female"}
    assert lower["myord"].value_labels == {1: "low", 2: "medium", 3: "high"}
    assert lower["mylabl"].label == "labeled"
    assert lower["myord"].label == "ordinal"
    assert (
        codebook.value_label(next(k for k in codebook.variables if k.lower() == "myord"), 3.0)
        == "high"
    )


@needs_spss
def test_measurement_levels_survive_from_sav() -> None:
    # the levels SPSS stored in the file's variable display record (pyreadstat's metadata)
    _, meta = pyreadstat.read_sav(SPSS / "sample.sav", metadataonly=True)
    codebook = read(SPSS / "sample.sav").codebook
    for name, level in meta.variable_measure.items():
        assert codebook[name].measure == level
    assert codebook["myord"].measure == "ordinal"
    assert codebook["mychar"].measure == "nominal"


@needs_spss
def test_user_missing_values_become_nan_and_stay_in_the_codebook() -> None:
    # sample_missing.csv is the file read with user-missing values treated as missing
    result = read(SPSS / "sample_missing.sav")
    _check_against_csv(result.data, _sample_csv("sample_missing.csv"))
    codebook = result.codebook
    assert codebook["mynum"].missing_range == (2000.0, 3000.0)
    assert codebook["mynum"].missing_values == [-1]
    assert codebook["mylabl"].missing_values == [-1]
    assert sorted(codebook["myord"].missing_values) == [-3, -2, -1]
    assert codebook["myord"].value_labels[-1] == "missing"


@needs_spss
def test_user_missing_codes_kept_on_request() -> None:
    # sample_missing_user.csv is the file read with the codes kept (SPSS shows them)
    result = read(SPSS / "sample_missing.sav", user_missing="keep")
    _check_against_csv(result.data, _sample_csv("sample_missing_user.csv"))
    assert result.codebook["myord"].is_user_missing(result.data["myord"]).sum() == 2


@needs_spss
def test_multiple_response_sets_and_missing_range_survive() -> None:
    # README: simple_alltypes.sav has multiple-response sets, a missing range, string value labels
    with pytest.warns(MetadataWarning, match="categorical_array"):
        result = read(SPSS / "simple_alltypes.sav")
    mr = result.codebook.mr_sets["mymrset"]
    assert mr.label == "My multiple response set"
    assert mr.variables == ["bool1", "bool2", "bool3"]
    assert mr.counted_value == 1
    z = result.codebook["z"]
    assert z.missing_range == (-999.0, 0.0) and z.missing_values == [999]
    assert result.codebook["x"].missing_values == [7, 8, 99]
    assert result.codebook["ca_subvar_1"].value_labels == {"a": "a", "b": "b", "c": "c", "d": "d"}
    raw, _ = pyreadstat.read_sav(SPSS / "simple_alltypes.sav", user_missing=True)
    expected_z = raw["z"].where(~(raw["z"].between(-999, 0) | (raw["z"] == 999)))
    np.testing.assert_allclose(result.data["z"], expected_z, equal_nan=True)
    assert result.data["x"].isna().tolist() == raw["x"].isin([7, 8, 99]).tolist()


@needs_spss
def test_value_labels_out_of_alphabetical_order_keep_their_codes() -> None:
    codebook = read(SPSS / "ordered_category.sav").codebook
    assert codebook["Col1"].value_labels == {1: "high", 2: "low", 3: "medium"}


@needs_spss
def test_utf8_names_written_by_jamovi() -> None:
    result = read(SPSS / "hebrews.sav")
    assert list(result.data.columns) == ["ותק_ב"]
    assert result.n == 99


@needs_spss
def test_survey_platform_export_keeps_labels() -> None:
    result = read(SPSS / "test_width.sav")
    assert result.codebook["Duration__in_seconds_"].label == "Duration (in seconds)"
    assert result.codebook["Finished"].value_labels == {1: "False", 2: "True"}


# ----------------------------------------------------------------------------- GBK SPSS files


def _check_satisfaction(result: survey.SurveyData) -> None:
    """The labels listed for satisfaction_gbk.sav in ../shared/reference/README.md."""
    labels = {name: result.codebook[name].label for name in result.data.columns}
    assert labels == {
        "id": "受访者编号",
        "q1": "对公共服务的总体满意度",
        "q2": "对政府办事效率的满意度",
        "city": "城市",
    }
    assert result.codebook["q1"].value_labels == SATISFACTION_LABELS
    assert result.codebook["q2"].value_labels == SATISFACTION_LABELS
    assert result.data["city"].tolist() == ["北京", "上海", "广州", "深圳"]


@needs_spss
def test_gbk_spss_file_is_read_with_chinese_intact() -> None:
    _check_satisfaction(read(SPSS / "satisfaction_gbk.sav"))
    record, code_page = sav_declared_encoding(SPSS / "satisfaction_gbk.sav")
    assert (record, code_page) == ("GBK", "GBK")


@needs_spss
def test_gbk_spss_file_fails_as_utf8_with_a_clear_error() -> None:
    with pytest.raises(SurveyReadError, match=r"satisfaction_gbk\.sav.*'utf-8'.*GBK"):
        read(SPSS / "satisfaction_gbk.sav", encoding="utf-8")


def _relabelled(tmp_path: Path, record: bytes, code_page: int | None = None) -> Path:
    """A copy of satisfaction_gbk.sav whose encoding record claims `record` (and code page)."""
    raw = (SPSS / "satisfaction_gbk.sav").read_bytes()
    at = raw.find(struct.pack("<iiii", 7, 20, 1, 3) + b"GBK")
    assert at > 0
    raw = raw[:at] + struct.pack("<iiii", 7, 20, 1, len(record)) + record + raw[at + 19 :]
    if code_page is not None:
        info = raw.find(struct.pack("<iiii", 7, 3, 4, 8))
        raw = raw[: info + 16 + 28] + struct.pack("<i", code_page) + raw[info + 16 + 32 :]
    path = tmp_path / "relabelled.sav"
    path.write_bytes(raw)
    return path


@needs_spss
def test_gbk_file_mislabelled_as_utf8_is_detected_from_its_code_page(tmp_path: Path) -> None:
    path = _relabelled(tmp_path, b"UTF-8")
    with pytest.raises(Exception, match="invalid byte sequence|encoding"):
        pyreadstat.read_sav(path)  # the failure real Chinese SPSS files give
    with pytest.warns(EncodingFallbackWarning, match="GBK"):
        result = read(path)
    _check_satisfaction(result)


@needs_spss
def test_gbk_file_without_a_chinese_code_page_falls_back_to_gb18030(tmp_path: Path) -> None:
    path = _relabelled(tmp_path, b"UTF-8", code_page=65001)
    assert sav_declared_encoding(path) == ("UTF-8", "UTF-8")
    with pytest.warns(EncodingFallbackWarning, match="GB18030"):
        result = read(path)
    _check_satisfaction(result)
    _check_satisfaction(read(path, encoding="gbk"))


# ----------------------------------------------------------------------------- SAS


def test_sas_transport_file_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"AGE": [23.0, 41.0, np.nan], "SEX": ["M", "F", "F"]})
    path = tmp_path / "demo.xpt"
    pyreadstat.write_xport(
        frame, str(path), column_labels=["Age in years", "Sex"], table_name="DEMO"
    )
    result = read(path)
    np.testing.assert_allclose(result.data["AGE"], frame["AGE"], equal_nan=True)
    assert result.data["SEX"].tolist() == ["M", "F", "F"]
    assert result.codebook["AGE"].label == "Age in years"


# ----------------------------------------------------------------------------- CSV

CHINESE = pd.DataFrame(
    {
        "编号": [1, 2, 3],
        "城市": ["北京", "上海", "广州"],
        "满意度": [4, 5, 2],
        "备注": ["办事很快", "一网通办", "跑一次"],
    }
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"data_{encoding}.csv"
    path.write_bytes(CHINESE.to_csv(index=False).encode(encoding))
    result = read(path)
    pd.testing.assert_frame_equal(result.data, CHINESE, check_dtype=False)
    named = read(path, encoding=encoding)
    pd.testing.assert_frame_equal(named.data, CHINESE, check_dtype=False)


def test_gb18030_only_characters_are_read(tmp_path: Path) -> None:
    frame = pd.DataFrame({"姓氏": ["䶮", "王"], "分": [1, 2]})  # 䶮 (U+4DAE) is in GB18030, not GBK
    path = tmp_path / "gb18030.csv"
    path.write_bytes(frame.to_csv(index=False).encode("gb18030"))
    assert read(path).data["姓氏"].tolist() == ["䶮", "王"]


def test_wrong_named_csv_encoding_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(CHINESE.to_csv(index=False).encode("gbk"))
    with pytest.raises(SurveyReadError, match=r"gbk\.csv.*'utf-8'.*gb18030"):
        read(path, encoding="utf-8")
    with pytest.raises(SurveyReadError, match="unknown encoding 'klingon'"):
        read(path, encoding="klingon")


def test_tab_separated_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tabs.csv"
    path.write_text(CHINESE.to_csv(index=False, sep="\t"), encoding="utf-8")
    pd.testing.assert_frame_equal(read(path).data, CHINESE, check_dtype=False)


# ----------------------------------------------------------------------------- Excel


def test_xlsx_sheet_by_name_and_position(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        CHINESE.to_excel(writer, sheet_name="说明", index=False)
        CHINESE.assign(满意度=[1, 1, 1]).to_excel(writer, sheet_name="数据", index=False)
    pd.testing.assert_frame_equal(read(path).data, CHINESE, check_dtype=False)
    assert read(path, sheet="数据").data["满意度"].tolist() == [1, 1, 1]
    with pytest.raises(SurveyReadError, match="no sheet 'x'.*数据"):
        read(path, sheet="x")


# ----------------------------------------------------------------------------- errors


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    "suffix", [".sav", ".zsav", ".por", ".dta", ".sas7bdat", ".xpt", ".xlsx", ".xls"]
)
def test_corrupt_file_is_a_read_error_naming_it(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x00\x01 this is not a data file \xff\xfe" * 20)
    before = _listing(tmp_path)
    with pytest.raises(SurveyReadError, match=f"broken\\{suffix}"):
        read(path)
    assert _listing(tmp_path) == before


@needs_spss
@pytest.mark.parametrize("name", ["sample.sav", "sample.dta", "satisfaction_gbk.sav"])
def test_truncated_file_is_a_read_error(tmp_path: Path, name: str) -> None:
    raw = (SPSS / name).read_bytes()
    path = tmp_path / f"cut_{name}"
    path.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(SurveyReadError, match=f"cut_{name}"):
        read(path)
    assert _listing(tmp_path) == {path.name}


def test_truncated_excel_file_is_a_read_error(tmp_path: Path) -> None:
    full = tmp_path / "full.xlsx"
    CHINESE.to_excel(full, index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(full.read_bytes()[:500])
    with pytest.raises(SurveyReadError, match=r"cut\.xlsx.*(truncated|corrupt)"):
        read(cut)


def test_unsupported_extension_lists_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(SurveyReadError, match=r"data\.json.*'\.json'.*\.sav.*\.csv.*\.xlsx"):
        read(path)


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(SurveyReadError, match=r"nowhere\.sav: no such file.*allowed"):
        read(tmp_path / "nowhere.sav")


def test_empty_csv_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(SurveyReadError, match="empty"):
        read(path)


def test_bad_options_are_read_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    CHINESE.to_csv(path, index=False)
    with pytest.raises(SurveyReadError, match="user_missing"):
        read(path, user_missing="drop")  # type: ignore[arg-type]
    with pytest.raises(SurveyReadError, match="personal"):
        read(path, personal="keep")  # type: ignore[arg-type]
    xlsx = tmp_path / "d.xlsx"
    CHINESE.to_excel(xlsx, index=False)
    with pytest.raises(SurveyReadError, match="encoding= does not apply"):
        read(xlsx, encoding="gbk")
    with pytest.raises(SurveyReadError, match="pair= is for 问卷星 exports"):
        read(path, pair=xlsx)


# ----------------------------------------------------------------------------- personal data

PEOPLE = pd.DataFrame(
    {
        "编号": [1, 2, 3, 4],
        "来自IP": [
            "112.96.33.41(广东-广州)",
            "1.2.3.4(北京-北京)",
            "240e:3b0::1(四川-成都)",
            "112.96.33.41(广东-广州)",
        ],
        "手机号": ["13812345678", "13912345678", "15012345678", "18612345678"],
        "addr": ["10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.9"],
        "满意度": [4, 5, 3, 4],
    }
)


def _no_ip_anywhere(result: survey.SurveyData) -> None:
    cells = [str(v) for v in result.data.to_numpy().ravel()] + [str(c) for c in result.data.columns]
    assert not any(looks_like_ip(c) for c in cells)
    assert not any(survey.io.readers.IP_PATTERN.search(c) for c in cells)
    text = repr(result.codebook)
    assert not survey.io.readers.IP_PATTERN.search(text)
    assert "240e:3b0" not in text and "240e:3b0" not in " ".join(cells)


def test_personal_columns_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    PEOPLE.to_csv(path, index=False)
    with pytest.warns(PersonalDataWarning, match="dropped.*来自IP.*手机号.*addr"):
        result = read(path)
    assert list(result.data.columns) == ["编号", "满意度"]
    assert set(result.codebook.variables) == {"编号", "满意度"}
    _no_ip_anywhere(result)


def test_personal_columns_hashed_with_salted_sha256(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    PEOPLE.to_csv(path, index=False)
    with pytest.warns(PersonalDataWarning, match="SHA-256"):
        result = read(path, personal="hash", salt="项目盐")
    expected = hashlib.sha256("项目盐".encode() + "112.96.33.41(广东-广州)".encode()).hexdigest()
    assert result.data["来自IP"].iloc[0] == expected
    assert (
        result.data["来自IP"].iloc[0] == result.data["来自IP"].iloc[3]
    )  # same person, same digest
    assert result.codebook["来自IP"].personal
    _no_ip_anywhere(result)
    with pytest.warns(PersonalDataWarning):
        other = read(path, personal="hash", salt="另一个盐")
    assert other.data["来自IP"].iloc[0] != expected


def test_codebook_marks_a_column_personal(tmp_path: Path) -> None:
    path = tmp_path / "named.csv"
    pd.DataFrame({"受访者": ["张三", "李四"], "q1": [1, 2]}).to_csv(path, index=False)
    codebook = Codebook(
        variables={
            "受访者": Variable("受访者", personal=True),
            "q1": Variable("q1", label="满意度"),
        }
    )
    with pytest.warns(PersonalDataWarning, match="受访者"):
        result = read(path, codebook=codebook)
    assert list(result.data.columns) == ["q1"]
    assert result.codebook["q1"].label == "满意度"
    assert "张三" not in repr(result)


# ----------------------------------------------------------------------------- codebook overlay


def test_codebook_toml_is_laid_over_a_csv(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    CHINESE.to_csv(data, index=False)
    toml = tmp_path / "codebook.toml"
    toml.write_text(
        '[variables."满意度"]\nlabel = "总体满意度"\nmeasure = "ordinal"\nmissing_values = [2]\n'
        '[variables."满意度".value_labels]\n1 = "非常不满意"\n5 = "非常满意"\n'
        '[scales.sat]\nitems = ["满意度"]\n',
        encoding="utf-8",
    )
    result = read(data, codebook=toml)
    variable = result.codebook["满意度"]
    assert variable.label == "总体满意度" and variable.measure == "ordinal"
    assert variable.value_labels == {1: "非常不满意", 5: "非常满意"}
    assert result.data["满意度"].isna().tolist() == [False, False, True]  # code 2 declared missing
    assert result.codebook.scales["sat"].items == ["满意度"]
    assert result.codebook.source == str(data.resolve())


def test_codebook_scale_naming_an_absent_column_is_an_error(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    CHINESE.to_csv(data, index=False)
    codebook = Codebook(variables={"q9": Variable("q9")}, scales={"s": Scale("s", items=["q9"])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SurveyReadError, match=r"d\.csv.*scale 's'.*\['q9'\]"):
            read(data, codebook=codebook)
