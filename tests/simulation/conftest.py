"""Shared fixtures: a smaller county that keeps model tests fast."""

from __future__ import annotations

import pytest

from simulation import load_scenario

SMALL = {
    "jurisdiction.population": 60_000,
    "jurisdiction.enterprises": 2_400,
    "hall.windows": 20,
}


def small_scenario(overlays=(), **updates):
    """The baseline county scaled to 60,000 residents (hall scaled alike, with a few windows more:
    a hall split into one-window pools needs slack for its morning peak)."""
    merged = dict(SMALL)
    merged.update({key.replace("__", "."): value for key, value in updates.items()})
    return load_scenario("baseline", list(overlays), updates=merged)


@pytest.fixture(scope="session")
def small():
    return small_scenario()
