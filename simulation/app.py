"""The SolaraViz dashboard of `ServiceModel`: pick a scenario, toggle countermeasures, move the
policy levers, and watch the KPIs beside the baseline run with the same seed.

Start it with `onenet dashboard` (which runs `solara run simulation.app`); the command passes
its choices in the environment variables ONENET_DASHBOARD_SCENARIO, ONENET_DASHBOARD_OVERLAYS
(a JSON list), ONENET_DASHBOARD_SEED, ONENET_DASHBOARD_DAYS and ONENET_DASHBOARD_LANG.
"""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path
from typing import Any

import numpy as np
import solara
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from simulation.cases import DONE
from simulation.kpis import KPI_LABELS
from simulation.model import ServiceModel
from simulation.population import ONLINE
from simulation.scenario import (
    POLICY_LABELS,
    Policy,
    Scenario,
    ScenarioError,
    lever_range,
    load_scenario,
)

ROLLING_DAYS = 5
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                "SimHei", "Microsoft YaHei", "PingFang SC")
TEXT: dict[str, tuple[str, str]] = {
    "title": ("一网通办 政务服务仿真", "onenet-lab: government services"),
    "scenario": ("情景", "Scenario"),
    "scenario_file": ("情景文件路径(可选)", "Scenario file path (optional)"),
    "seed": ("随机种子", "Seed"),
    "days": ("模拟天数", "Days to simulate"),
    "current": ("当前设置", "current levers"),
    "baseline": ("基线(同一种子)", "baseline, same seed"),
    "day": ("工作日", "Working day"),
    "township": ("乡镇", "Township"),
    "townships": ("各乡镇网办率与跑动", "Townships: online share and visits"),
    "station": ("有便民服务站", "has a station"),
    "no_station": ("无站点", "no station"),
    "levers": ("政策杠杆：当前与基线", "Policy levers: current vs baseline"),
    "kpis": ("累计指标：当前与基线", "KPIs so far: current vs baseline"),
    "lever": ("杠杆", "Lever"),
    "kpi": ("指标", "KPI"),
    "waits": ("大厅与站点等候(分)", "Hall and station waits (min)"),
    "online_split": ("网办率：简单与复杂事项", "Online share: simple vs complex"),
    "gaps": ("城乡与老年差距", "Rural and 60+ gaps"),
    "backlogs": ("后台与代办积压", "Back-office and proxy backlogs"),
}


# ---- configuration from the command line ----------------------------------------------------

def _env() -> dict[str, Any]:
    overlays = json.loads(os.environ.get("ONENET_DASHBOARD_OVERLAYS", "[]"))
    if not isinstance(overlays, list) or not all(isinstance(o, str) for o in overlays):
        raise ScenarioError("ONENET_DASHBOARD_OVERLAYS must be a JSON list of overlay names or paths")
    lang = os.environ.get("ONENET_DASHBOARD_LANG", "en")
    return {"scenario": os.environ.get("ONENET_DASHBOARD_SCENARIO", "baseline"), "overlays": overlays,
            "seed": int(os.environ.get("ONENET_DASHBOARD_SEED", "0")),
            "days": int(os.environ.get("ONENET_DASHBOARD_DAYS", "120")), "lang": "zh" if lang == "zh" else "en"}


def _say(key: str, lang: str) -> str:
    zh, en = TEXT.get(key) or KPI_LABELS.get(key) or POLICY_LABELS.get(key) or (key, key)
    return zh if lang == "zh" else en


def shipped_scenarios() -> list[str]:
    """Names of the shipped scenario files."""
    from scenarios import SCENARIO_DIR

    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def overlay_choices(scenario: str, preset: list[str]) -> list[str]:
    """Countermeasures offered as toggles: the generic ones, the scenario's own, and any given."""
    from scenarios import COUNTERMEASURE_DIR

    names = [p.stem for p in sorted(COUNTERMEASURE_DIR.glob("*.toml"))]
    folder = COUNTERMEASURE_DIR / Path(scenario).stem
    names += [f"{folder.name}/{p.stem}" for p in sorted(folder.glob("*.toml"))]
    return list(dict.fromkeys([*names, *preset]))


