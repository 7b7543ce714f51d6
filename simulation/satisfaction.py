"""Satisfaction (满意度) from expectation versus experience, and rating (好差评).

A completed case leaves the citizen with a latent judgement: a baseline, plus the staff's
attitude, minus the visits beyond what they were led to expect, the waiting, any overrun of the
legal time limit, resubmitted materials and a failed online attempt. The 1-5 answer cuts that
latent value at fixed thresholds; rating is more likely online and for extreme experiences.
"""

from __future__ import annotations

import numpy as np

from simulation.scenario import Behaviour

THRESHOLDS = np.array([-1.5, -0.5, 0.5, 1.5])


def latent_satisfaction(
    *,
    visits: np.ndarray,
    expected_visits: np.ndarray | float,
    wait_minutes: np.ndarray,
    days: np.ndarray,
    legal_days: np.ndarray,
    resubmissions: np.ndarray,
    attitude: np.ndarray,
    online_failed: np.ndarray,
    noise: np.ndarray,
    b: Behaviour,
) -> np.ndarray:
    """Latent satisfaction: experience relative to expectation (higher is better).

    `attitude` is the mean attitude (0..1) of the staff met; NaN (no staff met) counts as
    neutral. `noise` is standard normal, scaled by `satisfaction_noise`.
    """
    attitude_term = np.where(np.isnan(attitude), 0.0, 2.0 * (np.nan_to_num(attitude) - 0.5))
    extra_visits = np.maximum(visits - expected_visits, 0.0)
    overrun = np.maximum(days / legal_days - 1.0, 0.0)
    overdue = days > legal_days
    return (b.satisfaction_baseline
            + b.weight_attitude * attitude_term
            - b.weight_extra_visits * extra_visits
            - b.weight_wait_per_30min * wait_minutes / 30.0
            - b.weight_overdue * (overdue + overrun)
            - b.weight_resubmission * resubmissions
            - b.weight_online_failure * online_failed
            + b.satisfaction_noise * noise)


def likert(latent: np.ndarray) -> np.ndarray:
    """1-5 answer from a latent value (cut points -1.5, -0.5, 0.5, 1.5)."""
    return (1 + np.searchsorted(THRESHOLDS, latent, side="left")).astype(np.int8)


def rating_probability(score: np.ndarray, online: np.ndarray, b: Behaviour,
                       feedback_on: bool) -> np.ndarray:
    """Probability of leaving a rating: prompted online, at windows less often; extremes rate.

    With the evaluation-feedback loop on, windows prompt every citizen (rating pads, QR codes),
    so offline participation doubles.
    """
    offline = b.rating_prob_offline * (2.0 if feedback_on else 1.0)
    base = np.where(online, b.rating_prob_online, offline)
    return np.clip(base * (1.0 + b.rating_extremity * np.abs(score - 3) / 2.0), 0.0, 1.0)
