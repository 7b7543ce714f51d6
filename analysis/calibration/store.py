"""The history of a calibration in one SQLite file (`calibration.sqlite`): every simulation as
it finishes, then each finished generation's particles, weights, distances, epsilon, acceptance
rate and effective sample size.

Values are stored as JSON numbers (exact for doubles), so a resumed run reads back exactly what
an uninterrupted one computed. The file records the configuration it belongs to (priors, targets,
seed, population, batch size, quantile); opening it for another configuration is refused.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.calibration.priors import CalibrationError

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS simulations (
    generation INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    params TEXT NOT NULL,
    simulated TEXT NOT NULL,
    distance REAL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (generation, batch, idx)
);
CREATE TABLE IF NOT EXISTS generations (
    generation INTEGER PRIMARY KEY,
    epsilon REAL,
    simulations INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    acceptance REAL NOT NULL,
    ess REAL NOT NULL,
    simulations_total INTEGER NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS particles (
    generation INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    params TEXT NOT NULL,
    weight REAL NOT NULL,
    distance REAL NOT NULL,
    PRIMARY KEY (generation, idx)
);
"""


def _finite_or_none(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def _json_values(values: dict[str, float]) -> str:
    return json.dumps({k: _finite_or_none(float(v)) for k, v in values.items()}, sort_keys=True)


def _read_values(text: str) -> dict[str, float]:
    return {k: (math.nan if v is None else float(v)) for k, v in json.loads(text).items()}


class CalibrationStore:
    """An open calibration file (use `CalibrationStore.open(...)` as a context manager)."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path, self._db = path, db

    @classmethod
    def open(cls, path: str | Path, identity: dict[str, Any]) -> CalibrationStore:
        """Create the file for the configuration `identity`, or reopen it to resume it."""
        path = Path(path)
        if path.is_dir():
            raise CalibrationError(f"{path}: is a folder; the calibration store is a file "
                                   "(calibration.sqlite)")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(identity, sort_keys=True, ensure_ascii=False)
        try:
            db = sqlite3.connect(path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as error:
            raise CalibrationError(f"{path}: not a onenet calibration store ({error})") from None
        if not meta:
            with db:
                db.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("schema", SCHEMA_VERSION), ("configuration", text),
                    ("created_at", datetime.now(UTC).isoformat(timespec="seconds"))])
        elif meta.get("schema") != SCHEMA_VERSION:
            db.close()
            raise CalibrationError(f"{path}: written by an incompatible version (schema "
                                   f"{meta.get('schema')}, this version reads {SCHEMA_VERSION})")
        elif meta.get("configuration") != text:
            stored = json.loads(meta.get("configuration", "{}"))
            differ = sorted(k for k in set(stored) | set(identity) if stored.get(k) != identity.get(k))
            db.close()
            raise CalibrationError(f"{path}: holds a calibration with a different configuration "
                                   f"({', '.join(differ)} differ); choose another --out folder")
        return cls(path, db)

    def __enter__(self) -> CalibrationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def simulations(self, generation: int, batch: int) -> dict[int, tuple[str, dict[str, float]]]:
        """The finished simulations of one batch: index -> (params JSON, simulated values)."""
        rows = self._db.execute("SELECT idx, params, simulated FROM simulations "
                                "WHERE generation=? AND batch=?", (generation, batch)).fetchall()
        return {int(i): (p, _read_values(s)) for i, p, s in rows}

    def add_simulation(self, generation: int, batch: int, idx: int, params: str,
                       simulated: dict[str, float], distance: float) -> None:
        """Record one finished simulation and commit at once."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO simulations VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (generation, batch, idx, params, _json_values(simulated),
                              _finite_or_none(distance),
                              datetime.now(UTC).isoformat(timespec="seconds")))

    def add_generation(self, record: dict[str, Any], names: list[str], particles: np.ndarray,
                       weights: np.ndarray, distances: np.ndarray) -> None:
        """Record a finished generation and its particles (replacing an identical earlier record)."""
        rows = [(record["generation"], i, json.dumps(dict(zip(names, map(float, row), strict=True))),
                 float(w), float(d)) for i, (row, w, d) in enumerate(zip(particles, weights, distances,
                                                                         strict=True))]
        with self._db:
            self._db.execute("DELETE FROM particles WHERE generation=?", (record["generation"],))
            self._db.executemany("INSERT INTO particles VALUES (?, ?, ?, ?, ?)", rows)
            self._db.execute("INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (record["generation"], _finite_or_none(record["epsilon"]),
                              record["simulations"], record["accepted"], record["acceptance"],
                              record["ess"], record["simulations_total"],
                              datetime.now(UTC).isoformat(timespec="seconds")))

    def simulation_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM simulations").fetchone()[0])


def read_history(path: str | Path) -> pd.DataFrame:
    """The per-generation record of a calibration file (read-only)."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: no such calibration file")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return pd.read_sql_query("SELECT * FROM generations ORDER BY generation", db)
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as error:
        raise CalibrationError(f"{path}: not a onenet calibration store ({error})") from None
    finally:
        db.close()


__all__ = ["CalibrationStore", "read_history"]
