"""`onenet targets ...`: calibration targets from a questionnaire or from the model, and a check of a file.

`from-survey` maps a questionnaire onto the instrument (a mapping TOML; the shipped one for
`example`), weights it (a weight column, or raking to margins) and writes its moments with
design-based SEs; `simulate` writes the targets a model run produces at known settings; `check`
loads a target file strictly and lists it. Every input is checked before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import typer

from analysis.cli.common import console, fail, fmt, note

app = typer.Typer(help="Calibration targets: from a questionnaire (from-survey), from the model (simulate), check.",
                  no_args_is_help=True)


def _table(targets, title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("target", "definition", "value", "se", "n", "role"):
        table.add_column(column, justify="right" if column in ("value", "se", "n") else "left")
    for t in targets:
        table.add_row(t.name, t.moment.describe(), fmt(t.value), fmt(t.se), "" if t.n is None else str(t.n), t.role)
    return table


def _refuse_existing_input(out: Path, inputs: list[Path]) -> None:
    if out.resolve() in {p.resolve() for p in inputs if p is not None}:
        fail(f"refusing to overwrite input file {out}; choose another --out")
    if out.exists() and out.is_dir():
        fail(f"--out {out} is a folder; give a file name such as {out / 'targets.toml'}")


@app.command("from-survey")
def from_survey(
    data: str = typer.Argument(..., help="questionnaire data file (.sav .dta .csv .xlsx, 问卷星 exports) or 'example'"),
    codebook: Path | None = typer.Option(None, "--codebook", help="codebook TOML laid over the file's metadata"),
    instrument: str = typer.Option("haochaping", "--instrument", help="instrument the mapping targets"),
    weights: str | None = typer.Option(None, "--weights", help="weight column of the data"),
    rake: Path | None = typer.Option(None, "--rake", help="margins TOML to rake the sample to ([margins.VARIABLE])"),
    mapping: Path | None = typer.Option(None, "--mapping", help="mapping TOML onto the instrument "
                                        "(default for 'example': the shipped one)"),
    role: str = typer.Option("calibrate", "--role", help="role of every target: calibrate or validate"),
    out: Path = typer.Option(..., "--out", help="target TOML file to write"),
) -> None:
    """Questionnaire moments as targets: mapped onto the instrument, weighted, with design-based SEs."""
    from analysis.cli.survey import load
    from analysis.targets import TargetError, write_targets
    from analysis.targets.mapping import (
        EXAMPLE_MAPPING,
        Margins,
        QuestionnaireMapping,
        survey_targets,
    )
    from analysis.targets.spec import ROLES

    if weights is not None and rake is not None:
        fail("give --weights COLUMN or --rake MARGINS.toml, not both")
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)} (got {role!r})")
    is_example = data == "example" and not Path(data).exists()
    if mapping is None:
        if not is_example:
            fail("--mapping MAP.toml is required: it says which column answers each instrument variable "
                 f"(see {EXAMPLE_MAPPING} for the example questionnaire)")
        mapping = EXAMPLE_MAPPING
    inputs = [p for p in (Path(data) if not is_example else None, codebook, rake, mapping) if p is not None]
    _refuse_existing_input(out, inputs)
    try:
        plan = QuestionnaireMapping.load(mapping)
        if plan.instrument != instrument:
            fail(f"{mapping}: mapping.instrument is {plan.instrument!r} but --instrument is {instrument!r}")
        margins = Margins.load(rake) if rake is not None else None
        loaded = load(data, codebook)
        targets, notes = survey_targets(loaded, plan, weights=weights, margins=margins, role=role,
                                        source=f"questionnaire {'example (survey.load_example, synthetic)' if is_example else data}"
                                               f" via mapping {mapping.name}")
        if not len(targets):
            fail("no target could be computed from this data and mapping")
        for line in notes:
            note(line)
        header = (f"Targets from questionnaire {data} mapped by {mapping.name} onto {instrument}.\n"
                  "Written by `onenet targets from-survey`; schema in analysis/targets/__init__.py.")
        written = write_targets(targets, out, header=header, protect=inputs)
    except TargetError as error:
        fail(str(error))
    except (ValueError, OSError) as error:
        fail(str(error))
    console.print(_table(targets, f"{len(targets)} targets from {data}"))
    console.print(f"wrote {written}")


@app.command("simulate")
def simulate(
    scenario: str = typer.Argument(..., help="scenario TOML file, or a shipped name (e.g. baseline)"),
    countermeasure: list[str] = typer.Option([], "--countermeasure", "-c", help="overlay file or shipped name; repeatable"),
    respondents: int = typer.Option(..., "--respondents", min=2, help="simulated questionnaire respondents"),
    days: int | None = typer.Option(None, "--days", min=1, help="measured working days (default: the scenario's)"),
    seed: int = typer.Option(0, "--seed", help="random seed of the run (the questionnaire draws from its own stream)"),
    out: Path = typer.Option(..., "--out", help="target TOML file to write"),
) -> None:
    """Synthetic targets a model run produces at known settings (parameter recovery, teaching)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from analysis.cli.common import err_console
    from analysis.targets import TargetError, respondent_seed, write_targets
    from analysis.targets.synthetic import synthetic_targets
    from simulation import ServiceModel, load_scenario
    from simulation.scenario import ScenarioError, resolve_path

    try:
        inputs = [resolve_path(scenario, kind="scenario"),
                  *(resolve_path(c, kind="countermeasure") for c in countermeasure)]
        _refuse_existing_input(out, inputs)
        spec = load_scenario(scenario, countermeasure)
    except (ScenarioError, ValueError) as error:
        fail(str(error))
    n_days = days if days is not None else spec.scenario.days
    model = ServiceModel(spec, seed=seed)
    with Progress(TextColumn("simulate"), BarColumn(), TextColumn("{task.completed}/{task.total} days"),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("days", total=spec.scenario.warmup_days + n_days)
        for _ in range(spec.scenario.warmup_days + n_days):
            model.step()
            progress.advance(task)
    label = "+".join([spec.scenario.name, *countermeasure])
    meta = {"title": f"Synthetic targets: {label}, seed {seed}, {n_days} days, {respondents} respondents",
            "scenario": scenario, "countermeasures": list(countermeasure), "instrument": "haochaping",
            "source": f"simulated by onenet {label} (scenario hash {spec.content_hash()[:12]}), seed {seed}, "
                      f"{n_days} measured days after {spec.scenario.warmup_days} warm-up days"}
    try:
        targets, notes = synthetic_targets(model, respondents=respondents, seed=respondent_seed(seed),
                                           source=f"synthetic: {meta['source']}", meta=meta)
        for line in notes:
            note(line)
        header = ("Synthetic targets produced by the model at known settings (parameter recovery, teaching).\n"
                  "Written by `onenet targets simulate`; SE rules in analysis/targets/synthetic.py.")
        written = write_targets(targets, out, header=header, protect=inputs)
    except (TargetError, ValueError) as error:
        fail(str(error))
    console.print(_table(targets, f"{len(targets)} synthetic targets — {label}"))
    console.print(f"wrote {written}")


@app.command("check")
def check(path: Path = typer.Argument(..., help="target TOML file")) -> None:
    """Load a target file strictly and list its targets with their definitions."""
    from analysis.targets import TargetError, load_targets

    try:
        targets = load_targets(path)
    except TargetError as error:
        fail(str(error))
    console.print(_table(targets, f"{path}: {len(targets)} targets "
                         f"({len(targets.with_role('calibrate'))} calibrate, {len(targets.with_role('validate'))} validate)"))
