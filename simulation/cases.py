"""The case book: one row per case (a matter a citizen needs done), stored as growable arrays.

Every open and completed case of a run lives here; the model updates rows in bulk by index, and
the KPIs and the questionnaire read completed rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.catalogue import Catalogue
from simulation.population import AGE_BANDS, CHANNELS, Population

# case stages
VISIT, BACKOFFICE, DONE = 1, 2, 3
# what a scheduled visit is for
SUBMIT, COLLECT = 0, 1

_FIELDS: dict[str, type] = {
    "citizen": np.int32,
    "matter": np.int16,
    "start_day": np.int32,
    "channel": np.int8,  # channel that finally handled the case
    "online_attempt": np.bool_,
    "online_failed": np.bool_,
    "visits": np.int16,
    "unserved_visits": np.int16,  # visits that ended without service (balked, turned away)
    "wait_minutes": np.float32,
    "expected_wait": np.float32,  # wait per visit the citizen expected at the chosen channel
    "travel_minutes": np.float32,
    "resubmissions": np.int16,  # times materials had to be submitted again
    "missing_known": np.int16,  # missing materials the citizen knows of
    "missing_hidden": np.int16,  # missing materials nobody has noticed yet
    "stage": np.int8,
    "purpose": np.int8,  # SUBMIT or COLLECT for a scheduled visit
    "route_pos": np.int8,  # next department on the route (sequential routing)
    "pending": np.int8,  # departments still to approve (parallel routing)
    "approved_by": np.int64,  # bit d set once department d has approved (parallel routing)
    "internal_routing": np.bool_,  # accepted by a comprehensive window / parallel approval
    "needs_collection": np.bool_,
    "done_day": np.int32,
    "satisfaction": np.int8,
    "rated": np.bool_,
    "good_review": np.bool_,
    "attitude_sum": np.float32,
    "contacts": np.int16,  # staff contacts (for mean attitude experienced)
    "last_staff": np.int32,
    "bounces": np.int16,
}


class CaseBook:
    """Growable column store of cases."""

    def __init__(self, capacity: int = 1024) -> None:
        self.size = 0
        self._capacity = max(16, capacity)
        self.columns: dict[str, np.ndarray] = {
            name: np.zeros(self._capacity, dtype=dtype) for name, dtype in _FIELDS.items()
        }
        self.columns["last_staff"][:] = -1

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("columns")
        if columns is not None and name in columns:
            return columns[name]
        raise AttributeError(name)

    def add(self, citizen: np.ndarray, matter: np.ndarray, day: int) -> np.ndarray:
        """Open new cases; returns their ids."""
        n = citizen.size
        needed = self.size + n
        if needed > self._capacity:
            new_capacity = max(needed, 2 * self._capacity)
            for name, column in self.columns.items():
                grown = np.zeros(new_capacity, dtype=column.dtype)
                if name == "last_staff":
                    grown[:] = -1
                grown[: self.size] = column[: self.size]
                self.columns[name] = grown
            self._capacity = new_capacity
        ids = np.arange(self.size, needed, dtype=np.int64)
        self.columns["citizen"][ids] = citizen
        self.columns["matter"][ids] = matter
        self.columns["start_day"][ids] = day
        self.size = needed
        return ids

    def completed(self) -> np.ndarray:
        """Ids of completed cases."""
        return np.flatnonzero(self.columns["stage"][: self.size] == DONE)

    def open_count(self) -> int:
        """Number of cases not yet completed."""
        return self.size - self.done_count

    done_count = 0  # maintained by the model as cases finish

    def completed_frame(self, catalogue: Catalogue, population: Population | None = None) -> pd.DataFrame:
        """Completed cases as a DataFrame with readable channel and matter names."""
        ids = self.completed()
        frame = pd.DataFrame({name: col[ids] for name, col in self.columns.items()
                              if name not in ("stage", "purpose", "route_pos", "pending", "approved_by",
                                              "missing_known", "missing_hidden")})
        frame.insert(0, "case", ids)
        frame["channel"] = np.asarray(CHANNELS, dtype=object)[frame["channel"].to_numpy()]
        frame["matter"] = np.asarray(catalogue.ids, dtype=object)[frame["matter"].to_numpy()]
        frame["days_to_complete"] = frame["done_day"] - frame["start_day"]
        if population is not None:
            who = frame["citizen"].to_numpy()
            frame["age_band"] = np.asarray(AGE_BANDS, dtype=object)[population.age_band[who]]
            frame["rural"] = population.rural[who]
            frame["enterprise"] = population.is_enterprise[who]
        return frame
