"""The result store of an experiment: one embedded SQLite file, one row per finished run.

Each run is committed the moment it finishes, with the package version, the content hash of the
scenario it ran and its seed, so an experiment killed midway keeps every finished run, and the
same command resumes it. The file records what experiment it holds; opening it for a different
experiment (other arms, seed, days or scenario contents) is refused rather than mixed.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from analysis.experiment import Experiment, RunOutcome, RunSpec

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    arm TEXT NOT NULL,
    replication INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    spawn_key TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    package_version TEXT NOT NULL,
    days INTEGER NOT NULL,
    kpis TEXT NOT NULL,
    daily TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (arm, replication, sample)
);
"""


class StoreError(ValueError):
    """A result file that cannot be used for this experiment (the message says why)."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onenet-lab")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _json_kpis(kpis: dict[str, float]) -> str:
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in kpis.items()}
    return json.dumps(clean, sort_keys=True)


class ResultStore:
    """An open result file (use `ResultStore.open(...)` as a context manager)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path, self._db = path, connection

    @classmethod
    def open(cls, path: str | Path, experiment: Experiment, *, hashes: dict[str, list[str]],
             costs: dict[str, float] | None = None) -> ResultStore:
        """Create the file for `experiment`, or reopen it to resume the same experiment."""
        path = Path(path)
        if path.exists() and path.is_dir():
            raise StoreError(f"{path}: is a folder; the result store is a file (results.sqlite)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        try:
            db = sqlite3.connect(path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path}: not a onenet result store ({error})") from None
        store = cls(path, db)
        identity = json.dumps(experiment.identity(), sort_keys=True, ensure_ascii=False)
        arm_hashes = json.dumps(hashes, sort_keys=True)
        meta = store._meta()
        if fresh or not meta:
            with db:
                db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                    ("schema", SCHEMA_VERSION), ("experiment", identity),
                    ("scenario_hashes", arm_hashes), ("costs", json.dumps(costs or {}, sort_keys=True)),
                    ("created_by", package_version()),
                    ("created_at", datetime.now(UTC).isoformat(timespec="seconds"))])
        else:
            if meta.get("schema") != SCHEMA_VERSION:
                db.close()
                raise StoreError(f"{path}: written by an incompatible version (schema "
                                 f"{meta.get('schema')}, this version reads {SCHEMA_VERSION})")
            if meta.get("experiment") != identity:
                db.close()
                raise StoreError(f"{path}: holds results of a different experiment (arms, seed, "
                                 "days, updates or samples differ); choose another --out folder")
            if meta.get("scenario_hashes") != arm_hashes:
                db.close()
                raise StoreError(f"{path}: the scenario or an overlay changed since these results "
                                 "were stored (content hash differs); choose another --out folder")
        return store

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    @property
    def costs(self) -> dict[str, float]:
        """Cost per year of each arm (sum of its overlays' stated costs)."""
        return json.loads(self._meta().get("costs", "{}"))

    def finished_keys(self) -> set[tuple[str, int, int]]:
        rows = self._db.execute("SELECT arm, replication, sample FROM runs").fetchall()
        return {(a, int(r), int(s)) for a, r, s in rows}

    def add(self, run: RunSpec, outcome: RunOutcome, *, scenario_hash: str) -> None:
        """Store one finished run and commit at once."""
        with self._db:
            self._db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.arm, run.replication, run.sample, run.seed, json.dumps([run.replication]),
                 scenario_hash, package_version(), run.days, _json_kpis(outcome.kpis),
                 outcome.daily.to_json(orient="split", double_precision=15), outcome.seconds,
                 datetime.now(UTC).isoformat(timespec="seconds")))

    def kpis(self) -> pd.DataFrame:
        """One row per finished run: arm, replication, sample, seed, then every KPI."""
        rows = self._db.execute(
            "SELECT arm, replication, sample, seed, kpis FROM runs ORDER BY replication, sample, rowid"
        ).fetchall()
        records: list[dict[str, Any]] = []
        for arm, rep, sample, seed, kpis in rows:
            values = {k: (float("nan") if v is None else v) for k, v in json.loads(kpis).items()}
            records.append({"arm": arm, "replication": rep, "sample": sample, "seed": seed, **values})
        return pd.DataFrame.from_records(records)

    def runs_info(self) -> pd.DataFrame:
        """Provenance of every run: seed, scenario hash, package version, days, seconds, time."""
        return pd.read_sql_query(
            "SELECT arm, replication, sample, seed, spawn_key, scenario_hash, package_version, days,"
            " seconds, finished_at FROM runs ORDER BY replication, sample, rowid", self._db)

    def daily(self, arm: str, replication: int = 0, sample: int = 0) -> pd.DataFrame:
        """The per-day KPIs of one run."""
        row = self._db.execute("SELECT daily FROM runs WHERE arm=? AND replication=? AND sample=?",
                               (arm, replication, sample)).fetchone()
        if row is None:
            raise KeyError(f"no finished run for arm {arm!r}, replication {replication}, sample {sample}")
        return pd.read_json(StringIO(row[0]), orient="split")

    def daily_all(self, arm: str, sample: int = 0) -> pd.DataFrame:
        """The per-day KPIs of every finished replication of an arm, stacked, with a
        `replication` column (index: day)."""
        rows = self._db.execute("SELECT replication, daily FROM runs WHERE arm=? AND sample=? "
                                "ORDER BY replication", (arm, sample)).fetchall()
        if not rows:
            raise KeyError(f"no finished run for arm {arm!r}, sample {sample}")
        frames = [pd.read_json(StringIO(daily), orient="split").assign(replication=int(rep))
                  for rep, daily in rows]
        return pd.concat(frames)


