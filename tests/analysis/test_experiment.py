"""Experiments: common random numbers, identical results on every executor, a result store that
resumes after a kill, and strict experiment files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from analysis.executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from analysis.experiment import (
    Arm,
    Experiment,
    ExperimentError,
    RunSpec,
    execute,
    load_experiment,
    run_experiment,
)
from analysis.store import ResultStore, StoreError, read_store
from simulation import KPI_NAMES, ServiceModel, load_scenario

SMALL = {"jurisdiction.population": 30_000, "jurisdiction.enterprises": 1_200, "hall.windows": 8}


def small_experiment(replications: int = 2, **options) -> Experiment:
    return Experiment.build("baseline", ["one_window"], {"both": ["one_window", "data_sharing"]},
                            replications=replications, seed=11, days=12, updates=SMALL, **options)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["arm", "replication", "sample"]).reset_index(drop=True)


def test_every_arm_of_a_replication_gets_the_same_seed_and_replications_differ():
    runs = small_experiment(replications=3).runs()
    assert len(runs) == 3 * 3
    for r in range(3):
        states = {run.arm: run.seed_sequence().generate_state(4).tolist()
                  for run in runs if run.replication == r}
        assert len({tuple(s) for s in states.values()}) == 1  # common random numbers
    firsts = {tuple(run.seed_sequence().generate_state(4)) for run in runs if run.arm == "baseline"}
    assert len(firsts) == 3


def test_a_run_equals_the_model_run_directly_with_the_replication_seed():
    run = small_experiment().runs()[0]
    outcome = execute(run)
    scenario = load_scenario("baseline", updates=SMALL)
    direct = ServiceModel(scenario, seed=np.random.SeedSequence(11, spawn_key=(0,))).run(12)
    assert outcome.kpis == direct
    assert len(outcome.daily) == 12


@pytest.fixture(scope="module")
def serial_runs(tmp_path_factory):
    store = tmp_path_factory.mktemp("serial") / "results.sqlite"
    return _sorted(run_experiment(small_experiment(), store, executor=SerialExecutor()))


def test_the_store_has_one_row_per_arm_and_replication(serial_runs):
    assert len(serial_runs) == 3 * 2
    assert set(KPI_NAMES) <= set(serial_runs.columns)
    assert set(serial_runs["arm"]) == {"baseline", "one_window", "both"}


def test_process_executor_gives_identical_results(serial_runs, tmp_path):
    runs = run_experiment(small_experiment(), tmp_path / "r.sqlite", executor=ProcessExecutor(2))
    pd.testing.assert_frame_equal(_sorted(runs), serial_runs)


def test_dask_local_cluster_gives_identical_results(serial_runs, tmp_path):
    runs = run_experiment(small_experiment(), tmp_path / "r.sqlite", executor=DaskExecutor(workers=2))
    pd.testing.assert_frame_equal(_sorted(runs), serial_runs)


def test_make_executor_maps_the_cli_options():
    assert isinstance(make_executor(1), SerialExecutor)
    assert isinstance(make_executor(2), ProcessExecutor)
    assert isinstance(make_executor(2, "tcp://127.0.0.1:8786"), DaskExecutor)
    with pytest.raises(ValueError, match="workers"):
        make_executor(0)


def test_more_replications_later_only_runs_the_new_ones(serial_runs, tmp_path):
    path = tmp_path / "r.sqlite"
    run_experiment(small_experiment(replications=1), path)
    calls: list[tuple[int, int]] = []
    runs = run_experiment(small_experiment(replications=2), path, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (3, 6)  # three runs already stored
    pd.testing.assert_frame_equal(_sorted(runs), serial_runs)


def test_a_store_of_another_experiment_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    run_experiment(small_experiment(replications=1), path)
    other = Experiment.build("baseline", ["data_sharing"], replications=1, seed=11, days=12, updates=SMALL)
    with pytest.raises(StoreError, match="different experiment"):
        run_experiment(other, path)
    assert len(read_store(path)[0]) == 3  # untouched


def test_a_changed_overlay_is_detected_by_its_content_hash(tmp_path):
    overlay = tmp_path / "my_cm.toml"
    overlay.write_text('[countermeasure]\nname = "mine"\ncost_per_year = 1000.0\n[policy]\ndata_sharing = 0.5\n',
                       encoding="utf-8")
    exp = Experiment.build("baseline", [str(overlay)], replications=1, seed=1, days=5, updates=SMALL)
    path = tmp_path / "r.sqlite"
    run_experiment(exp, path)
    _, costs = read_store(path)
    assert costs == {"baseline": 0.0, "my_cm": 1000.0}
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("0.5", "0.7"), encoding="utf-8")
    with pytest.raises(StoreError, match="content hash"):
        run_experiment(exp, path)


def test_store_rows_record_version_hash_and_seed(tmp_path):
    exp = small_experiment(replications=1)
    path = tmp_path / "r.sqlite"
    run_experiment(exp, path)
    hashes = {a: [s.content_hash() for s in ss] for a, ss in exp.resolve().items()}
    with ResultStore.open(path, exp, hashes=hashes) as store:
        info = store.runs_info()
        daily = store.daily("both")
    assert set(info["package_version"]) and "" not in set(info["package_version"])
    assert set(info["seed"]) == {11}
    for row in info.itertuples():
        assert row.scenario_hash == hashes[row.arm][0]
    assert len(daily) == 12 and "visits_per_case" in daily.columns


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    bogus = tmp_path / "results.sqlite"
    bogus.write_text("not sqlite at all, just text" * 50, encoding="utf-8")
    with pytest.raises(StoreError, match="not a onenet result store"):
        run_experiment(small_experiment(replications=1), bogus)


def _experiment_file(tmp_path, replications=4):
    path = tmp_path / "exp.toml"
    path.write_text(
        "[experiment]\n"
        'scenario = "baseline"\n'
        'countermeasures = ["one_window"]\n'
        f"replications = {replications}\nseed = 5\ndays = 40\n"
        "[experiment.packages]\n"
        'both = ["one_window", "data_sharing"]\n'
        "[experiment.updates]\n"
        '"jurisdiction.population" = 30000\n"jurisdiction.enterprises" = 1200\n"hall.windows" = 12\n',
        encoding="utf-8")
    return path


def test_experiment_files_are_read_strictly(tmp_path):
    exp = load_experiment(_experiment_file(tmp_path))
    assert [a.name for a in exp.arms] == ["baseline", "one_window", "both"]
    assert exp.arms[2] == Arm("both", ("one_window", "data_sharing"))
    assert exp.replications == 4 and exp.days == 40 and exp.updates["hall.windows"] == 12
    bad = tmp_path / "bad.toml"
    bad.write_text('[experiment]\nscenario = "baseline"\nreplicatons = 3\n', encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"bad\.toml: experiment\.replicatons: unknown key"):
        load_experiment(bad)
    bad.write_text('[experiment]\nscenario = "baseline"\nreplications = "3"\n', encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"experiment\.replications: must be int"):
        load_experiment(bad)
    bad.write_text('[experiment]\nscenario = "baseline"\ncountermeasures = ["one_window", "one_window"]\n',
                   encoding="utf-8")
    with pytest.raises(ExperimentError, match="unique"):
        load_experiment(bad)
    with pytest.raises(ExperimentError, match="no such experiment file"):
        load_experiment(tmp_path / "missing.toml")


def test_a_typo_in_a_countermeasure_fails_before_anything_runs(tmp_path):
    exp = Experiment.build("baseline", ["one_windw"], replications=2, days=3, updates=SMALL)
    with pytest.raises(ExperimentError, match="one_windw"):
        run_experiment(exp, tmp_path / "r.sqlite")
    assert not (tmp_path / "r.sqlite").exists()


def _rows(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT arm, replication, sample FROM runs").fetchall()


def test_killing_a_run_midway_and_rerunning_resumes_without_loss_or_repeat(tmp_path):
    """SIGKILL the `onenet compare` process after some runs are stored; the same command then
    finishes the rest, and the results equal those of an uninterrupted run."""
    spec = _experiment_file(tmp_path, replications=4)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "analysis.cli", "compare", str(spec), "--out", str(out), "--no-figures"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = out / "results.sqlite"
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            stored = len(_rows(store)) if store.exists() else 0
        except sqlite3.Error:
            stored = 0
        if stored >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the experiment finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _rows(store)
    assert 3 <= len(partial) < 12
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    rows = _rows(store)
    assert len(rows) == len(set(rows)) == 12  # 3 arms x 4 replications, none repeated
    assert set(partial) <= set(rows)
    whole = run_experiment(load_experiment(spec), tmp_path / "whole.sqlite")
    pd.testing.assert_frame_equal(_sorted(read_store(store)[0]), _sorted(whole))
    assert (out / "effects.csv").exists()


def test_runspec_key_and_seed():
    scenario = load_scenario("baseline", updates=SMALL)
    run = RunSpec("x", 3, 0, scenario, 5, 7)
    assert run.key == ("x", 3, 0)
    assert run.seed_sequence().spawn_key == (3,)
