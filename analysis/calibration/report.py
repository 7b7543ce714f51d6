"""`report.html` of a calibration: one self-contained page (figures embedded as base64 PNG) with
the marginal posteriors over their priors, a pair plot, the posterior-predictive fit of the
calibration and held-out targets, and epsilon and ESS by generation."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from analysis.calibration.abc import CalibrationResult
from analysis.calibration.outputs import AS_CALIBRATED, figure_png, html_table


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def marginals_figure(result: CalibrationResult) -> Any:
    plt = _pyplot()
    k = len(result.names)
    fig, axes = plt.subplots(1, k, figsize=(4 * k, 3), squeeze=False)
    for j, (ax, prior) in enumerate(zip(axes[0], result.priors, strict=True)):
        values = result.particles[:, j]
        low, high = prior.support
        lo = max(low, float(values.min()) - 3 * float(values.std() + 1e-12), prior.frozen.ppf(0.001))
        hi = min(high, float(values.max()) + 3 * float(values.std() + 1e-12), prior.frozen.ppf(0.999))
        grid = np.linspace(lo, hi, 200)
        ax.hist(values, bins=30, weights=result.weights, density=True, alpha=0.6, label="posterior")
        ax.plot(grid, prior.frozen.pdf(grid), color="black", lw=1, label="prior")
        ax.set_title(prior.path, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pairs_figure(result: CalibrationResult) -> Any | None:
    k = len(result.names)
    if k < 2:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(k, k, figsize=(2.5 * k, 2.5 * k), squeeze=False)
    size = 40 * result.weights / result.weights.max()
    for i in range(k):
        for j in range(k):
            ax = axes[i][j]
            if i == j:
                ax.hist(result.particles[:, i], bins=25, weights=result.weights, alpha=0.7)
            else:
                ax.scatter(result.particles[:, j], result.particles[:, i], s=size, alpha=0.4)
            if i == k - 1:
                ax.set_xlabel(result.names[j], fontsize=7)
            if j == 0:
                ax.set_ylabel(result.names[i], fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def fit_figure(fit: pd.DataFrame) -> Any:
    """Observed (point, +-1.96 se) against the 90% posterior-predictive interval, scaled by se."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(fit) + 1.2))
    y = np.arange(len(fit))
    centre, scale = fit["pp_mean"].to_numpy(), fit["pp_sd"].to_numpy()
    colours = np.where(fit["role"] == "validate", "tab:orange", "tab:blue")
    for row, c in zip(range(len(fit)), colours, strict=True):
        ax.plot([(fit["pp_low"].iloc[row] - centre[row]) / scale[row],
                 (fit["pp_high"].iloc[row] - centre[row]) / scale[row]], [row, row], color=c, lw=6,
                alpha=0.35)
    ax.errorbar((fit["observed"] - centre) / scale, y, xerr=1.96 * fit["se"] / scale, fmt="o",
                color="black", ms=4, label="observed ± 1.96 se")
    condition = fit["condition"] if "condition" in fit else pd.Series("", index=fit.index)
    labels = [f"{t} ({r}{'' if not c or c == AS_CALIBRATED else ', ' + c})"
              for t, r, c in zip(fit["target"], fit["role"], condition, strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("(value - predictive mean) / predictive sd; bars: 90% predictive interval "
                  "(blue: calibration, orange: held out)", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def history_figure(history: pd.DataFrame) -> Any:
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    finite = history[np.isfinite(history["epsilon"])]
    left.plot(finite["generation"], finite["epsilon"], marker="o")
    left.set_yscale("log")
    left.set_xlabel("generation")
    left.set_ylabel("epsilon")
    right.plot(history["generation"], history["ess"], marker="o", color="tab:green")
    right.set_xlabel("generation")
    right.set_ylabel("effective sample size")
    fig.tight_layout()
    return fig


def _noise_sentence(result: CalibrationResult) -> str:
    pilot = int(result.meta.get("pilot", 0))
    if not pilot:
        return ("No observation noise was added: the simulator is taken to reproduce each "
                "target's whole standard error.")
    parts = ", ".join(f"{html.escape(t)} {result.simulator_sd.get(t, 0.0):.3g} of se {se:.3g} "
                      f"(added {result.added_sd.get(t, 0.0):.3g})"
                      for t, (_, se) in result.observed.items())
    text = (f"Observation error (noisy ABC, Wilkinson 2013): {pilot} pilot simulations at the prior "
            f"median measured the simulator's own sd per calibration target — {parts}; the rest of "
            "each target's se was added to every simulation before its distance.")
    if result.noisy_targets:
        text += (" The simulations alone vary more than the se of "
                 f"{html.escape(', '.join(result.noisy_targets))}: the posterior is wider than "
                 "those targets allow (more respondents or days would fix it).")
    return text


def report_html(result: CalibrationResult, fit: pd.DataFrame, identifiability: pd.DataFrame, *,
                targets_file: str) -> str:
    """The report page as HTML text."""
    summary = result.summary().reset_index(names="parameter")
    figures = [("Marginal posteriors over their priors", marginals_figure(result)),
               ("Pair plot of the posterior", pairs_figure(result)),
               ("Posterior-predictive fit of calibration and held-out targets", fit_figure(fit)),
               ("Epsilon and effective sample size by generation", history_figure(result.history()))]
    parts = [f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='{figure_png(f)}'>"
             for title, f in figures if f is not None]
    held_out = fit[fit["role"] == "validate"]
    misses = int((~held_out["covered"].astype(bool)).sum())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Calibration report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}} td,th{{padding:2px 8px;
border-bottom:1px solid #ddd;text-align:right}} img{{max-width:100%}}</style></head><body>
<h1>Calibration report</h1>
<p>Calibrated to {html.escape(targets_file)} with seed {result.seed}: adaptive ABC-PMC,
{len(result.generations)} generations, {result.simulations} simulations, final epsilon
{result.last.epsilon:.4g} (SE-weighted distance), ESS {result.last.ess:.0f}; stopped by
{html.escape(result.stop_reason)}. Held-out targets outside their 90% predictive interval:
{misses} of {len(held_out)}.</p>
<p>{_noise_sentence(result)}</p>
<h2>Parameters</h2>{html_table(summary)}
<h2>Identifiability</h2>{html_table(identifiability)}
<h2>Targets</h2>{html_table(fit)}
{''.join(parts)}
</body></html>
"""


__all__ = ["fit_figure", "history_figure", "marginals_figure", "pairs_figure", "report_html"]
