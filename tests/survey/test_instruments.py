"""Shipped instruments load as strict codebooks."""

from __future__ import annotations

import pytest

import survey


def test_the_haochaping_instrument_has_the_national_indicators():
    cb = survey.load_instrument("haochaping")
    assert "haochaping" in survey.list_instruments()
    assert cb.scales["online"].items == ["online_overall", "online_efficiency", "online_guide_accuracy",
                                         "online_convenience", "online_operability"]
    assert cb.scales["offline"].items == ["offline_overall", "offline_efficiency",
                                          "offline_service_level", "offline_attitude"]
    assert cb.value_label("offline_attitude", 5) == "非常满意"
    assert cb.value_label("channel", "proxy").startswith("帮办代办")


def test_an_unknown_instrument_is_named():
    with pytest.raises(ValueError, match="no instrument 'servqual'"):
        survey.load_instrument("servqual")

