"""Real processes: one writer per results folder, no orphaned workers, Ctrl-C that says how to resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.folderlock import LOCK_NAME, FolderBusyError, FolderLock

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def _tiny_experiment(folder: Path, replications: int, days: int) -> Path:
    path = folder / "experiment.toml"
    path.write_text(
        '[experiment]\nscenario = "baseline"\ncountermeasures = ["data_sharing"]\n'
        f"replications = {replications}\ndays = {days}\n"
        'updates = { "jurisdiction.population" = 3000, "jurisdiction.enterprises" = 60, '
        '"scenario.warmup_days" = 0 }\n', encoding="utf-8")
    return path


def _onenet(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analysis.cli", *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a live process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _children(pid: int) -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _stat(int(entry.name))) and info[1] == pid:
            found[int(entry.name)] = info[2]
    return found


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_second_writer_is_refused_at_once_naming_the_folder_and_the_holder(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from analysis.folderlock import FolderLock; "
         "lock = FolderLock(sys.argv[1], 'onenet compare holder'); lock.acquire(); "
         "print('locked', flush=True); time.sleep(60)", str(out)],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        second = _onenet("compare", "baseline", "-c", "data_sharing", "--reps", "2", "--days", "2",
                         "--out", str(out))
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2, err
        assert f"{out}: in use by another onenet process (pid {holder.pid}: onenet compare holder)" in err
        assert "Traceback" not in err and time.monotonic() - started < 30
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written beside the lock
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: its lock is taken over, not a reason to refuse
    with FolderLock(out, "next"):
        assert (out / LOCK_NAME).read_text().startswith(f"pid {os.getpid()}: next")
    assert not (out / LOCK_NAME).exists()


def test_a_lock_file_left_by_a_dead_process_is_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text("pid 999999999: onenet compare old\n")
    with FolderLock(tmp_path, "onenet compare new") as lock:
        assert lock.path.read_text() == f"pid {os.getpid()}: onenet compare new\n"
        with pytest.raises(FolderBusyError, match=f"pid {os.getpid()}"):
            FolderLock(tmp_path, "a third").acquire()


def test_killing_compare_with_sigkill_leaves_no_worker_behind(tmp_path):
    experiment = _tiny_experiment(tmp_path, replications=200, days=60)
    parent = _onenet("compare", str(experiment), "--workers", "2", "--out", str(tmp_path / "out"))
    try:
        workers = _wait_for(lambda: (c := _children(parent.pid)) and len(c) >= 2 and c, 60,
                            "two worker processes")
        time.sleep(0.5)  # let the pool start its runs
        workers = _children(parent.pid) or workers
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()

    def all_gone():
        alive = [pid for pid, start in workers.items()
                 if (info := _stat(pid)) and info[2] == start and info[0] != "Z"]
        return not alive

    _wait_for(all_gone, 5, f"workers {sorted(workers)} to exit after their parent was killed")


def test_ctrl_c_keeps_finished_runs_and_prints_the_command_that_resumes(tmp_path):
    experiment = _tiny_experiment(tmp_path, replications=500, days=3)
    out = tmp_path / "out"
    args = ["compare", str(experiment), "--out", str(out), "--no-figures"]
    process = _onenet(*args)
    store = out / "results.sqlite"

    def stored_runs():
        if not store.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
                return db.execute("SELECT count(*) FROM runs").fetchone()[0]
        except sqlite3.Error:
            return 0

    try:
        _wait_for(stored_runs, 60, "a first stored run")
    finally:
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    import shlex

    assert shlex.join(["onenet", *args]) in err
    assert stored_runs() >= 1
