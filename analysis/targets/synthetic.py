"""Synthetic targets: what the model itself reports at known settings (parameter recovery, teaching).

Questionnaire targets are `moments` of `respondents` simulated respondents, with their sampling
SEs (sd / sqrt(n)). KPI targets are the run's `kpis()`, with the sampling SE a records figure
would have over the run's volume of m completed cases — an approximation that treats cases as
independent draws and ignores between-run variation (the model's own noise, which a calibration
meets by simulating):

- shares p (at most once, online, rating participation): sqrt(p (1 - p) / m); the good-review
  rate over the m x participation rated cases; p is kept within [0.5/m, 1 - 0.5/m] so the SE of
  a share of 0 or 1 stays positive;
- counts per case (visits, resubmissions): Poisson, sqrt(mean / m);
- days to complete: sd of the respondents' days / sqrt(m);
- waits (per in-person visit): sd of the respondents' waits among those who visited / sqrt(v),
  with v = m x visits per case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from analysis.targets.defaults import default_validate, kpi_moments, questionnaire_moments
from analysis.targets.moments import moments
from analysis.targets.spec import INSTRUMENT, Moment, Target, TargetSet

if TYPE_CHECKING:
    from simulation.model import ServiceModel


def _share_se(p: float, m: float) -> float:
    q = min(max(p, 0.5 / m), 1 - 0.5 / m)
    return math.sqrt(q * (1 - q) / m)


def _sd(values: pd.Series) -> float:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.std(ddof=1)) if values.size > 1 else float("nan")


def kpi_standard_error(kpi: str, kpis: Mapping[str, float], respondents: pd.DataFrame) -> tuple[float, int]:
    """(SE, n) of a record KPI over the run's completed cases (the rules in the module docstring)."""
    m = float(kpis["cases_completed"])
    value = float(kpis[kpi])
    if not m or not math.isfinite(value):
        return float("nan"), 0
    if kpi in ("share_at_most_once", "share_zero_visit", "online_share", "rating_participation", "share_satisfied"):
        return _share_se(value, m), int(m)
    if kpi == "good_review_rate":
        rated = max(m * float(kpis["rating_participation"]), 1.0)
        return _share_se(value, rated), int(round(rated))
    if kpi in ("visits_per_case", "resubmissions_per_case"):
        return math.sqrt(max(value, 0.5 / m) / m), int(m)
    if kpi == "days_to_complete_mean":
        return _sd(respondents["days_to_complete"]) / math.sqrt(m), int(m)
    if kpi in ("wait_minutes_mean", "hall_wait_minutes_mean"):
        visits = max(m * float(kpis["visits_per_case"]), 1.0)
        visited = respondents.loc[respondents["visits"] > 0]
        if kpi == "hall_wait_minutes_mean":
            visited = visited.loc[visited["channel"] != "station"]
        return _sd(visited["wait_minutes"]) / math.sqrt(visits), int(round(visits))
    raise ValueError(f"no sampling rule for KPI {kpi!r}; synthetic KPI targets: {sorted(kpi_moments())}")


def synthetic_targets(model: ServiceModel, *, respondents: int, seed: int,
                      definitions: Mapping[str, Moment] | None = None,
                      validate: Sequence[str] | None = None, source: str = "",
                      meta: Mapping[str, object] | None = None,
                      instrument: str = INSTRUMENT) -> tuple[TargetSet, list[str]]:
    """Targets produced by a finished run: values, SEs and n as the module docstring says.

    Args:
        model: a model that has run (its KPIs and completed cases are read).
        respondents: simulated respondents answering the questionnaire.
        seed: the questionnaire's sampling seed (use `respondent_seed(run seed)`).
        definitions: the targets to produce (default: `questionnaire_moments()` and `kpi_moments()`).
        validate: names to mark `validate` (default: `default_validate()`); the rest `calibrate`.
        source: provenance written into every target.
        meta: the file's [meta] table (scenario, countermeasures, ...).

    Returns:
        The TargetSet and notes on targets left out (no respondent in a subgroup, no spread).
    """
    defs = dict(definitions) if definitions is not None else {**questionnaire_moments(instrument), **kpi_moments()}
    held_out = set(default_validate() if validate is None else validate)
    frame = model.administer(n=respondents, instrument=instrument, seed=seed)
    table = moments(frame, defs, instrument=instrument).set_index("name")
    kpis = model.kpis() if any(m.is_kpi for m in defs.values()) else {}
    targets: dict[str, Target] = {}
    notes: list[str] = []
    for name, moment in defs.items():
        if moment.is_kpi:
            value = float(kpis[moment.kpi])
            se, n = kpi_standard_error(str(moment.kpi), kpis, frame)
            n_eff = None
            how = f"sampling SE over {n} simulated records (approximation: see analysis.targets.synthetic)"
        else:
            row = table.loc[name]
            value, se, n, n_eff = float(row["value"]), float(row["se"]), int(row["n"]), float(row["n_eff"])
            how = f"sampling SE of {n} simulated respondents"
        if not (math.isfinite(value) and math.isfinite(se) and se > 0):
            notes.append(f"{name} ({moment.describe()}) left out: "
                         + ("no simulated respondent or case has it" if n == 0 else "no spread, so no usable SE"))
            continue
        targets[name] = Target(name=name, moment=moment, value=value, se=se, n=n or None, n_eff=n_eff,
                               source=source or "synthetic: simulated by onenet", se_note=how,
                               role="validate" if name in held_out else "calibrate")
    return TargetSet(targets, {k: v for k, v in (meta or {}).items() if v not in (None, [], "")}), notes

