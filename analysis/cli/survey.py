"""`onenet survey ...`: questionnaire analysis from the command line.

DATA is a data file survey.read understands (.sav, .dta, .csv, .xlsx, 问卷星 .xls, ...) or the
word `example` for the shipped synthetic example. `--codebook` lays a codebook TOML over the
file's own metadata (labels, missing codes, scales).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from analysis.cli.common import console, note
from analysis.cli.common import fail as _fail

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="Analyse questionnaire data (describe, clean, reliability, efa, report).",
                  no_args_is_help=True, rich_markup_mode=None)

MAX_TEXT_CATEGORIES = 30  # a text column with more different answers is free text, not a closed question
DATA_HELP = "data file (.sav .zsav .por .dta .sas7bdat .xpt .csv .xlsx .xls, 问卷星 exports) or 'example'"


def load(data: str, codebook: Path | None = None):
    """SurveyData from a path (or the shipped example), with an optional codebook TOML laid over."""
    import survey

    if data == "example" and not Path(data).exists():
        loaded = survey.load_example()
        if codebook is not None:
            loaded = survey.SurveyData(loaded.data, survey.read_codebook(codebook))
        return loaded
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = survey.read(data, codebook=codebook)
    for message in dict.fromkeys(str(w.message) for w in caught):
        note(message)
    return loaded


def _check_choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse an option value outside `allowed` before any data is read or analysed."""
    if value not in allowed:
        _fail(f"{option} {value!r}: choose one of {', '.join(allowed)}")


def _split(items: str | None) -> list[str] | None:
    return [i.strip() for i in items.split(",") if i.strip()] if items else None


def frame_table(frame: pd.DataFrame, title: str, *, decimals: int = 3, index: bool = True) -> Table:
    """A DataFrame as a rich table (numbers rounded, NaN blank)."""
    import pandas as pd

    table = Table(title=title, title_justify="left")
    if index:
        table.add_column(str(frame.index.name or ""))
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    def cell(value: object) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, float):
            return f"{value:.{decimals}f}"
        return str(value)

    for key, *values in frame.itertuples(index=True, name=None):
        table.add_row(*([str(key)] if index else []), *(cell(v) for v in values))
    return table


def _scales(loaded, scale: list[str], items: str | None) -> dict[str, object]:
    """The scales to analyse: named codebook scales, an item list, or every codebook scale."""
    book = loaded.codebook
    if items:
        return {"items": _split(items)}
    if scale:
        unknown = [s for s in scale if s not in book.scales]
        if unknown:
            _fail(f"no scale {unknown[0]!r} in the codebook; scales: {sorted(book.scales)}")
        return {name: book.scales[name] for name in scale}
    if not book.scales:
        _fail("the codebook defines no scales: name the items with --items q1,q2,q3 "
              "or give a codebook TOML with [scales] (--codebook)")
    return dict(book.scales)


@app.command()
def reliability(
    data: str = typer.Argument(..., help=DATA_HELP),
    codebook: Path | None = typer.Option(None, "--codebook", help="codebook TOML"),
    scale: list[str] = typer.Option([], "--scale", help="codebook scale name; repeatable (default: all)"),
    items: str | None = typer.Option(None, "--items", help="comma-separated items instead of a scale"),
    missing: str = typer.Option("listwise", "--missing", help="listwise (SPSS) or pairwise"),
) -> None:
    """Cronbach's alpha (with Feldt CI), Item-Total Statistics and McDonald's omega per scale."""
    import pandas as pd

    import survey
    from survey.errors import SurveyAnalysisError

    _check_choice("--missing", missing, ("listwise", "pairwise"))
    try:
        loaded = load(data, codebook)
        summary = []
        for name, what in _scales(loaded, scale, items).items():
            result = survey.cronbach_alpha(loaded.data, what, missing=missing)
            row = {"scale": name, "k": result.k, "n": result.n, "alpha": result.alpha,
                   "std_alpha": result.std_alpha, "ci_low": result.ci[0], "ci_high": result.ci[1]}
            if result.k >= 3:
                try:
                    row["omega_total"] = survey.omega(loaded.data, result.items).omega_total
                except (SurveyAnalysisError, ValueError) as error:
                    note(f"omega of {name}: {error}")
            summary.append(row)
            console.print(frame_table(result.item_total, f"{name}: Item-Total Statistics"
                                      f"{' (reversed: ' + ', '.join(result.reversed) + ')' if result.reversed else ''}"))
        console.print(frame_table(pd.DataFrame(summary).set_index("scale"), "Reliability"))
    except (SurveyAnalysisError, ValueError, KeyError) as error:
        _fail(str(error))


