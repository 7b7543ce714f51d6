"""Thesis-ready tables (APA style, Chinese or English) in Markdown, HTML, Excel and Word.

`render_table(obj, fmt, ...)` takes a DataFrame or any analysis result (anything with
`to_frame()`; common results get their customary layout, title and labels) and renders a
three-line table: a rule above the header, one under it and one under the body, no vertical
rules; the table number and title above, a note below ("注：" / "Note."). Numbers are printed to
fixed decimals; statistics that cannot exceed 1 in absolute value (p, r, alpha, loadings,
standardized coefficients) lose the leading zero as APA asks (.87, "< .001"); significance stars
are explained in the note.

`add_docx_table(document, ...)` adds the same table to an open python-docx Document (for reports).
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.errors import SurveyAnalysisError

Lang = Literal["zh", "en"]
P_COLUMNS = {"p", "p_value", "p-value", "sig", "sig.", "p_holm", "p_adj", "p_bonferroni", "pvalue"}


@dataclass
class TableSpec:
    """A table ready to render: a frame of display strings, title, note, and which columns exist."""

    frame: pd.DataFrame
    title: str = ""
    note: str = ""
    index: bool = True


@dataclass
class Layout:
    """How a kind of result is laid out."""

    frame: Callable[[Any], pd.DataFrame]
    title: tuple[str, str]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    bounded: Sequence[str] | Callable[[pd.DataFrame], Sequence[str]] = ()
    note: Callable[[Any, Lang], str] | None = None
    index: bool = True


# ---- number formatting ---------------------------------------------------------------------

def format_number(value: Any, decimals: int = 3, *, leading_zero: bool = True) -> str:
    """Fixed decimals; without the leading zero for statistics bounded by 1 (APA)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):d}"
    if isinstance(value, float | np.floating):
        if np.isinf(value):
            return "∞" if value > 0 else "-∞"
        text = f"{float(value):.{decimals}f}"
        if text.startswith("-") and float(text) == 0:
            text = text[1:]
        if not leading_zero:
            text = text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text
        return text
    return str(value)


def format_p(p: Any, decimals: int = 3) -> str:
    """p as APA prints it: '.032', '< .001' (no leading zero, never '.000')."""
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return ""
    p = float(p)
    if p < 10 ** (-decimals):
        return f"< {format_number(10 ** (-decimals), decimals, leading_zero=False)}"
    return format_number(p, decimals, leading_zero=False)


def stars(p: Any) -> str:
    """'***' p < .001, '**' p < .01, '*' p < .05."""
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return ""
    p = float(p)
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


STAR_NOTE = {"zh": "* p < .05，** p < .01，*** p < .001。", "en": "* p < .05. ** p < .01. *** p < .001."}


# ---- layouts of known results ---------------------------------------------------------------

def _alpha_note(result: Any, lang: Lang) -> str:
    lo, hi = result.ci
    if lang == "zh":
        return (f"Cronbach's α = {format_number(result.alpha, 3, leading_zero=False)}，"
                f"基于标准化项的α = {format_number(result.std_alpha, 3, leading_zero=False)}，"
                f"95% CI [{format_number(lo, 3, leading_zero=False)}, {format_number(hi, 3, leading_zero=False)}]，"
                f"n = {result.n}，项目数 = {result.k}。")
    return (f"Cronbach's α = {format_number(result.alpha, 3, leading_zero=False)}, standardized "
            f"α = {format_number(result.std_alpha, 3, leading_zero=False)}, 95% CI "
            f"[{format_number(lo, 3, leading_zero=False)}, {format_number(hi, 3, leading_zero=False)}], "
            f"n = {result.n}, k = {result.k}.")


def _efa_frame(result: Any) -> pd.DataFrame:
    return result.table(suppress=0.4)


