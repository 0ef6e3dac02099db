"""Classification figures: confusion matrix, ROC, PR, reliability, score distributions,
threshold sweep and class balance.

Conventions: ``y_true`` holds class indices into ``labels`` (ints/bools; strings equal to a label
are mapped too; anything else is ignored). ``proba`` is 1-D p(class 1) for binary problems (an
``(n, 1)`` sigmoid or ``(n, 2)`` softmax output is accepted too) or ``(n, K)`` for K classes.
Rows with non-finite scores or unknown labels are left out and counted in a note.

Speed: binary curves are exact (one sort, ~0.1 s per million rows) and decimated to 2,000
points for drawing. For multiclass one-vs-rest curves on large inputs (n x classes drawn >
2 million) each curve is computed from 4,096 score bins (uniform in logit space), which is
exact at the bin edges; AUC/AP are then computed from those binned curves (ties within a bin
count half), which is noted in the figure.
"""
from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

from .core import (
    GREY,
    HIGHLIGHT,
    NOTE_COLOR,
    PALETTE,
    add_note,
    decimate_curve,
    fmt_count,
    fmt_num,
    new_figure,
    placeholder_svg,
    plain_text,
    short_label,
    style,
    to_svg,
)

__all__ = [
    "confusion_matrix_svg",
    "roc_svg",
    "pr_svg",
    "reliability_svg",
    "score_distribution_svg",
    "threshold_svg",
    "class_balance_svg",
]

MAX_CURVES = 10
CURVE_POINTS = 2000
_BINNED_WORK = 2_000_000  # n * curves above which multiclass curves use score bins
_N_BINS = 4096


