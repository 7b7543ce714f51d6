"""Weighting checked against R's survey package (Lumley; version 4.5 sources and saved test output)
and against properties that define post-stratification and raking.

R outputs used (files of the survey package, CRAN mirror on GitHub, cran/survey):
- tests/testoutput/api.Rout.saved (example(api)): svymean(~api00, dclus1) = 644.17;
  postStratify(dclus1, ~stype, pop.types): svymean(~api00) = 642.31, svytotal(~enroll) = 3680893,
  selection probabilities 1/w from 0.01854 to 0.03257.
- tests/rakecheck.Rout.save: rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
  control = list(epsilon = 1e-10, maxit = 30)): svymean(~api00) = 641.23, svytotal(~enroll) = 3647280.
- tests/deff.Rout.save: svymean(~uriage, svydesign(ids = ~1, weights = ~w)) = 113.700 (SE 35.626)
  with srs.w and 243.914 (SE 48.752) with pps.w.
The apiclus1 columns below are typed from the package's api data (data(api); 183 schools in 15
districts; its weight pw = 33.847 is the same for every school, so it drops out of
post-stratification and raking and is left out here).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyAnalysisError
from survey.weighting import (
    RakingConvergenceWarning,
    TrimmingWarning,
    WeightingWarning,
    trim_weights,
    weighted_mean_se,
)

APICLUS1_STYPE = (
    "HEEEEEEEEMMHEMEMEEMEMMEEEEEEEEEEHMEEHEEMEEEEMEMEEEEEEEEMHHHHEEEMEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEH"
    "HEMEEMEEEEEEEEEEEEMEHHHEEEEEEEEEEEEEEEEEEEEEEEEEMMMMEEEEEEEEMEEMEMEEEEEHEEEEEEMEMEE"
)
APICLUS1_SCH_WIDE = (
    "YYYYYYYYYYYYYYYNYYNYYNYYYYYYNYYYNNYYYYYNYYYYYYYYYYYYYYNYYYNYYNYYYYYYYYYNYYYYYYYNYYYYYYNYYYYYYYYYYYYN"
    "YYNYYYYYYNYYYYYYYYYYYYYYYYYYYNYYYYYYNNNYYYYYYYYNYYYYYYYYYYYYNYYYYNYYYYYYYYYYYYYYYYY"
)
APICLUS1_API00 = (
    "608 684 612 710 729 714 759 585 625 664 669 443 467 482 496 411 494 493 592 550 "
    "689 598 628 652 628 832 777 709 709 736 561 555 696 631 564 602 529 491 510 547 "
    "814 806 715 785 720 905 617 630 629 696 476 757 825 595 552 847 714 724 687 723 "
    "662 699 807 679 691 622 754 655 764 795 505 638 733 523 511 710 657 602 490 664 "
    "651 603 698 511 814 669 711 538 705 595 551 762 521 709 780 780 722 828 737 595 "
    "661 502 614 585 582 642 536 746 667 629 745 674 637 696 632 639 745 789 656 789 "
    "517 478 582 592 587 553 516 535 566 481 472 559 610 599 551 554 561 505 492 504 "
    "487 627 465 529 625 436 542 515 461 528 512 508 670 760 652 546 717 701 748 735 "
    "699 685 827 711 677 759 697 742 691 700 551 703 676 714 842 824 717 836 733 719 "
    "817 749 781 "
)
APICLUS1_ENROLL = (
    "1689 288 294 143 307 311 362 263 583 886 955 418 574 286 158 372 308 358 921 375 "
    "962 954 370 596 485 254 465 481 425 312 360 323 442 508 166 525 388 266 671 343 "
    "466 516 489 300 728 512 972 619 562 358 626 396 571 715 345 850 258 170 210 467 "
    "117 196 205 233 324 370 309 414 303 407 504 371 374 631 432 299 500 499 748 356 "
    "302 594 527 446 436 381 464 462 320 437 295 512 343 404 504 411 637 555 491 1585 "
    "1855 385 1015 483 576 1405 549 352 564 540 290 523 379 391 403 613 596 520 1573 371 "
    "1908 2181 2106 532 381 624 704 602 686 607 209 643 331 641 479 535 561 695 426 657 "
    "300 612 466 352 559 363 558 257 1243 1260 1306 1344 119 818 118 145 486 371 377 265 "
    "930 336 448 1023 387 940 525 427 390 358 274 2147 479 441 476 511 385 443 696 332 "
    "738 425 302 "
)


def apiclus1() -> pd.DataFrame:
    return pd.DataFrame({
        "stype": list(APICLUS1_STYPE),
        "sch.wide": ["Yes" if c == "Y" else "No" for c in APICLUS1_SCH_WIDE],
        "api00": [int(v) for v in APICLUS1_API00.split()],
        "enroll": [int(v) for v in APICLUS1_ENROLL.split()],
    })


POP_TYPES = pd.DataFrame({"stype": ["E", "H", "M"], "Freq": [4421, 755, 1018]})  # R: pop.types
POP_SCHWIDE = pd.DataFrame({"sch.wide": ["No", "Yes"], "Freq": [1072, 5122]})  # R: pop.schwide


def weighted_mean(values: pd.Series, w: pd.Series) -> float:
    return float((values * w).sum() / w.sum())


def test_the_typed_apiclus1_is_the_r_data():
    data = apiclus1()
    assert len(data) == 183 and data["stype"].value_counts().to_dict() == {"E": 144, "M": 25, "H": 14}
    table = survey.weighted_summary(data, ["api00"], np.full(183, 33.847))
    assert round(table.loc[0, "estimate"], 2) == 644.17  # svymean(~api00, dclus1)


def test_poststratification_matches_r_postStratify_on_apiclus1():
    data = apiclus1()
    result = survey.poststratify(data, "stype", POP_TYPES)
    w = result.weights
    assert round(weighted_mean(data["api00"], w), 2) == 642.31
    assert (data["enroll"] * w).sum() == pytest.approx(3680893, abs=1)
    assert round(1 / w.max(), 5) == 0.01854 and round(1 / w.min(), 5) == 0.03257  # summary(dclus1p)
    by_type = w.groupby(data["stype"]).sum()
    assert by_type.to_dict() == pytest.approx({"E": 4421, "H": 755, "M": 1018})
    assert w.groupby(data["stype"]).nunique().eq(1).all()  # equal weights within a cell
    as_dict = survey.poststratify(data, "stype", {"E": 4421, "H": 755, "M": 1018}).weights
    pd.testing.assert_series_equal(as_dict, w)


def test_raking_matches_r_rake_on_apiclus1():
    data = apiclus1()
    result = survey.rake(data, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, tol=1e-10, max_iter=30)
    w = result.weights
    assert result.converged and result.iterations <= 30
    assert round(weighted_mean(data["api00"], w), 2) == 641.23
    assert (data["enroll"] * w).sum() == pytest.approx(3647280, abs=1)
    assert result.achieved["difference"].abs().max() < 1e-6  # margins reproduced
    assert set(result.achieved["margin"]) == {"stype", "sch.wide"}
    # R's default control (maxit = 10, epsilon = 1) stops earlier but at the same estimate
    rough = survey.rake(data, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, tol=1, max_iter=10)
    assert round(weighted_mean(data["api00"], rough.weights), 2) == 641.23
    assert rough.iterations < result.iterations


def test_raking_keeps_the_cross_product_ratio_of_the_sample_table():
    """IPF keeps every odds ratio of the seed table (Mosteller 1968; Bishop, Fienberg & Holland
    1975, ch. 3), so for a 2x2 table the fitted cell a solves a (5 + a) / ((5 - a)(10 - a)) =
    7 * 7 / (9 * 12). Sample table [[7, 9], [12, 7]], row margins (5, 15), column margins (10, 10)
    (the census/survey example of Klemens, Modeling with Data, 2008, section on raking)."""
    counts = {("r1", "c1"): 7, ("r1", "c2"): 9, ("r2", "c1"): 12, ("r2", "c2"): 7}
    rows = [cell for cell, n in counts.items() for _ in range(n)]
    data = pd.DataFrame(rows, columns=["row", "col"])
    result = survey.rake(data, {"row": {"r1": 5, "r2": 15}, "col": {"c1": 10, "c2": 10}}, tol=1e-12, max_iter=200)
    k = 49 / 108
    a = np.roots([1 - k, 5 + 15 * k, -50 * k])
    a = a[(a > 0) & (a < 5)][0]
    fitted = result.weights.groupby([data["row"], data["col"]]).sum()
    assert fitted[("r1", "c1")] == pytest.approx(a, rel=1e-9)
    assert fitted[("r2", "c2")] == pytest.approx(5 + a, rel=1e-9)
    odds = fitted[("r1", "c1")] * fitted[("r2", "c2")] / (fitted[("r1", "c2")] * fitted[("r2", "c1")])
    assert odds == pytest.approx(k)


def test_raking_a_flat_table_gives_the_independence_table():
    """With one respondent per cell, IPF reaches m_ij = r_i c_j / N in one pass (the expected
    counts of independence; Deming & Stephan 1940)."""
    data = pd.DataFrame([(a, b) for a in "xyz" for b in "uv"], columns=["a", "b"])
    rows, cols = {"x": 20, "y": 30, "z": 50}, {"u": 60, "v": 40}
    result = survey.rake(data, {"a": rows, "b": cols})
    expected = [rows[a] * cols[b] / 100 for a, b in data.itertuples(index=False)]
    assert result.weights.to_list() == pytest.approx(expected)
    assert result.iterations == 2  # the second pass changes nothing: R's convergence rule


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


def test_poststratified_cells_carry_their_census_shares(sample):
    census = pd.DataFrame([(a, r, CENSUS_AGE[a] * CENSUS_AREA[r] * 1e6) for a in CENSUS_AGE for r in CENSUS_AREA],
                          columns=["age", "area", "people"])
    result = survey.poststratify(sample, ["age", "area"], census)
    for a, r, people in census.itertuples(index=False):
        mask = (sample["age"] == a) & (sample["area"] == r)
        assert result.weights[mask].sum() == pytest.approx(people)
    shares = {(a, r): CENSUS_AGE[a] * CENSUS_AREA[r] for a in CENSUS_AGE for r in CENSUS_AREA}
    scaled = survey.poststratify(sample, ["age", "area"], shares).weights
    assert scaled.sum() == pytest.approx(len(sample))  # shares: weights sum to n
    pd.testing.assert_series_equal(scaled, result.weights * len(sample) / 1e6)


def test_raking_is_multiplicative_in_the_margins(sample):
    """The raking solution is w_i = d_i exp(a_age(i) + b_area(i)) (Deming & Stephan 1940;
    Deville & Sarndal 1992): log-weights are additive in the margin categories."""
    result = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA})
    assert result.converged
    w = result.weights
    for margin, shares in (("age", CENSUS_AGE), ("area", CENSUS_AREA)):
        for level, share in shares.items():
            assert w[sample[margin] == level].sum() == pytest.approx(share * len(sample), rel=1e-6)
    design = pd.get_dummies(sample[["age", "area"]]).astype(float).to_numpy()
    coef, *_ = np.linalg.lstsq(design, np.log(w.to_numpy()), rcond=None)
    assert np.abs(design @ coef - np.log(w.to_numpy())).max() < 1e-6


def test_raking_to_one_margin_is_poststratification(sample):
    raked = survey.rake(sample, {"age": CENSUS_AGE}).weights
    post = survey.poststratify(sample, "age", CENSUS_AGE).weights
    pd.testing.assert_series_equal(raked, post, rtol=1e-12)


def test_raking_to_a_joint_margin_and_a_single_one(sample):
    sample = sample.assign(sex=np.where(np.arange(len(sample)) % 3 == 0, "m", "f"))
    joint = {(a, r): CENSUS_AGE[a] * CENSUS_AREA[r] for a in CENSUS_AGE for r in CENSUS_AREA}
    result = survey.rake(sample, {("age", "area"): joint, "sex": {"m": 0.49, "f": 0.51}})
    w = result.weights
    for (a, r), share in joint.items():
        assert w[(sample["age"] == a) & (sample["area"] == r)].sum() == pytest.approx(share * len(sample), rel=1e-6)
    assert w[sample["sex"] == "m"].sum() == pytest.approx(0.49 * len(sample), rel=1e-6)


def test_design_effect_is_kish_and_effective_n_follows(sample):
    """Kish (1965): deff = 1 + CV^2 of the weights = n sum w^2 / (sum w)^2; n_eff = n / deff."""
    result = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA})
    w = result.weights
    assert result.design_effect == pytest.approx(1 + w.var(ddof=0) / w.mean() ** 2)
    assert result.n_effective == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert survey.poststratify(sample, "age", {"18-39": 1, "40-59": 1, "60+": 1}).design_effect > 1
    assert survey.poststratify(sample, "age", sample["age"].value_counts()).design_effect == pytest.approx(1)


def test_trimming_follows_r_trimWeights():
    """survey:::do_trimWeights (R/grake.R): clip, then add the trimmed amount *equally* to the
    weights never trimmed; strict = TRUE repeats until nothing is outside. Worked by hand:
    (1, 1, 1, 1, 6) with upper 3 -> 3 trimmed off, + 0.75 each -> (1.75, 1.75, 1.75, 1.75, 3).
    (1, 3.5, 3.5, 8) with upper 4 -> (2.333, 4.833, 4.833, 4) -> the 4.833s trimmed, their 1.667
    goes to the first -> (4, 4, 4, 4)."""
    w, n_trimmed = trim_weights(np.array([1, 1, 1, 1, 6.0]), upper=3)
    assert w.tolist() == pytest.approx([1.75, 1.75, 1.75, 1.75, 3.0]) and n_trimmed == 1
    w, n_trimmed = trim_weights(np.array([1, 3.5, 3.5, 8.0]), upper=4)
    assert w.tolist() == pytest.approx([4.0, 4.0, 4.0, 4.0]) and n_trimmed == 3
    w, _ = trim_weights(np.array([0.1, 1, 1, 1.9]), lower=0.5)  # the 0.4 added is taken from all three others
    assert w.tolist() == pytest.approx([0.5, 1 - 0.4 / 3, 1 - 0.4 / 3, 1.9 - 0.4 / 3])
    with pytest.raises(SurveyAnalysisError, match="cannot hold"):
        trim_weights(np.array([1.0, 2.0, 3.0]), upper=1.5)


def test_raking_with_trimming_keeps_bounds_and_total_and_says_what_it_costs(sample):
    untrimmed = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA})
    assert untrimmed.weights.max() > 2.0  # the 60+ rural cell needs a large weight
    with pytest.warns(TrimmingWarning, match="margins are met only within"):
        result = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}, trim=(0.5, 2.0))
    w = result.weights
    assert w.min() >= 0.5 - 1e-9 and w.max() <= 2.0 + 1e-9
    assert w.sum() == pytest.approx(len(sample))
    assert result.trimmed > 0 and result.design_effect < untrimmed.design_effect
    assert "trimmed" in result.summary()


def test_svymean_of_a_weights_only_design_matches_r():
    """tests/deff.Rout.save of the survey package (data typed there as `kigyo`)."""
    kigyo = pd.DataFrame({"uriage": [15, 143, 21, 51, 337, 50, 274, 145, 15, 86],
                          "srs.w": [100] * 10, "pps.w": [20, 200, 11, 25, 550, 30, 250, 100, 10, 55]})
    srs = survey.weighted_summary(kigyo, ["uriage"], "srs.w").iloc[0]
    assert round(srs["estimate"], 3) == 113.700 and round(srs["se"], 3) == 35.626
    pps = survey.weighted_summary(kigyo, ["uriage"], kigyo["pps.w"]).iloc[0]
    assert round(pps["estimate"], 3) == 243.914 and round(pps["se"], 3) == 48.752
    assert pps["ci_low"] == pytest.approx(pps["estimate"] - 1.959964 * pps["se"])


def test_weighted_proportions_and_groups(sample):
    """A proportion is the weighted mean of a 0/1 indicator; with equal weights its SE is
    sqrt(p (1 - p) / (n - 1)) (the formula with w = 1). After raking the weighted shares are the
    census shares. svyby subsets the design, so a group's row equals the estimate on that subset."""
    equal = survey.weighted_summary(sample, ["age", "sat"], np.ones(len(sample)))
    props = equal[equal["variable"] == "age"].set_index("level")
    p, n = (sample["age"] == "60+").mean(), len(sample)
    assert props.loc["60+", "estimate"] == pytest.approx(p)
    assert props.loc["60+", "se"] == pytest.approx(np.sqrt(p * (1 - p) / (n - 1)))
    assert props["estimate"].sum() == pytest.approx(1.0)
    mean_row = equal[equal["variable"] == "sat"].iloc[0]
    assert mean_row["se"] == pytest.approx(sample["sat"].std(ddof=1) / np.sqrt(n))
    raked = survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA})
    table = survey.weighted_summary(sample, ["age", "sat"], raked)
    assert table[table["variable"] == "age"].set_index("level")["estimate"].to_dict() == pytest.approx(CENSUS_AGE)
    assert table[table["variable"] == "sat"]["estimate"].iloc[0] < sample["sat"].mean()  # elderly, rural weigh more
    grouped = survey.weighted_summary(sample, ["sat"], raked.weights, by="area")
    rural = sample["area"] == "rural"
    alone = survey.weighted_summary(sample[rural], ["sat"], raked.weights[rural]).iloc[0]
    row = grouped.set_index("group").loc["rural"]
    assert row["estimate"] == pytest.approx(alone["estimate"]) and row["se"] == pytest.approx(alone["se"])