def _efa_note(result: Any, lang: Lang) -> str:
    from survey.factor import METHOD_NAMES

    method = METHOD_NAMES.get(result.method, result.method)
    if lang == "zh":
        return (f"提取方法：{method}；旋转方法：{result.rotation}"
                f"{'（Kaiser标准化）' if result.kaiser_normalize and result.rotation != 'none' else ''}；"
                f"n = {result.n_obs}；小于.40的载荷未显示；h2为共同度。")
    return (f"Extraction: {method}; rotation: {result.rotation}"
            f"{' with Kaiser normalization' if result.kaiser_normalize and result.rotation != 'none' else ''}; "
            f"n = {result.n_obs}; loadings below .40 are not shown; h2 = communality.")


def _kmo_frame(result: Any) -> pd.DataFrame:
    frame = result.msa.rename("MSA").to_frame()
    frame.loc["KMO"] = result.overall
    return frame


LAYOUTS: dict[str, Layout] = {
    "AlphaResult": Layout(
        frame=lambda r: r.item_total, title=("项目总计统计", "Item-total statistics"),
        labels={"Scale Mean if Item Deleted": ("删除项后的标度平均值", "Scale mean if item deleted"),
                "Scale Variance if Item Deleted": ("删除项后的标度方差", "Scale variance if item deleted"),
                "Corrected Item-Total Correlation": ("修正后的项与总计相关性", "Corrected item-total correlation"),
                "Squared Multiple Correlation": ("平方多重相关性", "Squared multiple correlation"),
                "Cronbach's Alpha if Item Deleted": ("删除项后的Cronbach's α", "Cronbach's α if item deleted")},
        bounded=("Corrected Item-Total Correlation", "Squared Multiple Correlation",
                 "Cronbach's Alpha if Item Deleted"),
        note=_alpha_note),
    "EFAResult": Layout(frame=_efa_frame, title=("旋转后的因子载荷矩阵", "Rotated factor loadings"),
                        bounded=lambda f: list(f.columns), note=_efa_note),
    "KMOResult": Layout(frame=_kmo_frame, title=("KMO取样适切性量数", "Kaiser-Meyer-Olkin measure of sampling adequacy"),
                        bounded=("MSA",)),
}
COMMON_LABELS: dict[str, tuple[str, str]] = {
    "n": ("N", "N"), "mean": ("均值", "M"), "sd": ("标准差", "SD"), "min": ("最小值", "Min"),
    "max": ("最大值", "Max"), "skewness": ("偏度", "Skewness"), "kurtosis": ("峰度", "Kurtosis"),
    "se_skewness": ("偏度标准误", "SE skewness"), "se_kurtosis": ("峰度标准误", "SE kurtosis"),
    "alpha": ("Cronbach's α", "Cronbach's α"), "std_alpha": ("标准化α", "Standardized α"),
    "omega_total": ("McDonald's ω", "McDonald's ω"), "k": ("项目数", "k"), "label": ("题目", "Item text"), "item": ("题项", "Item"),
    "scale": ("维度", "Scale"), "variable": ("变量", "Variable"), "value": ("选项", "Value"),
    "Factor": ("成分", "Factor"),
    "level": ("类别", "Level"), "test": ("检验", "Test"), "statistic": ("统计量", "Statistic"),
    "posthoc": ("事后比较", "Post hoc"), "loading": ("标准化载荷", "Std. loading"),
    "criterion": ("参考标准", "Criterion"),
    "Initial Total": ("初始特征值", "Initial eigenvalue"),
    "Initial % of Variance": ("初始方差%", "Initial % of variance"),
    "Initial Cumulative %": ("初始累积%", "Initial cumulative %"),
    "Extraction Total": ("提取载荷平方和", "Extraction SS loadings"),
    "Extraction % of Variance": ("提取方差%", "Extraction % of variance"),
    "Extraction Cumulative %": ("提取累积%", "Extraction cumulative %"),
    "Rotation Total": ("旋转载荷平方和", "Rotation SS loadings"),
    "Rotation % of Variance": ("旋转方差%", "Rotation % of variance"),
    "Rotation Cumulative %": ("旋转累积%", "Rotation cumulative %"),
    "percent": ("百分比(%)", "Percent"), "valid_percent": ("有效百分比(%)", "Valid percent"),
    "cumulative_percent": ("累积百分比(%)", "Cumulative percent"), "p": ("p", "p"),
    "t": ("t", "t"), "F": ("F", "F"), "chi2": ("χ²", "χ²"), "df": ("df", "df"),
    "r": ("r", "r"), "beta": ("β", "β"), "B": ("B", "B"), "se": ("标准误", "SE"),
    "ci_low": ("95% CI下限", "95% CI lower"), "ci_high": ("95% CI上限", "95% CI upper"),
}


