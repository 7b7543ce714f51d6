"""Calibration targets: named moments with observed values, from questionnaires, records or the model.

A **target** is a named moment — a KPI of the model's `kpis.json`, or a questionnaire moment on the
instrument's columns — with its observed value, standard error, n, source and role (`calibrate` or
`validate`). Questionnaire moments are computed by one function, `moments`, for real respondents
and for the model's (`ServiceModel.administer`), so both are treated identically;
`simulated_values(model, targets)` returns every target's value from a finished run, and
`Simulator` is the `simulate(params, seed)` callable a calibration runs.

Target file schema (TOML; loaded strictly by `load_targets`: an unknown key, a wrong type, an
unknown KPI, item, scale, channel or subgroup value, or se <= 0 is a `TargetError` naming the file
and the key)::

    [meta]                        # optional
    title = "..."                 # text
    description = "..."           # text
    scenario = "q_county"         # the scenario the targets describe (name or file)
    countermeasures = ["..."]     # overlays in force when the figures were observed
    instrument = "haochaping"     # the questionnaire the moments refer to (default haochaping)
    source = "..."                # provenance of the file as a whole

    [targets.NAME]                # one table per target; NAME is the target's name
    # the definition: exactly one of
    kpi = "share_at_most_once"    # a key of simulation.KPI_NAMES (no item/scale/subgroup then)
    statistic = "share_at_least"  # mean | share_at_least | share_at_most | share_channel
    item = "online_overall"       # mean/share_*: an answer item of the instrument, or
    scale = "online"              #   one of its scales (score = mean of the items, min_valid rule)
    threshold = 4                 # share_at_least (default 4) / share_at_most (required)
    channel = "online"            # share_channel: online | station | hall | proxy
    subgroup = { age_band = "60+", rural = 1 }  # optional: age_band, rural, enterprise, channel
    # the observation
    value = 0.71                  # number
    se = 0.02                     # number > 0 (assumed where the source gives none: say so below)
    n = 412                       # optional whole number: respondents or cases behind the value
    n_eff = 380.2                 # optional: Kish effective n of a weighted estimate
    source = "..."                # required: where the figure comes from
    role = "calibrate"            # calibrate (default) | validate (held out)
    description = "..."           # optional: what the figure is, in the source's words
    se_note = "uncertainty assumed: ..."  # optional: how se was obtained when the source gives none

Shipped target files live in `scenarios/calibration/<case>_targets.toml`; the mapping of the
example questionnaire onto the instrument is `scenarios/calibration/mappings/gov_services_satisfaction.toml`
(schema in `analysis.targets.mapping`).
"""

from __future__ import annotations

from analysis.targets.moments import (
    Conditions,
    Simulator,
    moment_estimate,
    moments,
    respondent_seed,
    simulated_values,
)
from analysis.targets.spec import (
    ROLES,
    STATISTICS,
    Moment,
    Target,
    TargetError,
    TargetSet,
    load_targets,
    parse_targets,
    targets_toml,
    write_targets,
)

__all__ = [
    "ROLES",
    "STATISTICS",
    "Conditions",
    "Moment",
    "Simulator",
    "Target",
    "TargetError",
    "TargetSet",
    "load_targets",
    "moment_estimate",
    "moments",
    "parse_targets",
    "respondent_seed",
    "simulated_values",
    "targets_toml",
    "write_targets",
]
