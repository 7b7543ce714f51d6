"""Comparison statistics: paired effects, Holm adjustment, ranking, equity, cost-effectiveness,
and the `onenet compare` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from analysis import compare as cmp
from analysis.cli import app


def _runs(values: dict[str, list[float]], kpi: str = "visits_per_case") -> pd.DataFrame:
    rows = []
    for arm, vals in values.items():
        for r, v in enumerate(vals):
            rows.append({"arm": arm, "replication": r, "sample": 0, kpi: v})
    return pd.DataFrame(rows)


BASE = [2.41, 2.52, 2.38, 2.47, 2.55, 2.44, 2.50, 2.39]
ARM = [2.20, 2.35, 2.21, 2.22, 2.40, 2.25, 2.31, 2.18]


def test_paired_effect_and_interval_equal_scipys_paired_t_test():
    """Outside source: scipy.stats.ttest_rel and its confidence_interval (the paired t-test)."""
    table = cmp.effects(_runs({"baseline": BASE, "a": ARM}), kpis=["visits_per_case"])
    row = table.iloc[0]
    ref = stats.ttest_rel(ARM, BASE)
    ci = ref.confidence_interval(0.95)
    assert row["n"] == 8
    assert row["diff"] == pytest.approx(np.mean(np.subtract(ARM, BASE)), abs=1e-12)
    assert row["t"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert row["better"] == 1  # fewer visits is better, and the effect is clear
    assert row["rel_change"] == pytest.approx(row["diff"] / np.mean(BASE))


def test_pairs_follow_replications_not_row_order():
    runs = _runs({"baseline": BASE, "a": ARM})
    shuffled = runs.sample(frac=1.0, random_state=np.random.default_rng(1).integers(1 << 31))
    pd.testing.assert_frame_equal(cmp.effects(shuffled, kpis=["visits_per_case"]),
                                  cmp.effects(runs, kpis=["visits_per_case"]))


def test_holm_adjustment_matches_r_p_adjust():
    """R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") gives 0.05 0.08 0.09 0.09 0.09
    (Holm 1979: sorted p_(i) x (m - i + 1), made monotone)."""
    target = [0.01, 0.02, 0.03, 0.04, 0.05]
    base = np.linspace(2.0, 2.7, 8)
    noise = np.array([0.3, -0.2, 0.1, -0.4, 0.25, -0.05, 0.15, -0.15])
    arms = {"baseline": list(base)}
    # build arms whose paired t-test p-value is exactly each target
    for i, p in enumerate(target):
        t = stats.t.isf(p / 2, 7)
        d = noise - noise.mean()
        d = d / (d.std(ddof=1) / np.sqrt(8))  # unit standard error
        d = d + t  # mean t, standard error 1 -> t statistic t
        arms[f"a{i}"] = list(base + d * 0.01)
    table = cmp.effects(_runs(arms), kpis=["visits_per_case"])
    assert table["p"].to_numpy() == pytest.approx(target, rel=1e-8)
    assert table["p_holm"].to_numpy() == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09], rel=1e-8)


def test_an_arm_identical_to_the_baseline_has_a_zero_effect_and_p_one():
    table = cmp.effects(_runs({"baseline": BASE, "same": BASE}), kpis=["visits_per_case"])
    row = table.iloc[0]
    assert row["diff"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0 and row["p"] == 1.0
    assert row["better"] == 0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="baseline arm 'baseline'"):
        cmp.effects(_runs({"a": ARM}))
    with pytest.raises(ValueError, match="unknown KPI 'nope'"):
        cmp.effects(_runs({"baseline": BASE, "a": ARM}), kpis=["nope"])
    with pytest.raises(ValueError, match="confidence"):
        cmp.effects(_runs({"baseline": BASE, "a": ARM}), confidence=95)


def _effect_rows(rows):
    frame = pd.DataFrame(rows, columns=["kpi", "arm", "diff", "better"])
    frame["baseline_mean"], frame["ci_low"], frame["ci_high"], frame["p_holm"] = 1.0, -1, 1, 0.01
    return frame


def test_ranking_rewards_improvement_in_the_kpis_direction():
    table = _effect_rows([
        ("visits_per_case", "good", -0.4, 1), ("visits_per_case", "bad", 0.2, -1),
        ("satisfaction_mean", "good", 0.3, 1), ("satisfaction_mean", "bad", 0.1, 1),
    ])
    ranked = cmp.ranking(table, kpis=("visits_per_case", "satisfaction_mean"))
    assert list(ranked["arm"]) == ["good", "bad"]
    assert ranked.set_index("arm").loc["good", "score"] == pytest.approx(1.0)
    assert ranked.set_index("arm").loc["bad", "worsens"] == 1


def test_equity_says_which_arms_narrow_the_gaps():
    table = _effect_rows([("online_share_gap_elderly", "inclusion", -0.05, 1),
                          ("online_share_gap_elderly", "apps_only", 0.04, -1),
                          ("visits_per_case", "inclusion", -0.1, 1)])
    verdicts = cmp.equity(table).set_index("arm")["verdict"]
    assert verdicts.to_dict() == {"inclusion": "narrows", "apps_only": "widens"}


def test_cost_effectiveness_is_cost_over_yearly_gain():
    table = _effect_rows([("visits_per_case", "x", -0.1, 1), ("satisfaction_mean", "x", 0.2, 1)])
    table["ci_low"] = [-0.15, 0.1]
    table["ci_high"] = [-0.05, 0.3]
    ce = cmp.cost_effectiveness(table, {"baseline": 0.0, "x": 50_000.0}, cases_per_year=100_000)
    row = ce.iloc[0]
    assert row["gain_visit_saved"] == pytest.approx(10_000)  # 0.1 visits x 100,000 cases
    assert row["cost_per_visit_saved"] == pytest.approx(5.0)
    assert row["cost_per_visit_saved_best"] == pytest.approx(50_000 / 15_000)
    assert row["cost_per_0.1_satisfaction"] == pytest.approx(50_000 / 2.0)


def test_onenet_compare_prints_effects_and_writes_results(tmp_path):
    out = tmp_path / "cmp"
    spec = tmp_path / "exp.toml"
    spec.write_text('[experiment]\nscenario = "baseline"\ncountermeasures = ["one_window", "run_at_most_once"]\n'
                    'replications = 3\nseed = 2\ndays = 20\n[experiment.updates]\n'
                    '"jurisdiction.population" = 30000\n"jurisdiction.enterprises" = 1200\n"hall.windows" = 12\n',
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["compare", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "run_at_most_once" in result.output and "Best overall" in result.output
    for name in ("results.sqlite", "effects.csv", "ranking.csv", "equity.csv",
                 "forest_visits_per_case.png", "equity_gaps.png", "series_online_share.png"):
        assert (out / name).exists(), name
    effects = pd.read_csv(out / "effects.csv")
    ramo = effects[(effects["arm"] == "run_at_most_once") & (effects["kpi"] == "share_at_most_once")]
    assert ramo["diff"].iloc[0] > 0 and ramo["better"].iloc[0] == 1


def test_onenet_compare_rejects_a_malformed_package(tmp_path):
    result = CliRunner().invoke(app, ["compare", "baseline", "--package", "oops", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "NAME=CM1+CM2" in result.output
    assert not (tmp_path / "o").exists()


def test_a_significant_effect_below_its_minimal_important_difference_is_not_meaningful():
    """visits_per_case has an MID of 0.05 visits: a tiny but perfectly consistent change is
    significant, yet no reform office would act on it, so it gets no ✓ and does not rank."""
    tiny = [b - 0.01 + 0.001 * (i % 3) for i, b in enumerate(BASE)]
    table = cmp.effects(_runs({"baseline": BASE, "tiny": tiny, "big": ARM}), kpis=["visits_per_case"])
    rows = table.set_index("arm")
    assert rows.loc["tiny", "significant"] and not rows.loc["tiny", "meaningful"]
    assert rows.loc["tiny", "mid"] == pytest.approx(0.05) and rows.loc["tiny", "better"] == 0
    assert rows.loc["big", "meaningful"] and rows.loc["big", "better"] == 1
    ranked = cmp.ranking(table, kpis=["visits_per_case"]).set_index("arm")
    assert ranked.loc["tiny", "score"] == 0 and ranked.loc["tiny", "improves"] == 0
    assert ranked.loc["big", "rank"] == 1


def test_relative_mids_scale_with_the_baseline():
    from simulation.kpis import KPI_MID, KPI_NAMES, minimal_important_difference

    assert set(KPI_NAMES) <= set(KPI_MID)  # every public KPI declares its MID
    assert minimal_important_difference("backlog_cases", 2000.0) == pytest.approx(100.0)
    assert minimal_important_difference("satisfaction_mean", 3.9) == pytest.approx(0.05)


def test_the_verdict_says_when_no_arm_meaningfully_helps():
    tiny = [b - 0.01 + 0.001 * (i % 3) for i, b in enumerate(BASE)]
    table = cmp.effects(_runs({"baseline": BASE, "tiny": tiny}), kpis=["visits_per_case"])
    lines = cmp.verdict(table, cmp.ranking(table, kpis=["visits_per_case"]))
    assert lines[0].startswith("No arm meaningfully improves")
