"""Error and warning classes shared by the survey analyses.

Bad input raises `SurveyAnalysisError` (a ValueError); doubtful results raise named warnings.
"""

from __future__ import annotations


class SurveyAnalysisError(ValueError):
    """An analysis cannot run on this input (unknown column, constant variable, collinearity...)."""


class SurveyAnalysisWarning(UserWarning):
    """An analysis ran but its result needs care (non-convergence, separation, sparse cells)."""
