"""The policy brief of a comparison: one document a reform office can read, as `brief.html`
(self-contained, figures inlined as base64 PNG) and `brief.docx` (python-docx), in Chinese or
English.

Sections, in order: the question; the scenario and the provenance of its parameters; the arms
and what each stacks; effects with their minimal important differences (forest plots); the
ranking with its uncertainty and ties; equity effects; cost-effectiveness; caveats; and a
reproducibility block (package version, seed, scenario content hashes, the exact command).
"""

from __future__ import annotations

import base64
import html
import io
import platform
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulation.kpis import KPI_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analysis.cli.compare import Comparison

LANGS = ("zh", "en")

# section key -> (Chinese heading, English heading), in the order of the brief
SECTIONS: dict[str, tuple[str, str]] = {
    "question": ("研究问题", "The question"),
    "scenario": ("情景与参数来源", "Scenario and provenance"),
    "arms": ("对比方案", "Arms compared"),
    "effects": ("效果与最小重要差异", "Effects and minimal important differences"),
    "ranking": ("排序及其不确定性", "Ranking, its uncertainty and ties"),
    "equity": ("公平性", "Equity"),
    "cost": ("成本效果", "Cost-effectiveness"),
    "caveats": ("注意事项", "Caveats"),
    "reproducibility": ("可重复性", "Reproducibility"),
}

# provenance class -> (Chinese, English)
PROVENANCE_CLASSES: dict[str, tuple[str, str]] = {
    "calibrated": ("已校准", "calibrated to target KPIs"),
    "official": ("官方数据", "official figure or practice"),
    "study": ("案例研究", "source study statement"),
    "assumption": ("假设(待校准)", "assumption — to calibrate"),
    "descriptive": ("描述信息", "descriptive"),
}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("政策简报", "Policy brief"),
    "arm": ("方案", "Arm"),
    "kpi": ("指标", "KPI"),
    "baseline": ("基线", "Baseline"),
    "effect": ("效果 [95% CI]", "Effect [95% CI]"),
    "mid": ("最小重要差异", "MID"),
    "meaningful": ("有意义", "Meaningful"),
    "rank": ("名次", "Rank"),
    "score": ("得分", "Score"),
    "improves": ("改善数", "Improves"),
    "worsens": ("恶化数", "Worsens"),
    "tied": ("并列", "Tied with"),
    "rank_range": ("名次95%区间", "Rank 95% range"),
    "p_first": ("居首概率", "P(first)"),
    "verdict": ("结论", "Verdict"),
    "cost_per_year": ("年成本(元)", "Cost per year (CNY)"),
    "per_visit": ("每减少一次跑动成本 [最好, 最差]", "Cost per visit saved [best, worst]"),
    "per_satisfaction": ("满意度每提高0.1成本 [最好, 最差]", "Cost per 0.1 satisfaction [best, worst]"),
    "class": ("类别", "Class"),
    "count": ("参数数", "Parameters"),
    "examples": ("示例", "Examples"),
    "overlays": ("叠加的对策", "Overlays stacked"),
    "levers": ("改变的参数", "Levers changed"),
    "cost": ("年成本", "Cost per year"),
    "item": ("项目", "Item"),
    "value": ("值", "Value"),
    "none": ("无(基线)", "none (baseline)"),
    "narrows": ("缩小", "narrows"),
    "widens": ("扩大", "widens"),
    "no clear change": ("无明显变化", "no clear change"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}


# ---- document model ---------------------------------------------------------------------

@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class FigureBlock:
    name: str
    png: bytes
    caption: str


Block = Paragraph | Bullets | Table | FigureBlock


@dataclass
class Section:
    key: str
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Brief:
    """A policy brief as data: a title and its sections (render with `to_html` / `to_docx`)."""

    title: str
    lang: str
    sections: list[Section]

    def figures(self) -> list[FigureBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, FigureBlock)]


# ---- helpers ----------------------------------------------------------------------------

