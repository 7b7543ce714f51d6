"""The public names of `survey`."""

from __future__ import annotations

import survey


def test_every_public_name_resolves_to_a_callable_even_after_its_module_is_imported():
    """A module named like its function (survey/describe.py with describe()) would shadow the
    function once imported; public names and module names must differ."""
    import importlib

    for name, module in survey._LAZY.items():
        if importlib.util.find_spec(module) is None:
            continue  # module of a later issue not present yet
        importlib.import_module(module)
        assert not isinstance(getattr(survey, name), type(survey)), f"survey.{name} is a module"