# --- input handling ----------------------------------------------------------------------------
def _encode(y_true, labels: Sequence[str] | None) -> np.ndarray:
    """Class indices as int64; -1 for values that are not a known class."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = np.argmax(y, axis=1)
    y = y.reshape(-1)
    if y.dtype == bool:
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.integer):
        out = y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.floating):
        out = np.full(y.shape, -1, dtype=np.int64)
        ok = np.isfinite(y) & (np.round(y) == y)
        out[ok] = y[ok].astype(np.int64)
    else:
        lookup = {str(lab): i for i, lab in enumerate(labels or [])}
        out = np.fromiter((lookup.get(str(v), -1) for v in y), dtype=np.int64, count=y.size)
    if labels is not None:
        out[(out < 0) | (out >= max(len(labels), 2))] = -1
    return out


def _prepare(y_true, proba, labels):
    """(y, p, labels, n_left_out): binary -> p is 1-D p(class 1); multiclass -> (n, K)."""
    labels = [str(x) for x in labels] if labels is not None else []
    p = np.asarray(proba, dtype=float)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    elif p.ndim == 2 and p.shape[1] == 2 and len(labels) <= 2:
        p = p[:, 1]
    if p.ndim not in (1, 2):
        raise ValueError(f"proba must be 1-D or (n, K), got shape {p.shape}")
    k = 2 if p.ndim == 1 else p.shape[1]
    if len(labels) < k:
        labels = labels + [f"class {i}" for i in range(len(labels), k)]
    labels = labels[:k]
    y = _encode(y_true, labels)
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"y_true has {y.shape[0]} rows but proba has {p.shape[0]}")
    ok = (y >= 0) & (y < k)
    ok &= np.isfinite(p) if p.ndim == 1 else np.isfinite(p).all(axis=1)
    dropped = int(y.size - ok.sum())
    if dropped:
        y, p = y[ok], p[ok]
    return y, p, labels, dropped


def _dropped_note(dropped: int) -> str:
    return f"{fmt_count(dropped)} rows with non-finite scores or unknown labels left out" if dropped else ""


# --- curve computation -------------------------------------------------------------------------
def _binary_clf_curve(pos: np.ndarray, score: np.ndarray):
    """Exact cumulative counts at every distinct threshold, thresholds descending.

    Returns (thresholds, tps, fps): predicting positive when score >= thresholds[i] gives
    tps[i] true and fps[i] false positives. The last result is cached (keyed by a hash of the
    inputs), so ROC, PR and threshold figures for the same scores sort only once.
    """
    pos = np.ascontiguousarray(pos, dtype=bool)
    score = np.ascontiguousarray(score, dtype=float)
    key = _digest(b"exact", pos, score)
    with _CACHE_LOCK:
        hit = _CURVE_CACHE.get(key)
    if hit is not None:
        return hit
    order = np.argsort(score)[::-1]
    s = score[order]
    yp = pos[order].view(np.uint8)
    last = np.flatnonzero(s[1:] != s[:-1])
    idx = np.concatenate([last, [s.size - 1]])
    tps = np.cumsum(yp, dtype=np.int64)[idx]
    fps = idx + 1 - tps
    result = (s[idx], tps, fps)
    for arr in result:
        arr.setflags(write=False)
    with _CACHE_LOCK:
        _CURVE_CACHE[key] = result
        # bounded by size: ~2.5M thresholds in all (60 MB) - one 1M-row binary curve, or
        # every one-vs-rest curve of a mid-sized multiclass set
        while len(_CURVE_CACHE) > 1 and sum(r[0].size for r in _CURVE_CACHE.values()) > 2_500_000:
            _CURVE_CACHE.pop(next(iter(_CURVE_CACHE)))
    return result


_CURVE_CACHE: dict[bytes, tuple] = {}
_BINNED_CACHE: dict[bytes, tuple] = {}
_CACHE_LOCK = threading.Lock()


def _binned_clf_curve(pos: np.ndarray, score: np.ndarray, bins: int = _N_BINS):
    """Like _binary_clf_curve but from score bins (O(n), no sort); exact at bin lower edges.

    Bins are uniform in logit space for probabilities (fine resolution near 0 and 1, where
    ROC/PR curves of good models live) and uniform in score otherwise. Results are cached.
    """
    score = np.ascontiguousarray(score, dtype=float)
    pos = np.ascontiguousarray(pos, dtype=bool)
    key = _digest(b"binned", pos, score)
    with _CACHE_LOCK:
        hit = _BINNED_CACHE.get(key)
    if hit is not None:
        return hit
    lo, hi = float(score.min()), float(score.max())
    prob_like = lo >= 0.0 and hi <= 1.0
    if prob_like:
        eps = 1e-12
        c = np.clip(score, eps, 1 - eps)
        z = np.log(c)
        z -= np.log1p(-c)
    else:
        z = score
    zlo, zhi = float(z.min()), float(z.max())
    width = (zhi - zlo) or 1.0
    b = ((z - zlo) * (bins / width)).astype(np.int64)
    np.minimum(b, bins - 1, out=b)
    tot = np.bincount(b, minlength=bins)
    npos = np.bincount(b[pos], minlength=bins)
    keep = np.flatnonzero(tot[::-1])  # bins with data, from the top
    tps = np.cumsum(npos[::-1])[keep]
    fps = np.cumsum((tot - npos)[::-1])[keep]
    edge_z = zlo + (bins - 1 - keep) * (width / bins)
    thr = 1.0 / (1.0 + np.exp(-edge_z)) if prob_like else edge_z
    result = (thr, tps, fps)
    with _CACHE_LOCK:
        if len(_BINNED_CACHE) >= 64:  # small arrays; keep the most recent 64 curves
            _BINNED_CACHE.pop(next(iter(_BINNED_CACHE)))
        _BINNED_CACHE[key] = result
    return result


def _digest(tag: bytes, pos: np.ndarray, score: np.ndarray) -> bytes:
    h = hashlib.blake2b(tag, digest_size=16)
    h.update(str(score.shape).encode())
    h.update(score.data)
    h.update(pos.data)
    return h.digest()


def _counts(pos, score, binned: bool):
    return _binned_clf_curve(pos, score) if binned else _binary_clf_curve(pos, score)


_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz


def _roc_from_counts(tps, fps):
    P, N = tps[-1], fps[-1]
    tpr = np.concatenate([[0.0], tps / P])
    fpr = np.concatenate([[0.0], fps / N])
    auc = float(_trapezoid(tpr, fpr))
    return fpr, tpr, auc


def _pr_from_counts(tps, fps):
    P = tps[-1]
    precision = tps / np.maximum(tps + fps, 1)
    recall = tps / P
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    return recall, precision, ap


def _points_per_curve(n_curves: int) -> int:
    """Drawing budget per curve: 2,000 for one curve, ~4,000 in all for several."""
    return CURVE_POINTS if n_curves <= 1 else max(300, 4000 // n_curves)


def _top_classes(y: np.ndarray, k: int, limit: int = MAX_CURVES) -> list[int]:
    """Classes present in y with both positives and negatives, largest first (at most limit)."""
    counts = np.bincount(y, minlength=k)
    order = np.argsort(-counts, kind="stable")
    present = [int(c) for c in order if 0 < counts[c] < y.size]
    return present[:limit]


def _style_for(i: int) -> dict:
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": "-" if i < len(PALETTE) else "--"}


def _one_class_message(y, labels) -> str:
    present = np.unique(y)
    if present.size == 0:
        return "no rows to evaluate"
    names = ", ".join(short_label(labels[i], 20) for i in present[:3])
    return f"undefined: the evaluated rows contain only class {names}"


# --- confusion matrix --------------------------------------------------------------------------
def confusion_matrix_svg(cm: np.ndarray, labels: Sequence[str]) -> str:
    """Counts (left) and row-normalised shares (right) side by side; rows = true class.

    Cell numbers: both panels up to 6 classes, the share panel only up to 15 classes; a panel
    without numbers gets a colour bar. Count colours use a log scale when counts span more than
    two decades. Row shares are recall on the diagonal.
    """
    from matplotlib.colors import LogNorm, Normalize

    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    k = cm.shape[0]
    labels = [str(x) for x in labels]
    if len(labels) != k:
        raise ValueError(f"confusion matrix is {k}x{k} but {len(labels)} labels were given")
    if k == 0:
        return placeholder_svg("confusion_matrix", "no classes", title="Confusion matrix")
    cm = np.where(np.isfinite(cm), cm, 0.0)
    row_tot = cm.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(row_tot > 0, cm / row_tot, np.nan)
    total = float(cm.sum())
    accuracy = float(np.trace(cm) / total) if total > 0 else float("nan")
    count_text = k <= 6  # numbers in the counts panel
    share_text = k <= 15  # numbers in the share panel

    positive = cm[cm > 0]
    if positive.size and positive.max() / positive.min() > 100:
        count_norm = LogNorm(vmin=max(positive.min(), 1e-12), vmax=positive.max())
        counts_img = np.ma.masked_less_equal(cm, 0)
    else:
        count_norm = Normalize(vmin=0, vmax=max(float(cm.max()), 1.0))
        counts_img = cm

    side = min(7.0, max(2.6, 1.5 + 0.22 * k))
    width = min(11.0, max(6.0, 2 * side + 0.6))
    height = min(7.0, max(2.8, side + 0.3))
    step = max(1, math.ceil(k / 30))
    tick_pos = np.arange(0, k, step)
    tick_lab = [short_label(labels[i], 16) for i in tick_pos]
    cell_fs = 8 if k <= 5 else (7 if k <= 10 else 5.5)

    with style():
        cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#FFFFFF")
        fig = new_figure(width, height)
        axes = fig.subplots(1, 2)
        panels = [
            (axes[0], counts_img, count_norm,
             f"Counts (accuracy {accuracy:.1%})" if total > 0 else "Counts", count_text),
            (axes[1], np.ma.masked_invalid(share), Normalize(0, 1), "Share of each true class", share_text),
        ]
        for ax, img, norm, title, has_text in panels:
            im = ax.imshow(img, cmap=cmap, norm=norm, interpolation="nearest", aspect="equal")
            ax.grid(False)
            for sp in ax.spines.values():
                sp.set_visible(True)
                sp.set_color("#BBBBBB")
            ax.set_xticks(tick_pos, labels=tick_lab, rotation=45 if k > 3 else 0,
                          ha="right" if k > 3 else "center", fontsize=7 if k <= 15 else 6)
            ax.set_yticks(tick_pos, labels=tick_lab, fontsize=7 if k <= 15 else 6)
            ax.set_xlabel("Predicted class")
            ax.set_title(title)
            if not has_text:
                fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
        axes[0].set_ylabel("True class")
        if share_text:
            for i in range(k):
                for j in range(k):
                    c = cm[i, j]
                    s = share[i, j]
                    if count_text:
                        dark_c = c > 0 and count_norm(c) > 0.55
                        axes[0].text(j, i, f"{int(c):,}" if c < 10_000 else fmt_count(c), ha="center", va="center", fontsize=cell_fs,
                                     color="white" if dark_c else "#222222", in_layout=False)
                    if np.isnan(s):
                        txt = "\u2013"
                    elif 0 < s < 0.005:
                        txt = "<1%"
                    else:
                        txt = f"{100 * s:.0f}%"
                    axes[1].text(j, i, txt, ha="center", va="center", fontsize=cell_fs,
                                 color="white" if (not np.isnan(s) and s > 0.55) else "#222222",
                                 in_layout=False)
    desc = f"{k} classes, {int(total)} rows, accuracy {accuracy:.4f}"
    if k <= 15:
        recalls = ", ".join(
            f"{labels[i]} {share[i, i]:.3f}" for i in range(k) if not np.isnan(share[i, i])
        )
        desc += f"; recall per class: {recalls}"
    return to_svg(fig, "confusion_matrix", title="Confusion matrix (counts and row shares)", desc=desc)


# --- ROC / PR ----------------------------------------------------------------------------------
def _curves(y, p, labels, kind: str):
    """[(label, x, y, area, style)] and a note, for ROC (kind='roc') or PR (kind='pr')."""
    make = _roc_from_counts if kind == "roc" else _pr_from_counts
    out = []
    note = ""
    if p.ndim == 1:
        pos = y == 1
        if pos.all() or not pos.any():
            return out, ""
        _thr, tps, fps = _binary_clf_curve(pos, p)
        a, b, area = make(tps, fps)
        out.append((labels[1], a, b, area, {"color": PALETTE[0], "linestyle": "-"}, int(pos.sum())))
        return out, note
    k = p.shape[1]
    classes = _top_classes(y, k)
    binned = y.size * len(classes) > _BINNED_WORK
    pt = np.ascontiguousarray(p.T)  # contiguous per-class columns
    for i, c in enumerate(classes):
        pos = y == c
        _thr, tps, fps = _counts(pos, pt[c], binned)
        a, b, area = make(tps, fps)
        out.append((labels[c], a, b, area, _style_for(i), int(pos.sum())))
    notes = []
    if len(classes) < k:
        notes.append(f"{len(classes)} largest of {k} classes (one-vs-rest)")
    else:
        notes.append("one-vs-rest")
    if binned:
        notes.append(f"curves from {_N_BINS} score bins")
    return out, "; ".join(notes)


def _operating_point(y, p, threshold=0.5):
    pos = y == 1
    pred = p >= threshold
    tp = int(np.count_nonzero(pred & pos))
    fp = int(np.count_nonzero(pred & ~pos))
    return tp, fp, int(pos.sum()), int((~pos).sum())


def _legend(ax, n_curves: int, inside_loc: str):
    if n_curves > 3:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    else:
        ax.legend(loc=inside_loc)


def roc_svg(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> str:
    """ROC curve(s) with AUC in the legend; binary: positive class = labels[1] and the
    operating point at threshold 0.5; multiclass: one-vs-rest for the 10 largest classes."""
    y, p, labels, dropped = _prepare(y_true, proba, labels)
    curves, note = _curves(y, p, labels, "roc")
    if not curves:
        return placeholder_svg("roc_curve", "ROC curve " + _one_class_message(y, labels), title="ROC curve")
    with style():
        if len(curves) > 3:
            fig = new_figure(6.0, 3.6, margins=(0.6, 0.2, 0.5, 0.3))
        else:
            fig = new_figure(4.2, 3.6, margins=(0.6, 0.2, 0.5, 0.3))
        ax = fig.add_subplot()
        ax.set_anchor("W")
        ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1, label="chance")
        budget = _points_per_curve(len(curves))
        for lab, fpr, tpr, auc, sty, _n in curves:
            xs, ys = decimate_curve(fpr, tpr, budget)
            ax.plot(xs, ys, linewidth=1.6, label=f"{short_label(lab, 22)} (AUC {auc:.3f})", **sty)
        if p.ndim == 1:
            tp, fp, P, N = _operating_point(y, p)
            ax.plot([fp / N], [tp / P], "o", color=HIGHLIGHT, markersize=5, label="threshold 0.5", zorder=5)
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate")
        ax.set_ylabel("True positive rate (recall)")
        _legend(ax, len(curves), "lower right")
        notes = [s for s in (note, _dropped_note(dropped)) if s]
        if notes:
            add_note(ax, "; ".join(notes))
    aucs = "; ".join(f"{lab} AUC {auc:.4f}" for lab, _a, _b, auc, _s, _n in curves)
    return to_svg(fig, "roc_curve", title="ROC curve", desc=f"{aucs}; n={y.size}")


def pr_svg(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> str:
    """Precision-recall curve(s) with average precision (AP) in the legend; binary: positive
    class = labels[1], the prevalence baseline and the operating point at threshold 0.5."""
    y, p, labels, dropped = _prepare(y_true, proba, labels)
    curves, note = _curves(y, p, labels, "pr")
    if not curves:
        return placeholder_svg("pr_curve", "precision-recall curve " + _one_class_message(y, labels),
                               title="Precision-recall curve")
    with style():
        fig = new_figure(margins=(0.6, 2.1 if len(curves) > 3 else 0.2, 0.5, 0.3))
        ax = fig.add_subplot()
        budget = _points_per_curve(len(curves))
        for lab, rec, prec, ap, sty, _n in curves:
            r = np.concatenate([[0.0], rec])
            q = np.concatenate([[prec[0]], prec])
            # Exact PR curves are step functions; a thinned curve is drawn as a line.
            steps = r.size <= budget // 2
            xs, ys = decimate_curve(r, q, budget)
            ax.plot(xs, ys, linewidth=1.6, drawstyle="steps-pre" if steps else "default",
                    label=f"{short_label(lab, 22)} (AP {ap:.3f})", **sty)
        if p.ndim == 1:
            prevalence = curves[0][5] / y.size
            ax.axhline(prevalence, color=GREY, linestyle=":", linewidth=1,
                       label=f"no skill (prevalence {prevalence:.3f})")
            tp, fp, P, _N = _operating_point(y, p)
            if tp + fp > 0:
                ax.plot([tp / P], [tp / (tp + fp)], "o", color=HIGHLIGHT, markersize=5,
                        label="threshold 0.5", zorder=5)
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.03)
        ax.set_xlabel("Recall")
        ax.set_ylabel("Precision")
        _legend(ax, len(curves), "lower left")
        notes = [s for s in (note, _dropped_note(dropped)) if s]
        if notes:
            add_note(ax, "; ".join(notes))
    aps = "; ".join(f"{lab} AP {ap:.4f}" for lab, _a, _b, ap, _s, _n in curves)
    return to_svg(fig, "pr_curve", title="Precision-recall curve", desc=f"{aps}; n={y.size}")


# --- reliability -------------------------------------------------------------------------------
def _reliability_bins(conf: np.ndarray, correct: np.ndarray, n_bins: int = 10):
    b = np.clip((conf * n_bins).astype(np.int64), 0, n_bins - 1)
    cnt = np.bincount(b, minlength=n_bins)
    hits = np.bincount(b, weights=correct.astype(float), minlength=n_bins)
    csum = np.bincount(b, weights=conf, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = hits / cnt
        mean_conf = csum / cnt
    return cnt, acc, mean_conf


def reliability_svg(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> str:
    """Reliability diagram (10 equal-width bins) with 95% Wilson intervals and a count
    histogram below. Binary: observed share of labels[1] vs predicted p(labels[1]);
    multiclass: accuracy vs top-class confidence. ECE (same bins) is given in the legend."""
    y, p, labels, dropped = _prepare(y_true, proba, labels)
    if y.size == 0:
        return placeholder_svg("reliability", "no rows to evaluate", title="Reliability diagram")
    if p.ndim == 1:
        conf = np.clip(p, 0.0, 1.0)
        correct = y == 1
        xlabel = f"Predicted p({short_label(labels[1], 20)})"
        ylabel = f"Observed share of {short_label(labels[1], 20)}"
    else:
        conf = np.clip(p.max(axis=1), 0.0, 1.0)
        correct = p.argmax(axis=1) == y
        xlabel = "Top-class confidence"
        ylabel = "Accuracy"
    n_bins = 10
    cnt, acc, mean_conf = _reliability_bins(conf, correct, n_bins)
    used = cnt > 0
    ece = float(np.sum(cnt[used] / y.size * np.abs(acc[used] - mean_conf[used])))
    z = 1.96
    nn = cnt[used].astype(float)
    ph = acc[used]
    centre = (ph + z * z / (2 * nn)) / (1 + z * z / nn)
    half = z * np.sqrt(ph * (1 - ph) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn)
    lo_err = np.maximum(ph - (centre - half), 0)
    hi_err = np.maximum((centre + half) - ph, 0)
    edges = np.linspace(0, 1, n_bins + 1)

    with style():
        fig = new_figure(6.0, 4.0, margins=(0.8, 0.2, 0.5, 0.3))
        ax, axh = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.12})
        ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1, label="perfect calibration")
        ax.errorbar(mean_conf[used], ph, yerr=[lo_err, hi_err], fmt="o-", color=PALETTE[0],
                    markersize=4, linewidth=1.4, elinewidth=0.9, capsize=2,
                    label=f"model (ECE {ece:.3f}, {n_bins} bins)")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left")
        axh.bar(edges[:-1], cnt, width=np.diff(edges), align="edge", color=PALETTE[5],
                edgecolor="white", linewidth=0.5)
        if cnt[used].max() / max(cnt[used].min(), 1) > 100:
            axh.set_yscale("log")
        else:
            axh.yaxis.set_major_formatter(_count_formatter())
        axh.set_ylabel("Rows")
        axh.set_xlabel(xlabel)
        axh.grid(axis="x", visible=False)
        note = _dropped_note(dropped)
        if note:
            add_note(ax, note)
    desc = f"ECE {ece:.4f} over {n_bins} equal-width bins; n={y.size}; rows per bin: " + ", ".join(
        str(int(c)) for c in cnt)
    return to_svg(fig, "reliability", title="Reliability diagram", desc=desc)


# --- score distributions -----------------------------------------------------------------------
def _hist_share(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # int bins + range takes numpy's fast uniform path (array edges would sort the data)
    h, _ = np.histogram(values, bins=edges.size - 1, range=(float(edges[0]), float(edges[-1])))
    return h / max(values.size, 1)


def score_distribution_svg(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> str:
    """Histograms of the predicted score per true class, as shares of each class (so a small
    class is as visible as a large one). Binary: p(labels[1]) for each true class, with the
    0.5 threshold. Multiclass: one panel per class (10 largest), p(class) for rows of that
    class vs all other rows."""
    y, p, labels, dropped = _prepare(y_true, proba, labels)
    if y.size == 0:
        return placeholder_svg("score_distribution", "no rows to evaluate", title="Score distribution")
    n_bins = 50
    if p.ndim == 1:
        lo, hi = (0.0, 1.0) if (p.min() >= 0 and p.max() <= 1) else (float(p.min()), float(p.max()) or 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, n_bins + 1)
        with style():
            fig = new_figure(margins=(0.65, 0.2, 0.5, 0.3))
            ax = fig.add_subplot()
            desc_parts = []
            for i, c in enumerate((0, 1)):
                vals = p[y == c]
                if vals.size == 0:
                    continue
                share = _hist_share(vals, edges)
                color = PALETTE[i]
                ax.stairs(share, edges, fill=True, alpha=0.25, color=color)
                ax.stairs(share, edges, color=color, linewidth=1.4,
                          label=f"true {short_label(labels[c], 22)} (n={fmt_count(vals.size)})")
                desc_parts.append(f"true {labels[c]}: n={vals.size}, median score {np.median(vals):.3f}")
            if lo <= 0.5 <= hi:
                ax.axvline(0.5, color=GREY, linestyle="--", linewidth=1, label="threshold 0.5")
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(bottom=0)
            ax.set_xlabel(f"Predicted p({short_label(labels[1], 22)})")
            ax.set_ylabel("Share of the true class")
            ax.legend(loc="upper center")
            note = _dropped_note(dropped)
            if note:
                add_note(ax, note)
        return to_svg(fig, "score_distribution", title="Predicted score by true class",
                      desc="; ".join(desc_parts))

    k = p.shape[1]
    classes = _top_classes(y, k) or [int(np.bincount(y, minlength=k).argmax())]
    m = len(classes)
    ncols = min(5, m)
    nrows = math.ceil(m / ncols)
    n_bins = 30
    width = 6.0 if ncols <= 3 else 8.0
    pt = np.ascontiguousarray(p.T)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    desc_parts = []
    with style():
        fig = new_figure(width, 0.95 + 1.55 * nrows, margins=(0.6, 0.15, 0.5, 0.45))
        fig.subplots_adjust(wspace=0.12, hspace=0.45)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
        for i, c in enumerate(classes):
            ax = axes[i]
            own = y == c
            n_own = int(own.sum())
            s = pt[c]
            # one pass: bin index + n_bins * (row belongs to class c)
            b = np.minimum((np.clip(s, 0.0, 1.0) * n_bins).astype(np.int64), n_bins - 1)
            both = np.bincount(b + n_bins * own, minlength=2 * n_bins)
            other, mine = both[:n_bins], both[n_bins:]
            a = mine / max(n_own, 1)
            o = other / max(y.size - n_own, 1)
            ax.stairs(o, edges, color=GREY, linewidth=1.0, label="rows of other classes")
            ax.stairs(a, edges, fill=True, alpha=0.3, color=PALETTE[0])
            ax.stairs(a, edges, color=PALETTE[0], linewidth=1.3, label="rows of this class")
            ax.set_title(short_label(labels[c], 18), fontsize=7.5)
            ax.set_xlim(0, 1)
            ax.set_xticks([0, 0.5, 1], labels=["0", "0.5", "1"])
            ax.set_ylim(bottom=0)
            ax.tick_params(labelsize=6.5)
            sums = np.bincount(own.view(np.uint8), weights=s, minlength=2)
            mean_own = sums[1] / n_own if n_own else float("nan")
            mean_other = sums[0] / (y.size - n_own) if y.size > n_own else float("nan")
            desc_parts.append(f"{labels[c]}: mean p {mean_own:.3f} (own rows) vs {mean_other:.3f} (other rows)")
        for ax in axes[m:]:
            ax.set_visible(False)
        handles, leg_labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, leg_labels, loc="upper left", bbox_to_anchor=(0.01, 0.995), ncol=2,
                   fontsize=7)
        fig.supxlabel("Predicted p(class)", fontsize=8, y=0.01)
        fig.supylabel("Share of rows", fontsize=8, x=0.01)
        notes = []
        if m < k:
            notes.append(f"{m} largest of {k} classes")
        if dropped:
            notes.append(_dropped_note(dropped))
        if notes:
            fig.text(0.99, 0.985, "; ".join(notes), ha="right", va="top", fontsize=6.5, color=NOTE_COLOR)
    return to_svg(fig, "score_distribution", title="Predicted probability of each class, by true class",
                  desc="; ".join(desc_parts))


# --- threshold sweep ---------------------------------------------------------------------------
def threshold_svg(y_true: np.ndarray, p1: np.ndarray, current_threshold: float = 0.5) -> str:
    """Precision, recall and F1 as the decision threshold moves (positive when score >=
    threshold), with the current threshold and the best-F1 threshold marked."""
    y = _encode(y_true, None)
    p = np.asarray(p1, dtype=float)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    elif p.ndim == 2 and p.shape[1] == 2:
        p = p[:, 1]
    if p.ndim != 1 or p.shape[0] != y.shape[0]:
        raise ValueError(f"threshold_svg: y_true has {y.shape[0]} rows, p1 has shape {p.shape}")
    ok = np.isfinite(p) & ((y == 0) | (y == 1))
    dropped = int(y.size - ok.sum())
    y, p = y[ok], p[ok]
    pos = y == 1
    if y.size == 0 or pos.all() or not pos.any():
        return placeholder_svg("threshold", "threshold sweep needs both classes in the evaluated rows",
                               title="Precision, recall and F1 by threshold")
    thr, tps, fps = _binary_clf_curve(pos, p)
    P = tps[-1]
    f1 = 2 * tps / (tps + fps + P)
    best = int(np.argmax(f1))
    best_thr, best_f1 = float(thr[best]), float(f1[best])
    ct = float(current_threshold)
    tp, fp, _P, _N = _operating_point(y, p, ct)
    cur_prec = tp / (tp + fp) if tp + fp else float("nan")
    cur_rec = tp / P
    cur_f1 = 2 * tp / (tp + fp + P)

    # Draw on a grid of thresholds: the metrics at grid value g are those of "score >= g", read
    # off the exact curve (thresholds descending) - exact values at 600 points, small SVG.
    prob_like = p.min() >= 0 and p.max() <= 1
    lo, hi = (0.0, 1.0) if prob_like else (float(p.min()), float(p.max()))
    grid = np.linspace(lo, hi, 600)
    grid = np.union1d(grid, np.clip([ct, best_thr], lo, hi))
    k = np.searchsorted(-thr, -grid, side="right")  # number of distinct thresholds >= g
    g_tp = np.where(k > 0, tps[np.maximum(k - 1, 0)], 0)
    g_fp = np.where(k > 0, fps[np.maximum(k - 1, 0)], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        g_prec = np.where(g_tp + g_fp > 0, g_tp / (g_tp + g_fp), np.nan)
    g_rec = g_tp / P
    g_f1 = 2 * g_tp / (g_tp + g_fp + P)
    with style():
        fig = new_figure(margins=(0.6, 1.95, 0.5, 0.3))
        ax = fig.add_subplot()
        for vals, lab, color in ((g_prec, "precision", PALETTE[0]), (g_rec, "recall", PALETTE[1]),
                                 (g_f1, "F1", PALETTE[2])):
            ax.plot(grid, vals, color=color, linewidth=1.5, label=lab)
        ax.axvline(ct, color=GREY, linestyle="--", linewidth=1,
                   label=f"current {fmt_num(ct)}: F1 {cur_f1:.3f}")
        ax.axvline(best_thr, color=HIGHLIGHT, linestyle=":", linewidth=1.3,
                   label=f"best F1 {best_f1:.3f} at {fmt_num(best_thr)}")
        ax.plot([best_thr], [best_f1], "o", color=HIGHLIGHT, markersize=4)
        ax.set_xlim(lo, hi)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("Decision threshold on predicted p(positive)")
        ax.set_ylabel("Score")
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
        note = _dropped_note(dropped)
        if note:
            add_note(ax, note)
    desc = (f"best F1 {best_f1:.4f} at threshold {best_thr:.6g}; at current threshold {ct:g}: "
            f"precision {cur_prec:.4f}, recall {cur_rec:.4f}, F1 {cur_f1:.4f}")
    return to_svg(fig, "threshold", title="Precision, recall and F1 by threshold", desc=desc)


# --- class balance -----------------------------------------------------------------------------
def class_balance_svg(counts: Mapping[str, Mapping[str, int]]) -> str:
    """Share of each class per split ({"train": {label: n}, "test": {label: n}}), grouped bars.
    Labels keep their first-seen order; more than 12 classes are drawn as horizontal bars."""
    splits = [str(s) for s in counts]
    order: list[str] = []
    seen = set()
    for s in counts.values():
        for lab in s:
            if str(lab) not in seen:
                seen.add(str(lab))
                order.append(str(lab))
    if not splits or not order:
        return placeholder_svg("class_balance", "no class counts", title="Class balance")
    table = np.zeros((len(splits), len(order)))
    for i, (_split, cmap) in enumerate(counts.items()):
        for lab, n in cmap.items():
            table[i, order.index(str(lab))] = float(n) if n is not None and np.isfinite(float(n)) else 0.0
    totals = table.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, table / totals, 0.0)
    k = len(order)
    m = len(splits)
    horizontal = k > 12
    width = 0.8 / m
    pos = np.arange(k)
    with style():
        fig = new_figure(6.0, min(10.0, max(3.0, 0.7 + 0.16 * k * max(1, m / 2))) if horizontal else 3.6)
        ax = fig.add_subplot()
        for i, split in enumerate(splits):
            off = (i - (m - 1) / 2) * width
            lab = f"{short_label(split, 16)} (n={fmt_count(totals[i, 0])})"
            color = PALETTE[i % len(PALETTE)]
            if horizontal:
                ax.barh(pos + off, shares[i], height=width, color=color, label=lab)
            else:
                bars = ax.bar(pos + off, shares[i], width=width, color=color, label=lab)
                if k <= 8 and m <= 3:
                    ax.bar_label(bars, labels=[f"{v:.0%}" if v >= 0.005 or v == 0 else "<1%" for v in shares[i]],
                                 fontsize=6, padding=1, color=NOTE_COLOR)
        ticks = [short_label(x, 28 if horizontal else 14) for x in order]
        if horizontal:
            ax.set_yticks(pos, labels=ticks, fontsize=7 if k <= 30 else 6)
            ax.set_ylim(k - 0.5, -0.5)
            ax.set_xlabel("Share of rows in split")
            ax.xaxis.set_major_formatter(_pct_formatter())
            ax.grid(axis="y", visible=False)
        else:
            ax.set_xticks(pos, labels=ticks, rotation=30 if k > 4 else 0, ha="right" if k > 4 else "center")
            ax.set_ylabel("Share of rows in split")
            ax.set_xlabel("Class")
            ax.yaxis.set_major_formatter(_pct_formatter())
            ax.grid(axis="x", visible=False)
            ax.set_ylim(0, min(1.0, float(shares.max()) * 1.18 + 0.01))
        ax.legend(loc="best")
    desc = "; ".join(
        f"{split}: " + ", ".join(f"{order[j]} {shares[i, j]:.4f}" for j in range(k))
        for i, split in enumerate(splits)
    )
    return to_svg(fig, "class_balance", title="Class balance per split", desc=desc)


def _count_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt_count(v))


def _pct_formatter():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=None)
