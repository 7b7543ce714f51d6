"""Property-based checks: on any input the readers and the main analyses give a valid result or
one of the project's own errors (`survey.errors.SurveyAnalysisError` and its subclasses) —
never another exception, and never a NaN or impossible number (alpha > 1, communality > 1,
F = inf) returned without a word.

The properties are the definitions: alpha = k/(k-1) (1 - sum var_i / var_total) <= 1, a
communality is a share of an item's unit variance, p-values lie in [0, 1], R² in [0, 1].
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the [test] extra")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import survey  # noqa: E402
from survey.errors import SurveyAnalysisError  # noqa: E402
from survey.factor import HeywoodWarning  # noqa: E402
from survey.io.readers import read  # noqa: E402
from survey.reliability import ReliabilityWarning  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
# a longer, random campaign by hand: ONENET_FUZZ_EXAMPLES=2000 pytest tests/survey/test_fuzz.py
EXAMPLES = int(os.environ.get("ONENET_FUZZ_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="ONENET_FUZZ_EXAMPLES" not in os.environ,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# ----------------------------------------------------------------------------- strategies

CELLS = st.one_of(
    st.integers(1, 5).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0]),
)


@st.composite
def frames(draw, min_cols: int = 2, max_cols: int = 5, max_rows: int = 25) -> pd.DataFrame:  # noqa: ANN001
    """Numeric frames with NaN, ±inf and constant columns mixed in among Likert-like answers."""
    k = draw(st.integers(min_cols, max_cols))
    n = draw(st.integers(0, max_rows))
    columns = {}
    for j in range(k):
        kind = draw(st.sampled_from(["likert", "likert", "mixed", "constant", "missing"]))
        if kind == "likert":
            values = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
        elif kind == "constant":
            values = [draw(st.integers(1, 5))] * n
        elif kind == "missing":
            values = [np.nan] * n
        else:
            values = draw(st.lists(CELLS, min_size=n, max_size=n))
        columns[f"q{j + 1}"] = pd.Series(values, dtype=float)
    return pd.DataFrame(columns)


def _outcome(call) -> object:  # noqa: ANN001
    """The result of `call`, or None when it raised one of the project's errors."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except SurveyAnalysisError:
            return None
    result_warnings = [w.category for w in caught]
    return result, result_warnings


def _finite(value: float, what: str) -> None:
    assert value is not None and math.isfinite(value), f"{what} = {value} returned silently"


def _probability(value: float, what: str) -> None:
    _finite(value, what)
    assert 0 <= value <= 1, f"{what} = {value} outside [0, 1]"


# ----------------------------------------------------------------------------- analyses


@SETTINGS
@given(frames(), st.sampled_from(["listwise", "pairwise"]))
def test_cronbach_alpha_is_at_most_one_or_an_error(frame, missing):
    out = _outcome(lambda: survey.cronbach_alpha(frame, list(frame.columns), missing=missing))
    if out is None:
        return
    result, caught = out
    _finite(result.alpha, "alpha")
    if result.alpha > 1 + 1e-12:  # only an improper (pairwise) covariance matrix gives it
        assert ReliabilityWarning in caught, "alpha > 1 without a warning"
    assert result.n >= 2


@SETTINGS
@given(frames(min_cols=3))
def test_omega_is_a_share_of_variance_or_an_error(frame):
    out = _outcome(lambda: survey.omega(frame, list(frame.columns)))
    if out is None:
        return
    result, caught = out
    _finite(result.omega_total, "omega_total")
    assert result.omega_total <= 1 + 1e-9 or HeywoodWarning in caught or any(
        issubclass(c, UserWarning) for c in caught)


@SETTINGS
@given(frames(min_cols=3, max_cols=6, max_rows=30), st.sampled_from(["pca", "paf", "minres", "ml"]),
       st.sampled_from(["none", "varimax", "promax", "oblimin"]))
def test_efa_communalities_are_shares_or_flagged(frame, method, rotation):
    out = _outcome(lambda: survey.efa(frame, 1, method=method, rotation=rotation))
    if out is None:
        return
    result, caught = out
    loadings = np.asarray(result.loadings, dtype=float)
    assert np.isfinite(loadings).all(), "loadings with NaN/inf returned"
    communalities = result.communalities["Extraction"].to_numpy(dtype=float)
    assert np.isfinite(communalities).all()
    if (communalities > 1 + 1e-6).any():
        assert HeywoodWarning in caught, "communality > 1 without a Heywood warning"


