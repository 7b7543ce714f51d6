"""Timing of survey reliability / factor analyses beside factor_analyzer and pingouin, and of
the full `survey.report` chapter (HTML + Word + scree plot).

Goals (issue #3): the full report on 2,800 respondents x 25 items in under 3 s; each analysis at
least as fast as factor_analyzer or pingouin doing the same. Issue #11: CFA and SEM at least as fast
as semopy's ML fit of the same model (2,800 x 25 five-factor CFA; Holzinger-Swineford CFA;
Political Democracy SEM).

Run: python3 benchmarks/survey_analyses.py  (2,800 respondents x 25 five-point items, seeded).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey.factor import bartlett, efa, kmo  # noqa: E402
from survey.reliability import cronbach_alpha  # noqa: E402


def synthetic_items(n: int = 2800, k: int = 25, factors: int = 5, seed: int = 20240601) -> pd.DataFrame:
    """Five correlated factors with five 1-5 Likert items each (like psych's bfi)."""
    rng = np.random.default_rng(seed)
    phi = np.full((factors, factors), 0.25) + 0.75 * np.eye(factors)
    scores = rng.standard_normal((n, factors)) @ np.linalg.cholesky(phi).T
    pattern = np.zeros((k, factors))
    for item in range(k):
        pattern[item, item // (k // factors)] = rng.uniform(0.5, 0.8)
    latent = scores @ pattern.T + rng.standard_normal((n, k)) * np.sqrt(1 - (pattern**2).sum(axis=1))
    likert = np.clip(np.round(latent * 1.1 + 3), 1, 5)
    return pd.DataFrame(likert, columns=[f"q{i + 1:02d}" for i in range(k)])


def timed(function: Callable[[], object], repeat: int = 15) -> float:
    """Median wall time in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def competitor_tasks(data: pd.DataFrame) -> tuple[dict[str, Callable[[], object]], list[str]]:
    tasks: dict[str, Callable[[], object]] = {}
    notes: list[str] = []
    try:
        import pingouin

        tasks["cronbach_alpha"] = lambda: pingouin.cronbach_alpha(data, nan_policy="listwise")
    except Exception as error:  # a broken install is reported, not fatal
        notes.append(f"pingouin unavailable: {type(error).__name__}: {error}")
    try:
        from factor_analyzer import FactorAnalyzer
        from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

        def fa_fit(method: str, rotation: str) -> Callable[[], object]:
            return lambda: FactorAnalyzer(5, method=method, rotation=rotation).fit(data)

        calculate_kmo(data)
        tasks["kmo"] = lambda: calculate_kmo(data)
        tasks["bartlett"] = lambda: calculate_bartlett_sphericity(data)
        tasks["efa minres promax"] = fa_fit("minres", "promax")
        tasks["efa ml varimax"] = fa_fit("ml", "varimax")
        for name in ("efa minres promax", "efa ml varimax"):
            try:
                tasks[name]()
            except Exception as error:
                notes.append(f"factor_analyzer {name} failed: {type(error).__name__}: {error}")
                del tasks[name]
    except Exception as error:
        notes.append(f"factor_analyzer unavailable: {type(error).__name__}: {error}")
    return tasks, notes


FIVE_FACTORS = "\n".join(f"f{f + 1} =~ " + " + ".join(f"q{i + 1:02d}" for i in range(f * 5, f * 5 + 5))
                         for f in range(5))
PD_MODEL = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"""
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def sem_rows(data: pd.DataFrame, repeat: int = 7) -> tuple[list[dict[str, object]], list[str]]:
    """CFA/SEM beside semopy (ML, its default objective) on the same data and model."""
    from survey.confirmatory import cfa
    from survey.structural import sem

    cases: dict[str, tuple[str, pd.DataFrame, Callable[[], object]]] = {
        "cfa 5 factors x 5 items": (FIVE_FACTORS, data, lambda: cfa(FIVE_FACTORS, data))}
    notes: list[str] = []
    try:
        import semopy
        from semopy.examples import holzinger39, political_democracy
    except Exception as error:
        notes.append(f"semopy unavailable: {type(error).__name__}: {error}")
        semopy = None
    if semopy is not None:
        hs, pdd = holzinger39.get_data(), political_democracy.get_data()
        cases["cfa Holzinger-Swineford"] = (HS_MODEL, hs, lambda: cfa(HS_MODEL, hs))
        cases["sem Political Democracy"] = (PD_MODEL, pdd, lambda: sem(PD_MODEL, pdd))
    rows = []
    for name, (model, frame, ours) in cases.items():
        other = (lambda m=model, f=frame: semopy.Model(m).fit(f)) if semopy is not None else None
        rows.append({"analysis": name, "onenet ms": round(timed(ours, repeat), 2),
                     "other": "semopy" if other else "n/a",
                     "other ms": round(timed(other, repeat), 2) if other else float("nan")})
    return rows, notes


def report_seconds(data: pd.DataFrame, repeat: int = 3) -> float:
    """Median wall time of the whole chapter (5 scales, sample description, EFA, correlations)."""
    import tempfile

    from survey.codebook import Codebook, Scale, SurveyData, Variable
    from survey.reporting import report

    frame = data.copy()
    rng = np.random.default_rng(1)
    frame["gender"] = rng.integers(1, 3, len(frame))
    frame["age_band"] = rng.integers(1, 5, len(frame))
    book = Codebook(title="benchmark")
    book.add(Variable("gender", "性别", {1: "男", 2: "女"}, measure="nominal"))
    book.add(Variable("age_band", "年龄", {1: "18-29", 2: "30-44", 3: "45-59", 4: "60+"}, measure="ordinal"))
    for f in range(5):
        items = list(data.columns[f * 5:(f + 1) * 5])
        book.scales[f"f{f + 1}"] = Scale(f"f{f + 1}", items)
    survey_data = SurveyData(frame, book)
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            report(survey_data, folder)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def comparison_rows(data: pd.DataFrame) -> tuple[list[dict], list[str]]:
    """Group comparisons and the thesis analyses beside pingouin (or scipy) doing the same."""
    import survey

    try:
        import pingouin as pg
    except ImportError as error:
        return [], [f"pingouin unavailable: {error!r}"]
    from scipy import stats
    from statsmodels.stats.diagnostic import lilliefors

    rng = np.random.default_rng(7)
    frame = data.iloc[:, :6].copy()
    frame.columns = [f"q{i}" for i in range(1, 7)]
    frame["group"] = rng.integers(0, 4, len(frame))
    frame["pair"] = rng.integers(0, 2, len(frame))
    frame["cov"] = frame["q1"] + rng.normal(0, 1, len(frame))
    long = frame[["q1", "q2", "q3"]].reset_index().melt(id_vars="index", var_name="time", value_name="y")
    raters = frame[["q1", "q2", "q3", "q4"]].head(200)
    raters_long = raters.reset_index().melt(id_vars="index", var_name="rater", value_name="score")
    tasks = {
        "one-way ANOVA": (lambda: survey.anova(frame, "q1", "group"),
                          "pingouin", lambda: pg.anova(frame, dv="q1", between="group")),
        "Welch ANOVA": (lambda: survey.welch_anova(frame, "q1", "group"),
                        "pingouin", lambda: pg.welch_anova(frame, dv="q1", between="group")),
        "independent t": (lambda: survey.ttest(frame, "q1", "pair"),
                          "pingouin", lambda: pg.ttest(frame.q1[frame.pair == 0], frame.q1[frame.pair == 1])),
        "Levene (mean and median)": (lambda: survey.levene(frame, "q1", "group"),
                                     "scipy", lambda: [stats.levene(*[g.q1 for _, g in frame.groupby("group")],
                                                                    center=c) for c in ("mean", "median")]),
        "Shapiro-Wilk + Lilliefors": (lambda: survey.normality(frame, "q1"),
                                      "pingouin+statsmodels",
                                      lambda: (pg.normality(frame.q1), lilliefors(frame.q1, pvalmethod="approx"))),
        "Wilcoxon signed-rank": (lambda: survey.wilcoxon_signed_rank(frame, "q1", "q2"),
                                 "pingouin", lambda: pg.wilcoxon(frame.q1, frame.q2)),
        "Friedman": (lambda: survey.friedman(frame, ["q1", "q2", "q3"]),
                     "pingouin", lambda: pg.friedman(long, dv="y", within="time", subject="index")),
        "repeated-measures ANOVA": (lambda: survey.repeated_measures_anova(frame, ["q1", "q2", "q3"]),
                                    "pingouin", lambda: pg.rm_anova(long, dv="y", within="time", subject="index",
                                                                    correction=True)),
        "ANCOVA": (lambda: survey.ancova(frame, "q2", "group", "cov"),
                   "pingouin", lambda: pg.ancova(frame, dv="q2", between="group", covar="cov")),
        "partial correlation": (lambda: survey.partial_correlation(frame, "q1", "q2", "q3"),
                                "pingouin", lambda: pg.partial_corr(frame, x="q1", y="q2", covar="q3")),
        "ICC (six forms)": (lambda: survey.icc(raters),
                            "pingouin", lambda: pg.intraclass_corr(raters_long, targets="index", raters="rater",
                                                                   ratings="score")),
    }
    rows = []
    for name, (mine, who, theirs) in tasks.items():
        rows.append({"analysis": name, "onenet ms": round(timed(mine), 2), "other": who,
                     "other ms": round(timed(theirs), 2)})
    return rows, []


def main() -> None:
    data = synthetic_items()
    ours: dict[str, Callable[[], object]] = {
        "cronbach_alpha": lambda: cronbach_alpha(data),
        "kmo": lambda: kmo(data),
        "bartlett": lambda: bartlett(data),
        "efa minres promax": lambda: efa(data, 5, method="minres", rotation="promax"),
        "efa ml varimax": lambda: efa(data, 5, method="ml", rotation="varimax"),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, notes = competitor_tasks(data)
        rows = []
        for name, task in ours.items():
            other = theirs.get(name)
            rows.append({
                "analysis": name,
                "onenet ms": round(timed(task), 2),
                "other": ("pingouin" if name == "cronbach_alpha" else "factor_analyzer") if other else "n/a",
                "other ms": round(timed(other), 2) if other else float("nan"),
            })
        more, sem_notes = sem_rows(data)
        rows += more
        notes += sem_notes
        more, comparison_notes = comparison_rows(data)
        rows += more
        notes += comparison_notes
    table = pd.DataFrame(rows)
    table["speed-up"] = (table["other ms"] / table["onenet ms"]).round(1)
    print(f"{len(data)} respondents x {data.shape[1]} items")
    print(table.to_string(index=False))
    for note in notes:
        print("note:", note)
    print(f"full survey report (HTML + docx + scree plot): {report_seconds(data):.2f} s (goal < 3 s)")


if __name__ == "__main__":
    main()
