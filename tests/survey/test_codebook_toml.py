"""Codebook TOML files: a full round trip, and strict reading (unknown keys, wrong types, scales and
sets naming undeclared variables) with errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey.codebook import Codebook, CodebookError, MultipleResponseSet, Scale, Variable
from survey.io.codebook_toml import read_codebook, write_codebook

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def _codebook() -> Codebook:
    likert = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}
    variables = [
        Variable(
            "q1",
            label="对公共服务的总体满意度",
            value_labels=dict(likert),
            missing_values=[99],
            measure="ordinal",
            question=1,
        ),
        Variable(
            "q2",
            label="对政府办事效率的满意度",
            value_labels=dict(likert),
            missing_range=(-9.0, -1.0),
            measure="ordinal",
            question=2,
        ),
        Variable(
            "q3", label="窗口人员服务态度", value_labels={**likert, 8.5: "半分"}, measure="ordinal"
        ),
        Variable(
            "城市",
            label="城市",
            value_labels={"01": "北京", "02": "上海"},
            missing_values=["99", ""],
            measure="nominal",
        ),
        Variable("手机号", label="联系电话", personal=True),
        Variable(
            "Q6_1",
            label="兴趣爱好：运动",
            value_labels={0: "未选中", 1: "选中"},
            measure="nominal",
            question=6,
        ),
        Variable(
            "Q6_2",
            label="兴趣爱好：阅读",
            value_labels={0: "未选中", 1: "选中"},
            measure="nominal",
            question=6,
        ),
        Variable("income", label="月收入", measure="scale"),
    ]
    return Codebook(
        variables={v.name: v for v in variables},
        mr_sets={
            "Q6": MultipleResponseSet(
                "Q6", label="兴趣爱好", variables=["Q6_1", "Q6_2"], counted_value=1
            )
        },
        scales={
            "satisfaction": Scale(
                "satisfaction",
                items=["q1", "q2", "q3"],
                reverse=["q3"],
                low=1,
                high=5,
                label="满意度",
                scoring="sum",
                min_valid=2,
            ),
            "short": Scale("short", items=["q1", "q2"]),
        },
        title="公共服务满意度调查",
        source="/data/survey.sav",
    )


def test_round_trip(tmp_path: Path) -> None:
    original = _codebook()
    path = write_codebook(original, tmp_path / "codebook.toml")
    back = read_codebook(path)
    assert back == original
    assert back["城市"].value_labels == {"01": "北京", "02": "上海"}  # text codes stay text
    assert back["q3"].value_labels[8.5] == "半分"
    assert back["手机号"].personal
    assert back.scales["satisfaction"].reverse == ["q3"]
    assert "对公共服务的总体满意度" in path.read_text(encoding="utf-8")


def test_write_refuses_existing_file_and_the_data_source(tmp_path: Path) -> None:
    path = write_codebook(_codebook(), tmp_path / "c.toml")
    before = path.read_text(encoding="utf-8")
    with pytest.raises(CodebookError, match=r"c\.toml: the file exists; pass overwrite=True"):
        write_codebook(Codebook(), path)
    assert path.read_text(encoding="utf-8") == before
    write_codebook(Codebook(title="新"), path, overwrite=True)
    assert read_codebook(path).title == "新"
    with pytest.raises(CodebookError, match="never overwritten"):
        write_codebook(Codebook(source=str(path)), path, overwrite=True)
    with pytest.raises(CodebookError, match=r"must end in \.toml"):
        write_codebook(Codebook(), tmp_path / "c.txt")
    assert {p.name for p in tmp_path.iterdir()} == {"c.toml"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('titel = "x"\n', r"bad\.toml: titel: unknown key"),
        (
            '[variables.q1]\nlable = "x"\n',
            r"bad\.toml: variables\.q1\.lable: unknown key \(allowed here: label",
        ),
        (
            "[variables.q1]\nmeasure = 5\n",
            r"variables\.q1\.measure: must be a string, got an integer",
        ),
        (
            '[variables.q1]\nmeasure = "interval"\n',
            r"variables\.q1\.measure: 'interval' is not one of",
        ),
        ('[variables.q1]\npersonal = "yes"\n', r"variables\.q1\.personal: must be true or false"),
        (
            "[variables.q1]\nmissing_values = 99\n",
            r"variables\.q1\.missing_values: must be an array",
        ),
        (
            "[variables.q1]\nmissing_range = [0, -9]\n",
            r"variables\.q1\.missing_range: low \(0\) is above high",
        ),
        ("[variables.q1]\nquestion = 1.5\n", r"variables\.q1\.question: must be an integer"),
        (
            "[variables.q1.value_labels]\n1 = 2\n",
            r"variables\.q1\.value_labels\.1: must be a string",
        ),
        (
            '[variables.q1]\n[scales.s]\nitems = ["q1", "q9"]\n',
            r"bad\.toml: scales\.s\.items: names variables not declared under \[variables\]: \['q9'\]",
        ),
        (
            '[variables.q1]\n[scales.s]\nitems = ["q1"]\nreverse = ["q2"]\n',
            r"scales\.s\.reverse: \['q2'\] are not among",
        ),
        (
            '[variables.q1]\n[scales.s]\nitems = ["q1"]\nlow = 5\nhigh = 1\n',
            r"scales\.s: low \(5\) must be below high",
        ),
        (
            '[variables.q1]\n[scales.s]\nitems = ["q1"]\nscoring = "median"\n',
            r"scales\.s\.scoring: must be 'mean' or 'sum'",
        ),
        (
            '[variables.q1]\n[scales.s]\nitems = ["q1"]\nweights = [1]\n',
            r"scales\.s\.weights: unknown key",
        ),
        (
            '[variables.q1]\n[mr_sets.m]\nvariables = ["q1", "q2"]\n',
            r"mr_sets\.m\.variables: names variables not declared.*\['q2'\]",
        ),
        (
            '[variables.q1]\n[mr_sets.m]\nvariables = "q1"\n',
            r"mr_sets\.m\.variables: must be an array of variable names",
        ),
        ("[variables.q1\n", r"bad\.toml: not valid TOML"),
    ],
)
def test_strict_reading_names_the_file_and_key(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(CodebookError, match=pattern):
        read_codebook(_write(tmp_path, text))


def test_missing_codebook_file(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match=r"nothing\.toml: no such codebook file"):
        read_codebook(tmp_path / "nothing.toml")


def test_hand_written_codebook(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'title = "示例"\n'
        '[variables.q1]\nlabel = "满意度"\nvalue_labels = { 1 = "不满意", 2 = "满意" }\n'
        '[variables.code]\nvalue_labels = [{ value = "1", label = "一" }, { value = 2, label = "二" }]\n'
        '[scales.s]\nitems = ["q1"]\nhigh = 2\n',
    )
    codebook = read_codebook(path)
    assert codebook["q1"].value_labels == {1: "不满意", 2: "满意"}
    assert codebook["code"].value_labels == {"1": "一", 2: "二"}
    assert codebook.scales["s"].high == 2 and codebook.scales["s"].low == 1


def test_codebook_of_a_real_spss_file_round_trips(tmp_path: Path) -> None:
    if not (REFERENCE / "spss").is_dir():
        pytest.skip(f"reference SPSS files not found at {REFERENCE / 'spss'}")
    import warnings

    from survey.io.readers import read

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codebook = read(REFERENCE / "spss" / "simple_alltypes.sav").codebook
    back = read_codebook(write_codebook(codebook, tmp_path / "alltypes.toml"))
    assert back == codebook
    assert back["z"].missing_range == (-999.0, 0.0)