@SETTINGS
@given(frames(min_cols=1, max_cols=4))
def test_describe_reports_finite_numbers_or_an_error(frame):
    out = _outcome(lambda: survey.describe(frame, list(frame.columns)))
    if out is None:
        return
    table, _ = out
    assert (table["n"] >= 0).all()
    table = table.drop(index=table.attrs["text"])  # text columns: a count of answers, no statistics
    for column in ("mean", "min", "max"):
        present = table.loc[table["n"] > 0, column]
        assert np.isfinite(present.astype(float)).all(), f"{column} not finite with n > 0"
    assert (table.loc[table["n"] > 1, "sd"] >= 0).all()


@st.composite
def grouped(draw) -> pd.DataFrame:  # noqa: ANN001
    frame = draw(frames(min_cols=1, max_cols=1, max_rows=30))
    labels = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=len(frame), max_size=len(frame)))
    return frame.assign(g=pd.Series(labels, dtype=object))


@SETTINGS
@given(grouped())
def test_group_comparisons_give_finite_statistics_or_an_error(frame):
    for call in (lambda: survey.anova(frame, "q1", "g"), lambda: survey.welch_anova(frame, "q1", "g")):
        out = _outcome(call)
        if out is not None:
            result, _ = out
            _finite(result.F if hasattr(result, "F") else result.table["F"].iloc[0], "F")
    two = frame[frame["g"].isin(["a", "b"])]
    out = _outcome(lambda: survey.ttest(two, "q1", "g"))
    if out is not None:
        result, _ = out
        _finite(result.t, "t")
        _probability(result.p, "p")


@SETTINGS
@given(frames(min_cols=2, max_cols=4, max_rows=30))
def test_regression_gives_finite_coefficients_or_an_error(frame):
    outcome, *predictors = list(frame.columns)
    out = _outcome(lambda: survey.ols(frame, outcome, predictors))
    if out is None:
        return
    result, _ = out
    coefficients = result.coefficients
    assert np.isfinite(coefficients["B"].astype(float)).all()
    r2 = float(result.model_summary["R2"].iloc[-1])
    assert 0 <= r2 <= 1 + 1e-9


# ----------------------------------------------------------------------------- readers


def _read_quietly(path: Path) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return read(path)
        except SurveyAnalysisError:
            return None


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from([".csv", ".xlsx", ".xls", ".sav", ".dta", ".por"]))
def test_random_bytes_are_read_or_refused_clearly(tmp_path, raw, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(raw)
    _read_quietly(path)


CSV_TEXT = st.text(alphabet=st.sampled_from(list("ab,;\t\n\"' 12.-满意度\r")), max_size=120)


@SETTINGS
@given(CSV_TEXT, st.sampled_from(["utf-8", "gbk"]))
def test_random_csv_text_is_read_or_refused_clearly(tmp_path, text, encoding):
    path = tmp_path / "random.csv"
    path.write_bytes(text.encode(encoding))
    result = _read_quietly(path)
    if result is not None:
        assert result.n > 0
        assert not result.data.columns.duplicated().any()
        assert all(str(c).strip() for c in result.data.columns)


def _real_files() -> list[Path]:
    names = ["spss/sample.sav", "spss/sample.dta", "spss/sample.por", "spss/sample.csv",
             "wenjuanxing/wjx_export_by_number.xls"]
    return [REFERENCE / n for n in names if (REFERENCE / n).is_file()]


@pytest.mark.skipif(not _real_files(), reason=f"reference files not found under {REFERENCE}")
@SETTINGS
@given(st.data())
def test_truncated_real_files_are_read_or_refused_clearly(tmp_path, data):
    source = data.draw(st.sampled_from(_real_files()))
    raw = source.read_bytes()
    cut = data.draw(st.integers(0, len(raw) - 1))
    path = tmp_path / f"cut{source.suffix}"
    path.write_bytes(raw[:cut])
    _read_quietly(path)
