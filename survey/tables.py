"""Thesis-ready tables (APA style, Chinese or English) in Markdown, HTML, Excel and Word.

`render_table(obj, fmt, ...)` takes a DataFrame or any analysis result (anything with
`to_frame()`; the common results get their customary layout, title, labels and note from the
registry `LAYOUTS`) and renders three-line tables (三线表): a rule above the header, one under it
and one under the body, no vertical rules; the table number and title above, a note below
("注：" / "Note."). Numbers are right-aligned to fixed decimals; statistics that cannot exceed 1
in absolute value (p, r, alpha, loadings, R², fit indices) lose the leading zero as APA 7 asks
(.87, "< .001"); significance stars are explained in the note.

A result may also describe its own table with a method `table_spec(lang)` returning a DataFrame,
a dict (keys: frame, title, note, labels, bounded, decimals, spanners, star_target) or a list of
such dicts; that hook wins over the registry.

`add_docx_table(document, ...)` adds the same table to an open python-docx Document (reports).
"""

from __future__ import annotations

import dataclasses
import html
import math
import numbers
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.errors import SurveyAnalysisError
from survey.io.files import ordinary_file_mode

Lang = Literal["zh", "en"]
Fmt = Literal["markdown", "html", "xlsx", "docx"]
CaptionStyle = Literal["apa", "inline"]
Pair = tuple[str, str]
Rule = tuple[str, int]  # ("p" | "int" | "num" | "bounded" | "text", decimals)

DEFAULT_DECIMALS = 3
P_DECIMALS = 3
P_COLUMNS = {"p", "p_value", "p-value", "pvalue", "sig", "sig.", "p_holm", "p_adj", "p_bonferroni",
             "p-unc", "p-corr"}
_P_PATTERN = re.compile(r"^(p[_\-].*|.*[_\-]p|sig\..*)$", re.IGNORECASE)
INTEGER_NAMES = {"n", "N", "df", "df1", "df2", "k", "n_factors", "count", "hl_df"}
NO_THOUSANDS = {"df", "df1", "df2", "hl_df"}  # APA: no commas in degrees of freedom
STAR_TARGETS = ("r", "Beta", "B", "Estimate", "estimate", "est", "statistic", "t", "F", "z", "chi2",
                "Wald", "mean_diff")
# ``render_table`` default: APA 7 caption in English (bold number line, italic title line).


# ---- number formatting ---------------------------------------------------------------------

def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def format_number(value: Any, decimals: int = 3, *, leading_zero: bool = True, thousands: bool = False) -> str:
    """Fixed decimals; without the leading zero for statistics bounded by 1 (APA 7, 6.36).

    A value that rounds to zero never shows a minus sign; a bounded value of 1 or more keeps its
    integer digit (1.000). `thousands` groups digits with commas (APA, for 1,000 and more).
    """
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,d}" if thousands else f"{int(value):d}"
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        text = f"{float(value):,.{decimals}f}" if thousands else f"{float(value):.{decimals}f}"
        if text.startswith("-") and float(text.replace(",", "")) == 0:
            text = text[1:]
        if not leading_zero and text.startswith(("0.", "-0.")):
            text = text.replace("0.", ".", 1)
        return text
    return str(value)


def format_p(p: Any, decimals: int = 3) -> str:
    """p as APA 7 prints it: '.032', '< .001' (no leading zero, never '.000')."""
    if _missing(p):
        return ""
    p = float(p)
    if p < 10 ** (-decimals):
        return f"< .{'0' * (decimals - 1)}1"
    return format_number(p, decimals, leading_zero=False)


def stars(p: Any) -> str:
    """'***' p < .001, '**' p < .01, '*' p < .05, '' otherwise (or for a missing p)."""
    if _missing(p):
        return ""
    p = float(p)
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


_STAR_LEVELS = {1: ".05", 2: ".01", 3: ".001"}


def star_note(levels: Sequence[int], lang: Lang) -> str:
    """The note line explaining the stars used (APA: '*p < .05. **p < .01.')."""
    parts = [f"{'*' * k}p < {_STAR_LEVELS[k]}" for k in sorted(set(levels))]
    if lang == "zh":
        return "，".join(parts) + "。"
    return ". ".join(parts) + "."


STAR_NOTE = {"zh": star_note([1, 2, 3], "zh"), "en": star_note([1, 2, 3], "en")}


def is_p_column(name: Any) -> bool:
    """Whether a column holds p-values (p, sig., p_change, fisher_p, ...)."""
    key = str(name).strip()
    return key.lower() in P_COLUMNS or bool(_P_PATTERN.match(key))


# ---- registry of result layouts --------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What a layout needs to know while building a table."""

    lang: Lang = "zh"
    decimals: int | Mapping[str, int] | None = None
    suppress: float = 0.4
    sort: bool = True

    def pick(self, pair: Pair | str) -> str:
        if isinstance(pair, str):
            return pair
        return pair[0] if self.lang == "zh" else pair[1]


@dataclass(frozen=True)
class Part:
    """One table of a result: how to get its frame and how to label and format it.

    Any of title, labels, row_labels, bounded, spanners may be a callable (result, context).
    `frame` returns None when the part does not exist for this result (e.g. phi of an
    orthogonal rotation). Labels, row labels and spanners map a column / row name to (zh, en).
    `row_rules` format whole rows ("p", "int", "bounded" or a number of decimals).
    """

    name: str
    frame: Callable[[Any, Context], pd.DataFrame | None]
    title: Pair | Callable[[Any, Context], str] = ("", "")
    note: Callable[[Any, Context], str] | None = None
    labels: Mapping[str, Pair] | Callable[[Any, Context], Mapping[str, Pair]] = field(default_factory=dict)
    row_labels: Mapping[str, Pair] | Callable[[Any, Context], Mapping[str, Pair]] = field(default_factory=dict)
    bounded: Sequence[str] | Callable[[Any, Context], Sequence[str]] = ()
    decimals: Mapping[str, int] = field(default_factory=dict)
    row_rules: Mapping[str, str | int] = field(default_factory=dict)
    spanners: Mapping[str, Pair] | Callable[[Any, Context], Mapping[str, Pair]] = field(default_factory=dict)
    star_target: str | None = None
    stars: bool = False
    index: bool | None = None


@dataclass(frozen=True)
class Layout:
    """How a kind of result is laid out: its tables, which of them render by default, and which
    one `table_spec` returns (the main one)."""

    parts: tuple[Part, ...]
    default: tuple[str, ...] = ()
    main: str = ""

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        raise SurveyAnalysisError(f"render_table: no table {name!r} for this result; "
                                  f"choose one of {[p.name for p in self.parts]}")


COMMON_LABELS: dict[str, Pair] = {
    # descriptives and frequencies
    "n": ("n", "n"), "N": ("N", "N"), "mean": ("均值", "M"), "M": ("均值", "M"), "sd": ("标准差", "SD"),
    "SD": ("标准差", "SD"), "min": ("最小值", "Min"), "max": ("最大值", "Max"), "median": ("中位数", "Mdn"),
    "mean_rank": ("平均秩", "Mean rank"), "skewness": ("偏度", "Skewness"), "kurtosis": ("峰度", "Kurtosis"),
    "se_skewness": ("偏度标准误", "SE of skewness"), "se_kurtosis": ("峰度标准误", "SE of kurtosis"),
    "label": ("题目", "Item text"), "item": ("题项", "Item"), "value": ("值", "Value"),
    "percent": ("百分比(%)", "%"), "valid_percent": ("有效百分比(%)", "Valid %"),
    "cumulative_percent": ("累积百分比(%)", "Cumulative %"), "status": ("状态", "Status"),
    "variable": ("变量", "Variable"), "level": ("类别", "Category"), "category": ("类别", "Category"),
    "group": ("组别", "Group"), "scale": ("维度", "Scale"), "mean_sd": ("M ± SD", "M ± SD"),
    # reliability and factor analysis
    "alpha": ("Cronbach's α", "Cronbach's α"), "std_alpha": ("基于标准化项的α", "Standardized α"),
    "average_r": ("平均项间相关", "Mean inter-item r"), "k": ("题项数", "k"), "missing": ("缺失值处理", "Missing"),
    "omega_total": ("McDonald's ω", "McDonald's ω"), "omega_hierarchical": ("ωh", "ωh"),
    "omega_h_asymptotic": ("ωh（渐近）", "Asymptotic ωh"), "n_factors": ("因子数", "Factors"),
    "g": ("一般因子", "g"), "h2": ("共同度", "h²"), "u2": ("唯一性", "u²"), "p2": ("g²/h²", "g²/h²"),
    "MSA": ("MSA", "MSA"), "Factor": ("因子", "Factor"), "CR": ("组合信度CR", "CR"),
    "AVE": ("平均方差抽取量AVE", "AVE"), "loading": ("标准化载荷", "Std. loading"),
    "observed pc": ("实际特征值（成分）", "Observed (components)"),
    "random pc mean": ("随机特征值均值（成分）", "Random mean (components)"),
    "observed fa": ("实际特征值（因子）", "Observed (factors)"),
    "random fa mean": ("随机特征值均值（因子）", "Random mean (factors)"),
    "lhs": ("左侧", "lhs"), "op": ("关系", "op"), "rhs": ("右侧", "rhs"), "est": ("估计值", "Estimate"),
    "std_all": ("标准化估计", "Std. estimate"),
    # tests and models
    "test": ("检验", "Test"), "statistic": ("统计量", "Statistic"), "t": ("t", "t"), "F": ("F", "F"),
    "z": ("z", "z"), "df": ("df", "df"), "df1": ("df1", "df1"), "df2": ("df2", "df2"), "p": ("p", "p"),
    "chi2": ("χ²", "χ²"), "r": ("r", "r"), "B": ("B", "B"), "SE": ("标准误", "SE"), "se": ("标准误", "SE"),
    "Beta": ("β", "β"), "beta": ("β", "β"), "Wald": ("Wald", "Wald"), "Exp(B)": ("Exp(B)", "Exp(B)"),
    "estimate": ("估计值", "Estimate"), "Estimate": ("估计值", "Estimate"),
    "CI_low": ("下限", "LL"), "CI_high": ("上限", "UL"), "ci_low": ("下限", "LL"), "ci_high": ("上限", "UL"),
    "tolerance": ("容差", "Tolerance"), "VIF": ("VIF", "VIF"), "R": ("R", "R"), "R2": ("R²", "R²"),
    "adj_R2": ("调整R²", "Adjusted R²"), "SE_estimate": ("估计标准误", "SE of estimate"),
    "R2_change": ("ΔR²", "ΔR²"), "F_change": ("ΔF", "ΔF"), "p_change": ("p", "p"),
    "SS": ("平方和", "SS"), "MS": ("均方", "MS"), "partial_eta2": ("偏η²", "Partial η²"), "eta2": ("η²", "η²"),
    "omega2": ("ω²", "ω²"), "mean_diff": ("均值差", "Mean difference"), "se_diff": ("差值标准误", "SE of difference"),
    "cramers_v": ("Cramér's V", "Cramér's V"), "chi2_corrected": ("连续性校正χ²", "Yates χ²"),
    "p_corrected": ("连续性校正p", "Yates p"), "fisher_p": ("Fisher精确检验p", "Fisher's exact p"),
    "likelihood_ratio": ("似然比", "Likelihood ratio"), "epsilon2": ("ε²", "ε²"),
    "group_a": ("组别(I)", "Group (I)"), "group_b": ("组别(J)", "Group (J)"),
    "p_unadjusted": ("未校正p", "Unadjusted p"), "effect": ("效应", "Effect"), "w": ("调节变量取值", "Value of W"),
    "var1": ("变量1", "Variable 1"), "var2": ("变量2", "Variable 2"), "posthoc": ("事后比较", "Post hoc"),
    "performance": ("表现", "Performance"), "importance": ("重要性", "Importance"), "quadrant": ("象限", "Quadrant"),
    "criterion": ("参考标准", "Criterion"), "stars": ("", ""), "observed": ("实测", "Observed"),
    "percent_correct": ("正确百分比(%)", "% correct"),
    # index names (the stub heading)
    "predictor": ("变量", "Predictor"), "source": ("变异来源", "Source"), "parameter": ("参数", "Parameter"),
    "kind": ("类型", "Type"), "model": ("模型", "Model"), "measure": ("拟合指标", "Fit index"),
    "fit": ("拟合指标", "Fit index"),
    "w_value": ("调节变量水平", "Level of W"),
}
COMMON_SPANNERS: dict[str, Pair] = {
    "CI_low": ("95%置信区间", "95% CI"), "CI_high": ("95%置信区间", "95% CI"),
    "ci_low": ("95%置信区间", "95% CI"), "ci_high": ("95%置信区间", "95% CI"),
}
_STAGES = {"Initial": ("初始特征值", "Initial eigenvalues"),
           "Extraction": ("提取载荷平方和", "Extraction sums of squared loadings"),
           "Rotation": ("旋转载荷平方和", "Rotation sums of squared loadings")}
