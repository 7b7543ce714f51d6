"""Analyses that speak codebook: SurveyData in, scale names for item lists, labels in the output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError


@pytest.fixture(scope="module")
def example():
    return survey.load_example()


def _alpha_closed_form(items: pd.DataFrame) -> float:
    """Cronbach (1951): k / (k - 1) * (1 - sum of item variances / variance of the sum)."""
    k = items.shape[1]
    return k / (k - 1) * (1 - items.var(ddof=1).sum() / items.sum(axis=1).var(ddof=1))


def test_alpha_of_a_scale_named_in_the_codebook_reverses_its_reverse_keyed_items(example):
    scale = example.codebook.scales["sharing"]
    assert scale.reverse == ["DS4"]
    items = example.data[scale.items].dropna().copy()
    items["DS4"] = scale.high + scale.low - items["DS4"]
    result = survey.cronbach_alpha(example, "sharing")
    assert result.reversed == ["DS4"]
    assert result.alpha == pytest.approx(_alpha_closed_form(items), abs=1e-12)


def test_alpha_with_a_surveydata_and_no_items_needs_the_scale_named(example):
    with pytest.raises(SurveyAnalysisError, match="online"):
        survey.cronbach_alpha(example)


def test_an_unknown_scale_name_is_an_error_listing_the_codebook_scales(example):
    with pytest.raises(SurveyAnalysisError, match="'onlin'.*online"):
        survey.cronbach_alpha(example, "onlin")
    with pytest.raises(SurveyAnalysisError, match="SurveyData"):
        survey.cronbach_alpha(example.data, "online")


def test_user_missing_codes_count_as_missing_with_a_surveydata():
    raw = survey.load_example(user_missing="keep")
    kept = raw.data[raw.codebook.scales["online"].items]
    assert (kept == 99).any().any()
    clean = kept.where(kept != 99).dropna()
    assert survey.cronbach_alpha(raw, "online").alpha == pytest.approx(_alpha_closed_form(clean), abs=1e-12)


def test_efa_without_items_uses_the_codebook_scale_items_only(example):
    result = survey.efa(example, 4, rotation="none")
    expected = [item for scale in example.codebook.scales.values() for item in scale.items]
    assert list(result.to_frame().index) == expected
    assert not {"respondent_id", "gender", "duration_seconds"} & set(result.to_frame().index)


def test_kmo_accepts_scale_names(example):
    named = survey.kmo(example, ["online", "trust"])
    listed = survey.kmo(example.data, [*example.codebook.scales["online"].items, *example.codebook.scales["trust"].items])
    assert named.overall == pytest.approx(listed.overall, abs=1e-12)


def test_ols_dummy_codes_a_labelled_nominal_predictor_against_the_last_category(example):
    # with one categorical predictor, OLS reproduces the cell means: the constant is the mean of
    # the reference category and each B the difference of a category's mean from it
    result = survey.ols(example, "SAT", ["channel"])
    means = example.data.groupby("channel")["SAT"].mean()
    labels = example.codebook["channel"].value_labels
    assert result.references == {"channel": labels[4]}
    assert result.coefficients.loc["(Constant)", "B"] == pytest.approx(means[4], abs=1e-10)
    for code in (1, 2, 3):
        assert result.coefficients.loc[f"channel[{labels[code]}]", "B"] == pytest.approx(means[code] - means[4], abs=1e-10)
    assert any("帮办代办" in note and "last" in note for note in result.notes)
    assert "帮办代办" in result.summary()


def test_ols_reference_first_on_request(example):
    result = survey.ols(example, "SAT", ["gender"], reference="first")
    means = example.data.groupby("gender")["SAT"].mean()
    assert result.references == {"gender": "男"}
    assert result.coefficients.loc["gender[女]", "B"] == pytest.approx(means[2] - means[1], abs=1e-10)


def test_logistic_dummy_codes_gender_and_its_odds_ratio_is_the_cross_product_ratio(example):
    frame = example.data.assign(satisfied=(example.data["SAT"] >= 4).astype(int))
    data = survey.SurveyData(frame, example.codebook)
    result = survey.logistic(data, "satisfied", ["gender"])
    table = pd.crosstab(frame["gender"], frame["satisfied"])
    # male (1) against the reference female (2): (a d) / (b c) of the 2 x 2 table
    odds_ratio = (table.loc[1, 1] * table.loc[2, 0]) / (table.loc[1, 0] * table.loc[2, 1])
    assert result.coefficients.loc["gender[男]", "Exp(B)"] == pytest.approx(odds_ratio, rel=1e-8)
    assert result.notes and "女" in result.notes[0]


def test_factorial_anova_summary_gives_partial_eta_squared_per_effect():
    """R: summary(aov(len ~ supp * factor(dose), ToothGrowth)) (printed at r-statistics.co,
    "ANOVA Exercises in R"): supp SS 205.4, F 15.57; factor(dose) 2426.4, F 92.00;
    supp:factor(dose) 108.3, F 4.11; Residuals 54 df, 712.1. The design is balanced, so these
    sequential SS are also the Type III SS; partial eta² = SS / (SS + SS_error)."""
    from tests.survey.test_assumptions import TOOTH_LEN

    tooth = pd.DataFrame({"len": TOOTH_LEN, "supp": ["VC"] * 30 + ["OJ"] * 30,
                          "dose": ([0.5] * 10 + [1.0] * 10 + [2.0] * 10) * 2})
    result = survey.anova(tooth, "len", ["supp", "dose"])
    table = result.table
    printed = {"supp": (205.4, 15.57), "dose": (2426.4, 92.00), "supp x dose": (108.3, 4.11)}
    for effect, (ss, f) in printed.items():
        assert table.loc[effect, "SS"] == pytest.approx(ss, abs=0.05)
        assert table.loc[effect, "F"] == pytest.approx(f, abs=0.005)
        partial = ss / (ss + 712.1)
        assert table.loc[effect, "partial_eta2"] == pytest.approx(partial, abs=1e-4)
        assert f"{effect}: F(" in result.summary()
        assert f"partial eta² = {table.loc[effect, 'partial_eta2']:.3f}" in result.summary()
    assert table.loc["Error", "df"] == 54


def test_difference_analysis_of_surveydata_prints_value_labels(example):
    table = survey.difference_analysis(example, "SAT", ["gender", "channel"]).table
    assert table["level"].tolist()[:2] == ["男", "女"]
    assert table["level"].iloc[2] == "1. 网上办理"
    assert table["variable"].iloc[0] == example.codebook.label("gender")
    counts = example.data.groupby("gender")["SAT"].count()
    assert table["n"].tolist()[:2] == [counts[1], counts[2]]


def test_several_results_go_into_one_docx_numbered_on(example, tmp_path):
    docx = pytest.importorskip("docx")
    alpha = survey.cronbach_alpha(example, "online")
    fit = survey.ols(example, "SAT", ["gender", "OL1"])
    path = survey.render_table([alpha, fit], "docx", path=tmp_path / "chapter.docx", number=3)
    document = docx.Document(path)
    captions = [p.text for p in document.paragraphs if p.text.startswith("表")]
    assert len(document.tables) == 2
    assert [c.split()[0] for c in captions] == ["表3", "表4"]
    with pytest.raises(SurveyAnalysisError, match="empty"):
        survey.render_table([], "docx", path=tmp_path / "empty.docx")


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_tables_have_ordinary_permissions_under_the_umask(example, tmp_path, umask):
    import os
    import stat

    previous = os.umask(umask)
    try:
        path = survey.render_table(survey.cronbach_alpha(example, "online"), "docx", path=tmp_path / "t.docx")
        markdown = tmp_path / "t.md"
        survey.render_table(survey.cronbach_alpha(example, "online"), "markdown", path=markdown)
    finally:
        os.umask(previous)
    for written in (path, markdown):
        assert stat.S_IMODE(os.stat(written).st_mode) == 0o666 & ~umask


def _manual_score(example, name: str) -> pd.Series:
    """SPSS MEAN.n of a scale's items (n = the codebook's min_valid), reverse-keyed ones as high + low - x."""
    scale = example.codebook.scales[name]
    items = example.data[scale.items].astype(float).copy()
    for item in scale.reverse:
        items[item] = scale.high + scale.low - items[item]
    return items.mean(axis=1).where(items.notna().sum(axis=1) >= scale.min_valid)


def test_a_scale_name_among_variables_stands_for_its_scale_score(example):
    sharing, trust = _manual_score(example, "sharing"), _manual_score(example, "trust")
    both = pd.concat([sharing, trust], axis=1).dropna()
    r = both.corr().iloc[0, 1]
    result = survey.correlate(example, ["sharing", "trust"])
    assert result.r.loc["sharing", "trust"] == pytest.approx(r, abs=1e-12)
    # simple regression slope = cov(x, y) / var(x)
    slope = both.cov().iloc[0, 1] / both.iloc[:, 0].var()
    assert survey.ols(example, "trust", ["sharing"]).coefficients.loc["sharing", "B"] == pytest.approx(slope, rel=1e-10)
    means = pd.concat([sharing.rename("s"), example.data["gender"]], axis=1).dropna().groupby("gender")["s"].mean()
    groups = survey.anova(example, "sharing", "gender").groups
    assert groups["mean"].to_numpy() == pytest.approx(means.to_numpy(), rel=1e-12)


def test_oblimin_is_kaiser_normalized_by_default_as_spss_and_unnormalized_on_request_as_psych(example):
    """SPSS FACTOR normalizes rows before every rotation (Kaiser 1958: divide each row by the
    square root of its communality, rotate, multiply back); psych's fa passes oblimin to
    GPArotation unnormalized (kaiser_normalize=False)."""
    import inspect

    from survey.factor import efa
    from survey.rotation import rotate

    assert inspect.signature(efa).parameters["kaiser_normalize"].default is True
    unrotated = survey.efa(example, 4, method="paf", rotation="none").loadings.to_numpy()
    h = np.sqrt((unrotated**2).sum(axis=1))
    by_hand = rotate(unrotated / h[:, None], "oblimin", kaiser_normalize=False, tol=1e-8).loadings * h[:, None]
    spss = rotate(unrotated, "oblimin", tol=1e-8).loadings
    psych = rotate(unrotated, "oblimin", kaiser_normalize=False, tol=1e-8).loadings
    assert spss == pytest.approx(by_hand, abs=1e-6)
    assert np.abs(spss - psych).max() > 1e-4


def test_harman_on_surveydata_uses_the_scale_items_not_ids_or_durations(example):
    # PCA share of the first component = largest eigenvalue of R / number of items (Podsakoff et al. 2003)
    items = [item for scale in example.codebook.scales.values() for item in scale.items]
    r = example.data[items].dropna().corr().to_numpy()
    share = np.linalg.eigvalsh(r)[-1] / len(items)
    assert survey.harman_single_factor(example).first_share == pytest.approx(share, rel=1e-10)
