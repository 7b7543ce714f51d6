"""One writer per results folder: an exclusive `flock` on `FOLDER/.lock`.

The lock file holds the pid and the command of the process that writes the folder, so a second
process is refused at once with a message that names both. The operating system releases a
`flock` when its process dies (kill -9 included), so a lock left by a dead process is simply
taken over. POSIX only; where `fcntl` is missing the folder is used unlocked.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = ".lock"


class FolderBusyError(RuntimeError):
    """Another live process holds the folder's lock (the message names it)."""


class FolderLock:
    """Hold `folder/.lock` for the life of a `with` block (creates the folder)."""

    def __init__(self, folder: str | Path, command: str) -> None:
        self.folder, self.command = Path(folder), command
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise `FolderBusyError` at once (never waits)."""
        if fcntl is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise FolderBusyError(
                    f"{self.folder}: in use by another onenet process ({holder or 'pid unknown'}); "
                    "wait for it to finish, or choose another --out") from None
            # the holder before us may have removed the file while we waited to open it
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {self.command}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


__all__ = ["FolderBusyError", "FolderLock", "LOCK_NAME"]