for _stage, _spanner in _STAGES.items():  # SPSS's Total Variance Explained, as efa().variance names it
    COMMON_LABELS[f"{_stage} Total"] = ("总计", "Total")
    COMMON_LABELS[f"{_stage} % of Variance"] = ("方差百分比", "% of variance")
    COMMON_LABELS[f"{_stage} Cumulative %"] = ("累积%", "Cumulative %")
    for _column in ("Total", "% of Variance", "Cumulative %"):
        COMMON_SPANNERS[f"{_stage} {_column}"] = _spanner
COMMON_BOUNDED = {
    "r", "alpha", "std_alpha", "average_r", "omega_total", "omega_hierarchical", "omega_h_asymptotic",
    "MSA", "CR", "AVE", "h2", "u2", "p2", "loading", "std_all", "R", "R2", "adj_R2", "R2_change",
    "partial_eta2", "eta2", "omega2", "cramers_v", "epsilon2", "cfi", "tli", "rmsea", "srmr", "gfi",
    "agfi", "nfi", "ifi", "Corrected Item-Total Correlation", "Squared Multiple Correlation",
    "Cronbach's Alpha if Item Deleted",
}
COMMON_DECIMALS = {"mean": 2, "M": 2, "sd": 2, "SD": 2, "median": 2, "mean_rank": 2, "percent": 1,
                   "valid_percent": 1, "cumulative_percent": 1, "df": 2, "df1": 2, "df2": 2}
ROW_LABELS: dict[str, Pair] = {
    "(Constant)": ("常量", "(Constant)"), "Overall KMO": ("总体KMO", "Overall KMO"),
    "Regression": ("回归", "Regression"), "Residual": ("残差", "Residual"), "Total": ("总计", "Total"),
    "Error": ("误差", "Error"), "Corrected total": ("修正后总计", "Corrected total"),
    "Threshold": ("阈值", "Threshold"), "Location": ("位置", "Location"),
    "indirect (a*b)": ("间接效应 a×b", "Indirect effect a × b"),
}
METHOD_NAMES = {"pca": ("主成分分析法", "principal component analysis"),
                "paf": ("主轴因子法", "principal axis factoring"),
                "minres": ("最小残差法", "minimum residual (ULS)"), "ml": ("最大似然法", "maximum likelihood")}
ROTATION_NAMES = {"none": ("未旋转", "none"), "varimax": ("最大方差法", "varimax"),
                  "quartimax": ("最大四次方值法", "quartimax"), "equamax": ("等量最大法", "equamax"),
                  "promax": ("最优斜交法", "promax"), "oblimin": ("直接斜交法", "direct oblimin")}


def _nz(value: float, decimals: int = 3) -> str:
    return format_number(value, decimals, leading_zero=False)


def _pt(p: float) -> str:
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _zh(ctx: Context) -> bool:
    return ctx.lang == "zh"


# reliability

def _alpha_note(r: Any, ctx: Context) -> str:
    lo, hi = r.ci
    level = f"{r.ci_level:.0%}"
    if _zh(ctx):
        text = (f"Cronbach's α = {_nz(r.alpha)}，基于标准化项的α = {_nz(r.std_alpha)}，{level}置信区间 "
                f"[{_nz(lo)}, {_nz(hi)}]（Feldt），n = {r.n}，题项数 = {r.k}。")
        return text + (f"反向计分题项：{'、'.join(map(str, r.reversed))}。" if r.reversed else "")
    text = (f"Cronbach's α = {_nz(r.alpha)}, standardized α = {_nz(r.std_alpha)}, {level} CI "
            f"[{_nz(lo)}, {_nz(hi)}] (Feldt); n = {r.n}, k = {r.k}.")
    return text + (f" Reverse-keyed items: {', '.join(map(str, r.reversed))}." if r.reversed else "")


_ITEM_TOTAL_LABELS = {
    "Scale Mean if Item Deleted": ("删除项后的标度平均值", "Scale mean if item deleted"),
    "Scale Variance if Item Deleted": ("删除项后的标度方差", "Scale variance if item deleted"),
    "Corrected Item-Total Correlation": ("校正的项总计相关性（CITC）", "Corrected item-total correlation"),
    "Squared Multiple Correlation": ("平方多重相关性", "Squared multiple correlation"),
    "Cronbach's Alpha if Item Deleted": ("删除项后的α", "Cronbach's α if item deleted"),
}


def _alpha_statistics(r: Any, ctx: Context) -> pd.DataFrame:
    lo, hi = r.ci
    return pd.DataFrame({"alpha": [r.alpha], "std_alpha": [r.std_alpha], "ci_low": [lo], "ci_high": [hi],
                         "average_r": [r.average_r], "k": [r.k], "n": [r.n]})


def _ci_spanner(r: Any, ctx: Context) -> dict[str, Pair]:
    level = f"{r.ci_level:.0%}"
    pair = (f"{level}置信区间", f"{level} CI")
    return {"ci_low": pair, "ci_high": pair}


ALPHA = Layout(parts=(
    Part("item_total", lambda r, c: r.item_total, ("项目总计统计", "Item-Total Statistics"), _alpha_note,
         labels=_ITEM_TOTAL_LABELS,
         bounded=("Corrected Item-Total Correlation", "Squared Multiple Correlation",
                  "Cronbach's Alpha if Item Deleted")),
    Part("statistics", _alpha_statistics, ("可靠性统计", "Reliability Statistics"),
         bounded=("alpha", "std_alpha", "ci_low", "ci_high", "average_r"), spanners=_ci_spanner),
), default=("item_total",), main="item_total")


def _omega_frame(r: Any, ctx: Context) -> pd.DataFrame:
    frame = r.to_frame()
    return frame[[c for c in frame.columns if frame[c].notna().any()]]


OMEGA = Layout(parts=(
    Part("coefficients", _omega_frame, ("McDonald's ω系数", "McDonald's Omega"),
         note=lambda r, c: (f"提取方法：{METHOD_NAMES.get(r.method, (r.method,) * 2)[0]}。" if _zh(c) else
                            f"Extraction: {METHOD_NAMES.get(r.method, (r.method,) * 2)[1]}.")),
    Part("loadings", lambda r, c: r.loadings.rename_axis("item"), ("ω的因子载荷", "Omega Factor Loadings"),
         bounded=lambda r, c: list(r.loadings.columns)),
), default=("coefficients",), main="coefficients")


# KMO, Bartlett, EFA

def _kmo_frame(r: Any, ctx: Context) -> pd.DataFrame:
    return r.to_frame().rename_axis("item")


def _kmo_bartlett_frame(pair: Any, ctx: Context) -> pd.DataFrame:
    kmo, bartlett = _kmo_and_bartlett(pair)
    index = pd.MultiIndex.from_tuples([("KMO", ""), ("Bartlett", "chi2"), ("Bartlett", "df"), ("Bartlett", "p")])
    return pd.DataFrame({"value": [kmo.overall, bartlett.chi2, bartlett.df, bartlett.p]}, index=index)


def _kmo_and_bartlett(pair: Any) -> tuple[Any, Any]:
    first, second = pair
    return (first, second) if type(first).__name__ == "KMOResult" else (second, first)


