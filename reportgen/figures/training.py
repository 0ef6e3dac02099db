"""Training-history figures: learning curves from a Keras ``History.history`` dict."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .core import (
    HIGHLIGHT,
    PALETTE,
    add_note,
    decimate_curve,
    fmt_num,
    new_figure,
    placeholder_svg,
    short_label,
    style,
    to_svg,
)

__all__ = ["learning_curves_svg"]

MAX_COLS = 4
MAX_PANELS = 12
CURVE_POINTS = 2000
_LR_KEYS = ("lr", "learning_rate")


def _as_series(values) -> np.ndarray | None:
    """Float array with non-finite values as NaN, or None for non-numeric entries."""
    try:
        arr = np.asarray(
            [np.nan if v is None else v for v in values] if isinstance(values, Sequence) else values,
            dtype=float,
        ).reshape(-1)
    except (TypeError, ValueError):
        return None
    return arr


def _panels(history: Mapping[str, Sequence[float]]) -> list[tuple[str, np.ndarray | None, np.ndarray | None]]:
    """[(metric, train, val)], loss first, learning rate last, val-only metrics kept."""
    series = {}
    for key, vals in history.items():
        arr = _as_series(vals)
        if arr is not None and arr.size:
            series[str(key)] = arr
    names: list[str] = []
    for key in series:
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    names.sort(key=lambda b: (0 if b == "loss" else (2 if b in _LR_KEYS else 1)))
    return [(b, series.get(b), series.get("val_" + b)) for b in names]


def learning_curves_svg(history: Mapping[str, Sequence[float]]) -> str:
    """One panel per metric (loss first), train and ``val_`` curves together, against epoch.

    NaN/inf values leave gaps and are marked with an 'x' at the top edge of the panel (the
    point where training diverged is what matters). Loss and learning-rate panels use a log
    y-axis when their positive values span more than two decades. The lowest val_loss epoch is
    marked. At most 4 panels per row (12 panels in all; the rest are noted).
    """
    panels = _panels(history or {})
    if not panels:
        return placeholder_svg("learning_curves", "no training history recorded", title="Learning curves")
    extra = len(panels) - MAX_PANELS
    panels = panels[:MAX_PANELS]
    m = len(panels)
    ncols = min(MAX_COLS, m)
    nrows = math.ceil(m / ncols)
    if ncols == 1:
        width, row_h = 6.0, 3.4
    elif ncols == 2:
        width, row_h = 6.5, 2.8
    else:
        width, row_h = 2.45 * ncols, 2.5
    desc_parts: list[str] = []
    with style():
        fig = new_figure(width, row_h * nrows + 0.2)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, (metric, train, val) in zip(axes, panels):
            finite_all = []
            bad_total = 0
            for arr, label, color, ls in ((train, "train", PALETTE[0], "-"), (val, "validation", PALETTE[1], "-")):
                if arr is None:
                    continue
                epochs = np.arange(1, arr.size + 1)
                ok = np.isfinite(arr)
                clean = np.where(ok, arr, np.nan)
                xs, ys = decimate_curve(epochs, clean, CURVE_POINTS)
                ax.plot(xs, ys, color=color, linestyle=ls, linewidth=1.5, label=label,
                        marker="o" if arr.size <= 20 else None, markersize=3)
                bad = np.flatnonzero(~ok)
                if bad.size:
                    bad_total += bad.size
                    shown = bad if bad.size <= 200 else bad[np.linspace(0, bad.size - 1, 200).astype(int)]
                    ax.plot(epochs[shown], np.full(shown.size, 0.97), linestyle="none", marker="x",
                            markersize=5, markeredgewidth=1.4, color=color if label == "train" else HIGHLIGHT,
                            transform=ax.get_xaxis_transform(), clip_on=False,
                            label=f"{label}: NaN/inf", zorder=5)
                finite_all.append(arr[ok])
                if ok.any():
                    last = arr[ok][-1]
                    desc_parts.append(
                        f"{label} {metric}: {arr.size} epochs, last finite {last:.6g}, "
                        f"{int((~ok).sum())} non-finite"
                    )
                else:
                    desc_parts.append(f"{label} {metric}: {arr.size} epochs, all non-finite")
            vals = np.concatenate(finite_all) if finite_all else np.empty(0)
            loglike = metric == "loss" or metric.endswith("_loss") or metric in _LR_KEYS
            if loglike and vals.size and vals.min() > 0 and vals.max() / vals.min() > 100:
                ax.set_yscale("log")
            if metric == "loss" and val is not None and np.isfinite(val).any():
                best = int(np.nanargmin(np.where(np.isfinite(val), val, np.nan)))
                ax.axvline(best + 1, color=PALETTE[2], linestyle=":", linewidth=1.1,
                           label="lowest val_loss epoch")
                desc_parts.append(f"lowest val_loss {val[best]:.6g} at epoch {best + 1}")
            ax.set_title(short_label(metric.replace("_", " "), 30))
            ax.set_xlabel("Epoch")
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            if not vals.size:
                ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center",
                        va="center", fontsize=7.5, color=HIGHLIGHT)
            if bad_total:
                add_note(ax, f"{bad_total} NaN/inf")
        for ax in axes[m:]:
            ax.set_visible(False)
        handles: dict[str, object] = {}
        for ax in axes[:m]:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        if handles:
            fig.legend(list(handles.values()), list(handles.keys()), loc="outside upper center",
                       ncol=min(len(handles), 5), fontsize=7)
        if extra > 0:
            add_note(axes[0], f"first {MAX_PANELS} of {MAX_PANELS + extra} metrics shown")
    return to_svg(fig, "learning_curves", title="Learning curves", desc="; ".join(desc_parts))

