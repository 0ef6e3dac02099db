"""Figures for the model diagnostics: gradient norm per layer and dead/saturated units per layer."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .core import PALETTE, HIGHLIGHT, bar_svg, new_figure, placeholder_svg, plain_text, short_label, style, to_svg

MAX_LAYERS = 60


def gradient_norms_svg(layers: Sequence[str], norms: Sequence[float], highlight: Sequence[bool] | None = None) -> str:
    """Norm of the loss gradient w.r.t. each layer's kernel, input side first, on a log axis."""
    return bar_svg([str(n) for n in layers], np.asarray(list(norms), dtype=float), "gradient_norms",
                   xlabel="layer (input side first)", ylabel="gradient norm (log)", log=True, highlight=highlight)


def unit_health_svg(layers: Sequence[str], dead: Sequence[float | None], saturated: Sequence[float | None],
                    alert: float = 0.7) -> str:
    """Share of dead ReLU units and of saturated sigmoid/tanh outputs per hidden layer (0-100%).

    A layer has one of the two values (None for the other); bars at or above ``alert`` are drawn
    in the alert colour, with a dashed line at the alert level.
    """
    names = [str(n) for n in layers][:MAX_LAYERS]
    d = np.array([np.nan if v is None else float(v) for v in list(dead)[:MAX_LAYERS]], dtype=float)
    s = np.array([np.nan if v is None else float(v) for v in list(saturated)[:MAX_LAYERS]], dtype=float)
    title = "Dead and saturated units by layer"
    if not names:
        return placeholder_svg("unit_health", "no ReLU, sigmoid or tanh hidden layers", title=title)
    k = len(names)
    with style():
        fig = new_figure(6.0, min(9.0, max(2.0, 0.7 + 0.24 * k)))
        ax = fig.add_subplot()
        pos = np.arange(k)
        kinds = ((d, "dead ReLU units", PALETTE[0]), (s, "saturated outputs", PALETTE[1]))
        for vals, label, color in kinds:
            ok = np.isfinite(vals)
            if not ok.any():
                continue
            colors = [HIGHLIGHT if v >= alert else color for v in vals[ok]]
            ax.barh(pos[ok], vals[ok] * 100, color=colors, height=0.65, label=label)
            for i in np.flatnonzero(ok):
                ax.annotate(f"{vals[i]:.0%}", (vals[i] * 100, i), xytext=(3, 0), textcoords="offset points",
                            va="center", ha="left", fontsize=6.5, color="#555555")
        ax.axvline(alert * 100, color="#555555", linestyle="--", linewidth=0.8)
        ax.set_yticks(pos, labels=[short_label(n, 30) for n in names], fontsize=7.5 if k <= 30 else 6)
        ax.set_ylim(k - 0.5, -0.5)
        ax.set_xlim(0, 112)
        ax.set_xlabel(plain_text("share of units / outputs (%)"))
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")
    both = np.where(np.isfinite(d), d, s)
    desc = f"{k} hidden layers; max share {np.nanmax(both):.0%}" if np.isfinite(both).any() else f"{k} hidden layers"
    return to_svg(fig, "unit_health", title=title, desc=desc)
