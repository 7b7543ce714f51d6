"""The questionnaire chapter of a thesis, written as HTML and Word (.docx) with its figures.

`report(data, out)` writes `report.html`, `report.docx` and `figures/*.png` into `out`:
sample description (frequencies of the demographic variables), item descriptives, reliability
per scale (Cronbach's alpha with item-total statistics, McDonald's omega), validity (KMO,
Bartlett's test, exploratory factor analysis with the variance table, rotated loadings and a
scree plot), and — as the report spec asks — correlations of the scale scores and a regression
of an outcome on them. A small TOML spec (`[report]`, see `ReportSpec`) chooses the scales,
demographic variables, EFA settings and the regression model; without one, the codebook's
scales and labelled categorical variables are used.

Only analysis results reach the report: free-text and personal columns never do.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.codebook import Codebook, SurveyData
from survey.errors import SurveyAnalysisError

Lang = Literal["zh", "en"]

TEXT = {
    "title": ("问卷数据分析", "Questionnaire analysis"),
    "sample": ("样本描述", "Sample description"),
    "sample_table": ("样本基本情况", "Sample characteristics"),
    "items": ("题项描述统计", "Item descriptive statistics"),
    "reliability": ("信度分析", "Reliability"),
    "reliability_table": ("各维度信度", "Reliability of the scales"),
    "validity": ("效度分析", "Validity"),
    "kmo_table": ("KMO和Bartlett球形检验", "KMO and Bartlett's test of sphericity"),
    "variance_table": ("总方差解释", "Total variance explained"),
    "scree": ("碎石图", "Scree plot"),
    "correlation": ("相关分析", "Correlation analysis"),
    "correlation_table": ("各维度均值、标准差与相关系数", "Means, standard deviations and correlations"),
    "regression": ("回归分析", "Regression analysis"),
    "regression_table": ("回归分析结果", "Regression coefficients"),
    "cfa": ("验证性因子分析", "Confirmatory factor analysis"),
    "cfa_fit": ("模型拟合指标", "Model fit"),
    "cfa_loadings": ("标准化因子载荷、组合信度与平均方差抽取量", "Standardized loadings, CR and AVE"),
    "fornell": ("区分效度（对角线为AVE平方根）", "Discriminant validity (square root of AVE on the diagonal)"),
    "differences": ("差异分析", "Difference analysis"),
    "variable": ("变量", "Variable"), "category": ("类别", "Category"), "n": ("人数", "n"),
    "percent": ("百分比(%)", "%"),
}


# value-label words of rating items, kept out of the default sample description
LIKERT_WORDS = ("满意", "同意", "satisf", "agree")


def _t(key: str, lang: Lang) -> str:
    return TEXT[key][0 if lang == "zh" else 1]


class ReportSpecError(SurveyAnalysisError):
    """A report spec that cannot be used (the message names the file and key)."""


@dataclass
class ReportSpec:
    """What the report covers (TOML: a `[report]` table with these keys; sub-tables efa, regression).

    Attributes:
        title: the chapter title. lang: "zh" or "en".
        scales: codebook scales to analyse (default: all).
        demographics: categorical variables for the sample description (default: variables with
            value labels that are not scale items, nor personal).
        efa: method ("pca", "paf", "minres", "ml"), rotation, n_factors (default: number of scales).
        correlation: "pearson" or "spearman" (or "" to leave out).
        regression: outcome and predictors (scale names or columns), or empty to leave out.
        cfa: confirmatory factor analysis of the scales (each scale one factor).
        differences: outcomes (scales or columns; default: every scale) compared across groups
            (default: the demographic variables); {"outcomes": [], ...} leaves it out.
    """

    title: str = ""
    lang: Lang = "zh"
    scales: list[str] = field(default_factory=list)
    demographics: list[str] = field(default_factory=list)
    efa: dict[str, Any] = field(default_factory=lambda: {"method": "pca", "rotation": "varimax"})
    correlation: str = "pearson"
    regression: dict[str, Any] = field(default_factory=dict)
    cfa: bool = True
    differences: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: str | Path) -> ReportSpec:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReportSpecError(f"{path}: no such report spec") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ReportSpecError(f"{path}: not valid TOML ({error})") from None
        table = data.get("report")
        if set(data) != {"report"} or not isinstance(table, dict):
            raise ReportSpecError(f"{path}: a report spec holds one [report] table (found {sorted(data)})")
        allowed = {"title", "lang", "scales", "demographics", "efa", "correlation", "regression", "cfa",
                   "differences"}
        unknown = set(table) - allowed
        if unknown:
            raise ReportSpecError(f"{path}: report.{sorted(unknown)[0]}: unknown key; allowed: {sorted(allowed)}")
        checks = {"title": str, "lang": str, "scales": list, "demographics": list, "efa": dict,
                  "correlation": str, "regression": dict, "cfa": bool, "differences": dict}
        for key, kind in checks.items():
            if key in table and not isinstance(table[key], kind):
                raise ReportSpecError(f"{path}: report.{key}: must be {kind.__name__} (got {table[key]!r})")
        if table.get("lang", "zh") not in ("zh", "en"):
            raise ReportSpecError(f"{path}: report.lang: 'zh' or 'en' (got {table['lang']!r})")
        efa_keys = {"method", "rotation", "n_factors"}
        if set(table.get("efa", {})) - efa_keys:
            bad = sorted(set(table["efa"]) - efa_keys)[0]
            raise ReportSpecError(f"{path}: report.efa.{bad}: unknown key; allowed: {sorted(efa_keys)}")
        reg_keys = {"outcome", "predictors"}
        if set(table.get("regression", {})) - reg_keys:
            bad = sorted(set(table["regression"]) - reg_keys)[0]
            raise ReportSpecError(f"{path}: report.regression.{bad}: unknown key; allowed: {sorted(reg_keys)}")
        diff_keys = {"outcomes", "groups"}
        if set(table.get("differences", {})) - diff_keys:
            bad = sorted(set(table["differences"]) - diff_keys)[0]
            raise ReportSpecError(f"{path}: report.differences.{bad}: unknown key; allowed: {sorted(diff_keys)}")
        spec = cls(**{k: v for k, v in table.items() if k != "efa"})
        spec.efa = {"method": "pca", "rotation": "varimax", **table.get("efa", {})}
        return spec


# ---- document blocks -------------------------------------------------------------------------

@dataclass
class Block:
    kind: Literal["heading", "paragraph", "table", "figure"]
    text: str = ""
    obj: Any = None
    title: str | None = None
    note: str | None = None
    path: Path | None = None
    level: int = 2
    decimals: int = 3
    bounded: tuple[str, ...] | None = None


@dataclass
class ReportResult:
    """What `report` wrote and the analyses behind it."""

    paths: list[Path]
    blocks: list[Block]
    results: dict[str, Any]


def _kaiser_word(value: float, lang: Lang) -> str:
    # Kaiser (1974): .90s marvelous, .80s meritorious, .70s middling, .60s mediocre, .50s miserable
    bands = [(0.9, "非常适合", "marvelous"), (0.8, "很适合", "meritorious"), (0.7, "适合", "middling"),
             (0.6, "勉强适合", "mediocre"), (0.5, "不太适合", "miserable")]
    for low, zh, en in bands:
        if value >= low:
            return zh if lang == "zh" else en
    return "不适合" if lang == "zh" else "unacceptable"


def _p_text(p: float) -> str:
    from survey.tables import format_p

    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _demographics(data: pd.DataFrame, book: Codebook, spec: ReportSpec, items: set[str]) -> list[str]:
    if spec.demographics:
        return spec.demographics
    personal = set(book.personal_columns())
    chosen = []
    for name in data.columns:
        var = book.get(name)
        if name in items or name in personal or not var.value_labels:
            continue
        words = " ".join(map(str, var.value_labels.values())).lower()
        if any(w in words for w in LIKERT_WORDS):
            continue  # a rating item, not a respondent characteristic
        if var.measure in ("nominal", "ordinal", "unknown") and data[name].nunique(dropna=True) <= 12:
            chosen.append(name)
    return chosen


def _difference_remarks(result: Any, book: Codebook, lang: Lang) -> str:
    """The groups left out and the variables skipped in a difference analysis, as one sentence each."""
    zh = lang == "zh"
    parts = [(f"{book.label(variable)}中的“{group}”仅{n}人，未参与比较" if zh else
              f"{book.label(variable)}: {group} (n = {n}) left out, fewer than 2 respondents")
             for variable, group, n in result.left_out]
    parts += [(f"{book.label(variable)}无法比较（{reason}）" if zh else f"{book.label(variable)}: not compared ({reason})")
              for variable, reason in result.skipped.items()]
    if not parts:
        return ""
    return "；".join(parts) + "。" if zh else "; ".join(parts) + "."


def _sample_table(data: pd.DataFrame, book: Codebook, variables: Sequence[str], lang: Lang) -> pd.DataFrame:
    from survey.descriptives import frequencies

    rows = []
    for name in variables:
        table = frequencies(data, name, book)
        valid = table[(table["status"] == "valid") & table["value"].notna()]
        for i, row in enumerate(valid.itertuples()):
            rows.append({_t("variable", lang): book.label(name) if i == 0 else "",
                         _t("category", lang): row.label, _t("n", lang): int(row.n),
                         _t("percent", lang): float(row.valid_percent)})
    return pd.DataFrame(rows)


def build(data: SurveyData, spec: ReportSpec, figures: Path) -> tuple[list[Block], dict[str, Any]]:
    """Run the analyses and lay out the chapter as blocks (figures written into `figures`)."""
    import survey

    frame, book, lang = data.data, data.codebook, spec.lang
    unknown = [s for s in spec.scales if s not in book.scales]
    if unknown:
        raise ReportSpecError(f"report.scales: {unknown[0]!r} is not a scale of the codebook; "
                              f"scales: {sorted(book.scales)}")
    scales = {name: book.scales[name] for name in (spec.scales or list(book.scales))}
    if not scales:
        raise SurveyAnalysisError("report: the codebook defines no scales; give a codebook TOML with "
                                  "[scales.NAME] items = [...] (survey.write_codebook writes one)")
    book.validate_against(frame, where="report")
    items = [i for s in scales.values() for i in s.items]
    missing_demo = [d for d in spec.demographics if d not in frame.columns]
    if missing_demo:
        raise ReportSpecError(f"report.demographics: {missing_demo[0]!r} is not a column of the data")
    blocks: list[Block] = [Block("heading", spec.title or book.title or _t("title", lang), level=1)]
    results: dict[str, Any] = {}
    zh = lang == "zh"

    # 1. sample
    demographics = _demographics(frame, book, spec, set(items))
    blocks.append(Block("heading", _t("sample", lang)))
    blocks.append(Block("paragraph", (f"本次调查共获得有效样本{len(frame)}份。" if zh else
                                      f"The analysis uses {len(frame)} valid responses.")))
    if demographics:
        sample = _sample_table(frame, book, demographics, lang)
        results["sample"] = sample
        blocks.append(Block("table", obj=sample, title=_t("sample_table", lang), decimals=1))
    described = survey.describe(frame, items, codebook=book)
    results["items"] = described
    blocks.append(Block("heading", _t("items", lang)))
    blocks.append(Block("table", obj=described.drop(columns=["se_skewness", "se_kurtosis"]), title=_t("items", lang)))

    # 2. reliability
    blocks.append(Block("heading", _t("reliability", lang)))
    rows, alphas = [], {}
    for name, scale in scales.items():
        alpha = survey.cronbach_alpha(frame, scale)
        alphas[name] = alpha
        omega = survey.omega(frame, alpha.items).omega_total if alpha.k >= 3 else float("nan")
        rows.append({"scale": scale.label or name, "k": alpha.k, "n": alpha.n, "alpha": alpha.alpha,
                     "std_alpha": alpha.std_alpha, "omega_total": omega})
    reliability = pd.DataFrame(rows).set_index("scale")
    results["reliability"] = reliability
    low = [r for r, a in zip(reliability.index, reliability["alpha"], strict=True) if a < 0.7]
    blocks.append(Block("paragraph", (
        f"各维度Cronbach's α系数在{reliability['alpha'].min():.3f}至{reliability['alpha'].max():.3f}之间"
        + ("，均高于0.7，量表信度良好。" if not low else f"；{'、'.join(low)}低于0.7，信度偏低，需谨慎解释。")
        if zh else
        f"Cronbach's alpha ranges from {reliability['alpha'].min():.3f} to {reliability['alpha'].max():.3f}"
        + (", all above .70." if not low else f"; below .70 for {', '.join(low)}, so interpret those with care."))))
    blocks.append(Block("table", obj=reliability, title=_t("reliability_table", lang),
                        bounded=("alpha", "std_alpha", "omega_total")))
    for name, alpha in alphas.items():
        label = scales[name].label or name
        blocks.append(Block("table", obj=alpha, title=(f"{label}：项目总计统计" if zh else
                                                       f"{label}: item-total statistics")))
    results["alpha"] = alphas

    # 3. validity
    blocks.append(Block("heading", _t("validity", lang)))
    kmo, bartlett = survey.kmo(frame, items), survey.bartlett(frame, items)
    results["kmo"], results["bartlett"] = kmo, bartlett
    from survey.tables import format_number, format_p

    kb = pd.DataFrame({("值" if zh else "Value"): [format_number(kmo.overall, 3, leading_zero=False),
                                                   f"{bartlett.chi2:.2f}", str(bartlett.df), format_p(bartlett.p)]},
                      index=["KMO", "Bartlett χ²", "df", "p"])
    blocks.append(Block("paragraph", (
        f"KMO值为{kmo.overall:.3f}（{_kaiser_word(kmo.overall, lang)}），Bartlett球形检验χ² = {bartlett.chi2:.2f}，"
        f"df = {bartlett.df}，{_p_text(bartlett.p)}，"
        + ("数据适合进行因子分析。" if kmo.overall >= 0.6 and bartlett.p < 0.05 else "数据不太适合进行因子分析。")
        if zh else
        f"KMO = {kmo.overall:.3f} ({_kaiser_word(kmo.overall, lang)}); Bartlett's test χ²({bartlett.df}) = "
        f"{bartlett.chi2:.2f}, {_p_text(bartlett.p)}"
        + ("; the items suit factor analysis." if kmo.overall >= 0.6 and bartlett.p < 0.05 else
           "; the items do not suit factor analysis well."))))
    blocks.append(Block("table", obj=kb, title=_t("kmo_table", lang)))
    n_factors = int(spec.efa.get("n_factors") or len(scales))
    efa = survey.efa(frame[items], n_factors, method=spec.efa.get("method", "pca"),
                     rotation=spec.efa.get("rotation", "varimax"))
    results["efa"] = efa
    cumulative = efa.variance.iloc[n_factors - 1].iloc[-1]
    blocks.append(Block("paragraph", (
        f"提取{n_factors}个因子，旋转后累计方差解释率为{cumulative:.2f}%。" if zh else
        f"{n_factors} factors explain {cumulative:.2f}% of the variance after rotation.")))
    blocks.append(Block("table", obj=efa.variance.head(max(n_factors, efa.kaiser_n)), title=_t("variance_table", lang),
                        decimals=2))
    blocks.append(Block("table", obj=efa))
    scree = figures / "scree.png"
    fig = efa.scree_plot()
    fig.savefig(scree, dpi=150)
    blocks.append(Block("figure", path=scree, title=_t("scree", lang)))

    # 3b. confirmatory factor analysis: each scale one factor
    cfa_scales = {n: sc for n, sc in scales.items() if len(sc.items) >= 3}
    if spec.cfa and cfa_scales:
        model = "\n".join(f"{n} =~ " + " + ".join(sc.items) for n, sc in cfa_scales.items())
        keyed = frame.copy()
        for sc in cfa_scales.values():  # reverse-keyed items scored first, so loadings share a sign
            for item in sc.reverse:
                keyed[item] = sc.low + sc.high - pd.to_numeric(keyed[item], errors="coerce")
        fit = survey.cfa(model, keyed)
        results["cfa"] = fit
        f = fit.fit
        blocks.append(Block("heading", _t("cfa", lang)))
        blocks.append(Block("paragraph", (
            f"验证性因子分析结果：χ²/df = {f['chi2'] / f['df']:.3f}，CFI = {f['cfi']:.3f}，TLI = {f['tli']:.3f}，"
            f"RMSEA = {f['rmsea']:.3f}（90% CI [{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}]），"
            f"SRMR = {f['srmr']:.3f}。" if zh else
            f"CFA: χ²/df = {f['chi2'] / f['df']:.3f}, CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = "
            f"{f['rmsea']:.3f} (90% CI [{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}]), SRMR = {f['srmr']:.3f}.")))
        if not fit.converged or fit.improper:
            problem = "; ".join(fit.notes) or ("did not converge" if not fit.converged else "improper solution")
            blocks.append(Block("paragraph", (
                f"注意：该验证性因子分析结果不可报告（{'未收敛' if not fit.converged else '不适当解'}：{problem}）。" if zh else
                f"Caution: this CFA is not reportable ({'not converged' if not fit.converged else 'improper solution'}: "
                f"{problem}).")))
        from survey.tables import format_number as fmt

        def nz(value: float) -> str:
            return fmt(value, 3, leading_zero=False)

        fit_rows = [("χ²", f"{f['chi2']:.3f}", ""), ("df", f"{f['df']:.0f}", ""),
                    ("χ²/df", f"{f['chi2'] / f['df']:.3f}", "< 3"), ("CFI", nz(f["cfi"]), "> .90"),
                    ("TLI", nz(f["tli"]), "> .90"), ("RMSEA", nz(f["rmsea"]), "< .08"),
                    ("RMSEA 90% CI", f"[{nz(f['rmsea_ci_lower'])}, {nz(f['rmsea_ci_upper'])}]", ""),
                    ("SRMR", nz(f["srmr"]), "< .08"), ("GFI", nz(f["gfi"]), "> .90"), ("AGFI", nz(f["agfi"]), "> .80"),
                    ("NFI", nz(f["nfi"]), "> .90"), ("IFI", nz(f["ifi"]), "> .90"),
                    ("AIC", f"{f['aic']:.3f}", ""), ("BIC", f"{f['bic']:.3f}", "")]
        fit_table = pd.DataFrame([(v, c) for _, v, c in fit_rows], columns=["值" if zh else "Value", "criterion"],
                                 index=pd.Index([k for k, _, _ in fit_rows], name="fit"))
        blocks.append(Block("table", obj=fit_table, title=_t("cfa_fit", lang),
                            note=("参考标准：Hu & Bentler (1999)；GFI/AGFI参照Jöreskog & Sörbom。" if zh else
                                  "Criteria: Hu & Bentler (1999); GFI/AGFI after Jöreskog & Sörbom.")))
        rel = fit.reliability()
        rows = []
        for factor in fit.loadings.columns:
            for i, (item, value) in enumerate(fit.loadings[factor].dropna().items()):
                rows.append({"scale": (cfa_scales[factor].label or factor) if i == 0 else "", "item": item,
                             "loading": value, "CR": rel.loc[factor, "CR"] if i == 0 else np.nan,
                             "AVE": rel.loc[factor, "AVE"] if i == 0 else np.nan})
        blocks.append(Block("table", obj=pd.DataFrame(rows), title=_t("cfa_loadings", lang),
                            bounded=("loading", "CR", "AVE")))
        fl = fit.fornell_larcker().rename(index=lambda n: cfa_scales[n].label or n,
                                          columns=lambda n: cfa_scales[n].label or n)
        blocks.append(Block("table", obj=fl, title=_t("fornell", lang), bounded=tuple(fl.columns)))

    # 4. relations of the scale scores
    scores = survey.score_scales(frame, scales)
    results["scores"] = scores
    outcomes = spec.differences.get("outcomes", list(scales))
    groups = spec.differences.get("groups", demographics)
    if outcomes and groups:
        table = pd.concat([frame.drop(columns=[c for c in scores.columns if c in frame.columns]), scores], axis=1)
        blocks.append(Block("heading", _t("differences", lang)))
        results["differences"] = {}
        for outcome in outcomes:
            if outcome not in table.columns:
                raise ReportSpecError(f"report.differences: {outcome!r} is neither a scale nor a column")
            result = survey.difference_analysis(table, outcome, groups, codebook=book, small_groups="leave_out")
            results["differences"][outcome] = result
            label = scales[outcome].label if outcome in scales else book.label(outcome)
            remarks = _difference_remarks(result, book, lang)
            if result.table.empty:
                blocks.append(Block("paragraph", remarks))
                continue
            shown = result.table.drop(columns=["stars"]).rename(columns={"mean_sd": "M ± SD"})
            note = ("t：独立样本t检验；F：单因素方差分析；Welch F：方差不齐时的Welch检验；"
                    "事后比较（LSD/Tukey或Games-Howell）中数字为类别编号。" if zh else
                    "t: independent-samples t-test; F: one-way ANOVA; Welch F when variances "
                    "differ; post hoc (Tukey or Games-Howell) by category number.")
            if remarks:
                note += ("" if zh else " ") + remarks
            blocks.append(Block("table", obj=shown, title=(f"{label}在人口统计变量上的差异" if zh else
                                                           f"Differences in {label} by respondent group"),
                                note=note))
    labelled = scores.rename(columns={n: scales[n].label or n for n in scores.columns})
    if spec.correlation and len(scales) >= 2:
        corr = survey.correlate(labelled, list(labelled.columns), method=spec.correlation)
        results["correlation"] = corr
        blocks.append(Block("heading", _t("correlation", lang)))
        blocks.append(Block("table", obj=corr.table(), title=_t("correlation_table", lang),
                            note=("* p < .05，** p < .01，*** p < .001。" if zh else
                                  "* p < .05. ** p < .01. *** p < .001.")))
    if spec.regression:
        outcome = spec.regression.get("outcome")
        predictors = spec.regression.get("predictors") or [n for n in scales if n != outcome]
        table = pd.concat([frame, scores], axis=1)
        for name in [outcome, *predictors]:
            if name not in table.columns:
                raise ReportSpecError(f"report.regression: {name!r} is neither a scale nor a column")
        ols = survey.ols(table, outcome, list(predictors))
        results["regression"] = ols
        blocks.append(Block("heading", _t("regression", lang)))
        blocks.append(Block("paragraph", (
            f"以{book.label(outcome) if outcome in book else outcome}为因变量的回归模型：R² = {ols.r2:.3f}，"
            f"调整R² = {ols.adj_r2:.3f}，F({ols.df[0]}, {ols.df[1]}) = {ols.F:.2f}，{_p_text(ols.p)}，"
            f"Durbin-Watson = {ols.dw:.2f}。" if zh else
            f"Regression of {outcome}: R² = {ols.r2:.3f}, adjusted R² = {ols.adj_r2:.3f}, "
            f"F({ols.df[0]}, {ols.df[1]}) = {ols.F:.2f}, {_p_text(ols.p)}, Durbin-Watson = {ols.dw:.2f}.")))
        coefficients = ols.coefficients[["B", "SE", "Beta", "t", "p", "VIF"]]
        blocks.append(Block("table", obj=coefficients, title=_t("regression_table", lang)))
    return blocks, results


def _html(blocks: list[Block], lang: Lang, out: Path) -> str:
    from survey.tables import HTML_STYLE, table_spec, to_html

    parts = [f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
             f"<title>{html.escape(blocks[0].text)}</title><style>body{{max-width:60em;margin:2em auto;"
             f"font-family:'Times New Roman',SimSun,serif}}{HTML_STYLE}</style></head><body>"]
    table_no = figure_no = 0
    for block in blocks:
        if block.kind == "heading":
            parts.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif block.kind == "paragraph":
            parts.append(f"<p>{html.escape(block.text)}</p>")
        elif block.kind == "table":
            table_no += 1
            spec = table_spec(block.obj, lang=lang, title=block.title, note=block.note,
                              decimals=block.decimals, bounded=block.bounded)
            parts.append(to_html(spec, number=table_no, lang=lang, standalone=False))
        elif block.kind == "figure":
            figure_no += 1
            caption = f"图{figure_no}  {block.title}" if lang == "zh" else f"Figure {figure_no}. {block.title}"
            rel = os.path.relpath(block.path, out)
            parts.append(f'<figure><img src="{html.escape(rel)}" alt="{html.escape(block.title or "")}" '
                         f'style="max-width:32em"><figcaption>{html.escape(caption)}</figcaption></figure>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _docx(blocks: list[Block], lang: Lang, target: Path) -> None:
    from docx import Document
    from docx.shared import Inches

    from survey.tables import _set_fonts, add_docx_table, table_spec

    document = Document()
    table_no = figure_no = 0
    for block in blocks:
        if block.kind == "heading":
            heading = document.add_heading(level=block.level)
            _set_fonts(heading.add_run(block.text), lang)
        elif block.kind == "paragraph":
            _set_fonts(document.add_paragraph().add_run(block.text), lang)
        elif block.kind == "table":
            table_no += 1
            spec = table_spec(block.obj, lang=lang, title=block.title, note=block.note,
                              decimals=block.decimals, bounded=block.bounded)
            add_docx_table(document, spec, lang=lang, number=table_no)
        elif block.kind == "figure":
            figure_no += 1
            document.add_picture(str(block.path), width=Inches(4.5))
            caption = f"图{figure_no}  {block.title}" if lang == "zh" else f"Figure {figure_no}. {block.title}"
            _set_fonts(document.add_paragraph().add_run(caption), lang)
    document.save(target)


def report(data: SurveyData | pd.DataFrame, out: str | Path, *, codebook: Codebook | None = None,
           spec: ReportSpec | str | Path | None = None, lang: Lang | None = None,
           formats: Sequence[str] = ("html", "docx"), overwrite: bool = False) -> ReportResult:
    """Write the questionnaire chapter into the folder `out` (report.html, report.docx, figures/).

    Args:
        data: the (cleaned) data with its codebook, or a DataFrame with `codebook`.
        out: output folder (created). Existing report files are replaced only with `overwrite`.
        spec: a ReportSpec or a report-spec TOML path (see `ReportSpec`).
        lang: "zh" or "en" (overrides the spec).
        formats: any of "html" and "docx".
    """
    if isinstance(data, pd.DataFrame):
        data = SurveyData(data, codebook or Codebook())
    elif codebook is not None:
        data = SurveyData(data.data, codebook)
    if isinstance(spec, str | Path):
        spec = ReportSpec.from_toml(spec)
    spec = spec or ReportSpec()
    if lang is not None:
        spec.lang = lang
    if spec.lang not in ("zh", "en"):
        raise SurveyAnalysisError(f"report: lang must be 'zh' or 'en' (got {spec.lang!r})")
    bad = set(formats) - {"html", "docx"}
    if bad or not formats:
        raise SurveyAnalysisError(f"report: formats must be 'html' and/or 'docx' (got {list(formats)})")
    out = Path(out)
    targets = [out / f"report.{fmt}" for fmt in formats]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise SurveyAnalysisError(f"{existing[0]} exists; choose another folder or pass overwrite=True")
    source = Path(data.codebook.source) if data.codebook.source else None
    if source is not None and any(t.resolve() == source.resolve() for t in targets):
        raise SurveyAnalysisError(f"refusing to overwrite the input file {source}")
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".report-", dir=out))
    try:
        (scratch / "figures").mkdir()
        blocks, results = build(data, spec, scratch / "figures")
        if "html" in formats:
            (scratch / "report.html").write_text(_html(blocks, spec.lang, scratch), encoding="utf-8")
        if "docx" in formats:
            _docx(blocks, spec.lang, scratch / "report.docx")
        (out / "figures").mkdir(exist_ok=True)
        written = []
        for figure in (scratch / "figures").iterdir():
            os.replace(figure, out / "figures" / figure.name)
            written.append(out / "figures" / figure.name)
        for target in targets:
            os.replace(scratch / target.name, target)
            written.append(target)
        for block in blocks:
            if block.path is not None:
                block.path = out / "figures" / block.path.name
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ReportResult(paths=written, blocks=blocks, results=results)


def _toml_list(names: Sequence[str]) -> str:
    import json

    return "[" + ", ".join(json.dumps(str(n), ensure_ascii=False) for n in names) + "]"


def spec_template(data: SurveyData) -> str:
    """A commented `report.toml` for `data`: its codebook's scales and demographic variables filled in.

    Every key of `ReportSpec` appears with what it does; the text loads with `ReportSpec.from_toml`
    and, unedited, gives the same report as no spec at all (plus a regression when there are two
    or more scales).
    """
    book = data.codebook
    scales = list(book.scales)
    items = {i for s in book.scales.values() for i in s.items}
    demographics = _demographics(data.data, book, ReportSpec(), items)
    lines = ["# Report spec for `onenet survey report DATA --spec report.toml` (survey.report).",
             "# Written from the codebook; edit, or delete a line to use its default.", "",
             "[report]",
             f"title = {_toml_list([book.title or TEXT['title'][0]])[1:-1]}",
             '# lang: "zh" (Chinese tables, 表1, 注：) or "en"',
             'lang = "zh"', "",
             "# scales to analyse (codebook scales; default all):"]
    lines += [f"#   {name}: {book.scales[name].label or name}, items {', '.join(book.scales[name].items)}"
              + (f"; reverse-keyed {', '.join(book.scales[name].reverse)}" if book.scales[name].reverse else "")
              for name in scales]
    lines += [f"scales = {_toml_list(scales)}", "",
              "# demographic variables of the sample description and the difference analysis:"]
    lines += [f"#   {name}: {book.label(name)}" for name in demographics]
    lines += [f"demographics = {_toml_list(demographics)}", "",
              '# correlations of the scale scores: "pearson", "spearman" or "" to leave them out',
              'correlation = "pearson"', "",
              "# confirmatory factor analysis, each scale one factor (CR, AVE, Fornell-Larcker)",
              "cfa = true", "",
              "[report.efa]",
              '# method: "pca", "paf", "minres" or "ml"; rotation: "none", "varimax", "quartimax",',
              '# "equamax", "promax" or "oblimin"; n_factors (default: the number of scales)',
              'method = "pca"', 'rotation = "varimax"', ""]
    if len(scales) >= 2:
        lines += ["[report.regression]",
                  "# outcome and predictors: scale names or columns (delete this table to leave it out)",
                  f"outcome = {_toml_list([scales[-1]])[1:-1]}",
                  f"predictors = {_toml_list(scales[:-1])}", ""]
    lines += ["[report.differences]",
              "# outcomes compared across groups (scales or columns) and the grouping variables;",
              "# a group with fewer than 2 respondents is left out with a note",
              f"outcomes = {_toml_list(scales)}",
              f"groups = {_toml_list(demographics)}", ""]
    return "\n".join(lines)


__all__ = ["Block", "ReportResult", "ReportSpec", "ReportSpecError", "build", "report", "spec_template"]