def _layout_of(obj: Any) -> Layout | None:
    for cls in type(obj).__mro__:
        if cls.__name__ in LAYOUTS:
            return LAYOUTS[cls.__name__]
    return None


def table_spec(obj: Any, *, lang: Lang = "zh", title: str | None = None, note: str | None = None,
               decimals: int = 3, bounded: Sequence[str] | None = None) -> TableSpec:
    """Format `obj` (a DataFrame or a result) into display strings with its title and note."""
    if lang not in ("zh", "en"):
        raise SurveyAnalysisError(f"render_table: lang must be 'zh' or 'en' (got {lang!r})")
    layout = _layout_of(obj)
    if isinstance(obj, pd.DataFrame):
        frame, index = obj, obj.index.name is not None or not isinstance(obj.index, pd.RangeIndex)
    elif layout is not None:
        frame, index = layout.frame(obj), layout.index
    elif hasattr(obj, "to_frame"):
        frame = obj.to_frame()
        index = not isinstance(frame.index, pd.RangeIndex)
    else:
        raise SurveyAnalysisError(f"render_table: cannot render a {type(obj).__name__}; pass a DataFrame "
                                  "or a result with to_frame()")
    if bounded is None:
        bounded = layout.bounded(frame) if layout and callable(layout.bounded) else (layout.bounded if layout else ())
    bounded = set(bounded)
    labels = {**COMMON_LABELS, **(layout.labels if layout else {})}
    pick = 0 if lang == "zh" else 1
    out = pd.DataFrame(index=frame.index)
    used_stars = False
    for column in frame.columns:
        values = frame[column]
        name = str(column)
        if name.lower() in P_COLUMNS:
            shown = values.map(lambda v: format_p(v, decimals))
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            integer = pd.api.types.is_integer_dtype(values) or (
                values.dropna().map(lambda v: float(v).is_integer()).all() and name in {"n", "N", "df", "k"})
            shown = values.map(lambda v, b=name in bounded, i=integer: format_number(
                int(v) if i and not pd.isna(v) else v, decimals, leading_zero=not b))
        else:
            shown = values.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
        out[labels.get(name, (name, name))[pick]] = shown
    if "stars" in frame.columns:
        used_stars = frame["stars"].astype(str).str.contains(r"\*").any()
    if title is None:
        title = layout.title[pick] if layout else ""
    if note is None:
        note = layout.note(obj, lang) if layout and layout.note else ""
    if used_stars and STAR_NOTE[lang] not in note:
        note = f"{note} {STAR_NOTE[lang]}".strip()
    out.index = [str(i) for i in frame.index]
    stub = str(frame.index.name) if frame.index.name is not None else ""
    out.index.name = labels.get(stub, (stub, stub))[pick]
    return TableSpec(out, title=title, note=note, index=index)


def _caption(spec: TableSpec, number: int | None, lang: Lang) -> str:
    if number is None:
        return spec.title
    return f"表{number}  {spec.title}" if lang == "zh" else f"Table {number}. {spec.title}"


def _note_text(spec: TableSpec, lang: Lang) -> str:
    if not spec.note:
        return ""
    return f"注：{spec.note}" if lang == "zh" else f"Note. {spec.note}"


def _header(spec: TableSpec) -> list[str]:
    return ([spec.frame.index.name or ""] if spec.index else []) + [str(c) for c in spec.frame.columns]


def _rows(spec: TableSpec) -> list[list[str]]:
    rows = []
    for key, *values in spec.frame.itertuples(index=True, name=None):
        rows.append(([str(key)] if spec.index else []) + [str(v) for v in values])
    return rows