@app.command()
def efa(
    data: str = typer.Argument(..., help=DATA_HELP),
    codebook: Path | None = typer.Option(None, "--codebook", help="codebook TOML"),
    items: str | None = typer.Option(None, "--items", help="comma-separated items (default: every scale item)"),
    factors: int | None = typer.Option(None, "--factors", min=1, help="number of factors (default: parallel analysis)"),
    method: str = typer.Option("pca", "--method", help="pca, paf, minres or ml"),
    rotation: str = typer.Option("varimax", "--rotation",
                                 help="none, varimax, quartimax, equamax, promax or oblimin"),
    suppress: float = typer.Option(0.4, "--suppress", help="blank loadings below this size"),
    scree: Path | None = typer.Option(None, "--scree", help="write the scree plot to this PNG"),
) -> None:
    """KMO and Bartlett's test, then exploratory factor analysis with SPSS's tables."""
    import survey
    from survey.errors import SurveyAnalysisError
    from survey.factor import METHODS, FactorAnalysisError
    from survey.rotation import ROTATIONS

    _check_choice("--method", method, METHODS)
    _check_choice("--rotation", rotation, ROTATIONS)
    if not 0 <= suppress < 1:
        _fail(f"--suppress {suppress}: blank loadings below a size from 0 to 1 (e.g. 0.4)")
    try:
        loaded = load(data, codebook)
        chosen = _split(items) or [i for s in loaded.codebook.scales.values() for i in s.items]
        if not chosen:
            _fail("name the items with --items q1,q2,... or give a codebook with [scales]")
        frame = loaded.data
        k = survey.kmo(frame, chosen)
        b = survey.bartlett(frame, chosen)
        console.print(f"KMO = {k.overall:.3f}; Bartlett's test: χ² = {b.chi2:.2f}, df = {b.df}, "
                      f"p {'< .001' if b.p < 0.001 else f'= {b.p:.3f}'}")
        if factors is None:
            pa = survey.parallel_analysis(frame, chosen, seed=0)
            factors = max(1, pa.n_components if method == "pca" else pa.n_factors)
            console.print(f"Parallel analysis (Horn; {pa.n_iter} random data sets) suggests "
                          f"{factors} {'component' if method == 'pca' else 'factor'}(s)")
        result = survey.efa(frame[chosen], factors, method=method, rotation=rotation)
        console.print(frame_table(result.variance.head(max(factors, result.kaiser_n)), "Total Variance Explained"))
        console.print(frame_table(result.table(suppress=suppress),
                                  f"{'Pattern' if result.phi is not None else 'Rotated'} loadings "
                                  f"({method}, {rotation}; |loading| < {suppress} blank)"))
        if result.phi is not None:
            console.print(frame_table(result.phi, "Factor correlations"))
        if scree is not None:
            result.scree_plot().savefig(scree, dpi=120)
            console.print(f"wrote {scree}")
    except (SurveyAnalysisError, FactorAnalysisError, ValueError, KeyError) as error:
        _fail(str(error))


@app.command()
def describe(
    data: str = typer.Argument(..., help=DATA_HELP),
    codebook: Path | None = typer.Option(None, "--codebook", help="codebook TOML"),
    variables: str | None = typer.Option(None, "--vars", help="comma-separated variables, by name or label (default: every labelled or text column and every scale item)"),
) -> None:
    """Frequency tables of categorical variables and descriptives (with skewness, kurtosis) of items."""
    import survey
    from survey.descriptives import is_text, resolve_name
    from survey.errors import SurveyAnalysisError

    try:
        loaded = load(data, codebook)
        frame, book = loaded.data, loaded.codebook
        chosen = _split(variables)
        items = [i for s in book.scales.values() for i in s.items]
        left_out = []
        if chosen is None:
            personal = set(book.personal_columns())
            candidates = [c for c in frame.columns if c not in personal and c not in items]
            text = [c for c in candidates if is_text(frame[c])]
            left_out = [c for c in text if frame[c].nunique() > MAX_TEXT_CATEGORIES]
            chosen = [c for c in candidates if book.get(c).value_labels or (c in text and c not in left_out)]
            numeric_items = items
        else:
            chosen = [resolve_name(frame, book, c, "describe") for c in chosen]
            numeric_items = [c for c in chosen if not is_text(frame[c]) and (c in items or not book.get(c).value_labels)]
            chosen = [c for c in chosen if c not in numeric_items]
        console.print(f"{loaded.n} respondents, {frame.shape[1]} columns")
        for name in left_out:
            note(f"{name} ({book.label(name)}): free text with {frame[name].nunique()} different answers, "
                 f"not tabulated; name it with --vars {name} to see them")
        for name in chosen:
            table = survey.frequencies(loaded, name)
            shown = table.drop(columns=["status"]).set_index("label")
            console.print(frame_table(shown, f"{name}: {book.label(name)}", decimals=1))
        if numeric_items:
            console.print(frame_table(survey.describe(loaded, numeric_items), "Descriptive statistics"))
    except (SurveyAnalysisError, ValueError, KeyError) as error:
        _fail(str(error))