KMO = Layout(parts=(
    Part("msa", _kmo_frame, ("KMO取样适切性量数", "Kaiser-Meyer-Olkin Measure of Sampling Adequacy"),
         note=lambda r, c: (f"MSA为各题项的取样适切性量数（反映像相关矩阵对角线），n = {r.n}。" if _zh(c) else
                            f"MSA = measure of sampling adequacy of each item (anti-image diagonal); n = {r.n}."),
         bounded=("MSA",)),
), main="msa")
BARTLETT = Layout(parts=(
    Part("test", lambda r, c: r.to_frame(), ("Bartlett球形度检验", "Bartlett's Test of Sphericity"),
         labels={"chi2": ("近似卡方", "Approx. χ²")}),
), main="test")
KMO_BARTLETT = Layout(parts=(
    Part("test", _kmo_bartlett_frame, ("KMO和Bartlett检验", "KMO and Bartlett's Test"),
         note=lambda pr, c: (f"n = {_kmo_and_bartlett(pr)[1].n}。" if _zh(c) else f"n = {_kmo_and_bartlett(pr)[1].n}."),
         labels={"value": ("值", "Value")},
         row_labels={"KMO": ("KMO取样适切性量数", "Kaiser-Meyer-Olkin measure of sampling adequacy"),
                     "Bartlett": ("Bartlett球形度检验", "Bartlett's test of sphericity"),
                     "chi2": ("近似卡方", "Approx. χ²"), "df": ("自由度", "df"), "p": ("显著性", "p")},
         row_rules={"": "bounded", "chi2": 3, "df": "int", "p": "p"}),
), main="test")


def _factor_word(r: Any) -> Pair:
    return ("成分", "Component") if r.method == "pca" else ("因子", "Factor")


def _efa_labels(r: Any, ctx: Context) -> dict[str, Pair]:
    zh, en = _factor_word(r)
    labels = {"h2": ("共同度", "h²"), "Factor": (zh, en)}
    for j, name in enumerate(r.loadings.columns, start=1):
        labels[str(name)] = (f"{zh}{j}", f"{en} {j}")
    return labels


def _efa_title(r: Any, ctx: Context) -> str:
    zh, en = _factor_word(r)
    if r.phi is not None:
        return ctx.pick(("模式矩阵", "Pattern Matrix"))
    if r.rotation == "none":
        return ctx.pick((f"{zh}矩阵", f"{en} Matrix"))
    return ctx.pick((f"旋转后的{zh}矩阵", f"Rotated {en} Matrix"))


def _efa_note(r: Any, ctx: Context) -> str:
    method, rotation = METHOD_NAMES.get(r.method, (r.method,) * 2), ROTATION_NAMES.get(r.rotation, (r.rotation,) * 2)
    kaiser = r.kaiser_normalize and r.rotation != "none"
    cut = _nz(ctx.suppress, 2)
    if _zh(ctx):
        return (f"提取方法：{method[0]}；旋转方法：{rotation[0]}{'（Kaiser标准化）' if kaiser else ''}；"
                f"绝对值小于{cut}的载荷未显示；n = {r.n_obs}。")
    return (f"Extraction: {method[1]}; rotation: {rotation[1]}{' with Kaiser normalization' if kaiser else ''}. "
            f"Loadings with absolute values below {cut} are not shown; h² = communality; n = {r.n_obs}.")


def _variance_frame(r: Any, ctx: Context) -> pd.DataFrame:
    return r.variance.head(max(r.n_factors, r.kaiser_n))


def _variance_labels(r: Any, ctx: Context) -> dict[str, Pair]:
    return {"Factor": _factor_word(r)}


def _variance_note(r: Any, ctx: Context) -> str:
    method = METHOD_NAMES.get(r.method, (r.method,) * 2)
    shown = max(r.n_factors, r.kaiser_n)
    oblique = r.phi is not None
    if _zh(ctx):
        return (f"提取方法：{method[0]}；列出前{shown}个{_factor_word(r)[0]}（共{len(r.eigenvalues)}个）。"
                + ("因子相关时，旋转载荷平方和不能相加得到总方差。" if oblique else ""))
    return (f"Extraction: {method[1]}; the first {shown} of {len(r.eigenvalues)} shown."
            + (" When factors are correlated, sums of squared loadings cannot be added to obtain a total variance."
               if oblique else ""))


def _phi_frame(r: Any, ctx: Context) -> pd.DataFrame | None:
    return None if r.phi is None else r.phi.rename_axis("Factor")


EFA = Layout(parts=(
    Part("loadings", lambda r, c: r.table(sort=c.sort, suppress=c.suppress).rename_axis("item"), _efa_title,
         _efa_note, labels=_efa_labels, bounded=lambda r, c: [*map(str, r.loadings.columns), "h2"]),
    Part("variance", _variance_frame, ("总方差解释", "Total Variance Explained"), _variance_note,
         labels=_variance_labels),
    Part("phi", _phi_frame, ("因子相关矩阵", "Factor Correlation Matrix"), labels=_efa_labels, row_labels=_efa_labels,
         bounded=lambda r, c: list(map(str, r.loadings.columns))),
    Part("communalities", lambda r, c: r.communalities.rename_axis("item"), ("公因子方差", "Communalities"),
         labels={"Initial": ("初始", "Initial"), "Extraction": ("提取", "Extraction")},
         bounded=("Initial", "Extraction")),
), default=("loadings", "variance"), main="loadings")


# regression

def _ols_note(r: Any, ctx: Context) -> str:
    df1, df2 = r.df
    if _zh(ctx):
        return (f"因变量：{r.outcome}。R² = {_nz(r.r2)}，调整R² = {_nz(r.adj_r2)}，F({df1}, {df2}) = {r.F:.3f}，"
                f"{_pt(r.p)}，Durbin-Watson = {r.dw:.3f}，n = {r.n}。")
    return (f"Dependent variable: {r.outcome}. R² = {_nz(r.r2)}, adjusted R² = {_nz(r.adj_r2)}, "
            f"F({df1}, {df2}) = {r.F:.3f}, {_pt(r.p)}, Durbin-Watson = {r.dw:.3f}, n = {r.n}.")


def _ols_coefficients(r: Any, ctx: Context) -> pd.DataFrame:
    return r.coefficients[[c for c in ("B", "SE", "Beta", "t", "p", "CI_low", "CI_high", "VIF")
                           if c in r.coefficients.columns]]


_B_CI = {"CI_low": ("B的95%置信区间", "95% CI for B"), "CI_high": ("B的95%置信区间", "95% CI for B")}
OLS = Layout(parts=(
    Part("coefficients", _ols_coefficients,
         lambda r, c: c.pick((f"回归分析结果（因变量：{r.outcome}）", f"Regression Coefficients Predicting {r.outcome}")),
         _ols_note,
         spanners={"B": ("非标准化系数", "Unstandardized"), "SE": ("非标准化系数", "Unstandardized"),
                   "Beta": ("标准化系数", "Standardized"), **_B_CI}),
    Part("model_summary", lambda r, c: r.model_summary, ("模型摘要", "Model Summary"),
         spanners={k: ("更改统计", "Change statistics") for k in ("R2_change", "F_change", "df1", "df2", "p_change")}),
    Part("anova", lambda r, c: r.anova, ("方差分析", "Analysis of Variance"),
         note=lambda r, c: (f"因变量：{r.outcome}。" if _zh(c) else f"Dependent variable: {r.outcome}.")),
), default=("coefficients",), main="coefficients")


def _logistic_note(r: Any, ctx: Context) -> str:
    if _zh(ctx):
        return (f"因变量：{r.outcome}（事件 = {r.event}）。模型χ²({r.df}) = {r.chi2:.3f}，{_pt(r.p)}；"
                f"-2LL = {r.minus2ll:.3f}；Cox & Snell R² = {_nz(r.cox_snell_r2)}，Nagelkerke R² = "
                f"{_nz(r.nagelkerke_r2)}；Hosmer-Lemeshow χ²({r.hl_df}) = {r.hl_chi2:.3f}，{_pt(r.hl_p)}；n = {r.n}。")
    return (f"Dependent variable: {r.outcome} (event = {r.event}). Model χ²({r.df}) = {r.chi2:.3f}, {_pt(r.p)}; "
            f"-2LL = {r.minus2ll:.3f}; Cox and Snell R² = {_nz(r.cox_snell_r2)}, Nagelkerke R² = "
            f"{_nz(r.nagelkerke_r2)}; Hosmer-Lemeshow χ²({r.hl_df}) = {r.hl_chi2:.3f}, {_pt(r.hl_p)}; n = {r.n}.")


_OR_CI = {"CI_low": ("Exp(B)的95%置信区间", "95% CI for Exp(B)"), "CI_high": ("Exp(B)的95%置信区间", "95% CI for Exp(B)")}
LOGISTIC = Layout(parts=(
    Part("coefficients", lambda r, c: r.coefficients,
         lambda r, c: c.pick((f"二元Logistic回归分析结果（因变量：{r.outcome}）",
                              f"Logistic Regression Predicting {r.outcome}")),
         _logistic_note, labels={"Exp(B)": ("Exp(B)", "OR")}, spanners=_OR_CI),
    Part("classification", lambda r, c: r.classification, ("分类表", "Classification Table"), decimals={}),
    Part("hosmer_lemeshow", lambda r, c: r.hosmer_lemeshow, ("Hosmer-Lemeshow检验列联表", "Contingency Table for the Hosmer-Lemeshow Test")),
), default=("coefficients",), main="coefficients")


def _ordinal_note(r: Any, ctx: Context) -> str:
    link = {"logit": ("Logit", "logit"), "probit": ("Probit", "probit")}.get(r.link, (r.link, r.link))
    parallel = ""
    if r.parallel_lines is not None:
        parallel = (f"；平行线检验χ²({r.parallel_df}) = {r.parallel_chi2:.3f}，{_pt(r.parallel_p)}" if _zh(ctx) else
                    f"; test of parallel lines χ²({r.parallel_df}) = {r.parallel_chi2:.3f}, {_pt(r.parallel_p)}")
    if _zh(ctx):
        return (f"因变量：{r.outcome}；连接函数：{link[0]}。模型χ²({r.df}) = {r.chi2:.3f}，{_pt(r.p)}；"
                f"Nagelkerke R² = {_nz(r.nagelkerke_r2)}{parallel}；n = {r.n:g}。")
    return (f"Dependent variable: {r.outcome}; {link[1]} link. Model χ²({r.df}) = {r.chi2:.3f}, {_pt(r.p)}; "
            f"Nagelkerke R² = {_nz(r.nagelkerke_r2)}{parallel}; n = {r.n:g}.")


def _ordinal_frame(r: Any, ctx: Context) -> pd.DataFrame:
    frame = r.to_frame()
    return frame[[c for c in frame.columns if c != "z"]]