def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {list(LANGS)} (got {lang!r})")
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def classify_provenance(note: str) -> str:
    """The class of a provenance note: calibrated, official, study, assumption or descriptive.

    "calibrated" wins over "assumption — to calibrate" when the note says the value was tuned
    ("calibrated for ..."); an official figure or practice and a thesis/study statement come
    next; any remaining "assumption" is an uncalibrated assumption.
    """
    lowered = note.lower()
    if re.search(r"\bcalibrated\b", lowered):
        return "calibrated"
    if "official figure" in lowered or "official practice" in lowered:
        return "official"
    if "assumption" in lowered:
        return "assumption"
    if "thesis" in lowered or "study" in lowered or "survey" in lowered:
        return "study"
    return "descriptive"


def _num(value: float, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _signed(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    return f"{value:+.3f}" if abs(value) < 10 else f"{value:+,.1f}"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _overlay_levers(overlay: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An overlay's [countermeasure] table and its changed parameters as dotted keys."""
    from simulation.scenario import resolve_path

    data = tomllib.loads(resolve_path(overlay, kind="countermeasure").read_text(encoding="utf-8"))
    meta = data.pop("countermeasure", {})
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        else:
            flat[prefix] = node

    walk(data, "")
    return meta, flat


# ---- building the brief ------------------------------------------------------------------

@dataclass(frozen=True)
class BriefFigures:
    """PNG figures the brief shows (as plots.py draws them)."""

    forest: list[FigureBlock]
    equity: FigureBlock | None
    series: list[FigureBlock]

    def all(self) -> list[FigureBlock]:
        return [*self.forest, *([self.equity] if self.equity else []), *self.series]


def make_figures(result: Comparison, lang: str, caption: str | None = None) -> BriefFigures:
    """The forest plots of the headline KPIs, the equity-gap bars and the weekly KPI series."""
    import warnings

    from analysis import compare as cmp
    from analysis import plots
    from analysis.fonts import CJKFontWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CJKFontWarning)
        forest = []
        for kpi in cmp.HEADLINE_KPIS:
            if (result.effects["kpi"] == kpi).any():
                fig = plots.forest_plot(result.effects, kpi, **plots.figure_options(lang, caption))
                forest.append(FigureBlock(f"forest_{kpi}", _png(fig), _pick(KPI_LABELS[kpi], lang)))
        equity = None
        if result.effects["kpi"].isin(plots.GAP_KPIS).any():
            fig = plots.equity_gaps(result.effects, **plots.figure_options(lang, caption))
            equity = FigureBlock("equity_gaps", _png(fig), _pick(SECTIONS["equity"], lang))
        series = []
        if result.daily:
            for kpi in ("visits_per_case", "online_share", "satisfaction_mean"):
                if all(kpi in frame.columns for frame in result.daily.values()):
                    fig = plots.kpi_series(result.daily, kpi, **plots.figure_options(lang, caption))
                    series.append(FigureBlock(f"series_{kpi}", _png(fig), _pick(KPI_LABELS[kpi], lang)))
    return BriefFigures(forest, equity, series)


def build_brief(result: Comparison, *, lang: str = "en", command: str | None = None,
                figures: BriefFigures | None = None, n_boot: int = 200) -> Brief:
    """The brief of a comparison, in `lang` ("en" or "zh")."""
    from analysis import compare as cmp
    from analysis.store import package_version

    lang = _check_lang(lang)
    t = lambda key: _pick(WORDS[key], lang)  # noqa: E731
    exp = result.experiment
    resolved = exp.resolve()
    base = resolved[cmp.BASELINE][0]
    days = exp.days or base.scenario.days
    title_of_case = base.scenario.title or base.scenario.name
    from analysis.plots import caption_line

    caption = caption_line(_scenario_name(exp.scenario), exp.replications, exp.seed, lang)
    figures = figures if figures is not None else make_figures(result, lang, caption)
    arm_names = [a.name for a in exp.arms if a.name != cmp.BASELINE]
    sections = [Section(key, _pick(heading, lang)) for key, heading in SECTIONS.items()]
    s = {section.key: section for section in sections}

    # the question
    kpi_names = ", ".join(_pick(KPI_LABELS[k], lang) for k in cmp.HEADLINE_KPIS)
    if lang == "zh":
        s["question"].blocks.append(Paragraph(
            f"在{title_of_case}，与基线相比，{('、'.join(arm_names))}中哪一项对策能在{kpi_names}上"
            f"带来有意义的改善？代价是什么，对农村居民和60岁以上群体是否公平？"))
        s["question"].blocks.append(Paragraph(
            f"每个方案运行{exp.replications}次重复（共同随机数：第r次重复在所有方案中使用同一随机种子），"
            f"每次{days}个工作日（另加{base.scenario.warmup_days}天预热）。"))
    else:
        s["question"].blocks.append(Paragraph(
            f"In {title_of_case}, which of {', '.join(arm_names)} meaningfully improves {kpi_names} "
            f"against the baseline — at what cost, and is it fair to rural and 60+ residents?"))
        s["question"].blocks.append(Paragraph(
            f"Each arm ran {exp.replications} replications with common random numbers (replication r "
            f"of every arm uses the same seed), {days} working days each after a warm-up of "
            f"{base.scenario.warmup_days} days."))
    for line in cmp.verdict(result.effects, result.ranking, lang=lang):
        s["question"].blocks.append(Paragraph("• " + line))

    # scenario and provenance
    _scenario_section(s["scenario"], base, lang, t)

    # arms
    rows = [[cmp.BASELINE, t("none"), "—", "—"]]
    costs = {c_arm: 0.0 for c_arm in resolved}
    for arm in exp.arms[1:]:
        levers: dict[str, Any] = {}
        labels = []
        for overlay in arm.overlays:
            meta, flat = _overlay_levers(overlay)
            labels.append(str(meta.get("label") or meta.get("name", overlay)))
            levers.update(flat)
            costs[arm.name] += float(meta.get("cost_per_year", 0.0))
        rows.append([arm.name, " + ".join(labels),
                     "; ".join(f"{k} = {v}" for k, v in levers.items()) or "—",
                     _num(costs[arm.name]) if costs[arm.name] else "—"])
    s["arms"].blocks.append(Table([t("arm"), t("overlays"), t("levers"), t("cost")], rows))

    # effects
    s["effects"].blocks.append(Paragraph(
        "效果为与基线的配对差异（均值及95%置信区间）。只有经Holm校正后显著且不小于该指标最小重要差异（MID）"
        "的效果才算“有意义”（✓ 改善，✗ 恶化）。图中阴影为 ±MID 区域。" if lang == "zh" else
        "Effects are paired differences from the baseline (mean and 95% confidence interval). An "
        "effect is meaningful (✓ better, ✗ worse) only when it is significant after Holm's "
        "adjustment and at least the KPI's minimal important difference (MID); the shaded band in "
        "each plot is ±MID."))
    rows = []
    for kpi in cmp.HEADLINE_KPIS:
        for r in result.effects[result.effects["kpi"] == kpi].itertuples():
            mark = {1: "✓", -1: "✗"}.get(int(r.better), "")
            rows.append([_pick(KPI_LABELS[kpi], lang), r.arm, _num(r.baseline_mean),
                         f"{_signed(r.diff)} [{_signed(r.ci_low)}, {_signed(r.ci_high)}]",
                         _num(r.mid), (t("yes") if r.meaningful else t("no")) + (f" {mark}" if mark else "")])
    s["effects"].blocks.append(Table([t("kpi"), t("arm"), t("baseline"), t("effect"), t("mid"),
                                      t("meaningful")], rows))
    s["effects"].blocks += figures.forest
    s["effects"].blocks += figures.series

    # ranking
    uncertainty = None
    if exp.replications >= 2 and arm_names:
        uncertainty = cmp.rank_uncertainty(result.runs, n_boot=n_boot, seed=exp.seed).set_index("arm")
    rows = []
    for r in result.ranking.itertuples():
        spread = "—"
        p_first = "—"
        if uncertainty is not None and r.arm in uncertainty.index:
            u = uncertainty.loc[r.arm]
            spread = f"{u['rank_low']:.0f}–{u['rank_high']:.0f}"
            p_first = f"{u['p_first']:.2f}"
        rows.append([str(r.rank), r.arm, f"{r.score:.2f}", str(r.improves), str(r.worsens),
                     r.tied or "—", spread, p_first])
    s["ranking"].blocks.append(Paragraph(
        f"得分为各核心指标上有意义改善的标准化均值（1 = 每项最优）。名次区间和居首概率来自对重复的{n_boot}次自助重抽样。"
        if lang == "zh" else
        f"The score is the mean standardized meaningful improvement over the headline KPIs (1 = best "
        f"on every KPI). The rank range and P(first) come from {n_boot} bootstrap resamples of the "
        "replications; arms with equal scores are tied."))
    s["ranking"].blocks.append(Table([t("rank"), t("arm"), t("score"), t("improves"), t("worsens"),
                                      t("tied"), t("rank_range"), t("p_first")], rows))

    # equity
    rows = [[_pick(KPI_LABELS[r.kpi], lang), r.arm, f"{_signed(r.diff)} [{_signed(r.ci_low)}, "
             f"{_signed(r.ci_high)}]", t(r.verdict)] for r in result.equity.itertuples()]
    s["equity"].blocks.append(Paragraph(
        "差距的符号约定：正值表示农村或60岁以上群体处境更差；负效果表示差距缩小。" if lang == "zh" else
        "Gaps are signed so that a positive value means the rural or 60+ group is worse off; a "
        "negative effect narrows the gap."))
    s["equity"].blocks.append(Table([t("kpi"), t("arm"), t("effect"), t("verdict")], rows))
    if figures.equity is not None:
        s["equity"].blocks.append(figures.equity)

    # cost-effectiveness
    _cost_section(s["cost"], result.cost_effectiveness, lang, t)

    # caveats
    _caveats_section(s["caveats"], base, exp, lang)

    # reproducibility
    import mesa

    hashes = "; ".join(f"{arm}: {ss[0].content_hash()[:16]}" for arm, ss in resolved.items())
    rows = [["onenet-lab", package_version()], ["Python", platform.python_version()],
            ["Mesa", mesa.__version__], ["seed", str(exp.seed)],
            ["replications", str(exp.replications)], ["days", str(days)],
            [_pick(("情景内容哈希 (SHA-256 前16位)", "Scenario content hashes (SHA-256, first 16)"), lang), hashes],
            [_pick(("命令", "Command"), lang), command or "—"],
            [_pick(("生成时间", "Written at"), lang), datetime.now(UTC).isoformat(timespec="seconds")]]
    s["reproducibility"].blocks.append(Table([t("item"), t("value")], rows))
    title = f"{_pick(WORDS['title'], lang)}: {title_of_case}"
    return Brief(title=title, lang=lang, sections=sections)


def _scenario_name(scenario: str) -> str:
    return Path(scenario).stem if scenario.endswith(".toml") else scenario


def _scenario_section(section: Section, base: Any, lang: str, t: Any) -> None:
    meta = base.scenario
    j = base.jurisdiction
    if lang == "zh":
        section.blocks.append(Paragraph(
            f"{meta.title or meta.name}：{meta.description} 人口 {j.population:,}，企业 {j.enterprises:,}，"
            f"乡镇 {j.townships} 个，农村人口占 {j.rural_share:.0%}，60岁以上占 {j.elderly_share:.0%}。"))
    else:
        section.blocks.append(Paragraph(
            f"{meta.title or meta.name}: {meta.description} Population {j.population:,}, enterprises "
            f"{j.enterprises:,}, {j.townships} townships, {j.rural_share:.0%} rural, "
            f"{j.elderly_share:.0%} aged 60+."))
    classes: dict[str, list[str]] = {key: [] for key in PROVENANCE_CLASSES}
    for key, note in base.provenance.items():
        classes[classify_provenance(note)].append(key)
    rows = [[_pick(PROVENANCE_CLASSES[c], lang), str(len(keys)), ", ".join(keys[:6]) + (" …" if len(keys) > 6 else "")]
            for c, keys in classes.items() if keys]
    section.blocks.append(Paragraph(
        "每个参数都附有来源说明（情景文件的 [provenance] 表），按类别汇总如下。" if lang == "zh" else
        "Every parameter carries a provenance note (the scenario's [provenance] table); by class:"))
    section.blocks.append(Table([t("class"), t("count"), t("examples")], rows))
    notes = [f"{key}: {note}" for key, note in base.provenance.items()
             if classify_provenance(note) in ("calibrated", "official", "study")]
    if notes:
        section.blocks.append(Bullets(notes))


def _cost_section(section: Section, table: pd.DataFrame, lang: str, t: Any) -> None:
    if table.empty:
        section.blocks.append(Paragraph(
            "没有对策在其叠加文件中给出年成本（cost_per_year），因此不计算成本效果。" if lang == "zh" else
            "No overlay states a cost (cost_per_year), so no cost-effectiveness is computed."))
        return
    section.blocks.append(Paragraph(
        "每减少一次跑动的成本 = 年成本 / 每年减少的跑动；区间来自效果的95%置信区间（不含改善时为 —）。" if lang == "zh" else
        "Cost per visit saved = cost per year / visits saved per year; the best and worst values "
        "come from the effect's 95% confidence interval (— where it includes no improvement)."))

    def ratio(row: Any, unit: str) -> str:
        main = row.get(f"cost_per_{unit}", float("nan"))
        best = row.get(f"cost_per_{unit}_best", float("nan"))
        worst = row.get(f"cost_per_{unit}_worst", float("nan"))
        return f"{_num(main)} [{_num(best)}, {_num(worst)}]"

    rows = [[str(row["arm"]), _num(row["cost_per_year"]), ratio(row, "visit_saved"),
             ratio(row, "0.1_satisfaction")] for _, row in table.iterrows()]
    section.blocks.append(Table([t("arm"), t("cost_per_year"), t("per_visit"), t("per_satisfaction")], rows))


def _caveats_section(section: Section, base: Any, exp: Any, lang: str) -> None:
    assumed = [k for k, note in base.provenance.items() if classify_provenance(note) == "assumption"]
    items = []
    if lang == "zh":
        items.append(f"{len(assumed)} 项参数（或参数组）仍是待校准的假设：{', '.join(assumed[:12])}"
                     + (" …" if len(assumed) > 12 else "") + "。结论依赖这些假设。")
        items.append("置信区间只反映模型内部的随机性（重复之间的差异）；" +
                     ("未包含参数不确定性（参数取情景文件中的值）。" if not exp.samples else
                      f"参数不确定性以 {len(exp.samples)} 组参数样本纳入。"))
        items.append("模型是对政务服务系统的简化，适合比较对策的方向和相对大小，不宜作为精确预测。")
        items += [f"对策验证 {label}：{note}" for label, note in _validation_notes(exp)]
    else:
        items.append(f"{len(assumed)} parameters (or parameter groups) are still assumptions to "
                     f"calibrate: {', '.join(assumed[:12])}" + (" …" if len(assumed) > 12 else "")
                     + ". The conclusions rest on them.")
        items.append("Confidence intervals reflect only the model's stochastic variation between "
                     "replications; " + ("parameter uncertainty is not included (parameters take the "
                                         "scenario file's values)." if not exp.samples else
                                         f"parameter uncertainty is included through {len(exp.samples)} "
                                         "parameter samples."))
        items.append("The model simplifies a service system: use it to compare the direction and "
                     "relative size of countermeasures' effects, not as a precise forecast.")
        items += [f"Validation of {label}: {note}" for label, note in _validation_notes(exp)]
    section.blocks.append(Bullets(items))


def _validation_notes(exp: Any) -> list[tuple[str, str]]:
    """(label, note) of every compared overlay whose [countermeasure] table says how its effect
    fared against observed figures (`validation`), once each, in arm order."""
    notes: dict[str, tuple[str, str]] = {}
    for arm in exp.arms[1:]:
        for overlay in arm.overlays:
            meta, _ = _overlay_levers(overlay)
            note = str(meta.get("validation", "")).strip()
            if note:
                notes.setdefault(str(meta.get("name", overlay)),
                                 (str(meta.get("label") or meta.get("name", overlay)), note))
    return list(notes.values())


# ---- rendering ----------------------------------------------------------------------------

_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
       system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } figure { margin: 1rem 0; } img { max-width: 100%; }
figcaption { font-size: 0.85rem; color: #555; }
"""


def to_html(brief: Brief) -> str:
    """The brief as one self-contained HTML page (figures inlined as base64 PNG)."""
    esc = html.escape
    parts = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if brief.lang == "zh" else "en"}">',
             f'<head><meta charset="utf-8"><title>{esc(brief.title)}</title><style>{_CSS}</style></head>',
             f"<body>\n<h1>{esc(brief.title)}</h1>"]
    for section in brief.sections:
        parts.append(f'<section id="{section.key}">\n<h2>{esc(section.heading)}</h2>')
        for block in section.blocks:
            if isinstance(block, Paragraph):
                parts.append(f"<p>{esc(block.text)}</p>")
            elif isinstance(block, Bullets):
                parts.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block.items) + "</ul>")
            elif isinstance(block, Table):
                head = "".join(f"<th>{esc(c)}</th>" for c in block.columns)
                body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in block.rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            else:
                data = base64.b64encode(block.png).decode("ascii")
                parts.append(f'<figure id="fig-{esc(block.name)}"><img alt="{esc(block.caption)}" '
                             f'src="data:image/png;base64,{data}"><figcaption>{esc(block.caption)}'
                             "</figcaption></figure>")
        parts.append("</section>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def to_docx(brief: Brief, path: str | Path) -> Path:
    """Write the brief as a Word document (headings, tables and figures)."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Inches, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10)
    if brief.lang == "zh":  # East Asian text in a CJK font Word has everywhere
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    doc.add_heading(brief.title, level=0)
    for section in brief.sections:
        doc.add_heading(section.heading, level=1)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                doc.add_paragraph(block.text)
            elif isinstance(block, Bullets):
                for item in block.items:
                    doc.add_paragraph(item, style="List Bullet")
            elif isinstance(block, Table):
                table = doc.add_table(rows=1, cols=len(block.columns), style="Table Grid")
                for cell, text in zip(table.rows[0].cells, block.columns, strict=True):
                    cell.text = text
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
                for row in block.rows:
                    for cell, text in zip(table.add_row().cells, row, strict=True):
                        cell.text = text
            else:
                doc.add_picture(io.BytesIO(block.png), width=Inches(6.0))
                doc.add_paragraph(block.caption, style="Caption")
    path = Path(path)
    doc.save(str(path))
    return path


def write_brief(result: Comparison, out: str | Path, *, lang: str = "en", command: str | None = None,
                figures: BriefFigures | None = None) -> list[Path]:
    """Write brief.html and brief.docx into `out`; returns their paths."""
    brief = build_brief(result, lang=lang, command=command, figures=figures)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "brief.html"
    html_path.write_text(to_html(brief), encoding="utf-8")
    return [html_path, to_docx(brief, out / "brief.docx")]


def command_line(args: Sequence[str]) -> str:
    """The shell command `onenet ARGS...`, quoted so it can be pasted back."""
    import shlex

    return "onenet " + shlex.join(str(a) for a in args)


__all__ = ["LANGS", "PROVENANCE_CLASSES", "SECTIONS", "Brief", "build_brief", "classify_provenance",
           "command_line", "make_figures", "to_docx", "to_html", "write_brief"]
