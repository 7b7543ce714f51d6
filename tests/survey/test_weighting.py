"""Weighting: properties that define post-stratification and raking (Deming & Stephan 1940),
and svymean's standard error formula (R survey package, Lumley 2010, section 2.2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.weighting import WeightingWarning


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(11)
    n = 400
    data = pd.DataFrame({"age": rng.choice(["18-39", "40-59", "60+"], n, p=[0.5, 0.35, 0.15]),
                         "area": rng.choice(["urban", "rural"], n, p=[0.75, 0.25])})
    data["sat"] = rng.normal(3.5, 0.8, n) - 0.4 * (data["age"] == "60+") - 0.3 * (data["area"] == "rural")
    return data


CENSUS_AGE = {"18-39": 0.38, "40-59": 0.36, "60+": 0.26}
CENSUS_AREA = {"urban": 0.55, "rural": 0.45}


def test_poststratified_cells_carry_their_population_shares(sample):
    cells = {(a, r): CENSUS_AGE[a] * CENSUS_AREA[r] for a in CENSUS_AGE for r in CENSUS_AREA}
    result = survey.poststratify(sample, ["age", "area"], cells)
    w = result.weights
    for (a, r), share in cells.items():
        mask = (sample["age"] == a) & (sample["area"] == r)
        assert w[mask].sum() == pytest.approx(share * len(sample))
        assert w[mask].nunique() == 1  # equal weights within a cell
    assert result.design_effect == pytest.approx(1 + w.var(ddof=0) / w.mean() ** 2)


def test_raking_reaches_every_margin_and_is_multiplicative(sample):
    """The raking solution is w_i = d_i exp(a_age(i) + b_area(i)) (Deming & Stephan 1940;
    Deville & Sarndal 1992): log-weights are additive in the margin categories."""
    result = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA})
    assert result.converged
    w = result.weights
    for margin, shares in (("age", CENSUS_AGE), ("area", CENSUS_AREA)):
        for level, share in shares.items():
            assert w[sample[margin] == level].sum() == pytest.approx(share * len(sample), rel=1e-7)
    design = pd.get_dummies(sample[["age", "area"]], drop_first=False).astype(float).to_numpy()
    coef, *_ = np.linalg.lstsq(design, np.log(w.to_numpy()), rcond=None)
    assert np.abs(design @ coef - np.log(w.to_numpy())).max() < 1e-6


def test_raking_one_margin_is_poststratification(sample):
    raked = survey.rake(sample, {"age": CENSUS_AGE}).weights
    post = survey.poststratify(sample, "age", CENSUS_AGE).weights
    pd.testing.assert_series_equal(raked, post, rtol=1e-9)


def test_trimming_bounds_weights_keeps_the_total_and_says_what_it_costs(sample):
    untrimmed = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}).weights
    assert untrimmed.max() > 2.0  # the 60+ rural cell needs a large weight
    with pytest.warns(WeightingWarning, match="margins are met only within"):
        result = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}, trim=(0.5, 2.0))
    w = result.weights
    assert w.min() >= 0.5 - 1e-9 and w.max() <= 2.0 + 1e-9
    assert w.sum() == pytest.approx(len(sample))
    assert not result.converged and result.design_effect < survey.rake(
        sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}).design_effect


def test_weighted_mean_se_is_svymean(sample):
    """svymean(~sat, svydesign(ids = ~1, weights = ~w)) SE = sqrt(n/(n-1) sum w^2 (y - ybar)^2) / sum w;
    with equal weights it is the textbook sd / sqrt(n)."""
    equal = survey.weighted_summary(sample, ["sat"], np.ones(len(sample)))
    assert equal["estimate"].iloc[0] == pytest.approx(sample["sat"].mean())
    assert equal["se"].iloc[0] == pytest.approx(sample["sat"].std(ddof=1) / np.sqrt(len(sample)))
    w = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}).weights
    table = survey.weighted_summary(sample, ["sat", "age"], w)
    y, ww, n = sample["sat"].to_numpy(), w.to_numpy(), len(sample)
    ybar = (ww * y).sum() / ww.sum()
    assert table.loc[0, "estimate"] == pytest.approx(ybar)
    assert table.loc[0, "se"] == pytest.approx(np.sqrt(n / (n - 1) * np.sum(ww**2 * (y - ybar) ** 2)) / ww.sum())
    props = table[table["variable"] == "age"].set_index("level")["estimate"]
    assert props.to_dict() == pytest.approx(CENSUS_AGE)
    assert table.loc[0, "estimate"] < sample["sat"].mean()  # weighting up the elderly and rural lowers it


def test_weights_that_cannot_reach_the_margins_are_refused(sample):
    with pytest.raises(SurveyAnalysisError, match=r"no respondent in 'age' = \['80\+'\]"):
        survey.rake(sample, {"age": {**CENSUS_AGE, "80+": 0.1}})
    with pytest.raises(SurveyAnalysisError, match="have no population figure"):
        survey.rake(sample, {"age": {"18-39": 0.5, "40-59": 0.5}})
    with pytest.raises(SurveyAnalysisError, match="totals disagree"):
        survey.rake(sample, {"age": {"18-39": 100, "40-59": 100, "60+": 100}, "area": {"urban": 50, "rural": 50}})
    with pytest.raises(SurveyAnalysisError, match="no column 'region'"):
        survey.rake(sample, {"region": {"east": 1.0}})
    with pytest.warns(WeightingWarning):
        survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}, max_iter=1, tol=1e-15)
