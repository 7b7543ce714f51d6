"""The shipped example questionnaire: synthetic, reproducible, and hiding the structure its
generator documents (so tutorials can show the analyses recovering it)."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

import survey
from survey.datasets import generate as gen


@pytest.fixture(scope="module")
def example():
    return survey.load_example()


def test_the_shipped_csv_is_exactly_what_the_documented_generator_makes(tmp_path):
    out = tmp_path / "again.csv"
    frame, _ = gen.generate()
    frame.to_csv(out, index=False, float_format="%.10g", lineterminator="\n")
    shipped = files("survey.datasets").joinpath(f"{gen.NAME}.csv").read_bytes()
    assert out.read_bytes() == shipped


def test_it_is_labelled_synthetic_and_has_a_codebook(example):
    assert "SYNTHETIC" in example.codebook.title
    assert example.n == gen.N_RESPONDENTS + gen.N_DUPLICATES
    assert set(example.codebook.scales) == set(gen.FACTORS)
    assert example.codebook.scales["sharing"].reverse == ["DS4"]
    assert example.codebook.value_label("age_band", 4) == "60岁及以上"


def test_user_missing_codes_are_missing_unless_kept(example):
    kept = survey.load_example(user_missing="keep").data
    items = [i for f in gen.FACTORS for i, _ in gen.ITEMS[f]]
    assert (kept[items] == gen.REFUSED).to_numpy().sum() > 0
    assert (example.data[items] == gen.REFUSED).to_numpy().sum() == 0
    with pytest.raises(ValueError, match="no example dataset"):
        survey.load_example("nope")


def test_the_injected_problems_are_there(example):
    data = example.data
    answers = data.drop(columns=["respondent_id"])
    assert answers.duplicated().sum() == gen.N_DUPLICATES
    # speeders: under 60 s, far below the ~420 s median
    assert (data["duration_seconds"] < 60).sum() >= gen.N_SPEEDERS
    likert = [i for f in gen.FACTORS for i, _ in gen.ITEMS[f]]
    flat = (data[likert].nunique(axis=1) == 1) & (data[likert].notna().sum(axis=1) >= 12)
    assert flat.sum() >= gen.N_STRAIGHTLINERS


def test_factor_analysis_recovers_the_generating_structure(example):
    items = [i for f in gen.FACTORS for i, _ in gen.ITEMS[f]]
    result = survey.efa(example.data[items].dropna(), 4, method="ml", rotation="promax")
    loadings = result.loadings.to_numpy()
    primary = np.abs(loadings).argmax(axis=1)
    by_factor = {f: {int(primary[items.index(i)]) for i, _ in gen.ITEMS[f]} for f in gen.FACTORS}
    assert all(len(v) == 1 for v in by_factor.values())  # each scale on one factor
    assert len({next(iter(v)) for v in by_factor.values()}) == 4  # four distinct factors
    ds4 = loadings[items.index("DS4"), primary[items.index("DS4")]]
    assert ds4 < 0  # the reverse-keyed item loads negatively before reverse scoring


def test_the_documented_group_difference_is_there(example):
    data = example.data
    online = data[[i for i, _ in gen.ITEMS["online"]]].mean(axis=1)
    elderly = data["age_band"] == 4
    assert online[elderly].mean() < online[~elderly].mean() - 0.3
    assert (data.loc[elderly, "channel"] == 1).mean() < (data.loc[~elderly, "channel"] == 1).mean()
