"""survey.write: .sav/.zsav checked by reading the file back with pyreadstat (labels, value labels,
missing values, Chinese text), CSV checked byte by byte (UTF-8 BOM, GBK), Excel read back; and the
rules that protect inputs: never the source file, never an existing file without overwrite=True,
nothing left behind on failure, no personal data written.

Reference files from ../shared/reference/spss (see tests/survey/test_readers.py).
"""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import survey
from survey.codebook import Codebook, MultipleResponseSet, SurveyData, Variable
from survey.io.readers import MetadataWarning, PersonalDataWarning, read
from survey.io.writers import SurveyWriteError, write

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
SPSS = REFERENCE / "spss"
needs_spss = pytest.mark.skipif(
    not SPSS.is_dir(),
    reason=f"reference SPSS files not found at {SPSS} (../shared/reference beside the repository)",
)
SATISFACTION_LABELS = {1.0: "非常不满意", 2.0: "不满意", 3.0: "一般", 4.0: "满意", 5.0: "非常满意"}


def _chinese() -> SurveyData:
    frame = pd.DataFrame(
        {
            "编号": [1, 2, 3, 4],
            "城市": ["北京", "上海", "广州", "深圳"],
            "满意度": [4.0, 5.0, 99.0, 2.0],
            "效率": [3.0, np.nan, 2.0, 5.0],
        }
    )
    codebook = Codebook(
        variables={
            "编号": Variable("编号", label="受访者编号", measure="nominal"),
            "城市": Variable("城市", label="城市", measure="nominal"),
            "满意度": Variable(
                "满意度",
                label="对公共服务的总体满意度",
                value_labels={
                    1: "非常不满意",
                    2: "不满意",
                    3: "一般",
                    4: "满意",
                    5: "非常满意",
                    99: "拒答",
                },
                missing_values=[99],
                measure="ordinal",
            ),
            "效率": Variable("效率", label="办事效率", missing_range=(-9, -1), measure="scale"),
        },
        title="公共服务满意度",
    )
    return SurveyData(frame, codebook)


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# ----------------------------------------------------------------------------- SPSS


@pytest.mark.parametrize("suffix", [".sav", ".zsav"])
def test_sav_keeps_labels_missing_values_and_chinese(tmp_path: Path, suffix: str) -> None:
    source = _chinese()
    path = write(source, tmp_path / f"out{suffix}")
    frame, meta = pyreadstat.read_sav(path, user_missing=True)
    assert meta.column_names_to_labels == {
        "编号": "受访者编号",
        "城市": "城市",
        "满意度": "对公共服务的总体满意度",
        "效率": "办事效率",
    }
    assert meta.variable_value_labels["满意度"][1.0] == "非常不满意"
    assert meta.variable_value_labels["满意度"][99.0] == "拒答"
    assert meta.missing_ranges["满意度"] == [{"lo": 99.0, "hi": 99.0}]
    assert meta.missing_ranges["效率"] == [{"lo": -9.0, "hi": -1.0}]
    assert meta.variable_measure["满意度"] == "ordinal"
    assert meta.file_label == "公共服务满意度"
    assert frame["城市"].tolist() == ["北京", "上海", "广州", "深圳"]
    np.testing.assert_allclose(frame["满意度"], [4, 5, 99, 2])
    back = read(path)  # 99 is user-missing again once read
    assert back.data["满意度"].isna().tolist() == [False, False, True, False]
    assert back.codebook["满意度"].missing_values == [99]


@needs_spss
def test_gbk_file_written_back_reads_with_chinese_intact(tmp_path: Path) -> None:
    original = read(SPSS / "satisfaction_gbk.sav")
    path = write(original, tmp_path / "satisfaction_utf8.sav")
    frame, meta = pyreadstat.read_sav(path)
    assert meta.file_encoding.upper() == "UTF-8"
    assert meta.column_names_to_labels == {
        "id": "受访者编号",
        "q1": "对公共服务的总体满意度",
        "q2": "对政府办事效率的满意度",
        "city": "城市",
    }
    assert meta.variable_value_labels["q1"] == SATISFACTION_LABELS
    assert frame["city"].tolist() == ["北京", "上海", "广州", "深圳"]


@needs_spss
def test_missing_ranges_and_multiple_response_sets_written_back(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetadataWarning)
        original = read(SPSS / "simple_alltypes.sav", user_missing="keep")
    with pytest.warns(MetadataWarning, match="MRSETS"):
        path = write(original, tmp_path / "alltypes.sav")
    _, source_meta = pyreadstat.read_sav(SPSS / "simple_alltypes.sav", user_missing=True)
    frame, meta = pyreadstat.read_sav(path, user_missing=True)
    for name in ("x", "z"):
        key = lambda r: (r["lo"], r["hi"])  # noqa: E731
        assert sorted(meta.missing_ranges[name], key=key) == sorted(
            source_meta.missing_ranges[name], key=key
        )
    assert meta.variable_value_labels["ca_subvar_1"] == {"a": "a", "b": "b", "c": "c", "d": "d"}
    document = " ".join(meta.notes)
    assert "MRSETS /MDGROUP NAME=$mymrset LABEL='My multiple response set'" in document
    assert "VARIABLES=bool1 bool2 bool3 VALUE=1." in document
    np.testing.assert_allclose(frame["x"], original.data["x"], equal_nan=True)


