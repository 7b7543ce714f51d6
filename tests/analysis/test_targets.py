"""Calibration targets: strict files, one moments function for real and simulated respondents,
design-based SEs checked against R's survey package and closed forms, and the `onenet targets`
commands end to end.

Outside numbers used:
- R survey package, tests/deff.Rout.save: svymean(~uriage, svydesign(ids = ~1, weights = ~w)) =
  113.700 (SE 35.626) with srs.w and 243.914 (SE 48.752) with pps.w (data typed there as `kigyo`,
  the same data as tests/survey/test_weighting.py).
- R survey package, tests/testoutput/api.Rout.saved: the mean api00 of apiclus1 is 644.17 (its
  weights are equal, so this is the plain mean).
- Kish (1965), Survey Sampling, section 11.7: n_eff = (sum w)^2 / sum w^2.
- Closed forms: a share's SE sqrt(p (1 - p) / (n - 1)) and a mean's SE sd / sqrt(n) with equal
  weights (the linearization formula with w = 1).
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

import survey
from analysis.cli import app
from analysis.targets import (
    Moment,
    Simulator,
    TargetError,
    load_targets,
    moments,
    parse_targets,
    respondent_seed,
    simulated_values,
    write_targets,
)
from analysis.targets.mapping import EXAMPLE_MAPPING, QuestionnaireMapping, survey_targets
from analysis.targets.synthetic import synthetic_targets
from scenarios import SCENARIO_DIR
from simulation import ServiceModel, load_scenario
from tests.survey.test_weighting import APICLUS1_API00

runner = CliRunner()
SMALL = {"jurisdiction.population": 30_000, "jurisdiction.enterprises": 1_200, "hall.windows": 8}
DAYS, SEED = 25, 5
GOOD = {"statistic": "share_at_least", "item": "online_overall", "value": 0.7, "se": 0.02, "source": "a survey"}


@pytest.fixture(scope="module")
def small_spec():
    return load_scenario("baseline", updates={**SMALL, "scenario.warmup_days": 10})


@pytest.fixture(scope="module")
def model(small_spec):
    m = ServiceModel(small_spec, seed=SEED)
    m.run(DAYS)
    return m


def _file(tmp_path, tables: dict, meta: dict | None = None):
    path = tmp_path / "t.toml"
    path.write_text(tomli_w.dumps({**({"meta": meta} if meta else {}), "targets": tables}), encoding="utf-8")
    return path


# ---- strict files ---------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    ({"valu": 1.0}, r"targets\.a\.valu: unknown key"),
    ({"value": "high"}, r"targets\.a\.value: must be a finite number"),
    ({"se": 0.0}, r"targets\.a\.se: must be > 0"),
    ({"se": -0.1}, r"targets\.a\.se: must be > 0"),
    ({"item": "online_overal"}, r"targets\.a\.item: unknown item 'online_overal'"),
    ({"kpi": "share_at_most_once"}, r"targets\.a: give exactly one of kpi"),
    ({"statistic": "median"}, r"targets\.a\.statistic: unknown statistic 'median'"),
    ({"subgroup": {"age_band": "70+"}}, r"targets\.a\.subgroup\.age_band: value '70\+' is not a code"),
    ({"subgroup": {"gender": 1}}, r"targets\.a\.subgroup\.gender: unknown subgroup variable"),
    ({"role": "train"}, r"targets\.a\.role: must be one of calibrate, validate"),
    ({"n": 2.5}, r"targets\.a\.n: must be a whole number"),
    ({"source": ""}, r"targets\.a\.source: must name where"),
])
def test_a_bad_target_names_the_file_and_the_key(tmp_path, change, message):
    path = _file(tmp_path, {"a": {**GOOD, **change}})
    with pytest.raises(TargetError, match=message) as caught:
        load_targets(path)
    assert str(caught.value).startswith(str(path))


def test_kpi_targets_must_name_a_public_kpi_and_take_no_item(tmp_path):
    kpi = {"kpi": "share_at_most_once", "value": 0.5, "se": 0.01, "source": "records"}
    assert load_targets(_file(tmp_path, {"k": kpi}))["k"].moment.is_kpi
    with pytest.raises(TargetError, match=r"targets\.k\.kpi: unknown KPI 'share_at_most_one'"):
        load_targets(_file(tmp_path, {"k": {**kpi, "kpi": "share_at_most_one"}}))
    with pytest.raises(TargetError, match=r"targets\.k\.subgroup: a KPI target takes no subgroup"):
        load_targets(_file(tmp_path, {"k": {**kpi, "subgroup": {"rural": 1}}}))
    with pytest.raises(TargetError, match=r"meta\.scenaro: unknown key"):
        load_targets(_file(tmp_path, {"k": kpi}, meta={"scenaro": "q_county"}))
    with pytest.raises(TargetError, match="no such target file"):
        load_targets(tmp_path / "absent.toml")


def test_defaults_and_round_trip_through_the_writer(tmp_path):
    bare = {k: v for k, v in GOOD.items() if k != "item"}
    targets = load_targets(_file(tmp_path, {
        "a": GOOD,
        "b": {**bare, "statistic": "share_channel", "channel": "online", "subgroup": {"rural": 1}, "role": "validate"},
        "c": {**bare, "scale": "online"}}))
    assert targets["a"].moment.threshold == 4 and targets["a"].role == "calibrate"
    assert targets["b"].moment.describe() == "share using the online channel, among rural = 1"
    assert targets.observed("validate") == {"b": (0.7, 0.02)}
    again = load_targets(write_targets(targets, tmp_path / "copy.toml"))
    assert again.targets == targets.targets


def test_shipped_target_files_load_and_carry_their_provenance():
    files = sorted((SCENARIO_DIR / "calibration").glob("*_targets.toml"))
    assert {f.stem for f in files} >= {"q_county_targets", "shanghai_x_district_targets"}
    roles = set()
    for path in files:
        targets = load_targets(path)
        load_scenario(targets.meta["scenario"], targets.meta.get("countermeasures", []))
        for t in targets:
            roles.add(t.role)
            assert t.source and t.se > 0
            assert t.se_note.startswith("uncertainty assumed") or t.n, t.name
    assert roles == {"calibrate", "validate"}
    assert load_targets(SCENARIO_DIR / "calibration" / "shanghai_x_district_targets.toml")[
        "shanghai_at_most_once_2019"].value == 0.5532


# ---- moments: closed forms and R -------------------------------------------------------------

def test_moments_on_a_tiny_frame_equal_their_closed_forms():
    frame = pd.DataFrame({
        "online_overall": [1, 2, 4, 5, 5, np.nan],
        "online_efficiency": [2, 2, 4, 4, 5, 5],
        "online_guide_accuracy": [2, 2, 4, 4, 5, 5],
        "online_convenience": [2, 2, 4, 4, 5, np.nan],
        "online_operability": [2, 2, 4, np.nan, np.nan, 5],
        "channel": ["online", "hall", "online", "online", None, "station"],
        "rural": [0, 1, 0, 1, 0, 1],
    })
    defs = {
        "mean": Moment(statistic="mean", item="online_overall"),
        "top": Moment(statistic="share_at_least", item="online_overall", threshold=4),
        "low": Moment(statistic="share_at_most", item="online_overall", threshold=2),
        "online": Moment(statistic="share_channel", channel="online"),
        "rural_top": Moment(statistic="share_at_least", item="online_overall", threshold=4, subgroup=(("rural", 1),)),
        "scale": Moment(statistic="mean", scale="online"),
        "kpi": Moment(kpi="online_share"),
    }
    table = moments(frame, defs).set_index("name")
    assert "kpi" not in table.index  # a KPI is not a moment of respondents
    answers = np.array([1, 2, 4, 5, 5.0])
    assert table.loc["mean", "value"] == pytest.approx(3.4)
    assert table.loc["mean", "se"] == pytest.approx(answers.std(ddof=1) / math.sqrt(5))
    assert table.loc["top", "value"] == pytest.approx(0.6)
    assert table.loc["top", "se"] == pytest.approx(math.sqrt(0.6 * 0.4 / 4))
    assert table.loc["low", "value"] == pytest.approx(0.4) and table.loc["top", "n"] == 5
    assert table.loc["online", "value"] == pytest.approx(3 / 5) and table.loc["online", "n"] == 5
    assert table.loc["rural_top", "value"] == pytest.approx(0.5) and table.loc["rural_top", "n"] == 2
    # scale score: mean of the items when at least min_valid = 4 of 5 answered (the last row has 3)
    scores = [np.mean([1, 2, 2, 2, 2]), 2.0, 4.0, np.mean([5, 4, 4, 4]), 5.0]
    assert table.loc["scale", "n"] == 5 and table.loc["scale", "value"] == pytest.approx(np.mean(scores))
    assert table["n_eff"].equals(table["n"].astype(float))


def test_weighted_moments_match_r_svymean_and_kish_effective_n():
    kigyo = pd.DataFrame({"wait_minutes": [15, 143, 21, 51, 337, 50, 274, 145, 15, 86]})
    pps_w = np.array([20, 200, 11, 25, 550, 30, 250, 100, 10, 55], float)
    mean = {"m": Moment(statistic="mean", item="wait_minutes")}
    srs = moments(kigyo, mean, np.full(10, 100.0)).iloc[0]
    assert round(srs["value"], 3) == 113.700 and round(srs["se"], 3) == 35.626
    pps = moments(kigyo, mean, pps_w).iloc[0]
    assert round(pps["value"], 3) == 243.914 and round(pps["se"], 3) == 48.752
    assert pps["n_eff"] == pytest.approx(pps_w.sum() ** 2 / np.sum(pps_w**2)) and pps["n"] == 10
    api = pd.DataFrame({"days_to_complete": [int(v) for v in APICLUS1_API00.split()], "w": 33.847})
    row = moments(api, {"m": Moment(statistic="mean", item="days_to_complete")}, "w").iloc[0]
    assert round(row["value"], 2) == 644.17 and row["n_eff"] == pytest.approx(183)


def test_moments_refuse_missing_columns_and_text_answers():
    with pytest.raises(TargetError, match="needs column 'online_overall'"):
        moments(pd.DataFrame({"x": [1]}), {"a": Moment(statistic="mean", item="online_overall")})
    with pytest.raises(TargetError, match="'online_overall' .* non-numeric answers, e.g. 'good'"):
        moments(pd.DataFrame({"online_overall": ["good", 4]}), {"a": Moment(statistic="mean", item="online_overall")})
    with pytest.raises(TargetError, match="weights must be non-negative"):
        moments(pd.DataFrame({"visits": [1, 2]}), {"a": Moment(statistic="mean", item="visits")}, [1.0, -1.0])


# ---- one code path -------------------------------------------------------------------------

def _as_real_questionnaire(simulated: pd.DataFrame) -> tuple[survey.SurveyData, QuestionnaireMapping, str]:
    """The simulated respondents dressed as a real questionnaire: other names, other codes."""
    channels = {"online": 1, "hall": 2, "station": 3, "proxy": 4}
    items = [c for c in simulated.columns if c.startswith(("online_", "offline_"))]
    data = pd.DataFrame({
        "Q_area": simulated["rural"].map({0: 1, 1: 2}),
        "Q_age": simulated["age_band"].map({"18-39": 1, "40-59": 2, "60+": 3}),
        "Q_channel": simulated["channel"].map(channels),
        "Q_visits": simulated["visits"],
        **{f"S{i}": simulated[c] for i, c in enumerate(items)},
    })
    book = survey.Codebook()
    book.add(survey.Variable("Q_area", "area", {1: "town", 2: "village"}))
    book.add(survey.Variable("Q_age", "age", {1: "young", 2: "middle", 3: "old"}))
    book.add(survey.Variable("Q_channel", "channel", {v: k for k, v in channels.items()}))
    mapping = (
        '[variables.rural]\ncolumn = "Q_area"\nrecode = { 1 = 0, 2 = 1 }\n'
        '[variables.age_band]\ncolumn = "Q_age"\nrecode = { 1 = "18-39", 2 = "40-59", 3 = "60+" }\n'
        '[variables.channel]\ncolumn = "Q_channel"\nrecode = { 1 = "online", 2 = "hall", 3 = "station", 4 = "proxy" }\n'
        '[variables.visits]\ncolumn = "Q_visits"\n'
        + "".join(f'[variables.{c}]\ncolumn = "S{i}"\n' for i, c in enumerate(items)))
    return survey.SurveyData(data, book), mapping, items


def test_real_and_simulated_respondents_with_the_same_rows_give_the_same_moments(model, tmp_path):
    from analysis.targets.defaults import questionnaire_moments

    simulated = model.administer(n=300, seed=2)
    real, mapping_text, _ = _as_real_questionnaire(simulated)
    path = tmp_path / "map.toml"
    path.write_text(mapping_text, encoding="utf-8")
    mapping = QuestionnaireMapping.load(path)
    defs, left = mapping.available(questionnaire_moments())
    assert set(left) == {"reported_wait_minutes_mean", "reported_days_to_complete_mean"}
    from_model = moments(simulated, defs)
    from_survey, notes = survey_targets(real, mapping, definitions=defs)
    expected = from_model.set_index("name")
    for target in from_survey:
        assert target.value == pytest.approx(expected.loc[target.name, "value"], abs=1e-12), target.name
        assert target.se == pytest.approx(expected.loc[target.name, "se"], abs=1e-12), target.name
        assert target.n == expected.loc[target.name, "n"]
    assert len(from_survey) + len(notes) == len(defs)


def test_simulated_values_read_kpis_and_the_administered_questionnaire(model):
    targets = parse_targets({"targets": {
        "kpi": {"kpi": "share_at_most_once", "value": 0.5, "se": 0.1, "source": "s"},
        "q": {**GOOD, "subgroup": {"age_band": "18-39"}}}})
    values = simulated_values(model, targets, respondents=200, seed=9)
    assert values["kpi"] == model.kpis()["share_at_most_once"]
    assert values["q"] == moments(model.administer(n=200, seed=9), targets).iloc[0]["value"]
    assert simulated_values(model, targets, respondents=200, seed=9) == values  # reproducible


def test_the_simulator_is_the_callable_a_calibration_needs(small_spec):
    targets = parse_targets({"targets": {"kpi": {"kpi": "online_share", "value": 0.2, "se": 0.05, "source": "s"},
                                         "q": GOOD}})
    simulate = Simulator(small_spec, targets, days=8, respondents=100)
    first = simulate({"citizens.awareness_urban": 0.9}, 3)
    assert set(first) == {"kpi", "q"} and simulate({"citizens.awareness_urban": 0.9}, 3) == first
    assert simulate(None, 3)["kpi"] < first["kpi"]  # more awareness, more online use, same seed


# ---- synthetic targets and the commands ----------------------------------------------------------

def test_synthetic_kpi_ses_follow_their_stated_formulas(model):
    targets, notes = synthetic_targets(model, respondents=250, seed=respondent_seed(SEED))
    kpis = model.kpis()
    m = kpis["cases_completed"]
    p = kpis["share_at_most_once"]
    assert targets["share_at_most_once"].se == pytest.approx(math.sqrt(p * (1 - p) / m))
    assert targets["visits_per_case"].se == pytest.approx(math.sqrt(kpis["visits_per_case"] / m))
    rated = m * kpis["rating_participation"]
    g = kpis["good_review_rate"]
    assert targets["good_review_rate"].se == pytest.approx(math.sqrt(g * (1 - g) / rated))
    assert targets["online_share_rural"].role == "validate" and targets["online_share"].role == "calibrate"
    assert all(t.se > 0 for t in targets)
    assert all("left out" in line for line in notes)


def test_targets_simulate_writes_a_file_that_loads_back_to_the_run(small_spec, tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text(tomli_w.dumps({k: v for k, v in small_spec.to_toml_dict().items() if k != "countermeasures"}),
                        encoding="utf-8")
    out = tmp_path / "synthetic.toml"
    result = runner.invoke(app, ["targets", "simulate", str(scenario), "--respondents", "250", "--days", str(DAYS),
                                 "--seed", str(SEED), "--out", str(out)])
    assert result.exit_code == 0, result.output
    loaded = load_targets(out)
    model = ServiceModel(load_scenario(scenario), seed=SEED)
    model.run(DAYS)
    expected, _ = synthetic_targets(model, respondents=250, seed=respondent_seed(SEED))
    assert {t.name: (t.value, t.se, t.n) for t in loaded} == {t.name: (t.value, t.se, t.n) for t in expected}
    assert loaded.meta["scenario"] == str(scenario)
    assert "visits_per_case" in loaded.targets and "online_share_rural" in loaded.targets


def test_from_survey_example_with_the_shipped_mapping_end_to_end(tmp_path):
    out = tmp_path / "example.toml"
    result = runner.invoke(app, ["targets", "from-survey", "example", "--out", str(out)])
    assert result.exit_code == 0, result.output
    targets = load_targets(out)
    frame = survey.load_example().data
    p = float((frame["channel"] == 1).mean())
    row = targets["channel_online_share"]
    assert row.value == pytest.approx(p) and row.n == len(frame)
    assert row.se == pytest.approx(math.sqrt(p * (1 - p) / (len(frame) - 1)))
    online = frame.loc[frame["channel"] == 1, "OL1"].dropna()
    assert targets["online_overall_mean"].value == pytest.approx(online.mean())
    assert targets["online_share_age_60_plus"].value == pytest.approx((frame.loc[frame["age_band"] == 4, "channel"] == 1).mean())
    assert "reported_wait_minutes_mean" not in targets.targets and "not computed" in result.output

    margins = tmp_path / "census.toml"
    margins.write_text('source = "a census"\n[margins.age_band]\n"18-39" = 0.4\n"40-59" = 0.35\n"60+" = 0.25\n',
                       encoding="utf-8")
    raked_out = tmp_path / "raked.toml"
    result = runner.invoke(app, ["targets", "from-survey", "example", "--rake", str(margins), "--out", str(raked_out)])
    assert result.exit_code == 0, result.output
    raked = load_targets(raked_out)
    # raking to age alone gives one weight per age band: shares within a band do not move, the
    # overall share becomes the census-weighted mean of the bands' shares, and n_eff < n (Kish)
    bands = [raked[f"online_share_age_{b}"].value for b in ("18_39", "40_59", "60_plus")]
    assert bands == pytest.approx([targets[f"online_share_age_{b}"].value for b in ("18_39", "40_59", "60_plus")])
    assert raked["channel_online_share"].value == pytest.approx(np.dot([0.4, 0.35, 0.25], bands))
    assert raked["channel_online_share"].n_eff < raked["channel_online_share"].n
    assert "raked to age_band" in raked["channel_online_share"].source


def _mapping_with(tmp_path, old: str, new: str):
    text = EXAMPLE_MAPPING.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad_map.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('column = "OL1"', 'column = "OL9"', r"variables\.online_overall\.column: no column 'OL9' in the data"),
    ("2 = 1 }", "2 = 1, 3 = 1 }", r"variables\.rural\.recode\.3: column 'residence' has no code 3 in the codebook"),
    ('4 = "proxy"', '4 = "fax"', r"variables\.channel\.recode\.4: 'fax' is not a code of 'channel'"),
    ('[variables.visits]', '[variables.vists]', r"variables\.vists: 'vists' is not a variable of instrument"),
    (', 4 = "60+" }', " }", r"variables\.age_band\.recode: values \['4'\] of column 'age_band' are not recoded"),
])
def test_a_mapping_that_does_not_fit_the_codebook_is_refused_and_nothing_is_written(tmp_path, old, new, message):
    out = tmp_path / "out.toml"
    result = runner.invoke(app, ["targets", "from-survey", "example", "--mapping",
                                 str(_mapping_with(tmp_path, old, new)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "bad_map.toml" in result.output
    import re
    assert re.search(message, result.output.replace("\n", "")), result.output
    assert not out.exists()


def test_bad_command_lines_write_nothing(tmp_path):
    out = tmp_path / "out.toml"
    margins = tmp_path / "m.toml"
    margins.write_text('[margins.age_band]\n"18-39" = 0.5\n"70+" = 0.5\n', encoding="utf-8")
    cases = [
        (["from-survey", "example", "--weights", "w", "--rake", str(margins)], "not both"),
        (["from-survey", "example", "--weights", "no_such"], "weights: no column 'no_such'"),
        (["from-survey", "example", "--rake", str(margins)], r"margins.age_band.70+: not a level"),
        (["from-survey", "data.csv"], "--mapping MAP.toml is required"),
        (["from-survey", "example", "--mapping", str(EXAMPLE_MAPPING), "--out", str(EXAMPLE_MAPPING)], "refusing to overwrite"),
        (["simulate", "baseline", "--respondents", "50", "-c", "no_such_overlay"], "no_such_overlay"),
    ]
    for args, message in cases:
        if "--out" not in args:
            args = [*args, "--out", str(out)]
        result = runner.invoke(app, ["targets", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output.replace("\n", ""), (args, result.output)
        assert not out.exists()
    assert tomllib.loads(EXAMPLE_MAPPING.read_text(encoding="utf-8"))["variables"]  # input untouched
