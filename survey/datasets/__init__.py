"""Example questionnaire data shipped with the package (synthetic, labelled as such).

`load_example()` returns the `gov_services_satisfaction` dataset — 800 synthetic respondents
plus injected duplicates, speeders, straight-liners and missing answers — with its codebook. How
it was made, and the structure it hides, are documented in `survey.datasets.generate`.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

import numpy as np
import pandas as pd

from survey.codebook import SurveyData

EXAMPLES = ("gov_services_satisfaction",)


def load_example(name: str = "gov_services_satisfaction", *,
                 user_missing: Literal["nan", "keep"] = "nan") -> SurveyData:
    """Load a shipped example dataset with its codebook.

    Args:
        name: the dataset (see `EXAMPLES`).
        user_missing: "nan" turns user-missing codes (99 = refused) into missing values, as SPSS
            readers do by default; "keep" leaves the codes in the data (for cleaning tutorials).
    """
    if name not in EXAMPLES:
        raise ValueError(f"no example dataset {name!r}; available: {list(EXAMPLES)}")
    if user_missing not in ("nan", "keep"):
        raise ValueError(f"user_missing must be 'nan' or 'keep' (got {user_missing!r})")
    from survey.datasets.generate import codebook

    with files(__name__).joinpath(f"{name}.csv").open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    book = codebook()
    if user_missing == "nan":
        for column in frame.columns:
            variable = book.get(column)
            if variable.missing_values:
                frame[column] = frame[column].mask(variable.is_user_missing(frame[column]), np.nan)
    return SurveyData(frame, book)


__all__ = ["EXAMPLES", "load_example"]