ORDINAL = Layout(parts=(
    Part("estimates", _ordinal_frame, ("有序回归参数估计", "Ordinal Regression Parameter Estimates"), _ordinal_note,
         row_rules={}),
    Part("model_fit", lambda r, c: r.model_fit, ("模型拟合信息", "Model Fitting Information")),
    Part("goodness_of_fit", lambda r, c: r.goodness_of_fit, ("拟合优度", "Goodness of Fit")),
    Part("parallel_lines", lambda r, c: r.parallel_lines, ("平行线检验", "Test of Parallel Lines")),
), default=("estimates",), main="estimates")


# correlations, mediation, moderation

def _correlation_matrix(r: Any, ctx: Context) -> pd.DataFrame:
    decimals = ctx.decimals if isinstance(ctx.decimals, int) else 2
    return r.table(decimals).rename_axis("variable")


def _correlation_note(r: Any, ctx: Context) -> str:
    n_values = sorted({int(v) for v in r.n.to_numpy().ravel()})
    method = {"pearson": ("Pearson", "Pearson"), "spearman": ("Spearman", "Spearman")}.get(r.method, (r.method,) * 2)
    if _zh(ctx):
        n = f"N = {n_values[0]}" if len(n_values) == 1 else f"成对N = {n_values[0]}–{n_values[-1]}"
        return f"{method[0]}相关系数，双侧检验；{n}。"
    n = f"N = {n_values[0]}" if len(n_values) == 1 else f"pairwise N = {n_values[0]}–{n_values[-1]}"
    return f"{method[1]} correlations, two-tailed; {n}."


CORRELATION = Layout(parts=(
    Part("matrix", _correlation_matrix, ("描述统计与相关分析", "Means, Standard Deviations, and Correlations"),
         _correlation_note),
    Part("pairs", lambda r, c: r.to_frame(), ("相关分析", "Correlations"), _correlation_note),
), default=("matrix",), main="matrix")


def _mediation_rows(r: Any, ctx: Context) -> dict[str, Pair]:
    return {"a": (f"a（{r.x}→{r.m}）", f"a ({r.x} → {r.m})"), "b": (f"b（{r.m}→{r.y}）", f"b ({r.m} → {r.y})"),
            "c": (f"c 总效应（{r.x}→{r.y}）", f"c total effect ({r.x} → {r.y})"),
            "c'": (f"c′ 直接效应（{r.x}→{r.y}）", f"c′ direct effect ({r.x} → {r.y})"),
            "indirect (a*b)": ("间接效应 a×b", "Indirect effect a × b")}


def _mediation_note(r: Any, ctx: Context) -> str:
    share = format_number(100 * r.proportion_mediated, 1)
    if _zh(ctx):
        return (f"a、b、c、c′为OLS估计，t检验及95%置信区间；间接效应的标准误与95%置信区间为{r.n_boot}次Bootstrap"
                f"百分位法，其t列为Sobel z、p为Sobel检验；中介效应占总效应{share}%；n = {r.n}。")
    return (f"Paths a, b, c and c′ are OLS estimates with t tests and 95% CIs; the indirect effect has a "
            f"percentile bootstrap SE and 95% CI ({r.n_boot} resamples), with Sobel's z in the t column and its "
            f"p; proportion mediated = {share}%; n = {r.n}.")


MEDIATION = Layout(parts=(
    Part("effects", lambda r, c: r.to_frame(),
         lambda r, c: c.pick((f"中介效应检验（{r.x}→{r.m}→{r.y}）", f"Mediation of {r.x} → {r.y} by {r.m}")),
         _mediation_note, labels={"estimate": ("效应值", "Estimate"), "t": ("t / z", "t / z")},
         row_labels=_mediation_rows),
), main="effects")


def _moderation_note(r: Any, ctx: Context) -> str:
    df1, df2 = r.df
    if _zh(ctx):
        return (f"因变量：{r.y}；调节变量：{r.w}{'（已中心化）' if r.centered else ''}。R² = {_nz(r.r2)}，"
                f"F({df1}, {df2}) = {r.F:.3f}，{_pt(r.p)}；交互项ΔR² = {_nz(r.r2_change)}，"
                f"F(1, {df2}) = {r.F_change:.3f}，{_pt(r.p_change)}；n = {r.n}。")
    return (f"Dependent variable: {r.y}; moderator: {r.w}{' (mean-centred)' if r.centered else ''}. "
            f"R² = {_nz(r.r2)}, F({df1}, {df2}) = {r.F:.3f}, {_pt(r.p)}; interaction ΔR² = {_nz(r.r2_change)}, "
            f"F(1, {df2}) = {r.F_change:.3f}, {_pt(r.p_change)}; n = {r.n}.")


MODERATION = Layout(parts=(
    Part("coefficients", lambda r, c: r.coefficients, ("调节效应检验", "Moderation Analysis"), _moderation_note),
    Part("simple_slopes", lambda r, c: r.simple_slopes, ("简单斜率分析", "Simple Slopes"),
         labels={"effect": ("简单斜率", "Simple slope")}),
), default=("coefficients", "simple_slopes"), main="coefficients")


# group comparisons

_TTEST_TITLES = {"independent": ("独立样本t检验", "Independent-Samples t Test"),
                 "paired": ("配对样本t检验", "Paired-Samples t Test"),
                 "one-sample": ("单样本t检验", "One-Sample t Test")}


def _ttest_note(r: Any, ctx: Context) -> str:
    levene = ""
    if not _missing(r.levene_F) and np.isfinite(r.levene_F):
        levene = (f"Levene方差齐性检验F = {r.levene_F:.3f}，{_pt(r.levene_p)}；" if _zh(ctx) else
                  f"Levene's test F = {r.levene_F:.3f}, {_pt(r.levene_p)}; ")
    if _zh(ctx):
        return f"{levene}Cohen's d = {r.cohen_d:.3f}。"
    return f"{levene}Cohen's d = {r.cohen_d:.3f}."


TTEST = Layout(parts=(
    Part("tests", lambda r, c: r.table, lambda r, c: c.pick(_TTEST_TITLES.get(r.kind, ("t检验", "t Test"))),
         _ttest_note, row_labels={"Student": ("假定等方差", "Equal variances assumed"),
                                  "Welch": ("不假定等方差（Welch）", "Equal variances not assumed (Welch)")}),
    Part("groups", lambda r, c: r.groups, ("组统计", "Group Statistics")),
), default=("groups", "tests"), main="tests")
ANOVA = Layout(parts=(
    Part("table", lambda r, c: r.table, lambda r, c: c.pick((f"方差分析（{r.ss_type}型平方和）",
                                                            f"Analysis of Variance (Type {'I' * r.ss_type} Sums of Squares)")),
         note=lambda r, c: (f"η² = {_nz(r.eta2)}，ω² = {_nz(r.omega2)}。" if _zh(c) else
                            f"η² = {_nz(r.eta2)}, ω² = {_nz(r.omega2)}.")),
    Part("groups", lambda r, c: r.groups, ("描述统计", "Descriptive Statistics")),
), default=("table",), main="table")
WELCH = Layout(parts=(
    Part("table", lambda r, c: r.table, ("均值相等性的稳健检验", "Robust Tests of Equality of Means")),
), main="table")


def _drop_empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if frame[c].notna().any()]]


RANK = Layout(parts=(
    Part("test", lambda r, c: _drop_empty(r.to_frame()), lambda r, c: r.test),
    Part("groups", lambda r, c: r.groups, ("秩统计", "Ranks")),
    Part("posthoc", lambda r, c: r.posthoc, ("Dunn事后比较", "Dunn's Post Hoc Comparisons")),
), default=("test", "groups"), main="test")
CHI2 = Layout(parts=(
    Part("test", lambda r, c: _drop_empty(r.to_frame()), ("卡方检验", "Chi-Square Test"),
         note=lambda r, c: (f"期望频数小于5的单元格占{100 * r.share_expected_below_5:.1f}%。" if _zh(c) else
                            f"{100 * r.share_expected_below_5:.1f}% of cells have expected counts below 5.")),
    Part("observed", lambda r, c: r.observed, ("交叉表（观测频数）", "Cross-Tabulation (Observed Counts)")),
    Part("expected", lambda r, c: r.expected, ("期望频数", "Expected Counts"), decimals={}),
), default=("observed", "test"), main="test")


def _difference_note(r: Any, ctx: Context) -> str:
    if _zh(ctx):
        return ("t：独立样本t检验；F：单因素方差分析；Welch F：方差不齐时的Welch检验；"
                "事后比较中的数字为类别编号。")
    return ("t: independent-samples t test; F: one-way ANOVA; Welch F: Welch's test when variances differ; "
            "post hoc comparisons refer to category numbers.")


DIFFERENCES = Layout(parts=(
    Part("table", lambda r, c: r.table,
         lambda r, c: c.pick((f"{r.outcome}的差异分析", f"Differences in {r.outcome} by Respondent Group")),
         _difference_note, star_target="statistic"),
), main="table")


# confirmatory factor analysis

_FIT_ROWS = {"chi2": ("χ²", "χ²"), "df": ("df", "df"), "p": ("p", "p"), "cfi": ("CFI", "CFI"), "tli": ("TLI", "TLI"),
             "rmsea": ("RMSEA", "RMSEA"), "rmsea_ci_lower": ("RMSEA 90%置信区间下限", "RMSEA 90% CI LL"),
             "rmsea_ci_upper": ("RMSEA 90%置信区间上限", "RMSEA 90% CI UL"), "srmr": ("SRMR", "SRMR"),
             "gfi": ("GFI", "GFI"), "agfi": ("AGFI", "AGFI"), "nfi": ("NFI", "NFI"), "ifi": ("IFI", "IFI"),
             "logl": ("对数似然值", "Log-likelihood"), "aic": ("AIC", "AIC"), "bic": ("BIC", "BIC")}
