"""The policy brief: every section heading and figure in brief.html and brief.docx, in English
and Chinese; provenance classes; the bootstrap ranking's uncertainty."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import docx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import brief
from analysis import compare as cmp
from analysis.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Headings, images and any outside reference of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if attrs.get(key) and not attrs[key].startswith(("data:", "#")):
                self.external.append(attrs[key])

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.headings[-1] += data


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """A small comparison written by `onenet compare` (two costed overlays, three replications)."""
    folder = tmp_path_factory.mktemp("brief")
    spec = folder / "exp.toml"
    spec.write_text('[experiment]\nscenario = "baseline"\ncountermeasures = ["one_window", "run_at_most_once"]\n'
                    'replications = 3\nseed = 4\ndays = 10\n[experiment.updates]\n'
                    '"jurisdiction.population" = 20000\n"jurisdiction.enterprises" = 800\n"hall.windows" = 8\n',
                    encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(app, ["compare", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _headings(lang: str) -> list[str]:
    return [pair[0] if lang == "zh" else pair[1] for pair in brief.SECTIONS.values()]


def test_compare_writes_a_self_contained_html_brief_with_every_section_and_figure(compared):
    page = _Page()
    page.feed((compared / "brief.html").read_text(encoding="utf-8"))
    assert page.headings == _headings("en")
    pngs = sorted(p.stem for p in compared.glob("*.png"))
    assert len(page.images) == len(pngs) == 6 + 1 + 3  # forest per headline KPI, equity, series
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_SIGNATURE)
    assert page.external == []
    text = (compared / "brief.html").read_text(encoding="utf-8")
    assert "onenet compare" in text and "seed" in text  # the reproducibility block
    assert "parameter uncertainty is not included" in text
    # a countermeasure that failed an out-of-sample check says so among the caveats; one that
    # has faced none says nothing
    assert text.count("Validation of ") == 1
    assert "Validation of 一窗受理 Comprehensive windows: out of sample against a Beijing district" in text


def test_the_docx_brief_has_the_same_headings_and_figures(compared):
    document = docx.Document(str(compared / "brief.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == _headings("en")
    assert len(document.inline_shapes) == len(list(compared.glob("*.png")))
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert "one_window" in cells and "run_at_most_once" in cells
    assert any(c.startswith("onenet compare") for c in cells)


def test_a_chinese_brief_has_chinese_headings(compared, tmp_path):
    from analysis.cli.compare import compare_arms
    from analysis.experiment import load_experiment

    experiment = load_experiment(compared.parent / "exp.toml")
    result = compare_arms(experiment, compared, progress=False)  # resumes: every run is stored
    paths = brief.write_brief(result, tmp_path, lang="zh", command="onenet compare exp.toml")
    page = _Page()
    page.feed(paths[0].read_text(encoding="utf-8"))
    assert page.headings == _headings("zh")
    document = docx.Document(str(paths[1]))
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == _headings("zh")
    with pytest.raises(ValueError, match="lang must be one of"):
        brief.build_brief(result, lang="fr")


def test_a_bad_language_is_refused_before_anything_runs(tmp_path):
    result = CliRunner().invoke(app, ["compare", "baseline", "--lang", "fr", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--lang must be en or zh" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("note", "kind"), [
    ("assumption — to calibrate: travel to the township station", "assumption"),
    ("assumption — to calibrate: a hall of 18 windows, calibrated for mean waits near 20 minutes", "calibrated"),
    ("official figure: the 2020 census reported 18.7% aged 60+", "official"),
    ("q_county thesis: online service stations in all 19 townships", "study"),
    ("descriptive metadata", "descriptive"),
])
def test_provenance_notes_are_classified(note, kind):
    assert brief.classify_provenance(note) == kind


def test_rank_uncertainty_ranks_the_full_data_as_ranking_does(compared):
    from analysis.store import read_store

    runs, _ = read_store(compared / "results.sqlite")
    table = cmp.rank_uncertainty(runs, n_boot=50, seed=1)
    ranked = cmp.ranking(cmp.effects(runs))
    expected = dict(zip(ranked["arm"], ranked["rank"], strict=True))
    assert dict(zip(table["arm"], table["rank"], strict=True)) == expected
    assert (table["rank_low"] <= table["rank_high"]).all()
    assert table[["rank_low", "rank_high"]].isin(range(1, len(table) + 1)).all().all()
    assert table["p_first"].sum() == pytest.approx(1.0)  # exactly one arm ranks first per resample


def test_holm_matches_r_p_adjust():
    """R: p.adjust(c(0.01, 0.04, 0.03, 0.02, 0.05), "holm") gives 0.05 0.09 0.09 0.08 0.09."""
    adjusted = cmp._holm(np.array([0.01, 0.04, 0.03, 0.02, 0.05]))
    assert adjusted == pytest.approx([0.05, 0.09, 0.09, 0.08, 0.09])


def test_a_clear_winner_ranks_first_in_every_resample():
    rng = np.random.default_rng(3)
    rows = []
    for r in range(8):
        base = {k: 1.0 + rng.normal(0, 0.01) for k in cmp.HEADLINE_KPIS}
        rows.append({"arm": "baseline", "replication": r, "sample": 0, **base})
        # "strong" improves every headline KPI by far more than its MID, "weak" by nothing
        rows.append({"arm": "strong", "replication": r, "sample": 0,
                     **{k: v + 2.0 * cmp.KPI_BETTER[k] * (1 + 0.01 * r) for k, v in base.items()}})
        rows.append({"arm": "weak", "replication": r, "sample": 0, **base})
    table = cmp.rank_uncertainty(pd.DataFrame(rows), n_boot=40).set_index("arm")
    assert table.loc["strong", "p_first"] == 1.0 and table.loc["strong", "rank_high"] == 1
    assert table.loc["weak", "p_first"] == 0.0 and table.loc["weak", "rank_low"] == 2
