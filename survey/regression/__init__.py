"""Regression for questionnaire data, one module per model family: linear (SPSS REGRESSION),
binary logistic (SPSS LOGISTIC REGRESSION), ordinal (SPSS PLUM / R MASS::polr) and multinomial
logit (SPSS NOMREG / R nnet::multinom); `design` holds what they share (dummy coding against a
reference category, input checks, collinearity)."""

from survey.regression.design import (
    CONSTANT,
    ConvergenceWarning,
    SeparationWarning,
    build_design,
    check_collinearity,
    numeric_column,
    require_columns,
    require_frame,
)
from survey.regression.linear_models import OLSResult, ols
from survey.regression.logistic_models import LogisticResult, hosmer_lemeshow, logistic
from survey.regression.multinomial_models import MultinomialResult, multinomial
from survey.regression.ordinal_models import OrdinalResult, ordinal_regression

__all__ = ["CONSTANT", "ConvergenceWarning", "LogisticResult", "MultinomialResult", "OLSResult",
           "OrdinalResult", "SeparationWarning", "build_design", "check_collinearity", "hosmer_lemeshow",
           "logistic", "multinomial", "numeric_column", "ols", "ordinal_regression", "require_columns",
           "require_frame"]