_FIT_RULES: dict[str, str | int] = {"df": "int", "p": "p", **{k: "bounded" for k in (
    "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "gfi", "agfi", "nfi", "ifi")}}


def _cfa_loadings(r: Any, ctx: Context) -> pd.DataFrame:
    reliability = r.reliability()
    rows = []
    for factor in r.loadings.columns:
        for i, (item, value) in enumerate(r.loadings[factor].dropna().items()):
            rows.append({"scale": factor, "item": item, "loading": value,
                         "CR": reliability.loc[factor, "CR"] if i == 0 else np.nan,
                         "AVE": reliability.loc[factor, "AVE"] if i == 0 else np.nan})
    return pd.DataFrame(rows).set_index(["scale", "item"])


CFA = Layout(parts=(
    Part("fit", lambda r, c: r.fit_table(), ("验证性因子分析拟合指标", "Confirmatory Factor Analysis Fit Indices"),
         note=lambda r, c: (f"最大似然估计；n = {r.n}。" if _zh(c) else f"Maximum likelihood estimation; n = {r.n}."),
         labels={"value": ("值", "Value")}, row_labels=_FIT_ROWS, row_rules=_FIT_RULES),
    Part("loadings", _cfa_loadings, ("标准化因子载荷、组合信度与平均方差抽取量",
                                     "Standardized Loadings, Composite Reliability, and Average Variance Extracted"),
         note=lambda r, c: ("CR = (Σλ)² / [(Σλ)² + Σ(1 − λ²)]；AVE = Σλ² / k（Fornell & Larcker, 1981）。" if _zh(c) else
                            "CR = (Σλ)² / [(Σλ)² + Σ(1 − λ²)]; AVE = Σλ² / k (Fornell & Larcker, 1981).")),
    Part("estimates", lambda r, c: r.to_frame(), ("参数估计", "Parameter Estimates")),
), default=("fit", "loadings"), main="fit")
PARALLEL = Layout(parts=(
    Part("table", lambda r, c: r.to_frame(), ("平行分析", "Parallel Analysis"),
         note=lambda r, c: (f"随机数据{r.n_iter}组；建议保留{r.n_factors}个因子、{r.n_components}个成分。" if _zh(c) else
                            f"{r.n_iter} random data sets; suggests {r.n_factors} factors and {r.n_components} components.")),
), main="table")

LAYOUTS: dict[str, Layout] = {
    "AlphaResult": ALPHA, "ReliabilityResult": ALPHA, "OmegaResult": OMEGA,
    "KMOResult": KMO, "BartlettResult": BARTLETT, "BartlettResult+KMOResult": KMO_BARTLETT,
    "EFAResult": EFA, "ParallelResult": PARALLEL, "CFAResult": CFA,
    "OLSResult": OLS, "LogisticResult": LOGISTIC, "OrdinalResult": ORDINAL,
    "CorrelationResult": CORRELATION, "MediationResult": MEDIATION, "ModerationResult": MODERATION,
    "TTestResult": TTEST, "AnovaResult": ANOVA, "WelchResult": WELCH, "RankTestResult": RANK,
    "ChiSquareResult": CHI2, "DifferenceAnalysis": DIFFERENCES,
}


def _layout_of(obj: Any) -> Layout | None:
    if isinstance(obj, tuple | list) and len(obj) == 2:
        key = "+".join(sorted(type(o).__name__ for o in obj))
        return LAYOUTS.get(key)
    for cls in type(obj).__mro__:
        if cls.__name__ in LAYOUTS:
            return LAYOUTS[cls.__name__]
    return None


def _hook_layout(obj: Any, lang: Lang) -> Layout | None:
    """A result's own `table_spec(lang)`: a DataFrame, a dict or a list of dicts."""
    hook = getattr(obj, "table_spec", None)
    if not callable(hook) or isinstance(obj, pd.DataFrame):
        return None
    answer = hook(lang)
    items = answer if isinstance(answer, list | tuple) else [answer]
    parts = []
    for i, item in enumerate(items):
        if isinstance(item, pd.DataFrame):
            item = {"frame": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("frame"), pd.DataFrame):
            raise SurveyAnalysisError(f"{type(obj).__name__}.table_spec must return a DataFrame, a dict with a "
                                      "'frame' DataFrame, or a list of them")

        def both(value: Any) -> Pair:
            return (value, value) if isinstance(value, str) else tuple(value)

        parts.append(Part(
            name=str(item.get("name", f"table{i + 1}")), frame=lambda r, c, f=item["frame"]: f,
            title=both(item.get("title", "")),
            note=(lambda r, c, n=item.get("note", ""): n),
            labels={k: both(v) for k, v in item.get("labels", {}).items()},
            bounded=tuple(item.get("bounded", ())), decimals=dict(item.get("decimals", {})),
            spanners={k: both(v) for k, v in item.get("spanners", {}).items()},
            star_target=item.get("star_target")))
    return Layout(parts=tuple(parts), main=parts[0].name)


# ---- building a table ---------------------------------------------------------------------------

@dataclass
class Cell:
    """One body cell: its printed text, the value a spreadsheet stores and its Excel number format."""

    text: str
    value: Any = None
    number_format: str | None = None


@dataclass
class TableSpec:
    """A table ready to render.

    Attributes:
        header: column headings (stub columns first); spanners: (label, first, last) column
            groups above them; rows: body cells; stub: number of leading row-label columns;
        align: "left" / "right" per column; title, note: text without "表1" / "注：".
    """

    header: list[str]
    rows: list[list[Cell]]
    title: str = ""
    note: str = ""
    stub: int = 0
    spanners: list[tuple[str, int, int]] = field(default_factory=list)
    align: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def index(self) -> bool:
        return self.stub > 0

    @property
    def columns(self) -> list[str]:
        """Flat headings, spanner prefixed ("初始特征值 总计")."""
        names = list(self.header)
        for label, first, last in self.spanners:
            for j in range(first, last + 1):
                names[j] = f"{label} {names[j]}".strip()
        return names

    @property
    def frame(self) -> pd.DataFrame:
        """The printed table as a DataFrame of strings."""
        return pd.DataFrame([[c.text for c in row] for row in self.rows], columns=self.columns, dtype=object)


def _decimals_for(key: str, part: Part, ctx: Context) -> int:
    d = ctx.decimals
    if isinstance(d, int):
        return d
    if isinstance(d, Mapping) and key in d:
        return int(d[key])
    if key in part.decimals:
        return part.decimals[key]
    if key in COMMON_DECIMALS:
        return COMMON_DECIMALS[key]
    if "%" in key or "percent" in key.lower():
        return 2
    return DEFAULT_DECIMALS


def _p_decimals(ctx: Context) -> int:
    return int(ctx.decimals.get("p", P_DECIMALS)) if isinstance(ctx.decimals, Mapping) else P_DECIMALS


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _column_rule(key: str, values: pd.Series, part: Part, ctx: Context, bounded: set[str]) -> Rule:
    if is_p_column(key):
        return ("p", _p_decimals(ctx))
    numeric = [v for v in values if _is_number(v) and not _missing(v)]
    if not numeric:
        return ("text", 0)
    integral = all(float(v).is_integer() for v in numeric if math.isfinite(float(v)))
    explicit = key in bounded or key in part.decimals or key in COMMON_DECIMALS or (
        isinstance(ctx.decimals, Mapping) and key in ctx.decimals)
    if (pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values)) or (
            integral and (key in INTEGER_NAMES or not explicit)):
        return ("int", 0)
    kind = "bounded" if key in bounded else "num"
    return (kind, _decimals_for(key, part, ctx))


def _row_rule(rule: str | int, column: Rule, key: str, part: Part, ctx: Context) -> Rule:
    if rule == "p":
        return ("p", _p_decimals(ctx))
    if rule == "int":
        return ("int", 0)
    decimals = column[1] if column[0] in ("num", "bounded") else _decimals_for(key, part, ctx)
    if rule == "bounded":
        return ("bounded", decimals)
    return ("num", int(rule))


def _number_format(decimals: int, *, bounded: bool, thousands: bool) -> str:
    fraction = "." + "0" * decimals if decimals > 0 else ""
    if bounded and decimals > 0:
        return fraction
    return ("#,##0" if thousands else "0") + fraction


def _cell(value: Any, rule: Rule, *, thousands: bool) -> Cell:
    if _missing(value):
        return Cell("", None)
    if not _is_number(value):
        return Cell(str(value), str(value))
    kind, d = rule
    v = float(value)
    if not math.isfinite(v):
        text = format_number(v)
        return Cell(text, text)
    if kind == "text":
        kind, d = "num", DEFAULT_DECIMALS
    if kind == "p":
        if v < 10 ** (-d):
            text = format_p(v, d)
            return Cell(text, text)
        return Cell(format_p(v, d), v, _number_format(d, bounded=True, thousands=False))
    if kind == "int" and v.is_integer():
        return Cell(format_number(int(v), thousands=thousands), int(v), "#,##0" if thousands else "0")
    if kind == "int":
        kind, d = "num", 2
    bounded = kind == "bounded"
    text = format_number(v, d, leading_zero=not bounded, thousands=thousands and abs(v) >= 1000)
    stored = 0.0 if round(v, d) == 0 else v
    return Cell(text, stored, _number_format(d, bounded=bounded, thousands=thousands and abs(v) >= 1000))


def _add_stars(cell: Cell, mark: str) -> None:
    if not mark or not cell.text:
        return
    cell.text += mark
    if cell.number_format is not None:
        cell.number_format += f'"{mark}"'
    else:
        cell.value = cell.text


def _resolve(value: Any, obj: Any, ctx: Context) -> Any:
    return value(obj, ctx) if callable(value) else value


def _stub_columns(frame: pd.DataFrame, rows: Mapping[str, Pair], labels: Mapping[str, Pair],
                  ctx: Context) -> tuple[list[str], list[list[str]]]:
    """Row labels (one column per index level; a repeated outer label is printed once)."""
    index = frame.index
    levels = index.nlevels
    tuples = [key if isinstance(key, tuple) else (key,) for key in index]
    names = [str(n) if n is not None else "" for n in index.names]
    headers = [ctx.pick(labels.get(n, (n, n))) if n else "" for n in names]
    columns: list[list[str]] = [[] for _ in range(levels)]
    previous: tuple = ()
    for key in tuples:
        for level, value in enumerate(key):
            text = "" if _missing(value) else str(value)
            shown = ctx.pick(rows.get(text, ROW_LABELS.get(text, (text, text))))
            repeated = level < levels - 1 and previous[: level + 1] == key[: level + 1]
            columns[level].append("" if repeated else shown)
        previous = key
    return headers, [list(col) for col in zip(*columns, strict=True)] if tuples else []


def _show_index(frame: pd.DataFrame, part: Part) -> bool:
    if part.index is not None:
        return part.index
    return any(n is not None for n in frame.index.names) or not isinstance(frame.index, pd.RangeIndex)


def _explains_stars(note: str) -> bool:
    return bool(re.search(r"\*\s*p\s*<\s*\.05", note))


def _join_note(first: str, second: str, lang: Lang) -> str:
    first = first.strip()
    if not first:
        return second
    if lang == "zh":
        return first + ("" if first.endswith(("。", "；", ".", "！")) else "。") + second
    return first + ("" if first.endswith(".") else ".") + " " + second


_STARRED = re.compile(r"^[-−<>=\s.,\d]*\d(\*{1,3})$")


def build_table(frame: pd.DataFrame, part: Part, obj: Any, ctx: Context, *, title: str | None = None,
                note: str | None = None, bounded: Sequence[str] | None = None, stars_: bool | None = None,
                columns: Sequence[str] | None = None) -> TableSpec:
    """Format a raw frame into a TableSpec following `part`'s rules."""
    if not isinstance(frame, pd.DataFrame):
        raise SurveyAnalysisError(f"render_table: expected a DataFrame, got {type(frame).__name__}")
    spanner_of: dict[int, Pair] = {}
    if isinstance(frame.columns, pd.MultiIndex):
        for j, key in enumerate(frame.columns):
            spanner_of[j] = (str(key[0]), str(key[0]))
        frame = frame.set_axis([key[-1] for key in frame.columns], axis=1)
    keys = [str(c) for c in frame.columns]
    marks: pd.Series | None = None
    if "stars" in keys:
        j = keys.index("stars")
        marks = frame.iloc[:, j].map(lambda v: "" if _missing(v) else str(v))
        frame = frame.drop(columns=frame.columns[j])
        spanner_of = {(i if i < j else i - 1): s for i, s in spanner_of.items() if i != j}
        keys = [str(c) for c in frame.columns]
    elif stars_ if stars_ is not None else part.stars:
        p_columns = [j for j, k in enumerate(keys) if is_p_column(k)]
        if p_columns:
            marks = frame.iloc[:, p_columns[0]].map(stars)
    if columns is not None:
        absent = [c for c in columns if str(c) not in keys]
        if absent:
            raise SurveyAnalysisError(f"render_table: columns {absent} are not in the table; available: {keys}")
        positions = [keys.index(str(c)) for c in columns]
        frame = frame.iloc[:, positions]
        spanner_of = {new: spanner_of[old] for new, old in enumerate(positions) if old in spanner_of}
        keys = [str(c) for c in frame.columns]

    labels = {**COMMON_LABELS, **_resolve(part.labels, obj, ctx)}
    bounded_set = set(map(str, bounded)) if bounded is not None else COMMON_BOUNDED | set(
        map(str, _resolve(part.bounded, obj, ctx)))
    row_labels = _resolve(part.row_labels, obj, ctx)
    spanners = {**COMMON_SPANNERS, **_resolve(part.spanners, obj, ctx)}
    target = part.star_target if part.star_target in keys else next((k for k in STAR_TARGETS if k in keys), None)
    thousands = ctx.lang == "en"

    show_index = _show_index(frame, part)
    stub_header, stub_rows = _stub_columns(frame, row_labels, labels, ctx) if show_index else ([], [[] for _ in range(len(frame))])
    if show_index and frame.index.nlevels == 1 and not stub_header[0]:
        stub_header = [ctx.pick(("项目", "Variable"))]  # APA 7.12: every table has a stub heading
    row_keys = [str(key[-1] if isinstance(key, tuple) else key) for key in frame.index]
    column_rules = [_column_rule(k, frame.iloc[:, j], part, ctx, bounded_set) for j, k in enumerate(keys)]

    rows: list[list[Cell]] = []
    for i in range(len(frame)):
        row = [Cell(text, text) for text in stub_rows[i]]
        row_rule = part.row_rules.get(row_keys[i])
        for j, key in enumerate(keys):
            rule = column_rules[j] if row_rule is None else _row_rule(row_rule, column_rules[j], key, part, ctx)
            cell = _cell(frame.iat[i, j], rule, thousands=thousands and key not in NO_THOUSANDS
                         and row_keys[i] not in NO_THOUSANDS)
            if marks is not None and key == target:
                _add_stars(cell, marks.iat[i])
            row.append(cell)
        if marks is not None and target is None:
            row.append(Cell(marks.iat[i], marks.iat[i]))
        rows.append(row)
    header = stub_header + [ctx.pick(labels.get(k, (k, k))) for k in keys]
    if marks is not None and target is None:
        header.append("")

    if not keys:
        raise SurveyAnalysisError("render_table: the table has no columns; nothing to render")
    stub = len(stub_header)
    spanner_labels = [spanner_of.get(j) or spanners.get(k) for j, k in enumerate(keys)]
    groups: list[tuple[str, int, int]] = []
    for j, pair in enumerate(spanner_labels):
        text = ctx.pick(pair) if pair else ""
        if not text:
            continue
        if groups and groups[-1][0] == text and groups[-1][2] == stub + j - 1:
            groups[-1] = (text, groups[-1][1], stub + j)
        else:
            groups.append((text, stub + j, stub + j))

    align = ["left"] * stub
    for j in range(stub, len(header)):
        cells = [row[j] for row in rows if row[j].text]
        numeric = bool(cells) and all(
            c.number_format is not None or re.fullmatch(r"[-−<>=\s.,\d±*%\[\]()]+", c.text) for c in cells)
        align.append("right" if numeric else "left")

    levels = sorted({len(m.group(1)) for row in rows for c in row if (m := _STARRED.match(c.text))})
    title_text = title if title is not None else ctx.pick(_resolve(part.title, obj, ctx))
    note_text = note if note is not None else (part.note(obj, ctx) if part.note else "")
    if levels and not _explains_stars(note_text):
        note_text = _join_note(note_text, star_note(levels, ctx.lang), ctx.lang)
    return TableSpec(header=header, rows=rows, title=title_text or "", note=note_text or "", stub=stub,
                     spanners=groups, align=align, name=part.name)


_GENERIC = Part("table", lambda r, c: r)


def _parts_of(obj: Any, ctx: Context) -> tuple[Layout, Any]:
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return Layout(parts=(_GENERIC,), main="table"), obj
    layout = _hook_layout(obj, ctx.lang) or _layout_of(obj)
    if layout is not None:
        return layout, obj
    if callable(getattr(obj, "to_frame", None)):
        return Layout(parts=(Part("table", lambda r, c: r.to_frame()),), main="table"), obj
    raise SurveyAnalysisError(f"render_table: cannot render a {type(obj).__name__}; pass a DataFrame or a result "
                              "with to_frame()")


def _check_options(lang: Any, decimals: Any) -> None:
    if lang not in ("zh", "en"):
        raise SurveyAnalysisError(f"render_table: lang must be 'zh' or 'en' (got {lang!r})")
    values = decimals.values() if isinstance(decimals, Mapping) else [] if decimals is None else [decimals]
    for d in values:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or not 0 <= d <= 10:
            raise SurveyAnalysisError(f"render_table: decimals must be an integer 0..10 or a mapping "
                                      f"column -> integer (got {decimals!r})")


def _per_part(value: str | Sequence[str] | None, n: int, what: str) -> list[str | None]:
    if value is None or isinstance(value, str):
        return [value] + [None] * (n - 1)
    value = list(value)
    if len(value) != n:
        raise SurveyAnalysisError(f"render_table: {len(value)} {what}s for {n} tables")
    return value


def table_specs(obj: Any, *, lang: Lang = "zh", title: str | Sequence[str] | None = None,
                note: str | Sequence[str] | None = None, decimals: int | Mapping[str, int] | None = None,
                bounded: Sequence[str] | None = None, part: str | Sequence[str] | None = None,
                stars: bool | None = None, columns: Sequence[str] | None = None, suppress: float = 0.4,
                sort: bool = True) -> list[TableSpec]:
    """All tables of `obj` (the result's default tables, or the named `part`s), formatted."""
    if isinstance(obj, TableSpec):
        return [obj]
    _check_options(lang, decimals)
    ctx = Context(lang=lang, decimals=decimals, suppress=suppress, sort=sort)
    layout, obj = _parts_of(obj, ctx)
    if part is None:
        names = list(layout.default) or [p.name for p in layout.parts]
        required = False
    else:
        names, required = ([part] if isinstance(part, str) else list(part)), True
    chosen = []
    for name in names:
        spec = layout.part(name)
        frame = spec.frame(obj, ctx)
        if frame is None:
            if required:
                raise SurveyAnalysisError(f"render_table: this {type(obj).__name__} has no {name!r} table")
            continue
        chosen.append((spec, frame))
    titles, notes = _per_part(title, len(chosen), "title"), _per_part(note, len(chosen), "note")
    return [build_table(frame, spec, obj, ctx, title=t, note=n, bounded=bounded, stars_=stars, columns=columns)
            for (spec, frame), t, n in zip(chosen, titles, notes, strict=True)]


def table_spec(obj: Any, *, lang: Lang = "zh", title: str | None = None, note: str | None = None,
               decimals: int | Mapping[str, int] | None = None, bounded: Sequence[str] | None = None,
               part: str | None = None, stars: bool | None = None, columns: Sequence[str] | None = None,
               suppress: float = 0.4, sort: bool = True) -> TableSpec:
    """The main table of `obj` (or the named `part`) with its title and note, formatted."""
    if isinstance(obj, TableSpec):
        return obj
    if part is None and not isinstance(obj, pd.DataFrame | pd.Series):
        _check_options(lang, decimals)
        layout, _ = _parts_of(obj, Context(lang=lang))
        part = layout.main or layout.parts[0].name
    return table_specs(obj, lang=lang, title=title, note=note, decimals=decimals, bounded=bounded, part=part,
                       stars=stars, columns=columns, suppress=suppress, sort=sort)[0]


# ---- captions and notes ---------------------------------------------------------------------------

def caption_lines(spec: TableSpec, number: int | None, lang: Lang, style: CaptionStyle = "apa") -> list[tuple[str, bool, bool]]:
    """(text, bold, italic) lines above the table.

    Chinese (GB/T 7713.1): one line "表1  标题". English, style "apa" (APA 7, 7.10): "Table 1" in
    bold, the title on the next line in italic; style "inline": "Table 1. Title" on one line.
    """
    if number is None:
        apa = lang == "en" and style == "apa"
        return [(spec.title, not apa, apa)] if spec.title else []
    if lang == "zh":
        return [(f"表{number}  {spec.title}".rstrip(), True, False)]
    if style == "inline":
        return [(f"Table {number}. {spec.title}".rstrip(". ") if not spec.title else f"Table {number}. {spec.title}",
                 True, False)]
    lines = [(f"Table {number}", True, False)]
    return lines + ([(spec.title, False, True)] if spec.title else [])


def note_parts(spec: TableSpec, lang: Lang) -> tuple[str, str]:
    """('注：' or 'Note.', text) — empty when the table has no note."""
    if not spec.note:
        return "", ""
    return ("注：", spec.note) if lang == "zh" else ("Note.", " " + spec.note)


# ---- Markdown ---------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\|*_`])|<(?=[A-Za-z/!?])")


def _md(text: str) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(lambda m: "\\" + (m.group(1) or "<"), text)


def to_markdown(spec: TableSpec, *, number: int | None = None, lang: Lang = "zh",
                caption_style: CaptionStyle = "inline") -> str:
    """GitHub-flavoured Markdown: caption, table (numbers right-aligned), note."""
    lines = []
    for text, bold, italic in caption_lines(spec, number, lang, caption_style):
        lines += [f"**{_md(text)}**" if bold else f"*{_md(text)}*" if italic else _md(text), ""]
    header = spec.columns
    lines.append("| " + " | ".join(_md(h) for h in header) + " |")
    lines.append("| " + " | ".join("--:" if a == "right" else ":--" for a in spec.align) + " |")
    lines += ["| " + " | ".join(_md(c.text) for c in row) + " |" for row in spec.rows]
    lead, text = note_parts(spec, lang)
    if lead:
        lines += ["", (f"*{lead}*" if lang == "en" else lead) + _md(text)]
    return "\n".join(lines) + "\n"


# ---- HTML ---------------------------------------------------------------------------------------------

HTML_STYLE = (
    "table.apa{border-collapse:collapse;border-top:1.5pt solid #000;border-bottom:1.5pt solid #000;"
    "border-left:none;border-right:none;margin:0.5em 0;font-family:'Times New Roman',SimSun,serif}"
    "table.apa th,table.apa td{border-left:none;border-right:none}"
    "table.apa th{border-bottom:0.75pt solid #000;padding:4px 10px;font-weight:normal;text-align:center}"
    "table.apa td{padding:3px 10px;text-align:right;border-top:none;border-bottom:none}"
    "table.apa td.text{text-align:left}"
    "table.apa caption{caption-side:top;text-align:left;padding-bottom:4px}"
    "table.apa caption.zh{text-align:center;font-weight:bold}"
    "p.apa-note{font-size:90%;margin-top:2px}"
)


def _html_header(spec: TableSpec) -> list[str]:
    if not spec.spanners:
        return ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in spec.header) + "</tr>"]
    top, spanned = [], {j for _, a, b in spec.spanners for j in range(a, b + 1)}
    starts = {a: (label, b) for label, a, b in spec.spanners}
    j = 0
    while j < len(spec.header):
        if j in starts:
            label, last = starts[j]
            top.append(f'<th colspan="{last - j + 1}">{html.escape(label)}</th>')
            j = last + 1
        else:
            top.append(f'<th rowspan="2">{html.escape(spec.header[j])}</th>')
            j += 1
    bottom = [f"<th>{html.escape(spec.header[j])}</th>" for j in range(len(spec.header)) if j in spanned]
    return ["<tr>" + "".join(top) + "</tr>", "<tr>" + "".join(bottom) + "</tr>"]


