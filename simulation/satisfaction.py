"""Satisfaction (满意度) as expectation-disconfirmation, and rating (好差评).

A completed case leaves the citizen with a latent judgement built as in the expectation-
disconfirmation model (Oliver 1980, J. Marketing Research 17: 460-469; for public services Van
Ryzin 2004, J. Policy Analysis and Management 23: 433-448, and 2013, JPART 23: 597-614):
experience is compared with what the citizen expected on visits, waiting and days, and the
disconfirmation — negative when the experience is worse, positive when it beats the expectation —
moves satisfaction. Losses weigh more than equal gains (Kahneman & Tversky 1979): a gain counts
`disconfirmation_gain_ratio` of a loss. Staff attitude, resubmitted materials, a failed online
attempt and an overrun of the legal time limit enter directly. The 1-5 answer cuts the latent value
at the scenario's cut points; rating is more likely online and for extreme experiences.
"""

from __future__ import annotations

import numpy as np

from simulation.scenario import Behaviour


def disconfirmation(better_by: np.ndarray, weight: float, gain_ratio: float) -> np.ndarray:
    """weight x d for d < 0 (experience worse than expected), gain_ratio x weight x d for d >= 0."""
    return weight * np.where(better_by < 0, better_by, gain_ratio * better_by)


def latent_satisfaction(
    *,
    visits: np.ndarray,
    expected_visits: np.ndarray | float,
    wait_minutes: np.ndarray,
    expected_wait_minutes: np.ndarray | float,
    days: np.ndarray,
    expected_days: np.ndarray | float,
    legal_days: np.ndarray,
    resubmissions: np.ndarray,
    attitude: np.ndarray,
    online_failed: np.ndarray,
    noise: np.ndarray,
    b: Behaviour,
) -> np.ndarray:
    """Latent satisfaction (higher is better):

        S = s0 + w_att (2 attitude - 1)
            + D(E[visits] - visits; w_visits) + D((E[wait] - wait) / 30; w_wait)
            + D((E[days] - days) / legal_days; w_days)
            - w_overdue (1[days > legal] + max(days / legal - 1, 0))
            - w_resub resubmissions - w_fail 1[online failed] + sigma e,

    with D(d; w) = w d for d < 0 and g w d for d >= 0 (g = `disconfirmation_gain_ratio`), e
    standard normal. `attitude` is the mean attitude (0..1) of the staff met; NaN (no staff met)
    counts as neutral.
    """
    g = b.disconfirmation_gain_ratio
    attitude_term = np.where(np.isnan(attitude), 0.0, 2.0 * (np.nan_to_num(attitude) - 0.5))
    overrun = np.maximum(days / legal_days - 1.0, 0.0)
    overdue = days > legal_days
    return (b.satisfaction_baseline
            + b.weight_attitude * attitude_term
            + disconfirmation(expected_visits - visits, b.weight_extra_visits, g)
            + disconfirmation((expected_wait_minutes - wait_minutes) / 30.0, b.weight_wait_per_30min, g)
            + disconfirmation((expected_days - days) / legal_days, b.weight_days_per_limit, g)
            - b.weight_overdue * (overdue + overrun)
            - b.weight_resubmission * resubmissions
            - b.weight_online_failure * online_failed
            + b.satisfaction_noise * noise)


def likert(latent: np.ndarray, cutpoints: list[float] | np.ndarray) -> np.ndarray:
    """1-5 answer from a latent value and four increasing cut points."""
    return (1 + np.searchsorted(np.asarray(cutpoints, dtype=float), latent, side="left")).astype(np.int8)


def latent_in_band(score: np.ndarray, cutpoints: list[float] | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A latent value consistent with a 1-5 answer: uniform between its cut points (the outer
    bands are taken as wide as the one next to them)."""
    cuts = np.asarray(cutpoints, dtype=float)
    edges = np.concatenate(([2 * cuts[0] - cuts[1]], cuts, [2 * cuts[-1] - cuts[-2]]))
    k = score.astype(np.int64) - 1
    low, high = edges[k], edges[k + 1]
    return low + (high - low) * rng.random(score.size)


def rating_probability(score: np.ndarray, online: np.ndarray, b: Behaviour,
                       offline_prompt: float = 1.0) -> np.ndarray:
    """Probability of leaving a rating: prompted online, at windows less often; extremes rate.

    `offline_prompt` multiplies offline participation (with the feedback loop on, windows prompt
    every citizen: rating pads, QR codes — `feedback.rating_prompt_multiplier`).
    """
    base = np.where(online, b.rating_prob_online, b.rating_prob_offline * offline_prompt)
    return np.clip(base * (1.0 + b.rating_extremity * np.abs(score - 3) / 2.0), 0.0, 1.0)
