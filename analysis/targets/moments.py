"""Questionnaire moments of respondents in the instrument's columns, and every target's simulated value.

`moments` is the one function that turns respondents into target values: the same call on real
respondents (a questionnaire mapped to the instrument, see `analysis.targets.mapping`) and on
simulated ones (`ServiceModel.administer`), so the two are treated identically. `simulated_values`
adds the KPI targets from the run's `kpis()`; `Simulator` is the `simulate(params, seed)` callable
a calibration needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.targets.spec import (
    INSTRUMENT,
    Moment,
    Target,
    TargetError,
    TargetSet,
    instrument_info,
)

if TYPE_CHECKING:
    from simulation.model import ServiceModel
    from simulation.scenario import Scenario

MOMENT_COLUMNS = ["name", "value", "se", "n", "n_eff"]


def definitions(targets: TargetSet | Mapping[str, Moment | Target] | Iterable[Target]) -> dict[str, Moment]:
    """{name: Moment} from a TargetSet, a mapping of moments or targets, or a list of targets."""
    if isinstance(targets, TargetSet):
        return targets.moments()
    if isinstance(targets, Mapping):
        return {name: (t.moment if isinstance(t, Target) else t) for name, t in targets.items()}
    return {t.name: t.moment for t in targets}


def _weights(frame: pd.DataFrame, weights: object) -> np.ndarray:
    if weights is None:
        return np.ones(len(frame))
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise TargetError(f"moments: weight column {weights!r} is not in the respondents; "
                              f"columns: {list(map(str, frame.columns))}")
        w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(float)
    elif isinstance(weights, pd.Series):
        w = pd.to_numeric(weights.reindex(frame.index), errors="coerce").to_numpy(float)
    else:
        w = np.asarray(weights, float)
    if w.shape != (len(frame),):
        raise TargetError(f"moments: {w.size} weights for {len(frame)} respondents")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise TargetError("moments: weights must be non-negative numbers, none missing, not all zero")
    return w


def _numeric(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    if column not in frame.columns:
        raise TargetError(f"moments: target {name!r} needs column {column!r}, which the respondents lack; "
                          f"columns: {list(map(str, frame.columns))}")
    values = pd.to_numeric(frame[column], errors="coerce")
    text = values.isna() & frame[column].notna()
    if text.any():
        raise TargetError(f"moments: column {column!r} (target {name!r}) holds non-numeric answers, e.g. "
                          f"{frame.loc[text, column].iloc[0]!r}; recode it to the instrument's codes")
    return values.astype(float)


def _equals(frame: pd.DataFrame, column: str, code: Any, name: str) -> pd.Series:
    """Rows whose `column` holds `code` (1, 1.0 alike); missing values never match."""
    if column not in frame.columns:
        raise TargetError(f"moments: target {name!r} needs column {column!r}, which the respondents lack; "
                          f"columns: {list(map(str, frame.columns))}")
    values = frame[column]
    if isinstance(code, int | float) and not isinstance(code, bool):
        return pd.to_numeric(values, errors="coerce") == code
    return values.astype(object) == code


def moment_estimate(y: np.ndarray, w: np.ndarray) -> tuple[float, float, int, float]:
    """Value, SE, n and Kish effective n of a (weighted) mean of `y`.

    value = sum w y / sum w; SE = sqrt(n / (n - 1) sum w^2 (y - value)^2) / sum w, the
    linearization SE of R's svymean(~y, svydesign(ids = ~1, weights = ~w)) (with w = 1 it is
    sd(y) / sqrt(n)); n_eff = (sum w)^2 / sum w^2 (Kish 1965, section 11.7).
    """
    from survey.weighting import weighted_mean_se

    n = int(y.size)
    if n == 0:
        return float("nan"), float("nan"), 0, 0.0
    value, se = weighted_mean_se(y, w)
    n_eff = float(w.sum() ** 2 / np.sum(w**2)) if np.sum(w**2) > 0 else 0.0
    return value, se, n, n_eff


def moments(frame: pd.DataFrame, targets: TargetSet | Mapping[str, Moment | Target] | Iterable[Target],
            weights: str | Sequence[float] | np.ndarray | pd.Series | None = None, *,
            instrument: str = INSTRUMENT) -> pd.DataFrame:
    """The questionnaire moments of `targets` on respondents `frame` (one row each, instrument columns).

    Each moment is a (weighted) mean of a per-respondent value over the respondents in its
    subgroup who have that value: the item's answer or the scale score (mean of the items when at
    least the scale's `min_valid` are answered, as `survey.score_scales`) for `mean`; a 0/1
    indicator of answering >= / <= the threshold for `share_at_least` / `share_at_most`; a 0/1
    indicator of the channel for `share_channel` (respondents with no channel left out).
    Standard errors and effective n are those of `moment_estimate` (R's svymean on a
    weights-only design; Kish's n_eff). KPI targets are not moments of respondents and are left
    out (see `simulated_values`).

    Args:
        frame: respondents in the instrument's columns (`ServiceModel.administer`, or real answers
            through `QuestionnaireMapping.apply`).
        targets: the definitions (a TargetSet, {name: Moment or Target}, or a list of Targets).
        weights: None (equal weights), a weight column of `frame`, or one weight per row.
        instrument: the instrument whose scales the frame answers.

    Returns:
        DataFrame with columns name, value, se, n, n_eff, one row per questionnaire target.
    """
    from survey.cleaning import score_scales

    defs = {k: m for k, m in definitions(targets).items() if not m.is_kpi}
    w_all = _weights(frame, weights)
    info = instrument_info(instrument)
    needed = sorted({m.scale for m in defs.values() if m.scale})
    for scale in needed:
        missing = [i for i in info.scales[scale].items if i not in frame.columns]
        if missing:
            raise TargetError(f"moments: scale {scale!r} needs items {missing}, which the respondents lack")
    scores = score_scales(frame, {s: info.scales[s] for s in needed}) if needed else pd.DataFrame(index=frame.index)
    rows = []
    for name, m in defs.items():
        inside = pd.Series(True, index=frame.index)
        for column, code in m.subgroup:
            inside &= _equals(frame, column, code, name)
        if m.statistic == "share_channel":
            if "channel" not in frame.columns:
                _equals(frame, "channel", m.channel, name)  # raises, naming the column
            defined = frame["channel"].notna()
            y = _equals(frame, "channel", m.channel, name).astype(float)
        else:
            values = scores[m.scale] if m.scale else _numeric(frame, str(m.item), name)
            defined = values.notna()
            if m.statistic == "mean":
                y = values
            elif m.statistic == "share_at_least":
                y = (values >= m.threshold).astype(float)
            else:
                y = (values <= m.threshold).astype(float)
        use = (inside & defined).to_numpy()
        value, se, n, n_eff = moment_estimate(y.to_numpy(float)[use], w_all[use])
        rows.append({"name": name, "value": value, "se": se, "n": n, "n_eff": n_eff})
    return pd.DataFrame(rows, columns=MOMENT_COLUMNS)


RESPONDENT_STREAM = 0x7A59E7


def respondent_seed(seed: int | np.random.SeedSequence) -> int:
    """The questionnaire's sampling seed for a run with `seed` (an int, or the SeedSequence a
    calibration hands each simulation): drawn from its own stream, so respondents and the run's
    citizens never share random numbers."""
    if isinstance(seed, np.random.SeedSequence):
        child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, RESPONDENT_STREAM))
        return int(child.generate_state(1)[0])
    return int(np.random.SeedSequence([int(seed), RESPONDENT_STREAM]).generate_state(1)[0])


def simulated_values(model: ServiceModel, targets: TargetSet | Mapping[str, Moment | Target] | Iterable[Target],
                     *, respondents: int = 500, seed: int = 0, instrument: str = INSTRUMENT) -> dict[str, float]:
    """Every target's simulated value from a finished run: KPI targets from `model.kpis()`,
    questionnaire targets from `moments(model.administer(n=respondents, seed=seed))`."""
    defs = definitions(targets)
    out: dict[str, float] = {}
    if any(m.is_kpi for m in defs.values()):
        kpis = model.kpis()
        out.update({name: float(kpis[m.kpi]) for name, m in defs.items() if m.is_kpi})
    questionnaire = {name: m for name, m in defs.items() if not m.is_kpi}
    if questionnaire:
        frame = model.administer(n=respondents, instrument=instrument, seed=seed)
        table = moments(frame, questionnaire, instrument=instrument)
        out.update(dict(zip(table["name"], table["value"].astype(float), strict=True)))
    return {name: out[name] for name in defs}


@dataclass(frozen=True)
class Simulator:
    """`simulate(params, seed) -> {target name: simulated value}` for a calibration.

    `params` are scenario parameter values by dotted path (e.g. {"citizens.awareness_rural": 0.3})
    laid over `scenario`; the model runs its warm-up and `days` measured days (default: the
    scenario's own) with `seed`, then `simulated_values` reads every target, the questionnaire
    answered by `respondents` citizens sampled with `respondent_seed(seed)`. A plain frozen
    dataclass, so process and Dask executors can ship it.
    """

    scenario: Scenario
    targets: TargetSet
    days: int | None = None
    respondents: int = 500

    @classmethod
    def build(cls, scenario: str | Path, targets: TargetSet, *, overlays: Sequence[str | Path] = (),
              days: int | None = None, respondents: int = 500) -> Simulator:
        """A simulator for a scenario file or shipped name with countermeasure overlays."""
        from simulation import load_scenario

        return cls(load_scenario(scenario, list(overlays)), targets, days, respondents)

    def __call__(self, params: Mapping[str, Any] | None,
                 seed: int | np.random.SeedSequence) -> dict[str, float]:
        from simulation import ServiceModel

        spec = self.scenario.with_updates(dict(params)) if params else self.scenario
        model = ServiceModel(spec, seed=seed)
        model.run(self.days)
        return simulated_values(model, self.targets, respondents=self.respondents,
                                seed=respondent_seed(seed), instrument=self.targets.instrument)


@dataclass(frozen=True)
class Conditions:
    """`simulate(params, seed)` over targets observed under several conditions — e.g. before and
    after a reform: each `Simulator` (the same place with different countermeasures) runs the
    same parameters with the same seed (common random numbers, so the conditions differ by their
    countermeasures, not their noise), and the values of all their targets are returned together."""

    simulators: tuple[Simulator, ...]

    def __post_init__(self) -> None:
        names = [name for s in self.simulators for name in s.targets.targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise TargetError(f"target {twice[0]!r} is defined under two conditions; give each "
                              "its own name")

    def __call__(self, params: Mapping[str, Any] | None,
                 seed: int | np.random.SeedSequence) -> dict[str, float]:
        values: dict[str, float] = {}
        for simulator in self.simulators:
            values.update(simulator(params, _fresh(seed)))
        return values


def _fresh(seed: int | np.random.SeedSequence) -> int | np.random.SeedSequence:
    """The same seed, unspent: a model spawns children from a SeedSequence, which advances it,
    so each condition gets its own copy and draws the very same random numbers."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    return seed