def read_store(path: str | Path) -> tuple[pd.DataFrame, dict[str, float]]:
    """KPIs of every run and the arms' costs, from a result file (read-only)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such result file")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        store = ResultStore(path, db)
        return store.kpis(), store.costs
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path}: not a onenet result store ({error})") from None
    finally:
        db.close()


class SampleStore:
    """The samples of a sensitivity study: one SQLite file, one row per finished parameter sample.

    A sample is keyed by its parameter values (their float64 bytes), so a design that repeats a
    point runs it once, and re-running the study skips every sample already stored. The file
    records the study it holds (`identity`: the study file's text, the scenario's content hash,
    the outcomes); opening it for another study is refused.
    """

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path, self._db = path, db

    @classmethod
    def open(cls, path: str | Path, identity: dict[str, Any]) -> SampleStore:
        """Open (or create) the store at `path` for the study `identity`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path)
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS samples (key BLOB PRIMARY KEY, outcomes TEXT)")
            wanted = json.dumps(identity, sort_keys=True)
            row = db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('identity', ?)", (wanted,))
                db.execute("INSERT INTO meta VALUES ('version', ?)", (package_version(),))
                db.commit()
            elif row[0] != wanted:
                db.close()
                raise StoreError(f"{path} holds the samples of another study (or of this study "
                                 "before it or its scenario changed); choose another --out")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path}: not a onenet sample store ({error})") from None
        return cls(path, db)

    def lookup(self, design: Any) -> dict[int, Any]:
        """Stored outcomes of the rows of `design` (row index -> outcome vector)."""
        import numpy as np

        rows = np.ascontiguousarray(design, dtype=np.float64)
        stored = dict(self._db.execute("SELECT key, outcomes FROM samples"))
        found = {}
        for i, row in enumerate(rows):
            text = stored.get(row.tobytes())
            if text is not None:
                found[i] = np.asarray(json.loads(text), dtype=np.float64)
        return found

    def add(self, row: Any, outcomes: Any) -> None:
        """Store one sample's outcomes (committed at once)."""
        import numpy as np

        key = np.ascontiguousarray(row, dtype=np.float64).tobytes()
        values = [float(v) if math.isfinite(float(v)) else None for v in np.ravel(outcomes)]
        self._db.execute("INSERT OR REPLACE INTO samples VALUES (?, ?)", (key, json.dumps(values)))
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        self._db.close()


__all__ = ["ResultStore", "SampleStore", "StoreError", "package_version", "read_store"]
