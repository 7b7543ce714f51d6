"""Dose-response of every policy lever on the baseline: each lever at 0, 0.5 and 1 (or off/on),
everything else at baseline, over a few seeds; the mean KPIs a reform office looks at first.

A lever that improves every KPI at no cost shows up here as a row with better visits, waits,
satisfaction and online share and no more staff hours.

    python3 benchmarks/lever_dose_response.py [--scenario baseline] [--days 250] [--seeds 1 2 3] [--csv out.csv]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

LEVERS: dict[str, tuple] = {
    "policy.comprehensive_window_share": (0.0, 0.5, 1.0),
    "policy.parallel_approval": (False, True),
    "policy.coordination_authority": (0.0, 0.5, 1.0),
    "policy.data_sharing": (0.0, 0.5, 1.0),
    "policy.connectivity_uplift": (0.0, 0.5, 1.0),
    "policy.online_usability": (0.0, 0.5, 1.0),
    "policy.end_to_end_online_share": (0.0, 0.5, 1.0),
    "policy.one_time_notification": (False, True),
    "policy.online_preexamination": (False, True),
    "policy.result_by_post": (False, True),
    "policy.station_coverage": (0.0, 0.5, 1.0),
    "policy.proxy_service": (0.0, 0.5, 1.0),
    "policy.publicity": (0.0, 0.5, 1.0),
    "policy.staff_training": (0.0, 0.5, 1.0),
    "policy.evaluation_feedback": (False, True),
    "policy.digital_assistance": (0.0, 0.5, 1.0),
}
COLUMNS = ("visits_per_case", "wait_minutes_mean", "satisfaction_mean", "online_share",
           "staff_hours_per_case")


def main() -> None:
    from simulation import ServiceModel, load_scenario

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--csv")
    args = parser.parse_args()
    rows = []
    for lever, values in LEVERS.items():
        for value in values:
            scenario = load_scenario(args.scenario, updates={lever: value})
            runs = [ServiceModel(scenario, seed=s).run(args.days) for s in args.seeds]
            row = {"lever": lever.split(".", 1)[1], "value": value}
            row.update({k: float(np.mean([r.get(k, np.nan) for r in runs])) for k in COLUMNS})
            rows.append(row)
            print(pd.DataFrame([row]).to_string(header=len(rows) == 1, index=False), flush=True)
    if args.csv:
        pd.DataFrame(rows).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