def test_names_spss_cannot_take_are_refused_and_nothing_written(tmp_path: Path) -> None:
    frame = pd.DataFrame({"1st answer": [1, 2], "ok": [1, 2], "AND": [1, 2]})
    with pytest.raises(SurveyWriteError, match=r"'1st answer'.*'AND' \(an SPSS reserved word\)"):
        write(frame, tmp_path / "bad.sav")
    assert _listing(tmp_path) == set()


def test_too_many_missing_values_for_spss(tmp_path: Path) -> None:
    frame = pd.DataFrame({"q": [1.0, 2.0]})
    codebook = Codebook(variables={"q": Variable("q", missing_values=[7, 8, 9, 99])})
    with pytest.raises(SurveyWriteError, match="at most three"):
        write(frame, tmp_path / "q.sav", codebook=codebook)
    assert _listing(tmp_path) == set()


# ----------------------------------------------------------------------------- CSV, Excel


def test_csv_is_utf8_with_bom_by_default(tmp_path: Path) -> None:
    path = write(_chinese(), tmp_path / "out.csv")
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert "北京" in raw.decode("utf-8-sig")
    back = read(path)
    assert back.data["城市"].tolist() == ["北京", "上海", "广州", "深圳"]
    np.testing.assert_allclose(back.data["满意度"], [4, 5, 99, 2])


def test_csv_in_gbk_with_value_labels(tmp_path: Path) -> None:
    path = write(_chinese(), tmp_path / "gbk.csv", encoding="gbk", values="labels")
    text = path.read_bytes().decode("gbk")
    assert text.splitlines()[1] == "1,北京,满意,3.0"
    assert "拒答" in text


def test_csv_encoding_that_cannot_hold_the_text_fails_cleanly(tmp_path: Path) -> None:
    frame = pd.DataFrame({"姓氏": ["䶮"], "q": [1]})  # U+4DAE is not in GBK
    with pytest.raises(
        SurveyWriteError, match=r"'gbk' cannot hold the character '䶮' \(column '姓氏'\)"
    ):
        write(frame, tmp_path / "x.csv", encoding="gbk")
    assert _listing(tmp_path) == set()
    write(frame, tmp_path / "x.csv", encoding="gb18030")
    assert (tmp_path / "x.csv").read_bytes().decode("gb18030").splitlines()[1] == "䶮,1"


def test_xlsx_has_data_and_codebook_sheets(tmp_path: Path) -> None:
    path = write(_chinese(), tmp_path / "out.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["data", "codebook"]
    assert sheets["data"]["城市"].tolist() == ["北京", "上海", "广州", "深圳"]
    codebook = sheets["codebook"].set_index("variable")
    assert codebook.loc["满意度", "label"] == "对公共服务的总体满意度"
    assert "1 = 非常不满意" in codebook.loc["满意度", "value_labels"]
    assert codebook.loc["效率", "missing_values"].strip() == "-9 thru -1"
    assert read(path).data["城市"].tolist() == ["北京", "上海", "广州", "深圳"]


# ----------------------------------------------------------------------------- protecting inputs


def test_existing_file_needs_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("keep me")
    with pytest.raises(SurveyWriteError, match=r"out\.csv: the file exists; pass overwrite=True"):
        write(_chinese(), path)
    assert path.read_text() == "keep me"
    write(_chinese(), path, overwrite=True)
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    assert _listing(tmp_path) == {"out.csv"}


@needs_spss
def test_the_input_file_is_never_overwritten(tmp_path: Path) -> None:
    copy = tmp_path / "input.sav"
    copy.write_bytes((SPSS / "satisfaction_gbk.sav").read_bytes())
    data = read(copy)
    before = copy.read_bytes()
    with pytest.raises(SurveyWriteError, match="read from; inputs are never overwritten"):
        write(data, copy, overwrite=True)
    with pytest.raises(SurveyWriteError, match="never overwritten"):
        write(data.data, tmp_path / "." / "input.sav", codebook=data.codebook, overwrite=True)
    assert copy.read_bytes() == before
    assert _listing(tmp_path) == {"input.sav"}


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(SurveyWriteError, match=r"'\.json'.*\.sav.*\.csv.*\.xlsx"):
        write(_chinese(), tmp_path / "out.json")
    with pytest.raises(SurveyWriteError, match="SurveyData or a DataFrame"):
        write([1, 2], tmp_path / "out.csv")  # type: ignore[arg-type]


def test_personal_columns_are_not_written(tmp_path: Path) -> None:
    frame = pd.DataFrame({"来自IP": ["1.2.3.4", "5.6.7.8"], "q": [1, 2]})
    with pytest.warns(PersonalDataWarning, match="来自IP"):
        path = write(frame, tmp_path / "p.csv")
    assert "1.2.3.4" not in path.read_text(encoding="utf-8-sig")
    hashed = survey.io.readers.hash_values(frame["来自IP"], b"salt")
    path = write(frame.assign(来自IP=hashed), tmp_path / "h.csv")  # digests may be written
    assert hashed.iloc[0] in path.read_text(encoding="utf-8-sig")


def test_multiple_response_set_syntax_only_for_written_sets(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Q6_1": [1.0, 0.0], "Q6_2": [0.0, 1.0]})
    codebook = Codebook(
        mr_sets={"Q6": MultipleResponseSet("Q6", label="兴趣爱好", variables=["Q6_1", "Q6_2"])}
    )
    with pytest.warns(MetadataWarning):
        path = write(frame, tmp_path / "mr.sav", codebook=codebook)
    _, meta = pyreadstat.read_sav(path)
    assert "LABEL='兴趣爱好'" in " ".join(meta.notes)
    assert all(len(line.encode("utf-8")) <= 80 for line in meta.notes)
