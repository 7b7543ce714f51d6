"""Questionnaire templates (instruments): codebooks of standard questionnaires.

`load_instrument("haochaping")` returns the codebook of the national 好差评 indicators — the same
columns `simulation.ServiceModel.administer()` answers — so real and simulated respondents are
analysed alike.
"""

from __future__ import annotations

from importlib.resources import as_file, files

from survey.codebook import Codebook


def list_instruments() -> list[str]:
    """Names of the shipped instruments."""
    return sorted(p.name[:-5] for p in files(__name__).iterdir() if p.name.endswith(".toml"))


def load_instrument(name: str) -> Codebook:
    """The codebook of a shipped instrument (see `list_instruments()`)."""
    from survey.io.codebook_toml import read_codebook

    available = list_instruments()
    if name not in available:
        raise ValueError(f"no instrument {name!r}; available: {available}")
    with as_file(files(__name__).joinpath(f"{name}.toml")) as path:
        return read_codebook(path)


__all__ = ["list_instruments", "load_instrument"]
