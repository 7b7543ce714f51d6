"""Channel choice (渠道选择): habit first, deliberate random-utility choice otherwise.

For a simple matter a citizen with a habitual channel uses it (with probability
`habit_strength`); complex or ambiguous matters, and citizens without a habit, choose by a
multinomial-logit rule: the channel with the highest utility plus a Gumbel shock, among the
channels available to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.population import HALL, NO_HABIT, ONLINE, PROXY, STATION
from simulation.scenario import Behaviour


@dataclass(frozen=True)
class ChoiceInputs:
    """Everything the choice rule needs about today's new cases (arrays of equal length)."""

    literacy: np.ndarray  # effective literacy (after digital assistance)
    aware: np.ndarray  # knows the online platform
    trust: np.ndarray
    hall_travel_minutes: np.ndarray
    station_travel_minutes: np.ndarray
    hall_wait_minutes: np.ndarray  # the wait the citizen expects at the hall (learned)
    station_wait_minutes: np.ndarray  # ... and at the township station
    complex: np.ndarray
    online_depth: np.ndarray
    station_available: np.ndarray
    proxy_available: np.ndarray
    elderly: np.ndarray
    habit: np.ndarray


def utilities(inputs: ChoiceInputs, b: Behaviour) -> np.ndarray:
    """Systematic utility of each channel (columns: online, station, hall, proxy).

    In-person channels cost the round trip and the wait the citizen expects there (learned from
    their own visits and from neighbours), so a crowded hall pushes people online or to stations
    and an idle one pulls them back.
    """
    n = inputs.literacy.shape[0]
    u = np.empty((n, 4))
    u[:, ONLINE] = (b.asc_online + b.beta_literacy * inputs.literacy + b.beta_trust * inputs.trust
                    + b.beta_complex_online * inputs.complex + b.depth3_online_bonus * (inputs.online_depth == 3))
    u[:, STATION] = (b.asc_station - b.beta_travel_hours * 2.0 * inputs.station_travel_minutes / 60.0
                     - b.beta_wait_hours * inputs.station_wait_minutes / 60.0)
    u[:, HALL] = (b.asc_hall - b.beta_travel_hours * 2.0 * inputs.hall_travel_minutes / 60.0
                  - b.beta_wait_hours * inputs.hall_wait_minutes / 60.0)
    u[:, PROXY] = (b.asc_proxy + b.beta_elderly_proxy * inputs.elderly
                   - b.beta_travel_hours * 2.0 * inputs.station_travel_minutes / 60.0)
    return u


def availability(inputs: ChoiceInputs) -> np.ndarray:
    """Which channels each citizen can use for this matter (the hall always)."""
    n = inputs.literacy.shape[0]
    available = np.zeros((n, 4), dtype=bool)
    available[:, ONLINE] = inputs.aware & (inputs.online_depth >= 2)
    available[:, STATION] = inputs.station_available
    available[:, HALL] = True
    available[:, PROXY] = inputs.proxy_available
    return available


def choose_channel(
    inputs: ChoiceInputs, b: Behaviour, gumbel: np.ndarray, habit_draw: np.ndarray
) -> np.ndarray:
    """The channel chosen for each case (0 online, 1 station, 2 hall, 3 proxy).

    Args:
        inputs: the cases' attributes.
        b: behavioural parameters.
        gumbel: standard Gumbel shocks, shape (n, 4).
        habit_draw: uniform draws deciding whether habit applies.
    """
    available = availability(inputs)
    scored = np.where(available, utilities(inputs, b) + gumbel, -np.inf)
    chosen = np.argmax(scored, axis=1).astype(np.int8)
    habit = inputs.habit
    has_habit = habit != NO_HABIT
    habit_ok = np.zeros_like(has_habit)
    rows = np.flatnonzero(has_habit)
    habit_ok[rows] = available[rows, habit[rows]]
    use_habit = habit_ok & ~inputs.complex & (habit_draw < b.habit_strength)
    return np.where(use_habit, habit, chosen).astype(np.int8)


def fallback_offline(inputs: ChoiceInputs, b: Behaviour, gumbel: np.ndarray) -> np.ndarray:
    """The offline channel a citizen turns to after an online attempt fails."""
    available = availability(inputs)
    available[:, ONLINE] = False
    scored = np.where(available, utilities(inputs, b) + gumbel, -np.inf)
    return np.argmax(scored, axis=1).astype(np.int8)


__all__ = ["ChoiceInputs", "choose_channel", "fallback_offline", "utilities", "availability",
           "ONLINE", "STATION", "HALL", "PROXY"]