def to_markdown(spec: TableSpec, *, number: int | None = None, lang: Lang = "zh") -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = []
    caption = _caption(spec, number, lang)
    if caption:
        lines += [f"**{esc(caption)}**", ""]
    header = _header(spec)
    lines.append("| " + " | ".join(esc(h) for h in header) + " |")
    align = [":--" if (i == 0 and spec.index) else "--:" for i in range(len(header))]
    lines.append("| " + " | ".join(align) + " |")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in _rows(spec)]
    note = _note_text(spec, lang)
    if note:
        lines += ["", esc(note)]
    return "\n".join(lines) + "\n"


HTML_STYLE = (
    "table.apa{border-collapse:collapse;border-top:2px solid #000;border-bottom:2px solid #000;"
    "margin:0.5em 0;font-family:'Times New Roman',SimSun,serif}"
    "table.apa th{border-bottom:1px solid #000;padding:4px 10px;font-weight:normal;text-align:center}"
    "table.apa td{padding:3px 10px;text-align:right}table.apa td.stub{text-align:left}"
    "table.apa caption{caption-side:top;text-align:left;padding-bottom:4px;font-weight:bold}"
    "p.apa-note{font-size:90%;margin-top:2px}"
)


def to_html(spec: TableSpec, *, number: int | None = None, lang: Lang = "zh", standalone: bool = True) -> str:
    parts = []
    if standalone:
        parts.append(f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><style>{HTML_STYLE}</style>'
                     "</head><body>")
    parts.append('<table class="apa">')
    caption = _caption(spec, number, lang)
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in _header(spec)) + "</tr></thead><tbody>")
    for row in _rows(spec):
        cells = [f'<td class="stub">{html.escape(c)}</td>' if i == 0 and spec.index else f"<td>{html.escape(c)}</td>"
                 for i, c in enumerate(row)]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    note = _note_text(spec, lang)
    if note:
        parts.append(f'<p class="apa-note">{html.escape(note)}</p>')
    if standalone:
        parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _atomic_write(path: Path, write: Callable[[Path], None], overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise SurveyAnalysisError(f"{path} exists; pass overwrite=True to replace it")
    if not path.parent.exists():
        raise SurveyAnalysisError(f"{path.parent}: no such folder")
    handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _write_xlsx(spec: TableSpec, target: Path, *, number: int | None, lang: Lang) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    sheet.title = "Table" if number is None else f"Table {number}"
    thick, thin = Side(style="medium"), Side(style="thin")
    header, rows = _header(spec), _rows(spec)
    sheet.cell(row=1, column=1, value=_caption(spec, number, lang)).font = Font(bold=True)
    for j, text in enumerate(header, start=1):
        cell = sheet.cell(row=2, column=j, value=text)
        cell.border = Border(top=thick, bottom=thin)
        cell.alignment = Alignment(horizontal="center")
    for i, row in enumerate(rows, start=3):
        for j, text in enumerate(row, start=1):
            cell = sheet.cell(row=i, column=j, value=text)
            cell.alignment = Alignment(horizontal="left" if j == 1 and spec.index else "right")
            if i == len(rows) + 2:
                cell.border = Border(bottom=thick)
    note = _note_text(spec, lang)
    if note:
        sheet.cell(row=len(rows) + 3, column=1, value=note)
    for j, _ in enumerate(header, start=1):
        width = max(len(str(sheet.cell(row=r, column=j).value or "")) for r in range(2, len(rows) + 3))
        sheet.column_dimensions[sheet.cell(row=2, column=j).column_letter].width = min(60, width + 4)
    book.save(target)


def _border(element: Any, edges: dict[str, int]) -> None:
    """Set OXML borders (edge -> size in eighths of a point; 0 = none) on a tblPr or tcPr."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tag = "w:tblBorders" if element.tag.endswith("tblPr") else "w:tcBorders"
    borders = element.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        element.append(borders)
    for edge, size in edges.items():
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:val"), "single" if size else "nil")
        if size:
            node.set(qn("w:sz"), str(size))
            node.set(qn("w:space"), "0")
            node.set(qn("w:color"), "000000")
        borders.append(node)


def _set_fonts(run: Any, lang: Lang, size: float | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = "Times New Roman"
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "SimSun" if lang == "zh" else "Times New Roman")
    if size:
        run.font.size = Pt(size)


def add_docx_table(document: Any, obj: Any, *, lang: Lang = "zh", number: int | None = None,
                   title: str | None = None, note: str | None = None, decimals: int = 3) -> Any:
    """Append a three-line table (caption above, note below) to a python-docx Document."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    spec = obj if isinstance(obj, TableSpec) else table_spec(obj, lang=lang, title=title, note=note,
                                                              decimals=decimals)
    caption = document.add_paragraph()
    _set_fonts(caption.add_run(_caption(spec, number, lang)), lang, 10.5)
    caption.runs[0].bold = True
    header, rows = _header(spec), _rows(spec)
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    _border(table._tbl.tblPr, {"top": 12, "bottom": 12, "left": 0, "right": 0, "insideH": 0, "insideV": 0})
    for j, text in enumerate(header):
        cell = table.rows[0].cells[j]
        cell.text = ""
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_fonts(paragraph.add_run(text), lang, 10.5)
        _border(cell._tc.get_or_add_tcPr(), {"bottom": 6})
    for i, row in enumerate(rows, start=1):
        for j, text in enumerate(row):
            cell = table.rows[i].cells[j]
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 0 and spec.index else WD_ALIGN_PARAGRAPH.RIGHT
            _set_fonts(paragraph.add_run(text), lang, 10.5)
    note_text = _note_text(spec, lang)
    if note_text:
        _set_fonts(document.add_paragraph().add_run(note_text), lang, 9)
    return table


