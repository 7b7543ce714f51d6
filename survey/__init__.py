"""onenet-lab survey module: questionnaire data analysed the way SPSS and R do.

`import survey` is light: each public function is loaded from its module on first use, so a
thesis student never pulls in the simulation (or Mesa). Every name below lives in exactly one
module; `survey.<name>.__module__` tells which.

Where things live:
    io/             reading and writing files (SPSS, Stata, SAS, CSV, Excel, 问卷星, codebook TOML)
    codebook, inputs, cleaning, privacy, weighting, indices
                    the data model, what analyses accept, cleaning rules, personal data, weights
    descriptives, groups, assumptions, nonparametric, repeated, effect_sizes, relations
                    describing data and comparing groups (t, ANOVA, ANCOVA, Levene, normality,
                    Wilcoxon/Friedman/McNemar, repeated measures, correlations)
    regression/     linear, logistic, ordinal and multinomial models (one module per family)
    reliability, factor, rotation, method_bias, agreement
                    scales: alpha/omega, EFA, Harman's test, ICC and kappas
    confirmatory, structural, sem_estimation, lavaan_syntax, invariance
                    CFA and SEM in lavaan syntax, measurement invariance
    mediation_moderation, process_models
                    mediation, moderation, PROCESS models 4, 6, 7 and 14
    clustering, evaluation
                    k-means and hierarchical clusters; AHP, entropy weights, TOPSIS
    tables, reporting
                    thesis tables and the survey report chapter
"""

from __future__ import annotations

import importlib
from typing import Any

from survey.codebook import (
    Codebook,
    CodebookError,
    MultipleResponseSet,
    Scale,
    SurveyData,
    Variable,
)

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # data in / out
    "read": "survey.io.readers",
    "SurveyReadError": "survey.io.readers",
    "write": "survey.io.writers",
    "read_codebook": "survey.io.codebook_toml",
    "write_codebook": "survey.io.codebook_toml",
    # cleaning and scoring
    "clean": "survey.cleaning",
    "CleaningReport": "survey.cleaning",
    "score_scales": "survey.cleaning",
    # descriptives
    "frequencies": "survey.descriptives",
    "describe": "survey.descriptives",
    "crosstab": "survey.descriptives",
    # reliability and validity
    "cronbach_alpha": "survey.reliability",
    "item_total": "survey.reliability",
    "omega": "survey.reliability",
    # inter-rater agreement
    "icc": "survey.agreement",
    "cohen_kappa": "survey.agreement",
    "fleiss_kappa": "survey.agreement",
    "kmo": "survey.factor",
    "bartlett": "survey.factor",
    "efa": "survey.factor",
    "parallel_analysis": "survey.factor",
    "harman_single_factor": "survey.method_bias",
    # group comparisons
    "ttest": "survey.groups",
    "anova": "survey.groups",
    "ancova": "survey.groups",
    "welch_anova": "survey.groups",
    "posthoc": "survey.groups",
    "repeated_measures_anova": "survey.repeated",
    "chi2_test": "survey.groups",
    "mann_whitney": "survey.groups",
    "kruskal": "survey.groups",
    "difference_analysis": "survey.groups",
    # assumption checks
    "levene": "survey.assumptions",
    "normality": "survey.assumptions",
    # effect sizes with confidence intervals
    "cohens_d": "survey.effect_sizes",
    "eta_squared_ci": "survey.effect_sizes",
    # related-sample rank tests
    "wilcoxon_signed_rank": "survey.nonparametric",
    "friedman": "survey.nonparametric",
    "mcnemar": "survey.nonparametric",
    # relations
    "correlate": "survey.relations",
    "partial_correlation": "survey.relations",
    "ols": "survey.regression",
    "logistic": "survey.regression",
    "ordinal_regression": "survey.regression",
    "multinomial": "survey.regression",
    "mediation": "survey.mediation_moderation",
    "moderation": "survey.mediation_moderation",
    "parallel_mediation": "survey.process_models",
    "serial_mediation": "survey.process_models",
    "moderated_mediation": "survey.process_models",
    # measurement model
    "cfa": "survey.confirmatory",
    "sem": "survey.structural",
    "measurement_invariance": "survey.invariance",
    # cluster analysis
    "kmeans": "survey.clustering",
    "hierarchical_clusters": "survey.clustering",
    # comprehensive evaluation
    "ahp": "survey.evaluation",
    "entropy_weights": "survey.evaluation",
    "topsis": "survey.evaluation",
    # weighting and indices
    "rake": "survey.weighting",
    "poststratify": "survey.weighting",
    "weighted_summary": "survey.weighting",
    "ipa": "survey.indices",
    "satisfaction_index": "survey.indices",
    # tables and report
    "render_table": "survey.tables",
    "report": "survey.reporting",
    # shipped example data and instruments
    "load_example": "survey.datasets",
    "load_instrument": "survey.instruments",
    "list_instruments": "survey.instruments",
}

__all__ = [
    "Codebook",
    "CodebookError",
    "MultipleResponseSet",
    "Scale",
    "SurveyData",
    "Variable",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'survey' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
