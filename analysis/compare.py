"""Comparing arms: paired effects with confidence intervals, Holm adjustment, ranking, equity
and cost-effectiveness.

Because replication r of every arm runs with the same seed (common random numbers), the effect of
an arm on a KPI is estimated from the paired differences d_r = arm_r - baseline_r: mean, standard
error sd(d)/sqrt(n), a t interval with n - 1 degrees of freedom and the paired t-test. Within each
KPI the p-values of the arms are adjusted with Holm's step-down method (the family is "every arm
against the baseline on this KPI").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.experiment import BASELINE
from simulation.kpis import (
    GAP_KPIS,
    KPI_BETTER,
    KPI_LABELS,
    KPI_NAMES,
    minimal_important_difference,
)

# the KPIs a reform office asks about first; the ranking scores arms on these
HEADLINE_KPIS: tuple[str, ...] = (
    "visits_per_case", "share_at_most_once", "online_share", "wait_minutes_mean",
    "days_to_complete_mean", "satisfaction_mean",
)


def _pairs(runs: pd.DataFrame, arm: str, baseline: str, kpi: str) -> pd.Series:
    keys = ["replication", "sample"]
    a = runs[runs["arm"] == arm].set_index(keys)[kpi]
    b = runs[runs["arm"] == baseline].set_index(keys)[kpi]
    joined = pd.concat({"arm": a, "base": b}, axis=1, join="inner").dropna()
    return joined["arm"] - joined["base"]


def effects(runs: pd.DataFrame, *, baseline: str = BASELINE, kpis: Sequence[str] | None = None,
            confidence: float = 0.95) -> pd.DataFrame:
    """Effect of every arm on every KPI, paired by replication (and sample).

    Args:
        runs: one row per run with columns arm, replication, sample and the KPIs (as
            `run_experiment` or `ResultStore.kpis` return).
        baseline: the arm the others are compared with.
        kpis: which KPIs (default: every public KPI present).
        confidence: level of the intervals.

    Returns:
        A tidy DataFrame: kpi, arm, n (pairs), baseline_mean, arm_mean, diff, se, ci_low,
        ci_high, t, p, p_holm, rel_change, significant (Holm-adjusted p < 1 - confidence), mid
        (the KPI's minimal important difference, `simulation.kpis.KPI_MID`), meaningful
        (significant and |diff| >= mid), better (+1 meaningful improvement, -1 meaningfully
        worse, 0 otherwise or for KPIs without a direction).
    """
    need = {"arm", "replication", "sample"}
    if not need <= set(runs.columns):
        raise ValueError(f"runs need columns {sorted(need)}; got {sorted(runs.columns)}")
    if baseline not in set(runs["arm"]):
        raise ValueError(f"no runs of the baseline arm {baseline!r}; arms: {sorted(set(runs['arm']))}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1) (got {confidence})")
    kpis = list(kpis) if kpis is not None else [k for k in KPI_NAMES if k in runs.columns]
    arms = [a for a in dict.fromkeys(runs["arm"]) if a != baseline]
    rows = []
    for kpi in kpis:
        if kpi not in runs.columns:
            raise ValueError(f"unknown KPI {kpi!r}; available: {[c for c in runs.columns if c not in need]}")
        base_mean = float(runs.loc[runs["arm"] == baseline, kpi].mean())
        for arm in arms:
            d = _pairs(runs, arm, baseline, kpi).to_numpy(float)
            n = d.size
            mean = float(d.mean()) if n else float("nan")
            se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            if n > 1 and se > 0:
                half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
                t = mean / se
                p = float(2 * stats.t.sf(abs(t), n - 1))
            elif n > 1:  # identical in every replication: the effect is exact
                half, t, p = 0.0, (0.0 if mean == 0 else np.copysign(np.inf, mean)), (1.0 if mean == 0 else 0.0)
            else:
                half, t, p = float("nan"), float("nan"), float("nan")
            rows.append({"kpi": kpi, "arm": arm, "n": n, "baseline_mean": base_mean,
                         "arm_mean": float(runs.loc[runs["arm"] == arm, kpi].mean()), "diff": mean,
                         "se": se, "ci_low": mean - half, "ci_high": mean + half, "t": t, "p": p})
    table = pd.DataFrame(rows, columns=["kpi", "arm", "n", "baseline_mean", "arm_mean", "diff", "se",
                                        "ci_low", "ci_high", "t", "p"])
    table["p_holm"] = np.nan
    for _, index in table.groupby("kpi", sort=False).groups.items():
        p = table.loc[index, "p"]
        ok = p.notna()
        if ok.any():
            table.loc[p[ok].index, "p_holm"] = multipletests(p[ok].to_numpy(), method="holm")[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rel_change"] = table["diff"] / table["baseline_mean"].abs()
    alpha = 1 - confidence
    table["significant"] = table["p_holm"] < alpha
    table["mid"] = [minimal_important_difference(k, b) for k, b in zip(table["kpi"], table["baseline_mean"], strict=True)]
    table["meaningful"] = table["significant"] & (table["diff"].abs() >= table["mid"])
    direction = table["kpi"].map(lambda k: KPI_BETTER.get(k, 0)).to_numpy()
    table["better"] = np.where(table["meaningful"], direction * np.sign(table["diff"]), 0).astype(int)
    return table


def ranking(effect_table: pd.DataFrame, kpis: Sequence[str] = HEADLINE_KPIS) -> pd.DataFrame:
    """Arms ranked by their standardized improvement over the headline KPIs.

    Only meaningful effects (significant after Holm and at least the KPI's minimal important
    difference) count; the rest count as no change. Each KPI's effects are scaled by the largest
    absolute meaningful effect among the arms on that KPI, signed so that improvement is positive;
    an arm's score is the mean over the KPIs (1 = best on every KPI). Also counts the KPIs each
    arm meaningfully improves and worsens. Arms with equal scores are tied (`tied` names them).
    """
    rows = effect_table[effect_table["kpi"].isin(kpis)].copy()
    if rows.empty:
        raise ValueError(f"no effects for the ranking KPIs {list(kpis)}")
    counted = rows["meaningful"] if "meaningful" in rows else rows["better"] != 0
    rows["gain"] = np.where(counted, rows["diff"] * rows["kpi"].map(lambda k: KPI_BETTER.get(k, 0)), 0.0)
    scale = rows.groupby("kpi")["gain"].transform(lambda g: g.abs().max())
    rows["score"] = np.where(scale > 0, rows["gain"] / scale.where(scale > 0, 1.0), 0.0)
    out = rows.groupby("arm", sort=False).agg(
        score=("score", "mean"), improves=("better", lambda b: int((b > 0).sum())),
        worsens=("better", lambda b: int((b < 0).sum())))
    out = out.sort_values(["score", "improves"], ascending=[False, False])
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out.reset_index()
    out["tied"] = [", ".join(a for a, s in zip(out["arm"], out["score"], strict=True)
                             if a != arm and np.isclose(s, score)) for arm, score in zip(out["arm"], out["score"], strict=True)]
    return out


def equity(effect_table: pd.DataFrame) -> pd.DataFrame:
    """Effects on the rural and elderly gaps: does each arm narrow or widen them?"""
    rows = effect_table[effect_table["kpi"].isin(GAP_KPIS)].copy()
    rows["verdict"] = np.select([rows["better"] > 0, rows["better"] < 0], ["narrows", "widens"],
                                default="no clear change")
    return rows[["kpi", "arm", "baseline_mean", "diff", "ci_low", "ci_high", "p_holm", "verdict"]]


def cost_effectiveness(effect_table: pd.DataFrame, costs: Mapping[str, float], *,
                       cases_per_year: float) -> pd.DataFrame:
    """Cost per unit of improvement for arms whose overlays state a `cost_per_year`.

    Visits saved per year = -(effect on visits per case) x cases per year; the table gives the
    cost per visit saved and per 0.1 point of mean satisfaction (1-5 scale), each with the
    interval implied by the effect's confidence interval (NaN where the effect's interval includes
    no improvement).
    """
    rows = []
    for arm, cost in costs.items():
        if arm == BASELINE or not cost:
            continue
        entry: dict[str, float | str] = {"arm": arm, "cost_per_year": float(cost)}
        for kpi, unit, per in (("visits_per_case", "visit_saved", -cases_per_year),
                               ("satisfaction_mean", "0.1_satisfaction", 10.0)):
            e = effect_table[(effect_table["kpi"] == kpi) & (effect_table["arm"] == arm)]
            if e.empty:
                continue
            gain, low, high = (float(e[c].iloc[0]) * per for c in ("diff", "ci_low", "ci_high"))
            low, high = min(low, high), max(low, high)
            entry[f"gain_{unit}"] = gain
            entry[f"cost_per_{unit}"] = cost / gain if gain > 0 else float("nan")
            entry[f"cost_per_{unit}_best"] = cost / high if high > 0 else float("nan")
            entry[f"cost_per_{unit}_worst"] = cost / low if low > 0 else float("nan")
        rows.append(entry)
    return pd.DataFrame(rows)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values along the last axis (Holm 1979; as statsmodels' "holm")."""
    order = np.argsort(p, axis=-1, kind="stable")
    m = p.shape[-1]
    ranked = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    ranked = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    adjusted = np.empty_like(ranked)
    np.put_along_axis(adjusted, order, ranked, axis=-1)
    return adjusted