def test_missing_answers_are_left_out_of_that_estimate(sample):
    data = sample.assign(sat=sample["sat"].where(np.arange(len(sample)) % 10 != 0))
    w = np.linspace(0.5, 1.5, len(data))
    row = survey.weighted_summary(data, ["sat"], w).iloc[0]
    ok = data["sat"].notna().to_numpy()
    est, se = weighted_mean_se(data["sat"].to_numpy()[ok], w[ok])
    assert row["n"] == ok.sum() and row["estimate"] == pytest.approx(est) and row["se"] == pytest.approx(se)


def test_weights_that_cannot_reach_the_margins_are_refused(sample):
    with pytest.raises(SurveyAnalysisError, match=r"no respondent in 'age' = \['80\+'\]"):
        survey.rake(sample, {"age": {**CENSUS_AGE, "80+": 0.1}})
    with pytest.raises(SurveyAnalysisError, match=r"\['60\+'\] occur in the sample but have no population figure"):
        survey.rake(sample, {"age": {"18-39": 0.5, "40-59": 0.5}})
    with pytest.raises(SurveyAnalysisError, match="totals disagree"):
        survey.rake(sample, {"age": {"18-39": 100, "40-59": 100, "60+": 100}, "area": {"urban": 50, "rural": 50}})
    with pytest.raises(SurveyAnalysisError, match=r"\['region'\] are not in the data"):
        survey.rake(sample, {"region": {"east": 1.0}})
    with pytest.raises(SurveyAnalysisError, match=r"no respondent in 'age x area' = \[\('60\+', 'mars'\)\]"):
        survey.poststratify(sample, ["age", "area"], {("60+", "mars"): 5, **{
            (a, r): 1 for a in CENSUS_AGE for r in CENSUS_AREA}})
    with pytest.raises(SurveyAnalysisError, match="no value of 'age'"):
        survey.poststratify(sample.assign(age=sample["age"].where(sample.index > 0)), "age", CENSUS_AGE)
    with pytest.raises(SurveyAnalysisError, match="base weights 'area'"):
        survey.rake(sample, {"age": CENSUS_AGE}, weight="area")


def test_raking_that_cannot_reach_its_margins_warns(sample):
    """Everyone rural is old here, so a rural share of 60% cannot coexist with an old share of 30%.
    IPF then settles (R's rule, change between passes < epsilon, is met) with the age margin off
    by 30: that must not pass as converged. A pass limit too small warns as in R."""
    data = pd.DataFrame({"age": ["young"] * 50 + ["old"] * 50, "area": ["urban"] * 80 + ["rural"] * 20})
    with pytest.warns(RakingConvergenceWarning, match="cannot reach these margins together: age = 'young'"):
        result = survey.rake(data, {"age": {"young": 0.7, "old": 0.3}, "area": {"urban": 0.4, "rural": 0.6}})
    assert not result.converged
    assert result.achieved.set_index("level").loc["young", "achieved"] == pytest.approx(40, abs=1e-3)
    assert issubclass(RakingConvergenceWarning, WeightingWarning)
    with pytest.warns(RakingConvergenceWarning, match="did not converge after 1 iterations"):
        assert not survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA}, max_iter=1).converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        survey.rake(sample, {"age": CENSUS_AGE, "area": CENSUS_AREA})  # a reachable target raises nothing
