"""File permissions of what the toolkit writes: ordinary documents, as the user's umask allows."""

from __future__ import annotations

import os
import threading

_LOCK = threading.Lock()


def _umask() -> int:
    with _LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def ordinary_dir_mode() -> int:
    """0o777 less the umask (0o755 under umask 022), as os.mkdir would create a folder; mkdtemp makes 0700."""
    return 0o777 & ~_umask()


def ordinary_file_mode() -> int:
    """0o666 less the process umask (0o644 under the usual umask 022), as open() would create a file.

    Temporary files from tempfile.mkstemp are 0600; files renamed into place from one get this
    mode first, so a report or table is as readable as any file the user saves.
    """
    return 0o666 & ~_umask()