def _ranks(diffs: np.ndarray, base: np.ndarray, kpis: Sequence[str], confidence: float) -> np.ndarray:
    """Rank of each arm (1 = best) as `ranking(effects(...))` gives it, from paired differences
    `diffs` (kpi x arm x unit) and baseline values `base` (kpi x unit)."""
    n = diffs.shape[-1]
    mean = diffs.mean(axis=-1)
    se = diffs.std(axis=-1, ddof=1) / np.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / se
    p = np.where(se > 0, 2 * stats.t.sf(np.abs(t), n - 1), np.where(mean == 0, 1.0, 0.0))
    significant = _holm(p) < 1 - confidence
    mid = np.array([[minimal_important_difference(k, b)] for k, b in zip(kpis, base.mean(axis=-1), strict=True)])
    direction = np.array([[KPI_BETTER.get(k, 0)] for k in kpis])
    meaningful = significant & (np.abs(mean) >= mid)
    gain = np.where(meaningful, mean * direction, 0.0)
    better = np.where(meaningful, direction * np.sign(mean), 0)
    scale = np.abs(gain).max(axis=1, keepdims=True)
    score = np.where(scale > 0, gain / np.where(scale > 0, scale, 1.0), 0.0).mean(axis=0)
    improves = (better > 0).sum(axis=0)
    order = np.lexsort((-improves, -score))  # score first, then improvements, stable
    ranks = np.empty(order.size, dtype=int)
    ranks[order] = np.arange(1, order.size + 1)
    return ranks