def toggle_key(overlay: str) -> str:
    """The model parameter of an overlay's toggle ("cm_" + its name, path characters as _)."""
    return "cm_" + "".join(c if c.isalnum() else "_" for c in overlay)


def lever_inputs(policy: Policy, lang: str) -> dict[str, dict[str, Any]]:
    """One SolaraViz input per policy lever: label and range from the schema, value from `policy`."""
    inputs: dict[str, dict[str, Any]] = {}
    for name, field in Policy.model_fields.items():
        zh, en = POLICY_LABELS[name]
        label = f"{zh} {en}" if lang == "zh" else en
        value = getattr(policy, name)
        if field.annotation is bool:
            inputs[name] = {"type": "Checkbox", "value": value, "label": label}
        elif typing.get_origin(field.annotation) is typing.Literal:
            inputs[name] = {"type": "Select", "value": value, "values": list(typing.get_args(field.annotation)),
                            "label": label}
        else:
            low, high = lever_range(name)
            inputs[name] = {"type": "SliderFloat", "value": float(value), "min": low, "max": high,
                            "step": (high - low) / 20, "label": label}
    return inputs


def model_params(config: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's controls: scenario picker, file path, seed, days, countermeasure toggles
    and every policy lever (the starting scenario's values)."""
    lang = config["lang"]
    base = load_scenario(config["scenario"])
    pick = config["scenario"] if config["scenario"] in shipped_scenarios() else shipped_scenarios()[0]
    params: dict[str, Any] = {
        "case": {"type": "Select", "value": pick, "values": shipped_scenarios(), "label": _say("scenario", lang)},
        "scenario_file": {"type": "InputText", "value": "" if config["scenario"] in shipped_scenarios()
                          else config["scenario"], "label": _say("scenario_file", lang)},
        "seed": {"type": "InputText", "value": str(config["seed"]), "label": _say("seed", lang)},
        "days": {"type": "SliderInt", "value": config["days"], "min": 5, "max": 500, "step": 5,
                 "label": _say("days", lang)},
        "lang": lang,
    }
    for overlay in overlay_choices(config["scenario"], config["overlays"]):
        params[toggle_key(overlay)] = {"type": "Checkbox", "value": overlay in config["overlays"],
                                       "label": overlay}
    params.update(lever_inputs(base.policy, lang))
    return params


# ---- the model --------------------------------------------------------------------------------

class DashboardModel(ServiceModel):
    """`ServiceModel` with the dashboard's controls as keyword arguments, stepped in lockstep with
    a baseline twin (the scenario alone, same seed), so every view shows both.

    Args:
        case: a shipped scenario name (the keyword `scenario` is Mesa's: SolaraViz of Mesa 3.5
            passes its own experiment `Scenario` to the model on Reset).
        scenario_file: a scenario TOML path; used instead of `case` when given.
        seed: the seed of both runs (text from the page is accepted).
        days: measured days to simulate after the warm-up (the model stops then).
        lang: "zh" or "en" labels.
        scenario: Mesa's experiment scenario, from Mesa 3.5's SolaraViz; not used (the run is set
            by the dashboard's own controls, the seed among them).
        **kwargs: countermeasure toggles (`toggle_key(name)`: bool) and policy levers (the
            field names of `simulation.scenario.Policy`); a lever left at the starting
            scenario's value does not override the countermeasures.
    """

    def __init__(self, case: str = "baseline", scenario_file: str = "", seed: int | str = 0,
                 days: int = 120, lang: str = "en", scenario: Any = None, **kwargs: Any) -> None:
        if isinstance(scenario, str | Path | Scenario):
            raise ScenarioError("pass the dashboard's scenario as `case` (or `scenario_file`); "
                                "the keyword `scenario` is Mesa's")
        settings = kwargs
        path = scenario_file.strip() or case
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise ScenarioError(f"seed must be a whole number (got {seed!r})") from None
        self.lang = lang
        self.days = int(days)
        base = load_scenario(path)
        chosen = self._overlays(path, settings)
        start = load_scenario(_env()["scenario"]).policy if _env()["scenario"] != path else base.policy
        updates = {f"policy.{k}": v for k, v in settings.items()
                   if k in Policy.model_fields and v != getattr(start, k)}
        current: Scenario = load_scenario(path, chosen, updates=updates or None)
        super().__init__(current, seed=seed)
        self.overlays = chosen
        self.baseline = ServiceModel(base, seed=seed)
        for _ in range(current.scenario.warmup_days):
            self.step()

    @staticmethod
    def _overlays(path: str, settings: dict[str, Any]) -> list[str]:
        unknown = [k for k in settings if k not in Policy.model_fields and not k.startswith("cm_")]
        if unknown:
            raise ScenarioError(f"unknown dashboard setting {unknown[0]!r}; levers: {sorted(Policy.model_fields)}")
        offered = overlay_choices(path, _env()["overlays"])
        return [o for o in offered if settings.get(toggle_key(o))]

    def step(self) -> None:
        """One working day of both runs."""
        super().step()
        self.baseline.step()
        self.running = self.day < self.warmup_days + self.days


# ---- views ------------------------------------------------------------------------------------

def _font_family(lang: str) -> list[str]:
    if lang != "zh":
        return ["DejaVu Sans"]
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    return [f for f in CJK_FAMILIES if f in known][:1] + ["DejaVu Sans"]


def _smooth(values: np.ndarray) -> np.ndarray:
    series = np.asarray(values, dtype=float)
    out = np.full(series.shape, np.nan)
    for i in range(series.size):
        window = series[max(0, i - ROLLING_DAYS + 1): i + 1]
        window = window[np.isfinite(window)]
        out[i] = window.mean() if window.size else np.nan
    return out


def kpi_figure(model: DashboardModel, kpis: list[str], title: str | None = None) -> Figure:
    """Measured days of each KPI (mean of the last five days), current solid, baseline dashed."""
    lang = model.lang
    fig = Figure(figsize=(5.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    current = model.daily()
    baseline = model.baseline.daily()
    for i, kpi in enumerate(kpis):
        label = _say(kpi, lang)
        if kpi in current and len(current):
            ax.plot(current.index, _smooth(current[kpi]), color=f"C{i}", marker=".",
                    label=f"{label} ({_say('current', lang)})")
        if kpi in baseline and len(baseline):
            ax.plot(baseline.index, _smooth(baseline[kpi]), color=f"C{i}", linestyle="--",
                    label=f"{label} ({_say('baseline', lang)})")
    ax.set_title(title or _say(kpis[0], lang), fontsize="medium", fontfamily=_font_family(lang))
    ax.set_xlabel(_say("day", lang), fontfamily=_font_family(lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # working days are whole
    legend = ax.legend(fontsize="x-small", prop={"family": _font_family(lang), "size": 7})
    legend.set_title(None)
    return fig


def township_figure(model: DashboardModel) -> Figure:
    """Online share of the cases completed so far in each township, stations marked."""
    lang = model.lang
    cases, pop = model.cases, model.population
    n = model.spec.jurisdiction.townships
    done = np.flatnonzero((cases.stage[: cases.size] == DONE) & (cases.start_day[: cases.size] >= model.warmup_days))
    town = pop.township[cases.citizen[done]]
    online = np.bincount(town, weights=(cases.channel[done] == ONLINE), minlength=n)
    visits = np.bincount(town, weights=cases.visits[done], minlength=n)
    count = np.bincount(town, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share, per_case = online / count, visits / count
    fig = Figure(figsize=(6.4, 3.0), layout="constrained")
    ax = fig.add_subplot()
    colors = np.where(model.has_station, "C2", "C7")
    ax.bar(np.arange(n), np.nan_to_num(share), color=colors)
    ax.set_ylabel(_say("online_share", lang), fontfamily=_font_family(lang))
    ax.set_xlabel(_say("township", lang), fontfamily=_font_family(lang))
    twin = ax.twinx()
    twin.plot(np.arange(n), per_case, "o", color="C3", markersize=4)
    twin.set_ylabel(_say("visits_per_case", lang), fontfamily=_font_family(lang))
    ax.set_title(_say("townships", lang), fontsize="medium", fontfamily=_font_family(lang))
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="C2", label=_say("station", lang)), Patch(color="C7", label=_say("no_station", lang))],
              fontsize="x-small", prop={"family": _font_family(lang), "size": 7})
    return fig


def _chart(kpis: list[str], title_key: str | None = None):
    @solara.component
    def Chart(model):
        update_counter.get()
        title = _say(title_key, model.lang) if title_key else None
        solara.FigureMatplotlib(kpi_figure(model, kpis, title), format="png", dpi=90)

    Chart.__name__ = f"Chart_{kpis[0]}"
    return Chart


@solara.component
def TownshipView(model):
    update_counter.get()
    solara.FigureMatplotlib(township_figure(model), format="png", dpi=90)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "—" if not np.isfinite(value) else f"{value:.3g}"
    return str(value)


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    from html import escape

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<p><b>{escape(title)}</b></p><table class='onenet-table' style='border-collapse:collapse;"
            f"font-size:12px'><tr>{head}</tr>{body}</table>")


@solara.component
def LeversView(model):
    """The levers and the KPIs so far, current beside the baseline run."""
    update_counter.get()
    lang = model.lang
    levers = []
    for name in Policy.model_fields:
        now, then = getattr(model.spec.policy, name), getattr(model.baseline.spec.policy, name)
        levers.append([_say(name, lang), _cell(now) + (" ←" if now != then else ""), _cell(then)])
    kpis_now, kpis_then = model.kpis(), model.baseline.kpis()
    kpis = [[_say(k, lang), _cell(kpis_now[k]), _cell(kpis_then[k])]
            for k in ("visits_per_case", "share_at_most_once", "online_share", "hall_wait_minutes_mean",
                      "satisfaction_mean", "good_review_rate")]
    day = max(model.day - model.warmup_days, 0)
    header = [_say("lever", lang), _say("current", lang), _say("baseline", lang)]
    html = (f"<p class='onenet-day'>day {day} · {', '.join(model.overlays) or '—'}</p>"
            + _table(_say("levers", lang), header, levers)
            + _table(_say("kpis", lang), [_say("kpi", lang), *header[1:]], kpis))
    solara.HTML(tag="div", unsafe_innerHTML=html)


COMPONENTS = [
    _chart(["visits_per_case"]),
    _chart(["share_at_most_once"]),
    _chart(["online_share_simple", "online_share_complex"], "online_split"),
    _chart(["hall_wait_minutes_mean", "station_wait_minutes_mean"], "waits"),
    _chart(["satisfaction_mean"]),
    _chart(["good_review_rate"]),
    _chart(["online_share_gap_rural", "online_share_gap_elderly"], "gaps"),
    _chart(["backlog_cases", "proxy_backlog_cases"], "backlogs"),
    TownshipView,
    LeversView,
]


def make_page(config: dict[str, Any] | None = None):
    """The SolaraViz page for a configuration (default: from the environment)."""
    config = config or _env()
    params = model_params(config)
    start = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    model = DashboardModel(**start)
    return SolaraViz(model, renderer=None, components=COMPONENTS, model_params=params,
                     name=_say("title", config["lang"]))


page = make_page()