@app.command()
def clean(
    data: str = typer.Argument(..., help=DATA_HELP),
    out: Path = typer.Option(..., "--out", help="cleaned data file (.sav, .csv or .xlsx); the report goes beside it"),
    codebook: Path | None = typer.Option(None, "--codebook", help="codebook TOML"),
    id_column: str | None = typer.Option(None, "--id", help="respondent id column"),
    duration: str | None = typer.Option(None, "--duration", help="completion time column (seconds)"),
    min_seconds: float | None = typer.Option(None, "--min-seconds", help="speeders: faster than this"),
    speed_fraction: float | None = typer.Option(None, "--speed-fraction", help="speeders: faster than this share of the median"),
    straightline: int | None = typer.Option(6, "--straightline", help="least items for the straight-lining rule"),
    flag_only: bool = typer.Option(False, "--flag-straightliners", help="flag straight-liners instead of dropping them"),
    max_missing: float = typer.Option(0.5, "--max-missing", help="drop respondents missing more than this share of items"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output file"),
) -> None:
    """Clean a dataset (never in place): writes the cleaned data and a cleaning report (CSV)."""
    import pandas as pd

    import survey
    from survey.errors import SurveyAnalysisError

    try:
        loaded = survey.load_example(user_missing="keep") if data == "example" and not Path(data).exists() \
            else load(data, codebook)
        if data != "example" and Path(data).resolve() == out.resolve():
            _fail(f"refusing to overwrite the input file {data}; choose another --out")
        report_path = out.with_name(out.stem + "_cleaning_report.csv")
        if report_path.exists() and not overwrite:
            _fail(f"{report_path} exists; pass --overwrite to replace it")
        cleaned, report = survey.clean(loaded, id=id_column, duration=duration, min_seconds=min_seconds,
                                       speed_fraction=speed_fraction, straightline=straightline,
                                       drop_straightliners=not flag_only, max_missing=max_missing)
        console.print(report.summary())
        console.print(frame_table(report.counts(), "Cleaning rules"))
        survey.write(cleaned, out, overwrite=overwrite)
        written = [out]
        if out.suffix.lower() in (".csv", ".xlsx"):  # .sav carries its labels itself
            book_path = out.with_name(out.stem + ".codebook.toml")
            survey.write_codebook(cleaned.codebook, book_path, overwrite=overwrite)
            written.append(book_path)
        actions = pd.concat([report.changes.assign(kind="recoded"),
                             report.dropped.assign(kind="dropped"), report.flagged.assign(kind="flagged"),
                             report.personal.assign(kind="personal data")],
                            ignore_index=True)
        actions.to_csv(report_path, index=False, encoding="utf-8-sig")
        for path in [*written, report_path]:
            console.print(f"wrote {path}")
    except (SurveyAnalysisError, ValueError, KeyError) as error:
        _fail(str(error))


@app.command()
def report(
    data: str = typer.Argument(..., help=DATA_HELP),
    out: Path | None = typer.Option(None, "--out", help="folder for report.html, report.docx and figures/"),
    codebook: Path | None = typer.Option(None, "--codebook", help="codebook TOML"),
    spec: Path | None = typer.Option(None, "--spec", help="report spec TOML ([report] table)"),
    init_spec: Path | None = typer.Option(None, "--init-spec", help="write a commented report spec TOML from the data's codebook, then stop"),
    lang: str | None = typer.Option(None, "--lang", help="zh or en (default: the spec's, else zh)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing report"),
) -> None:
    """The questionnaire chapter (sample, reliability, validity, relations) as HTML and Word."""
    import survey
    from survey.errors import SurveyAnalysisError

    if lang not in (None, "zh", "en"):
        _fail(f"--lang must be zh or en (got {lang!r})")
    if init_spec is None and out is None:
        _fail("give --out FOLDER for the report, or --init-spec report.toml to write a spec to edit")
    if init_spec is not None and init_spec.exists() and not overwrite:
        _fail(f"{init_spec} exists; pass --overwrite to replace it")
    try:
        loaded = load(data, codebook)
        if init_spec is not None:
            from survey.reporting import spec_template

            init_spec.write_text(spec_template(loaded), encoding="utf-8")
            console.print(f"wrote {init_spec}; edit it, then run with --spec {init_spec}")
            return
        result = survey.report(loaded, out, spec=spec, lang=lang, overwrite=overwrite)
        for path in result.paths:
            console.print(f"wrote {path}")
    except (SurveyAnalysisError, ValueError, KeyError) as error:
        _fail(str(error))
