"""CJK font discovery for matplotlib, so figures can carry Chinese labels (中文标签).

`find_cjk_font()` returns the first installed font of a preference list (Noto Sans CJK SC, Source
Han Sans, WenQuanYi, SimHei, Microsoft YaHei, PingFang SC, ...) or None; `cjk_font_or_warn()`
also warns with `CJKFontWarning`, saying how to install one, when none is found.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager

PREFERRED_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC", "Source Han Sans SC",
    "Source Han Sans CN", "Source Han Sans", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
    "Noto Sans CJK JP", "Noto Sans CJK TC", "AR PL UMing CN", "Droid Sans Fallback",
)

INSTALL_HINT = (
    "No CJK font found: figure labels fall back to English. To render Chinese labels install "
    "one, e.g. `apt-get install fonts-noto-cjk` (or fonts-wqy-microhei) on Debian/Ubuntu, or "
    "download Noto Sans CJK SC / Source Han Sans and register it with "
    "`matplotlib.font_manager.fontManager.addfont('/path/to/font.otf')` (or copy it to "
    "~/.fonts and delete matplotlib's font cache in `matplotlib.get_cachedir()`)."
)


class CJKFontWarning(UserWarning):
    """No font able to render Chinese characters is installed."""


@dataclass(frozen=True)
class FontChoice:
    """A font family matplotlib can use, and the file it comes from."""

    family: str
    path: Path


def _known_fonts() -> dict[str, Path]:
    return {entry.name: Path(entry.fname) for entry in font_manager.fontManager.ttflist}


def _register_system_fonts() -> None:
    """Add system fonts installed after matplotlib built its cache (e.g. a fresh apt install)."""
    known = {Path(entry.fname) for entry in font_manager.fontManager.ttflist}
    for fname in font_manager.findSystemFonts():
        path = Path(fname)
        lowered = path.name.lower()
        if path in known or not any(tag in lowered for tag in ("cjk", "wqy", "han", "hei", "ming",
                                                               "pingfang", "yahei", "droid")):
            continue
        try:
            font_manager.fontManager.addfont(str(path))
        except (OSError, RuntimeError, ValueError):
            continue


def find_cjk_font(preferred: tuple[str, ...] = PREFERRED_FAMILIES) -> FontChoice | None:
    """The first installed font of `preferred` that matplotlib can use, or None."""
    known = _known_fonts()
    if not any(name in known for name in preferred):
        _register_system_fonts()
        known = _known_fonts()
    for name in preferred:
        if name in known:
            return FontChoice(family=name, path=known[name])
    return None


_warned = False


def cjk_font_or_warn() -> FontChoice | None:
    """`find_cjk_font()`, warning with `CJKFontWarning` (and how to get one) when none is found;
    once per process, however many figures are drawn."""
    global _warned
    choice = find_cjk_font()
    if choice is None and not _warned:
        _warned = True
        warnings.warn(INSTALL_HINT, CJKFontWarning, stacklevel=2)
    return choice
