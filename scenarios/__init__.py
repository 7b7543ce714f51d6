"""Shipped scenario files (TOML data): the baseline county, case studies and countermeasures.

This package holds data only; `shipped_path` resolves a shipped name to its file.
"""

from __future__ import annotations

from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parent
COUNTERMEASURE_DIR = SCENARIO_DIR / "countermeasures"


def shipped_scenarios() -> list[str]:
    """Names of the shipped scenarios (file stems in this folder)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def shipped_countermeasures() -> list[str]:
    """Names of the shipped countermeasure overlays; a case study's own overlays are named
    with their folder, e.g. "q_county/staff_training"."""
    return sorted(p.relative_to(COUNTERMEASURE_DIR).with_suffix("").as_posix()
                  for p in COUNTERMEASURE_DIR.rglob("*.toml"))