def to_html(spec: TableSpec, *, number: int | None = None, lang: Lang = "zh", standalone: bool = True,
            caption_style: CaptionStyle = "inline") -> str:
    """An HTML three-line table (escaped), self-contained with its CSS when `standalone`."""
    parts = []
    if standalone:
        parts.append(f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><style>{HTML_STYLE}</style>'
                     "</head><body>")
    parts.append('<table class="apa">')
    lines = caption_lines(spec, number, lang, caption_style)
    if lines:
        shown = []
        for text, bold, italic in lines:
            text = html.escape(text)
            shown.append(f"<strong>{text}</strong>" if bold and lang == "en" else f"<em>{text}</em>" if italic else text)
        parts.append(f'<caption class="{lang}">' + "<br>".join(shown) + "</caption>")
    parts.append("<thead>" + "".join(_html_header(spec)) + "</thead><tbody>")
    for row in spec.rows:
        cells = [f'<td class="{"num" if spec.align[j] == "right" else "text"}">{html.escape(c.text)}</td>'
                 for j, c in enumerate(row)]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    lead, text = note_parts(spec, lang)
    if lead:
        lead_html = f"<em>{html.escape(lead)}</em>" if lang == "en" else html.escape(lead)
        parts.append(f'<p class="apa-note">{lead_html}{html.escape(text)}</p>')
    if standalone:
        parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---- files ------------------------------------------------------------------------------------------------

