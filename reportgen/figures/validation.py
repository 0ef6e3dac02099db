"""Cross-validation and forecast figures: fold scores, the time-split diagram, and error by
position in the test period against the naive baselines.

Each function is ``arrays -> SVG text`` built with the shared style of ``figures.core``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .core import (
    GREY,
    HIGHLIGHT,
    LIGHT_GREY,
    NOTE_COLOR,
    PALETTE,
    FIG_WIDTH,
    fmt_num,
    new_figure,
    placeholder_svg,
    plain_text,
    short_label,
    style,
    to_svg,
)

__all__ = ["fold_scores_svg", "split_diagram_svg", "error_by_position_baselines_svg"]

MAX_PANELS = 3


def fold_scores_svg(folds: Sequence[Mapping[str, float | None]], metrics: Sequence[str],
                    test_values: Mapping[str, float | None] | None = None) -> str:
    """One panel per metric (at most 3): the score of each fold as a dot, the CV mean as a line
    with a band of +-1 standard deviation, and the single test-set score as a dashed line.

    >>> svg = fold_scores_svg([{"mae": 1.0}, {"mae": 1.2}], ["mae"], {"mae": 1.1})
    >>> svg.startswith("<svg")
    True
    """
    metrics = [m for m in metrics if any(f.get(m) is not None for f in folds)][:MAX_PANELS]
    if not folds or not metrics:
        return placeholder_svg("cv_fold_scores", "no fold scores to show", title="Scores per fold")
    k = len(folds)
    test_values = dict(test_values or {})
    with style():
        fig = new_figure(FIG_WIDTH, 2.6)
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
        x = np.arange(1, k + 1)
        for ax, name in zip(axes, metrics):
            vals = np.array([np.nan if f.get(name) is None else float(f[name]) for f in folds])
            fin = vals[np.isfinite(vals)]
            mean = float(fin.mean()) if fin.size else np.nan
            std = float(fin.std(ddof=1)) if fin.size > 1 else 0.0
            if np.isfinite(mean):
                ax.axhspan(mean - std, mean + std, color=LIGHT_GREY, alpha=0.6, lw=0, label="CV mean \u00b1 1 std")
                ax.axhline(mean, color=GREY, lw=1.0)
            ax.plot(x, vals, "o", color=PALETTE[0], ms=5, label="fold", zorder=3)
            tv = test_values.get(name)
            if tv is not None and np.isfinite(tv):
                ax.axhline(float(tv), color=HIGHLIGHT, lw=1.2, ls="--", label="test set")
            ax.set_xticks(x, labels=[str(i) for i in x])
            ax.set_xlim(0.4, k + 0.6)
            ax.set_xlabel("fold")
            ax.set_title(plain_text(name.replace("_", " ")))
            ax.grid(axis="x", visible=False)
            lo = np.nanmin(np.concatenate([fin, [mean - std] if np.isfinite(mean) else [],
                                           [tv] if tv is not None and np.isfinite(tv) else []]) if fin.size else [0.0])
            hi = np.nanmax(np.concatenate([fin, [mean + std] if np.isfinite(mean) else [],
                                           [tv] if tv is not None and np.isfinite(tv) else []]) if fin.size else [1.0])
            pad = max((hi - lo) * 0.15, abs(hi) * 0.01, 1e-9)
            ax.set_ylim(lo - pad, hi + pad)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=len(handles))
    desc = "; ".join(
        f"{name}: " + ", ".join(fmt_num(f.get(name)) for f in folds)
        + (f" (test {fmt_num(test_values[name])})" if test_values.get(name) is not None else "")
        for name in metrics)
    return to_svg(fig, "cv_fold_scores", title="Scores per cross-validation fold", desc=desc)


def split_diagram_svg(train_ranges: Sequence[tuple], test_ranges: Sequence[tuple], unit: str = "row",
                      gap: int = 0) -> str:
    """Which period each time-ordered fold trained on (blue) and was tested on (orange).

    Ranges are (first, last) pairs of numbers or numpy datetime64 values; the gap between a
    fold's training and test rows (the model's window) is drawn as a thin grey line.
    """
    k = len(train_ranges)
    if k == 0 or len(test_ranges) != k:
        return placeholder_svg("cv_split_diagram", "no time-ordered splits", title="Time-ordered splits")
    import matplotlib.dates as mdates

    first = np.asarray([r[0] for r in train_ranges] + [r[0] for r in test_ranges])
    is_dt = np.issubdtype(first.dtype, np.datetime64)

    def num(v):
        if is_dt:
            return float(mdates.date2num(np.datetime64(v, "ns")))
        return float(v)

    with style():
        fig = new_figure(FIG_WIDTH, min(4.2, 1.3 + 0.32 * k))
        ax = fig.add_subplot()
        step = 1.0 if not is_dt else 0.0
        for i in range(k):
            a, b = num(train_ranges[i][0]), num(train_ranges[i][1])
            c, d = num(test_ranges[i][0]), num(test_ranges[i][1])
            # row / integer-step units: a range [a, b] covers b - a + 1 steps
            ax.barh(i, b - a + step, left=a, height=0.6, color=PALETTE[0], label="train" if i == 0 else None)
            ax.barh(i, d - c + step, left=c, height=0.6, color=PALETTE[1], label="test" if i == 0 else None)
            if c > b + step:
                ax.plot([b + step, c], [i, i], color=GREY, lw=1.0,
                        label=(f"gap ({gap} rows)" if gap else "gap") if i == 0 else None)
        ax.set_yticks(range(k), labels=[f"fold {i + 1}" for i in range(k)])
        ax.set_ylim(k - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        if is_dt:
            ax.xaxis_date()
            loc = mdates.AutoDateLocator(maxticks=7)
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        ax.set_xlabel(plain_text(short_label(unit, 40)) if unit != "row" else "row (in time order)")
        handles, labels = ax.get_legend_handles_labels()
        rank = {"train": 0, "test": 1}
        pairs = sorted(zip(handles, labels), key=lambda hl: rank.get(hl[1], 2))
        fig.legend([h for h, _ in pairs], [lab for _, lab in pairs], loc="outside lower center", ncol=len(pairs),
                   fontsize=7)
    desc = "; ".join(f"fold {i + 1}: train {train_ranges[i][0]}..{train_ranges[i][1]}, "
                     f"test {test_ranges[i][0]}..{test_ranges[i][1]}" for i in range(k))
    return to_svg(fig, "cv_split_diagram", title="Periods each fold trained and tested on", desc=desc)


def error_by_position_baselines_svg(segments: Sequence[str], series: Mapping[str, Sequence[float | None]],
                                    xlabel: str = "position in the test period") -> str:
    """Mean absolute error per consecutive segment of the test period, one line per forecaster
    (the model first, drawn strongest; baselines after it)."""
    names = [n for n in series if any(v is not None for v in series[n])]
    if not segments or not names:
        return placeholder_svg("forecast_error_position", "no forecast errors to show",
                               title="Error by position in the test period")
    x = np.arange(len(segments))
    with style():
        fig = new_figure(FIG_WIDTH, 3.0)
        ax = fig.add_subplot()
        for j, name in enumerate(names):
            v = np.array([np.nan if s is None else float(s) for s in series[name]])
            ax.plot(x, v, marker="o", ms=3.5, lw=2.0 if j == 0 else 1.2,
                    color=PALETTE[j % len(PALETTE)], ls="-" if j == 0 else "--", label=plain_text(name))
        ax.set_xticks(x, labels=[short_label(s, 14) for s in segments], fontsize=6.5,
                      rotation=30 if len(segments) > 5 else 0, ha="right" if len(segments) > 5 else "center")
        ax.set_xlabel(plain_text(xlabel))
        ax.set_ylabel("mean absolute error")
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", visible=False)
        ax.annotate("earlier \u2192 later", (1.0, 1.0), xycoords="axes fraction", ha="right", va="bottom",
                    fontsize=6.5, color=NOTE_COLOR)
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), fontsize=7)
    desc = "; ".join(f"{n}: " + ", ".join(fmt_num(v) for v in series[n]) for n in names)
    return to_svg(fig, "forecast_error_position", title="Mean absolute error by position in the test period",
                  desc=desc)
