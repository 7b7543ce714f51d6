"""Calibration of uncertain parameters to targets: priors, adaptive ABC-PMC, its resumable
store, and the outputs that show and validate the posterior."""

from analysis.calibration.abc import CalibrationResult, calibrate
from analysis.calibration.priors import CalibrationError, Prior, Priors, load_priors

__all__ = ["CalibrationError", "CalibrationResult", "Prior", "Priors", "calibrate", "load_priors"]