def _atomic_write(path: Path, write: Callable[[Path], None], overwrite: bool) -> Path:
    """Write through a temporary file in the same folder, then rename: never a partial file."""
    path = Path(path)
    if path.is_dir():
        raise SurveyAnalysisError(f"{path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise SurveyAnalysisError(f"{path} exists; pass overwrite=True to replace it")
    if not path.parent.exists():
        raise SurveyAnalysisError(f"{path.parent}: no such folder")
    handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        os.chmod(temp, ordinary_file_mode())  # mkstemp makes 0600; a table is shared like any document
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _text_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet_title(spec: TableSpec, number: int | None, lang: Lang, used: set[str]) -> str:
    base = (f"表{number}" if lang == "zh" else f"Table {number}") if number is not None else (spec.name or "Table")
    base = re.sub(r"[\[\]:*?/\\]", "_", base)[:28]
    title, i = base, 2
    while title in used:
        title, i = f"{base} ({i})", i + 1
    used.add(title)
    return title


def _write_sheet(sheet: Any, spec: TableSpec, *, number: int | None, lang: Lang, style: CaptionStyle) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    font = "SimSun" if lang == "zh" else "Times New Roman"
    thick, thin = Side(style="medium"), Side(style="thin")
    row = 1
    for text, bold, italic in caption_lines(spec, number, lang, style):
        sheet.cell(row=row, column=1, value=text).font = Font(name=font, bold=bold, italic=italic)
        row += 1
    width = len(spec.header)
    top = row
    spanned = {j for _, a, b in spec.spanners for j in range(a, b + 1)}
    if spec.spanners:
        for label, a, b in spec.spanners:
            sheet.cell(row=top, column=a + 1, value=label)
            if b > a:
                sheet.merge_cells(start_row=top, start_column=a + 1, end_row=top, end_column=b + 1)
        for j in range(width):
            if j not in spanned:
                sheet.cell(row=top, column=j + 1, value=spec.header[j])
                sheet.merge_cells(start_row=top, start_column=j + 1, end_row=top + 1, end_column=j + 1)
            else:
                sheet.cell(row=top + 1, column=j + 1, value=spec.header[j])
        header_rows = [top, top + 1]
    else:
        for j, text in enumerate(spec.header):
            sheet.cell(row=top, column=j + 1, value=text)
        header_rows = [top]
    last_header = header_rows[-1]
    body = last_header + 1
    last_row = last_header + len(spec.rows)
    for i, cells in enumerate(spec.rows):
        for j, cell in enumerate(cells):
            target = sheet.cell(row=body + i, column=j + 1, value=cell.value)
            if cell.number_format:
                target.number_format = cell.number_format
            target.alignment = Alignment(horizontal=spec.align[j])
            target.font = Font(name=font)
    for r in header_rows:
        for j in range(width):
            cell = sheet.cell(row=r, column=j + 1)
            cell.font = Font(name=font)
            cell.alignment = Alignment(horizontal="center", vertical="center")
            upper = thick if r == top else None
            lower = thin if r == last_header or (r == top and j in spanned) else None
            if r == last_header and not spec.rows:
                lower = thick
            cell.border = Border(left=Side(), right=Side(), top=upper or Side(), bottom=lower or Side())
    if spec.rows:
        for j in range(width):
            cell = sheet.cell(row=last_row, column=j + 1)
            cell.border = Border(left=Side(), right=Side(), top=cell.border.top, bottom=thick)
    lead, text = note_parts(spec, lang)
    if lead:
        sheet.cell(row=last_row + 1, column=1, value=lead + text).font = Font(name=font, size=9)
    for j in range(width):
        texts = [spec.header[j]] + [row[j].text for row in spec.rows]
        sheet.column_dimensions[get_column_letter(j + 1)].width = min(60, max(_text_width(t) for t in texts) + 3)


def _write_xlsx(specs: Sequence[TableSpec], target: Path, *, number: int | None, lang: Lang,
                style: CaptionStyle) -> None:
    from openpyxl import Workbook

    book = Workbook()
    used: set[str] = set()
    for i, spec in enumerate(specs):
        sheet = book.active if i == 0 else book.create_sheet()
        n = None if number is None else number + i
        sheet.title = _sheet_title(spec, n, lang, used)
        _write_sheet(sheet, spec, number=n, lang=lang, style=style)
    book.save(target)


def _set_border(parent: Any, tag: str, edges: Mapping[str, int], successors: Sequence[str]) -> None:
    """Set OXML borders (edge -> size in eighths of a point; 0 = none) in a tblPr or tcPr."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = parent.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        parent.insert_element_before(borders, *successors)
    order = ["top", "left", "start", "bottom", "right", "end", "insideH", "insideV", "tl2br", "tr2bl"]
    for edge, size in edges.items():
        old = borders.find(qn(f"w:{edge}"))
        if old is not None:
            borders.remove(old)
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:val"), "single" if size else "nil")
        if size:
            node.set(qn("w:sz"), str(size))
            node.set(qn("w:space"), "0")
            node.set(qn("w:color"), "000000")
        borders.append(node)
    for child in sorted(list(borders), key=lambda c: order.index(c.tag.split("}")[1])
                        if c.tag.split("}")[1] in order else len(order)):
        borders.append(child)  # schema order


_TBL_SUCCESSORS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
                   "w:tblPrChange")
_TC_SUCCESSORS = ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
                  "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def _border(element: Any, edges: dict[str, int]) -> None:
    """Borders of a tblPr (table) or tcPr (cell)."""
    if element.tag.endswith("tblPr"):
        _set_border(element, "w:tblBorders", edges, _TBL_SUCCESSORS)
    else:
        _set_border(element, "w:tcBorders", edges, _TC_SUCCESSORS)


def _set_fonts(run: Any, lang: Lang, size: float | None = None) -> None:
    """Times New Roman for Latin text; SimSun (宋体) for Chinese when lang is zh."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = "Times New Roman"
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), "SimSun" if lang == "zh" else "Times New Roman")
    if size:
        run.font.size = Pt(size)


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    node = OxmlElement("w:tblHeader")
    node.set(qn("w:val"), "true")
    tr_pr.insert_element_before(node, "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")