def render_table(obj: Any, fmt: Literal["markdown", "html", "xlsx", "docx"] = "markdown", *,
                 path: str | Path | None = None, lang: Lang = "zh", title: str | None = None,
                 note: str | None = None, decimals: int = 3, number: int | None = None,
                 bounded: Sequence[str] | None = None, overwrite: bool = False) -> str | Path:
    """Render a DataFrame or result as an APA three-line table.

    Args:
        obj: a DataFrame or a result object (alpha, KMO, EFA, regression, ...).
        fmt: "markdown" or "html" (returned as a string, also written when `path` is given),
            "xlsx" or "docx" (written to `path`, which is returned).
        lang: "zh" (Chinese labels, 注：) or "en" (English labels, Note.).
        title, note: override the default title and note; number: the table number.
        decimals: decimals of statistics; bounded: columns printed without a leading zero
            (default: the result's own, e.g. loadings and correlations).
        overwrite: replace an existing file (otherwise an error); files are written atomically.
    """
    if fmt not in ("markdown", "html", "xlsx", "docx"):
        raise SurveyAnalysisError(f"render_table: fmt must be markdown, html, xlsx or docx (got {fmt!r})")
    spec = table_spec(obj, lang=lang, title=title, note=note, decimals=decimals, bounded=bounded)
    if fmt in ("markdown", "html"):
        text = to_markdown(spec, number=number, lang=lang) if fmt == "markdown" else to_html(spec, number=number, lang=lang)
        if path is not None:
            _atomic_write(Path(path), lambda t: t.write_text(text, encoding="utf-8"), overwrite)
        return text
    if path is None:
        raise SurveyAnalysisError(f"render_table: fmt={fmt!r} writes a file; give path=")
    if fmt == "xlsx":
        return _atomic_write(Path(path), lambda t: _write_xlsx(spec, t, number=number, lang=lang), overwrite)

    def write_docx(target: Path) -> None:
        from docx import Document

        document = Document()
        add_docx_table(document, spec, lang=lang, number=number)
        document.save(target)

    return _atomic_write(Path(path), write_docx, overwrite)


__all__ = ["LAYOUTS", "Layout", "TableSpec", "add_docx_table", "format_number", "format_p", "render_table",
           "stars", "table_spec", "to_html", "to_markdown"]