def rank_uncertainty(runs: pd.DataFrame, *, baseline: str = BASELINE, kpis: Sequence[str] = HEADLINE_KPIS,
                     n_boot: int = 200, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """How sure the ranking is: `ranking(effects(runs))` recomputed on bootstrap resamples.

    The paired units (replication, sample) are resampled with replacement, all arms together, so
    the pairing under common random numbers is kept; each resample gets the same effects, Holm
    adjustment, MIDs and scores as `effects` and `ranking` compute.

    Returns:
        arm, rank (on the full data), rank_low and rank_high (2.5% and 97.5% quantiles of the
        rank over the resamples) and p_first (share of resamples in which the arm ranks first).
    """
    kpis = [k for k in kpis if k in runs.columns]
    arms = [a for a in dict.fromkeys(runs["arm"]) if a != baseline]
    if not arms or not kpis:
        raise ValueError("rank uncertainty needs at least one arm besides the baseline and a headline KPI")
    keys = ["replication", "sample"]
    base_frame = runs[runs["arm"] == baseline].set_index(keys)[kpis]
    units = base_frame.index
    for arm in arms:
        units = units.intersection(runs[runs["arm"] == arm].set_index(keys).index)
    if len(units) < 2:
        raise ValueError("rank uncertainty needs at least two paired replications")
    base = base_frame.loc[units].to_numpy(float).T  # kpi x unit
    diffs = np.stack([runs[runs["arm"] == arm].set_index(keys).loc[units, kpis].to_numpy(float).T - base
                      for arm in arms], axis=1)  # kpi x arm x unit
    if np.isnan(diffs).any():
        raise ValueError("rank uncertainty needs every headline KPI in every run (found NaN)")
    rng = np.random.default_rng(seed)
    full = _ranks(diffs, base, kpis, confidence)
    draws = np.array([_ranks(diffs[:, :, d], base[:, d], kpis, confidence)
                      for d in rng.integers(0, len(units), size=(n_boot, len(units)))])
    return pd.DataFrame({"arm": arms, "rank": full,
                         "rank_low": np.quantile(draws, 0.025, axis=0),
                         "rank_high": np.quantile(draws, 0.975, axis=0),
                         "p_first": (draws == 1).mean(axis=0)})


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:+.3f}" if abs(value) < 10 else f"{value:+,.1f}"


def verdict(effect_table: pd.DataFrame, ranked: pd.DataFrame, *, lang: str = "en") -> list[str]:
    """Plain sentences: the best arm overall and, per headline KPI, the arm that helps most."""
    lines = []
    best = ranked.iloc[0]
    if best["improves"] == 0:
        lines.append("No arm meaningfully improves any headline KPI (significant after Holm and at "
                     "least its minimal important difference).")
    else:
        tied = f"; tied with {best['tied']}" if best.get("tied") else ""
        lines.append(f"Best overall on the headline KPIs: {best['arm']} (score {best['score']:.2f}; "
                     f"meaningfully improves {best['improves']}, worsens {best['worsens']}{tied}).")
    for kpi in HEADLINE_KPIS:
        rows = effect_table[effect_table["kpi"] == kpi]
        if rows.empty:
            continue
        gain = rows["diff"] * KPI_BETTER.get(kpi, 0)
        top = rows.loc[gain.idxmax()]
        zh, en = KPI_LABELS.get(kpi, (kpi, kpi))
        label = f"{zh} {en}" if lang == "zh" else en
        effect = (f"{_fmt(top['diff'])} [{_fmt(top['ci_low'])}, {_fmt(top['ci_high'])}] "
                  f"vs baseline {top['baseline_mean']:.3g}")
        if top["better"] > 0:
            lines.append(f"{label}: most improved by {top['arm']}, {effect}.")
        else:
            lines.append(f"{label}: no arm meaningfully improves it (closest: {top['arm']}, {effect}; "
                         f"minimal important difference {top.get('mid', float('nan')):.3g}).")
    return lines


__all__ = ["HEADLINE_KPIS", "cost_effectiveness", "effects", "equity", "rank_uncertainty", "ranking",
           "verdict"]
