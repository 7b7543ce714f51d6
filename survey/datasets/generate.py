"""Generate the shipped example questionnaire — SYNTHETIC data with a known structure.

`gov_services_satisfaction` imitates the questionnaire of a thesis on government-service
satisfaction (政务服务满意度调查): demographics, the channel used, visits, the national 好差评
indicators for online and offline service, a data-sharing scale (with a reverse-keyed item), a
trust scale, overall satisfaction and intention to use the online channel again. No real person
answered it. The answers come from a model whose truth is written down here, so tutorials and
tests can check that the analyses recover it:

- four latent factors — online service (OL1-OL5), window service (OF1-OF4), data sharing
  (DS1-DS4; DS4 reverse-keyed) and trust (TR1-TR3) — with the loadings in `LOADINGS` and the
  factor correlations in `FACTOR_CORRELATION`; 5-point answers cut from the continuous responses
  at fixed thresholds;
- group differences: respondents aged 60+ and rural respondents rate the online service lower
  (by `ELDERLY_ONLINE_SHIFT` and `RURAL_ONLINE_SHIFT` standard deviations) and use it less;
- overall satisfaction SAT depends on the four factors with `SAT_WEIGHTS`;
- data-quality problems a cleaning step must find: `N_DUPLICATES` duplicated respondents,
  `N_SPEEDERS` speeders (completion under 60 s), `N_STRAIGHTLINERS` straight-liners, 2% of Likert
  answers missing at random, and a few answers coded 99 ("拒答", user-missing).

Regenerate the shipped CSV with `python -m survey.datasets.generate` (bit-identical for the seed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from survey.codebook import Codebook, Scale, Variable

NAME = "gov_services_satisfaction"
SEED = 20261124
N_RESPONDENTS = 800
N_DUPLICATES = 6
N_SPEEDERS = 12
N_STRAIGHTLINERS = 8

FACTORS = ("online", "offline", "sharing", "trust")
ITEMS: dict[str, list[tuple[str, str]]] = {
    "online": [("OL1", "网上办事总体满意度"), ("OL2", "网上办事效率"), ("OL3", "办事指南准确性"),
               ("OL4", "网上办事便捷程度"), ("OL5", "平台好用程度")],
    "offline": [("OF1", "窗口办事总体满意度"), ("OF2", "窗口办事效率"), ("OF3", "窗口服务水平"),
                ("OF4", "窗口服务态度")],
    "sharing": [("DS1", "部门间共享了我的证照材料"), ("DS2", "不用重复提交相同材料"),
                ("DS3", "一次告知了所需全部材料"), ("DS4", "我需要多次往返补交材料")],
    "trust": [("TR1", "相信政务平台保护个人信息"), ("TR2", "相信网上办理的结果有效"),
              ("TR3", "愿意向亲友推荐网上办事")],
}
REVERSED = ("DS4",)
LOADINGS: dict[str, tuple[float, ...]] = {
    "online": (0.82, 0.78, 0.70, 0.80, 0.74),
    "offline": (0.80, 0.76, 0.78, 0.72),
    "sharing": (0.75, 0.80, 0.68, 0.70),
    "trust": (0.78, 0.72, 0.70),
}
FACTOR_CORRELATION = np.array([
    [1.00, 0.35, 0.45, 0.50],
    [0.35, 1.00, 0.40, 0.30],
    [0.45, 0.40, 1.00, 0.40],
    [0.50, 0.30, 0.40, 1.00],
])
SAT_WEIGHTS = {"online": 0.35, "offline": 0.30, "sharing": 0.20, "trust": 0.10}
ELDERLY_ONLINE_SHIFT = -0.6
RURAL_ONLINE_SHIFT = -0.3
THRESHOLDS = (-1.6, -0.7, 0.25, 1.2)  # continuous response -> 1..5
LIKERT = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}
AGREE = {1: "非常不同意", 2: "不同意", 3: "一般", 4: "同意", 5: "非常同意"}
REFUSED = 99


def _cut(values: np.ndarray) -> np.ndarray:
    return (np.searchsorted(THRESHOLDS, values) + 1).astype(float)


def generate(n: int = N_RESPONDENTS, seed: int = SEED) -> tuple[pd.DataFrame, Codebook]:
    """The synthetic dataset (n clean respondents plus the injected problems) and its codebook."""
    rng = np.random.default_rng(seed)
    gender = rng.choice([1, 2], size=n, p=[0.48, 0.52])
    age_band = rng.choice([1, 2, 3, 4], size=n, p=[0.22, 0.33, 0.27, 0.18])
    residence = rng.choice([1, 2], size=n, p=[0.6, 0.4])
    education = np.clip(rng.choice([1, 2, 3, 4, 5], size=n, p=[0.2, 0.25, 0.22, 0.27, 0.06])
                        - (age_band == 4) * rng.integers(0, 2, n), 1, 5)
    elderly, rural = age_band == 4, residence == 2
    latent = rng.multivariate_normal(np.zeros(4), FACTOR_CORRELATION, size=n)
    latent[:, 0] += ELDERLY_ONLINE_SHIFT * elderly + RURAL_ONLINE_SHIFT * rural
    p_online = 1 / (1 + np.exp(-(0.4 + 1.0 * latent[:, 0] - 1.4 * elderly - 0.6 * rural)))
    online = rng.random(n) < p_online
    offline_channel = rng.choice([2, 3, 4], size=n, p=[0.6, 0.3, 0.1])
    channel = np.where(online, 1, offline_channel)
    visits = np.where(online, rng.poisson(0.3, n), 1 + rng.poisson(0.4 + 0.5 * (latent[:, 2] < -0.5), n))
    columns: dict[str, np.ndarray] = {
        "respondent_id": np.arange(1, n + 1), "gender": gender, "age_band": age_band,
        "education": education, "residence": residence, "channel": channel, "visits": visits,
    }
    for f, factor in enumerate(FACTORS):
        for (item, _), loading in zip(ITEMS[factor], LOADINGS[factor], strict=True):
            noise = rng.normal(0.0, np.sqrt(1 - loading**2), n)
            value = _cut(loading * latent[:, f] + noise)
            columns[item] = 6 - value if item in REVERSED else value
    sat = sum(w * latent[:, FACTORS.index(f)] for f, w in SAT_WEIGHTS.items())
    columns["SAT"] = _cut(sat / np.sqrt(np.var(sat)) * 0.85 + rng.normal(0, 0.53, n))
    columns["INTENT"] = _cut(0.6 * latent[:, 0] + 0.3 * latent[:, 3] + rng.normal(0, 0.7, n))
    columns["duration_seconds"] = np.round(rng.lognormal(np.log(420), 0.35, n)).astype(float)
    frame = pd.DataFrame(columns)
    likert = [item for factor in FACTORS for item, _ in ITEMS[factor]] + ["SAT", "INTENT"]

    # data-quality problems to be found by cleaning
    speeders = rng.choice(n, N_SPEEDERS, replace=False)
    frame.loc[speeders, "duration_seconds"] = rng.integers(25, 60, N_SPEEDERS).astype(float)
    rest = np.setdiff1d(np.arange(n), speeders)
    liners = rng.choice(rest, N_STRAIGHTLINERS, replace=False)
    frame.loc[liners, likert] = np.repeat(rng.integers(3, 6, N_STRAIGHTLINERS)[:, None], len(likert), axis=1)
    values = frame[likert].to_numpy(copy=True)
    values[rng.random(values.shape) < 0.02] = np.nan
    refused = rng.random(values.shape) < 0.003
    values[refused] = REFUSED
    frame[likert] = values
    dups = frame.iloc[rng.choice(rest, N_DUPLICATES, replace=False)].copy()
    dups["respondent_id"] = np.arange(n + 1, n + 1 + N_DUPLICATES)  # same answers, new id
    frame = pd.concat([frame, dups], ignore_index=True)
    order = rng.permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    for name in ("respondent_id", "gender", "age_band", "education", "residence", "channel", "visits"):
        frame[name] = frame[name].astype("int64")
    return frame, codebook()


def codebook() -> Codebook:
    """The codebook of the example (Chinese labels; the title says it is synthetic)."""
    cb = Codebook(title="政务服务满意度调查（合成示例数据 SYNTHETIC example data）",
                  source=f"survey.datasets.generate, seed {SEED}: synthetic, not real respondents")
    cb.add(Variable("respondent_id", "受访者编号", measure="nominal"))
    cb.add(Variable("gender", "性别", {1: "男", 2: "女"}, measure="nominal"))
    cb.add(Variable("age_band", "年龄", {1: "18-29岁", 2: "30-44岁", 3: "45-59岁", 4: "60岁及以上"},
                    measure="ordinal"))
    cb.add(Variable("education", "学历", {1: "初中及以下", 2: "高中/中专", 3: "大专", 4: "本科",
                                           5: "研究生"}, measure="ordinal"))
    cb.add(Variable("residence", "居住地", {1: "城镇", 2: "农村"}, measure="nominal"))
    cb.add(Variable("channel", "最近一次办事渠道", {1: "网上办理", 2: "政务服务大厅", 3: "乡镇/村便民服务站",
                                                   4: "帮办代办"}, measure="nominal"))
    cb.add(Variable("visits", "最近一次办事跑动次数", measure="scale"))
    for factor in FACTORS:
        labels = AGREE if factor in ("sharing", "trust") else LIKERT
        for item, text in ITEMS[factor]:
            cb.add(Variable(item, text, {**labels, REFUSED: "拒答"}, missing_values=[REFUSED],
                            measure="ordinal"))
    cb.add(Variable("SAT", "对政务服务的总体满意度", {**LIKERT, REFUSED: "拒答"}, missing_values=[REFUSED],
                    measure="ordinal"))
    cb.add(Variable("INTENT", "今后继续选择网上办理的意愿", {**AGREE, REFUSED: "拒答"},
                    missing_values=[REFUSED], measure="ordinal"))
    cb.add(Variable("duration_seconds", "答题用时（秒）", measure="scale"))
    names = {"online": "网上服务 Online service", "offline": "窗口服务 Window service",
             "sharing": "数据共享 Data sharing", "trust": "信任 Trust"}
    for factor in FACTORS:
        items = [item for item, _ in ITEMS[factor]]
        cb.scales[factor] = Scale(factor, items, reverse=[i for i in items if i in REVERSED],
                                  low=1, high=5, label=names[factor], min_valid=len(items) - 1)
    return cb


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate the shipped synthetic example dataset.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(f"{NAME}.csv"))
    args = parser.parse_args()
    frame, _ = generate()
    frame.to_csv(args.out, index=False, float_format="%.10g", lineterminator="\n")
    print(f"wrote {args.out} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
