"""Validation of a calibration on its held-out targets (role `validate`, never in the fit).

Each held-out target should fall outside its 90% posterior-predictive interval with probability
0.10. With m misses among n held-out targets, the calibration fails when a one-sided binomial
test rejects that rate: P(X >= m | n, 0.10) < alpha (default 0.05).

The count alone cannot fail a calibration with one held-out target (P(X >= 1 | 1, 0.10) = 0.10),
however far outside it lies, so the calibration also fails when some held-out target is further
from its predictive mean than chance allows among n: |z| > z_crit = Phi^-1(1 - alpha / (2 n)),
z = (observed - predictive mean) / predictive sd (a Bonferroni bound: under the predictive
distribution, taken as normal, the chance that any of n targets lies that far is at most alpha).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy import stats

from analysis.calibration.priors import CalibrationError

FIT_COLUMNS = ("target", "role", "observed", "se", "pp_mean", "pp_low", "pp_high", "z", "covered")


@dataclass(frozen=True)
class CalibrationValidation:
    """The verdict on the held-out targets of a calibration folder."""

    table: pd.DataFrame
    held_out: int
    misses: int
    p_value: float
    alpha: float
    miss_rate: float
    z_critical: float = math.inf
    far: tuple[str, ...] = ()  # held-out targets with |z| > z_critical

    @property
    def passed(self) -> bool:
        return self.p_value >= self.alpha and not self.far


def read_targets_fit(folder: str | Path) -> pd.DataFrame:
    """`targets_fit.csv` of a calibration folder, checked for its columns and roles."""
    folder = Path(folder)
    path = folder / "targets_fit.csv"
    if not folder.is_dir():
        raise CalibrationError(f"{folder}: no such calibration folder")
    if not path.is_file():
        raise CalibrationError(f"{path}: missing; a calibration folder holds targets_fit.csv "
                               "(written with the posterior)")
    try:
        fit = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CalibrationError(f"{path}: not a readable CSV ({error})") from None
    missing = [c for c in FIT_COLUMNS if c not in fit.columns]
    if missing:
        raise CalibrationError(f"{path}: column(s) {missing} missing; expected {list(FIT_COLUMNS)}")
    bad_roles = sorted(set(fit["role"]) - {"calibrate", "validate"})
    if bad_roles:
        raise CalibrationError(f"{path}: role {bad_roles[0]!r} not allowed; allowed: calibrate, "
                               "validate")
    if fit["covered"].dtype != bool:
        raise CalibrationError(f"{path}: column covered must be True/False")
    return fit


def validate_calibration(folder: str | Path, *, alpha: float = 0.05,
                         miss_rate: float = 0.10) -> CalibrationValidation:
    """Pass/fail of the held-out targets of a calibration folder (see the module docstring).

    Raises:
        CalibrationError: the folder has no usable targets_fit.csv or no held-out targets.
    """
    fit = read_targets_fit(folder)
    held_out = fit[fit["role"] == "validate"].reset_index(drop=True)
    if held_out.empty:
        raise CalibrationError(f"{Path(folder) / 'targets_fit.csv'}: no held-out targets (role "
                               "validate); nothing to validate")
    misses = int((~held_out["covered"]).sum())
    p_value = float(stats.binom.sf(misses - 1, len(held_out), miss_rate))
    z_critical = float(stats.norm.ppf(1 - alpha / (2 * len(held_out)))) if alpha > 0 else math.inf
    z = pd.to_numeric(held_out["z"], errors="coerce").abs()
    far = tuple(str(t) for t in held_out.loc[z > z_critical, "target"])
    return CalibrationValidation(table=held_out, held_out=len(held_out), misses=misses,
                                 p_value=p_value, alpha=alpha, miss_rate=miss_rate,
                                 z_critical=z_critical, far=far)


__all__ = ["CalibrationValidation", "read_targets_fit", "validate_calibration"]