def add_docx_table(document: Any, obj: Any, *, lang: Lang = "zh", number: int | None = None,
                   title: str | None = None, note: str | None = None, decimals: int | Mapping[str, int] | None = None,
                   caption_style: CaptionStyle = "inline") -> Any:
    """Append a three-line table (caption above, note below) to a python-docx Document.

    Only three horizontal rules (1.5 pt above the header, 0.75 pt under it, 1.5 pt under the
    body; short 0.5 pt rules under column spanners); no vertical rules. Header rows repeat on
    each page. Returns the docx table.
    """
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    spec = obj if isinstance(obj, TableSpec) else table_spec(obj, lang=lang, title=title, note=note,
                                                              decimals=decimals)
    size = 10.5
    for text, bold, italic in caption_lines(spec, number, lang, caption_style):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        if lang == "zh":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.bold, run.italic = bold, italic
        _set_fonts(run, lang, size)
    n_header = 2 if spec.spanners else 1
    width = len(spec.header)
    table = document.add_table(rows=n_header + len(spec.rows), cols=width)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _border(table._tbl.tblPr, {"top": 12, "left": 0, "bottom": 12, "right": 0, "insideH": 0, "insideV": 0})

    def write(cell: Any, text: str, align: Any) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.alignment = align
        _set_fonts(paragraph.add_run(text), lang, size)

    spanned = {j for _, a, b in spec.spanners for j in range(a, b + 1)}
    if spec.spanners:
        top, bottom = table.rows[0], table.rows[1]
        for label, a, b in spec.spanners:
            cell = top.cells[a].merge(top.cells[b]) if b > a else top.cells[a]
            write(cell, label, WD_ALIGN_PARAGRAPH.CENTER)
            _border(cell._tc.get_or_add_tcPr(), {"bottom": 4})
        for j in range(width):
            if j in spanned:
                write(bottom.cells[j], spec.header[j], WD_ALIGN_PARAGRAPH.CENTER)
            else:
                merged = top.cells[j].merge(bottom.cells[j])
                write(merged, spec.header[j], WD_ALIGN_PARAGRAPH.CENTER)
    else:
        for j, text in enumerate(spec.header):
            write(table.rows[0].cells[j], text, WD_ALIGN_PARAGRAPH.CENTER)
    for r in range(n_header):
        _repeat_header(table.rows[r])
    for tc in table.rows[n_header - 1]._tr.tc_lst:  # the rule under the header (incl. merged cells)
        _border(tc.get_or_add_tcPr(), {"bottom": 6})
    if spec.spanners:
        for j in range(width):
            if j not in spanned:
                _border(table.rows[0].cells[j]._tc.get_or_add_tcPr(), {"bottom": 6})
    for i, cells in enumerate(spec.rows, start=n_header):
        row = table.rows[i]
        for j, cell in enumerate(cells):
            align = WD_ALIGN_PARAGRAPH.RIGHT if spec.align[j] == "right" else WD_ALIGN_PARAGRAPH.LEFT
            write(row.cells[j], cell.text, align)
    lead, text = note_parts(spec, lang)
    if lead:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(lead)
        run.italic = lang == "en"
        _set_fonts(run, lang, 9)
        _set_fonts(paragraph.add_run(text), lang, 9)
    return table


def _write_docx(specs: Sequence[TableSpec], target: Path, *, number: int | None, lang: Lang,
                style: CaptionStyle) -> None:
    from docx import Document

    document = Document()
    for i, spec in enumerate(specs):
        if i:
            document.add_paragraph()
        add_docx_table(document, spec, lang=lang, number=None if number is None else number + i,
                       caption_style=style)
    document.save(target)


def _specs_of_list(objects: list, *, title, note, part, columns, **options) -> list[TableSpec]:
    """The default tables of every object of a list, in order (one document, numbered on)."""
    if not objects:
        raise SurveyAnalysisError("render_table: the list of results to render is empty")
    if part is not None or columns is not None:
        raise SurveyAnalysisError("render_table: part= and columns= apply to one result; for a list, pass "
                                  "survey.tables.table_spec(result, part=..., columns=...) items instead")
    specs = [spec for item in objects for spec in table_specs(item, **options)]
    titles, notes = _per_part(title, len(specs), "title"), _per_part(note, len(specs), "note")
    return [dataclasses.replace(spec, **({"title": t} if t is not None else {}), **({"note": n} if n is not None else {}))
            for spec, t, n in zip(specs, titles, notes, strict=True)]


# ---- the public entry -------------------------------------------------------------------------------

_SUFFIXES = {"xlsx": ".xlsx", "docx": ".docx"}


def render_table(obj: Any, fmt: Fmt = "markdown", *, path: str | Path | None = None, lang: Lang = "zh",
                 title: str | Sequence[str] | None = None, note: str | Sequence[str] | None = None,
                 decimals: int | Mapping[str, int] | None = None, number: int | None = None,
                 part: str | Sequence[str] | None = None, columns: Sequence[str] | None = None,
                 bounded: Sequence[str] | None = None, stars: bool | None = None, suppress: float = 0.4,
                 sort: bool = True, caption_style: CaptionStyle = "apa", overwrite: bool = False) -> str | Path:
    """Render a DataFrame or an analysis result as APA three-line table(s).

    Known results (see `LAYOUTS`) get their customary tables, title, labels and note: e.g.
    AlphaResult -> Item-Total Statistics with α in the note; EFAResult -> the sorted loadings
    (|loading| < `suppress` blank) and Total Variance Explained; OLSResult -> coefficients with
    R², F and p in the note. Other objects with `to_frame()` render that frame; a result's own
    `table_spec(lang)` method wins over the registry.

    Number rules: p to three decimals without a leading zero, "< .001" below; statistics bounded
    by 1 (r, α, loadings, R², MSA, CFI, ...) without the leading zero (APA 7, 6.36); β keeps it
    (it can exceed 1); integers (n, df, k, counts) as integers; means and SDs to 2 decimals,
    frequency percentages to 1, percentages of variance to 2, other statistics to 3; in English,
    commas in numbers of 1,000 or more except degrees of freedom (none in Chinese tables).
    A "stars" column is attached to the statistic (r, β, B, t, F, ...) and explained in the note.

    Args:
        obj: a DataFrame (or Series), a result object, a TableSpec, (KMOResult, BartlettResult), or
            a list of any of these: every table goes into the one document (or text), numbered on
            from `number`, e.g. ``render_table([alpha, efa_result, fit], "docx", path="ch4.docx")``.
        fmt: "markdown" or "html" (returned as a string; also written when `path` is given),
            "xlsx" or "docx" (written to `path`, which is returned).
        path: output file; never overwritten unless `overwrite=True`; written atomically.
        lang: "zh" (Chinese labels, 表1, 注：) or "en" (English labels, Table 1, Note.).
        title, note: replace the default title / note (a list gives one per table).
        decimals: decimals of every statistic (p stays at 3), or a mapping column -> decimals
            (the key "p" sets the p-value decimals).
        number: table number (several tables are numbered on from it); None prints no number.
        part: which table(s) of a result, e.g. "variance" of an EFA, "model_summary" of an OLS.
        columns: keep only these columns (original names) in this order.
        bounded: columns printed without a leading zero (replaces the defaults).
        stars: append significance stars to the statistic from the p column.
        suppress, sort: loadings below `suppress` blank; items sorted by factor (EFA).
        caption_style: "apa" (Table 1 / italic title on its own line) or "inline" (Table 1. Title).

    Returns:
        The Markdown or HTML text, or the path written.

    Example:
        >>> print(render_table(cronbach_alpha(df, items), lang="en", number=2))  # doctest: +SKIP
    """
    if fmt not in ("markdown", "html", "xlsx", "docx"):
        raise SurveyAnalysisError(f"render_table: fmt must be markdown, html, xlsx or docx (got {fmt!r})")
    if caption_style not in ("apa", "inline"):
        raise SurveyAnalysisError(f"render_table: caption_style must be 'apa' or 'inline' (got {caption_style!r})")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int | np.integer) or number < 1):
        raise SurveyAnalysisError(f"render_table: number must be a positive integer (got {number!r})")
    if fmt in _SUFFIXES:
        if path is None:
            raise SurveyAnalysisError(f"render_table: fmt={fmt!r} writes a file; give path=")
        if Path(path).suffix.lower() != _SUFFIXES[fmt]:
            raise SurveyAnalysisError(f"render_table: a {fmt} file must end in {_SUFFIXES[fmt]} (got {path})")
    if isinstance(obj, list):
        specs = _specs_of_list(obj, lang=lang, title=title, note=note, decimals=decimals, bounded=bounded,
                               part=part, stars=stars, columns=columns, suppress=suppress, sort=sort)
    else:
        specs = table_specs(obj, lang=lang, title=title, note=note, decimals=decimals, bounded=bounded, part=part,
                            stars=stars, columns=columns, suppress=suppress, sort=sort)
    numbers_ = [None if number is None else int(number) + i for i in range(len(specs))]
    if fmt == "markdown":
        text = "\n".join(to_markdown(s, number=n, lang=lang, caption_style=caption_style)
                         for s, n in zip(specs, numbers_, strict=True))
    elif fmt == "html":
        body = "\n".join(to_html(s, number=n, lang=lang, standalone=False, caption_style=caption_style)
                         for s, n in zip(specs, numbers_, strict=True))
        text = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><style>{HTML_STYLE}</style>'
                f"</head><body>\n{body}</body></html>\n")
    else:
        writer = _write_xlsx if fmt == "xlsx" else _write_docx
        return _atomic_write(Path(path), lambda t: writer(specs, t, number=number, lang=lang, style=caption_style),
                             overwrite)
    if path is not None:
        _atomic_write(Path(path), lambda t: t.write_text(text, encoding="utf-8"), overwrite)
    return text


__all__ = ["COMMON_LABELS", "LAYOUTS", "Cell", "Context", "Layout", "Part", "TableSpec", "add_docx_table",
           "build_table", "caption_lines", "format_number", "format_p", "is_p_column", "render_table",
           "star_note", "stars", "table_spec", "table_specs", "to_html", "to_markdown"]
