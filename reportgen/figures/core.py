"""Shared figure machinery: style, SVG rendering, decimation and a generic bar chart.

Why this shape: every report figure is a pure function ``arrays -> SVG text``. Figures are built
on ``matplotlib.figure.Figure`` objects directly (never pyplot, so no global figure state), with
rc settings applied only inside ``matplotlib.rc_context`` (see ``style()``). ``to_svg`` turns a
figure into text that can be inlined in HTML and drawn by WeasyPrint:

* no XML prolog, DOCTYPE, RDF metadata, comments or global ``<style>`` element;
* text drawn as paths (``svg.fonttype = "path"``), so no fonts are needed;
* scalable: ``width="100%"`` + ``viewBox``, capped at the natural size with ``max-width``;
* ``role="img"``, ``aria-label``, ``<title>`` and optional ``<desc>``, all escaped;
* ids that are referenced are prefixed with a per-figure prefix (two figures on one page never
  share an id), ids that are not referenced are dropped;
* byte-for-byte deterministic: fixed ``svg.hashsalt`` derived from the figure name, no dates.

Data text (class labels, column names) only ever reaches the SVG as glyph outlines (matplotlib's
text comments are stripped) or through ``xml_text`` in the title/description, so a label such as
``--><script>`` cannot break out of the figure. Pass every data string through ``plain_text``
before giving it to matplotlib so a ``$`` in a label is not parsed as mathtext.

Figure builders (also in other modules, e.g. diagnostics) follow this pattern::

    with style():
        fig = new_figure()
        ax = fig.add_subplot()
        ...
    return to_svg(fig, "my_figure", title="What the figure shows")
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import math
import re
import warnings
from collections.abc import Iterator, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "GREY",
    "LIGHT_GREY",
    "HIGHLIGHT",
    "NOTE_COLOR",
    "FIG_WIDTH",
    "FIG_HEIGHT",
    "style",
    "new_figure",
    "to_svg",
    "placeholder_svg",
    "decimate_curve",
    "subsample_indices",
    "plain_text",
    "short_label",
    "xml_text",
    "fmt_num",
    "fmt_count",
    "add_note",
    "bar_svg",
]

# Okabe-Ito, ordered so the first colours are the most distinct on white; yellow last (weak on
# white paper). Colour-blind safe.
PALETTE: list[str] = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
]
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"
HIGHLIGHT = "#D55E00"  # vermillion: "look here"
NOTE_COLOR = "#555555"

FIG_WIDTH = 6.0
FIG_HEIGHT = 3.6
RASTER_DPI = 150  # resolution of rasterized layers (dense scatters) inside the SVG

_STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 8.5,
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "axes.linewidth": 0.7,
    "axes.grid": True,
    "grid.color": "#E8E8E8",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-4, 5),
    "xtick.major.width": 0.7,
    "ytick.major.width": 0.7,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "lines.linewidth": 1.5,
    "patch.linewidth": 0.5,
    "image.cmap": "Blues",
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": True,
    "text.usetex": False,
    "svg.fonttype": "path",
    "svg.image_inline": True,
    "date.autoformatter.day": "%Y-%m-%d",
    "date.autoformatter.hour": "%m-%d %H:%M",
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply the report style (fonts, palette, spines) for figures built inside the block."""
    rc = dict(_STYLE)
    rc["axes.prop_cycle"] = matplotlib.cycler(color=PALETTE)
    with matplotlib.rc_context(rc):
        yield


def new_figure(width: float = FIG_WIDTH, height: float = FIG_HEIGHT,
               margins: tuple[float, float, float, float] | None = None) -> Figure:
    """A blank Figure (not registered with pyplot). Build it inside ``style()``.

    By default the layout is matplotlib's constrained layout, which fits any tick labels but
    roughly doubles the drawing time. Figures whose text is known in advance (numeric ticks,
    fixed axis labels) pass ``margins=(left, right, bottom, top)`` in inches instead.
    """
    width, height = float(width), float(height)
    if margins is None:
        return Figure(figsize=(width, height), layout="constrained")
    fig = Figure(figsize=(width, height))
    left, right, bottom, top = margins
    fig.subplots_adjust(left=left / width, right=1 - right / width,
                        bottom=bottom / height, top=1 - top / height)
    return fig


# --- text helpers ------------------------------------------------------------------------------
def plain_text(s: object) -> str:
    """A data string as literal matplotlib text: ``$`` is escaped so it is never mathtext."""
    return str(s).replace("$", r"\$")


def short_label(s: object, max_len: int = 28) -> str:
    """Single-line, length-capped literal text for ticks and legends (ellipsis when cut)."""
    text = " ".join(str(s).split())  # no newlines / tabs in tick labels
    if len(text) > max_len:
        text = text[: max(1, max_len - 1)].rstrip() + "\u2026"
    return plain_text(text)


def xml_text(s: object) -> str:
    """Escape text for an XML/HTML attribute or element body.

    Besides ``& < > " '`` this also encodes ``= : (`` so that data text in a title can never look
    like an event handler or a URL to the HTML renderer's SVG safety check.
    """
    out = []
    for ch in str(s):
        if ch in "&<>\"'=:(":
            out.append(f"&#{ord(ch)};")
        elif ord(ch) < 32 and ch not in "\t\n":
            out.append(" ")  # control characters are not allowed in XML 1.0
        else:
            out.append(ch)
    return "".join(out)


def fmt_num(x: float, digits: int = 3) -> str:
    """Compact number for annotations: 3 significant digits, 'NaN'/'inf' spelled out."""
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    return f"{x:.{max(1, digits - 1)}e}"


def fmt_count(n: float) -> str:
    """Compact count: 950, 12.3k, 4.5M."""
    n = float(n)
    a = abs(n)
    if a < 1_000:
        return f"{n:.0f}"
    if a < 999_500:
        return f"{n / 1e3:.3g}k"
    if a < 999_500_000:
        return f"{n / 1e6:.3g}M"
    return f"{n / 1e9:.3g}G"


def add_note(ax, text: str) -> None:
    """A small grey note in the top-right corner above the axes (e.g. 'showing 5,000 of 1M')."""
    ax.set_title(text, loc="right", fontsize=6.5, color=NOTE_COLOR)


# --- SVG rendering -----------------------------------------------------------------------------
_ROOT_RE = re.compile(r"<svg\b[^>]*>", re.S)
_VIEWBOX_RE = re.compile(r'viewBox="([^"]*)"')
_METADATA_RE = re.compile(r"<metadata\b.*?</metadata\s*>", re.S)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_STYLE_RE = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.S)
_EMPTY_DEFS_RE = re.compile(r"<defs>\s*</defs>")
_ID_RE = re.compile(r'\sid="([^"]*)"')
_REF_RE = re.compile(r'(href="#|url\(#)([^")]+)')
_SLUG_RE = re.compile(r"[^a-z0-9_-]+")
_COORD_ATTR_RE = re.compile(r'(\s(?:d|x|y)=")([^"]*)(")')
_DECIMAL_RE = re.compile(r"-?\d+\.\d+")


def _short_decimal(m: re.Match) -> str:
    s = f"{float(m.group(0)):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


_PNG_RE = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
_QUANTIZE_MIN_PIXELS = 100_000


def _shrink_png(m: re.Match) -> str:
    """Re-encode a large embedded raster layer (dense scatter) with a 64-colour palette.

    Rasterized scatters with alpha blending compress poorly as RGBA (~70 KB); the palette
    version is ~3x smaller and visually identical. Small images (confusion matrices, whose
    cells are exact colours) are left alone.
    """
    from PIL import Image

    data = base64.b64decode(m.group(1))
    try:
        im = Image.open(io.BytesIO(data))
        if im.width * im.height < _QUANTIZE_MIN_PIXELS or im.mode not in ("RGBA", "RGB"):
            return m.group(0)
        method = Image.Quantize.FASTOCTREE if hasattr(Image, "Quantize") else 2  # Pillow < 9.1
        q = im.quantize(colors=64, method=method)
        out = io.BytesIO()
        q.save(out, format="png", optimize=True)
    except Exception:  # pragma: no cover - keep the original image rather than fail a figure
        return m.group(0)
    if out.tell() >= len(data):
        return m.group(0)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


_STYLE_ATTR_RE = re.compile(r'\sstyle="([^"]*)"')
_PRESENTATION = {
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset",
    "stroke-miterlimit", "opacity", "clip-rule",
}


def _style_to_attributes(m: re.Match) -> str:
    """``style="fill: #fff; stroke: #000"`` -> ``fill="#fff" stroke="#000"``.

    Same rendering in browsers and WeasyPrint, but WeasyPrint's HTML CSS parser no longer
    logs an 'unknown property' warning for every SVG element. Anything else stays a style.
    """
    attrs, rest = [], []
    for decl in m.group(1).split(";"):
        name, _, value = decl.partition(":")
        name, value = name.strip(), value.strip()
        if not name:
            continue
        if name in _PRESENTATION and '"' not in value:
            attrs.append(f' {name}="{value}"')
        else:
            rest.append(f"{name}:{value}")
    if rest:
        attrs.append(f' style="{";".join(rest)}"')
    return "".join(attrs)


def _round_coords(svg: str) -> str:
    """Coordinates to 0.01 pt (matplotlib writes 6 decimals): ~40% smaller, visually identical."""
    return _COORD_ATTR_RE.sub(lambda m: m.group(1) + _DECIMAL_RE.sub(_short_decimal, m.group(2)) + m.group(3), svg)


def _slug(name: str) -> str:
    s = _SLUG_RE.sub("-", str(name).lower()).strip("-")
    return s[:40] or "figure"


def _humanize(name: str) -> str:
    s = re.sub(r"[_\-]+", " ", str(name)).strip()
    return (s[:1].upper() + s[1:]) if s else "Figure"


def _default_title(fig: Figure, name: str) -> str:
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        return sup.get_text()
    return _humanize(name)


def _rewrite_ids(svg: str, prefix: str) -> str:
    """Prefix referenced ids with ``prefix``; drop ids nobody references."""
    referenced = {m.group(2) for m in _REF_RE.finditer(svg)}

    def fix_id(m: re.Match) -> str:
        ident = m.group(1)
        return f' id="{prefix}{ident}"' if ident in referenced else ""

    svg = _ID_RE.sub(fix_id, svg)
    return _REF_RE.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


def to_svg(fig: Figure, name: str, title: str | None = None, desc: str | None = None) -> str:
    """Render ``fig`` to inlineable, deterministic SVG text (a ``str`` starting with ``<svg``).

    ``name`` identifies the figure (it seeds ids and the hash salt); ``title`` becomes the
    ``<title>``/``aria-label`` (default: the figure's suptitle or the humanized name); ``desc``
    an optional ``<desc>`` with a one-line text summary (numbers for screen readers and tests).
    """
    slug = _slug(name)
    buf = io.StringIO()
    with style(), matplotlib.rc_context(
        {"svg.hashsalt": f"reportgen-{slug}", "svg.fonttype": "path"}
    ), warnings.catch_warnings():
        # Labels in scripts DejaVu Sans lacks render as boxes; that is acceptable, not noise.
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("ignore", message=r".*constrained_layout not applied.*")
        fig.savefig(
            buf,
            format="svg",
            dpi=RASTER_DPI,
            metadata={"Date": None, "Creator": None},
        )
    raw = buf.getvalue()
    start = raw.find("<svg")
    if start < 0:  # pragma: no cover - matplotlib always writes an <svg> root
        raise RuntimeError("matplotlib produced no <svg> element")
    svg = raw[start:]
    svg = _METADATA_RE.sub("", svg)
    svg = _COMMENT_RE.sub("", svg)
    svg = _STYLE_RE.sub("", svg)  # '*{stroke-linejoin...}' would be a page-global rule in HTML
    svg = svg.replace("base64,\n", "base64,")
    # Whitespace: none between tags; single spaces inside path data.
    svg = re.sub(r">\s+<", "><", svg)
    svg = re.sub(r"\s*\n\s*", " ", svg)
    svg = _EMPTY_DEFS_RE.sub("", svg)
    svg = _round_coords(svg)
    svg = _STYLE_ATTR_RE.sub(_style_to_attributes, svg)
    if "data:image/png" in svg:
        svg = _PNG_RE.sub(_shrink_png, svg)

    root = _ROOT_RE.search(svg)
    assert root is not None
    vb = _VIEWBOX_RE.search(root.group(0))
    viewbox = vb.group(1) if vb else "0 0 432 259.2"
    try:
        natural_width = float(viewbox.split()[2])
    except (IndexError, ValueError):  # pragma: no cover
        natural_width = 432.0
    body = svg[root.end():]
    prefix = f"rg-{slug}-{hashlib.sha1(body.encode('utf-8')).hexdigest()[:8]}-"
    body = _rewrite_ids(body, prefix)

    title_text = title if title is not None else _default_title(fig, name)
    label = xml_text(" ".join(str(title_text).split()))
    head = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'version="1.1" viewBox="{viewbox}" width="100%" '
        f'style="max-width:{natural_width:g}pt;height:auto" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-label="{label}" class="rg-figure" data-figure="{slug}" '
        'stroke-linejoin="round" stroke-linecap="butt">'
        f"<title>{label}</title>"
    )
    if desc:
        head += f"<desc>{xml_text(' '.join(str(desc).split()))}</desc>"
    return head + body


def placeholder_svg(name: str, message: str, width: float = FIG_WIDTH, height: float = 1.2,
                    title: str | None = None) -> str:
    """A small figure that only says ``message`` (e.g. 'no data'); same SVG contract as figures."""
    with style():
        fig = new_figure(width, height)
        fig.text(0.5, 0.5, short_label(message, 120), ha="center", va="center",
                 fontsize=8.5, color=NOTE_COLOR)
    return to_svg(fig, name, title=title or f"{_humanize(name)}: {message}", desc=message)


# --- data reduction ----------------------------------------------------------------------------
def _as_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.datetime64) or np.issubdtype(x.dtype, np.timedelta64):
        out = x.astype("int64").astype(float)
        out[np.isnat(x)] = np.nan
        return out
    return x.astype(float, copy=False)


def _even(k: int, n: int) -> np.ndarray:
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


def decimate_curve(x, y, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a curve to at most ``max_points`` points, keeping its endpoints and shape.

    Points are kept at evenly spaced index positions (half the budget) and at evenly spaced
    positions along the curve's arc length in axis-normalised units (the other half), so long
    flat stretches are thinned while steep parts keep detail. The first and last point are
    always kept, as are the edges of NaN/inf gaps (so gaps stay gaps). Returns copies of the
    selected elements of ``x`` and ``y`` in their original order and dtype (``x`` may be
    datetime64). A curve with at most ``max_points`` points is returned unchanged (as copies).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"decimate_curve: x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    max_points = int(max_points)
    if max_points < 2:
        raise ValueError("decimate_curve: max_points must be at least 2")
    n = len(x)
    if n <= max_points:
        return x.copy(), y.copy()

    xf = _as_float(x)
    yf = _as_float(y)
    finite = np.isfinite(xf) & np.isfinite(yf)
    keep = [np.array([0, n - 1], dtype=np.int64)]

    # Edges of non-finite runs (at most a quarter of the budget).
    change = np.flatnonzero(finite[1:] != finite[:-1])
    if change.size:
        edges = np.unique(np.concatenate([change, change + 1]))
        cap = max_points // 4
        if edges.size > cap:
            edges = edges[_even(cap, edges.size)]
        keep.append(edges)

    budget = max_points - sum(k.size for k in keep)
    n_arc = budget // 2
    n_idx = budget - n_arc
    keep.append(_even(n_idx, n))

    if n_arc > 0 and finite.any():
        xr = float(np.ptp(xf[finite])) or 1.0
        yr = float(np.ptp(yf[finite])) or 1.0
        seg = np.hypot(np.diff(xf) / xr, np.diff(yf) / yr)
        seg[~np.isfinite(seg)] = 0.0
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        if arc[-1] > 0:
            targets = np.linspace(0.0, arc[-1], n_arc)
            keep.append(np.searchsorted(arc, targets, side="left").clip(0, n - 1))

    idx = np.unique(np.concatenate(keep))
    if idx.size > max_points:  # only possible through rounding collisions; trim evenly
        inner = idx[1:-1]
        inner = inner[_even(max_points - 2, inner.size)]
        idx = np.concatenate([[0], inner, [n - 1]])
    return x[idx].copy(), y[idx].copy()


def subsample_indices(n: int, max_points: int = 5000, seed: int = 0) -> np.ndarray:
    """Sorted indices of a deterministic random subsample of ``range(n)`` (all if n <= max_points)."""
    n = int(n)
    max_points = int(max_points)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_points, replace=False)).astype(np.int64)


# --- generic bar chart -------------------------------------------------------------------------
MAX_BARS = 80


def bar_svg(
    names: Sequence[str],
    values: Sequence[float],
    name: str,
    xlabel: str = "",
    ylabel: str = "",
    log: bool = False,
    highlight: Sequence[bool] | None = None,
) -> str:
    """Bar chart of one value per named item (per-layer gradient norms, drift per feature...).

    ``xlabel`` labels the category axis (the names) and ``ylabel`` the value axis, whatever the
    orientation: up to 8 short names are drawn as vertical bars, more or longer names as
    horizontal bars in the given order. ``highlight[i]`` draws bar i in the alert colour. With
    ``log`` the value axis is logarithmic and values <= 0 are marked 'n/a'. NaN/inf values are
    shown as text at the baseline. More than 80 items: the highlighted ones plus the largest
    values are kept (in order), with a note.
    """
    labels = [str(s) for s in names]
    vals = np.asarray(list(values), dtype=float)
    if len(labels) != vals.size:
        raise ValueError(f"bar_svg: {len(labels)} names but {vals.size} values")
    hl = np.zeros(vals.size, dtype=bool) if highlight is None else np.asarray(list(highlight), dtype=bool)
    if hl.size != vals.size:
        raise ValueError(f"bar_svg: {hl.size} highlight flags but {vals.size} values")
    title = _humanize(name) if not ylabel else (f"{ylabel} by {xlabel}" if xlabel else ylabel)
    if vals.size == 0:
        return placeholder_svg(name, "no values to show", title=title)

    total = vals.size
    note = ""
    if total > MAX_BARS:
        score = np.where(np.isfinite(vals), np.abs(vals), np.inf)
        score = np.where(hl, np.inf, score)
        chosen = np.sort(np.argsort(-score, kind="stable")[:MAX_BARS])
        labels = [labels[i] for i in chosen]
        vals, hl = vals[chosen], hl[chosen]
        note = f"{MAX_BARS} of {total} shown (largest and highlighted)"

    k = vals.size
    horizontal = k > 8 or max(len(s) for s in labels) > 10
    plot_vals = vals.copy()
    bad = ~np.isfinite(plot_vals) | ((plot_vals <= 0) if log else False)
    plot_vals[bad] = np.nan
    colors = [HIGHLIGHT if h else PALETTE[0] for h in hl]
    tick_text = [short_label(s, 32 if horizontal else 14) for s in labels]

    with style():
        if horizontal:
            height = min(12.0, max(2.2, 0.6 + 0.19 * k))
            fig = new_figure(FIG_WIDTH, height)
        else:
            fig = new_figure(FIG_WIDTH, FIG_HEIGHT)
        ax = fig.add_subplot()
        pos = np.arange(k)
        fs = 7.5 if k <= 30 else (6.5 if k <= 50 else 5.5)
        finite_vals = plot_vals[np.isfinite(plot_vals)]
        if horizontal:
            ax.barh(pos, np.nan_to_num(plot_vals, nan=0.0) if not log else plot_vals,
                    color=colors, height=0.7)
            ax.set_yticks(pos, labels=tick_text, fontsize=fs)
            ax.set_ylim(k - 0.5, -0.5)  # first item on top
            ax.grid(axis="y", visible=False)
            if log:
                ax.set_xscale("log")
            ax.set_xlabel(plain_text(ylabel))
            ax.set_ylabel(plain_text(xlabel))
        else:
            ax.bar(pos, np.nan_to_num(plot_vals, nan=0.0) if not log else plot_vals,
                   color=colors, width=0.7)
            ax.set_xticks(pos, labels=tick_text, fontsize=fs,
                          rotation=30 if k > 4 else 0, ha="right" if k > 4 else "center")
            ax.grid(axis="x", visible=False)
            if log:
                ax.set_yscale("log")
            ax.set_xlabel(plain_text(xlabel))
            ax.set_ylabel(plain_text(ylabel))
        tick_objs = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
        for lbl, h in zip(tick_objs, hl):
            if h:
                lbl.set_color(HIGHLIGHT)
        if finite_vals.size == 0 and log:
            (ax.set_xlim if horizontal else ax.set_ylim)(0.1, 10)
        base = ax.get_xlim()[0] if horizontal else ax.get_ylim()[0]
        if not log:
            base = 0.0
        # Annotations: value next to each bar (small charts) and n/a for unusable values.
        for i in range(k):
            v = vals[i]
            if bad[i]:
                txt = fmt_num(v) if not np.isfinite(v) else "n/a (\u2264 0)"
                kw = dict(fontsize=6.5, color=HIGHLIGHT)
            elif k <= 30:
                txt = fmt_num(v)
                kw = dict(fontsize=6.5, color=NOTE_COLOR)
            else:
                continue
            anchor = base if bad[i] else plot_vals[i]
            if horizontal:
                ann = ax.annotate(txt, (anchor, i), xytext=(3, 0), textcoords="offset points",
                                  va="center", ha="left", **kw)
            else:
                ann = ax.annotate(txt, (i, anchor), xytext=(0, 2), textcoords="offset points",
                                  va="bottom", ha="center", **kw)
            ann.set_in_layout(False)  # inside the axes (headroom below); keeps layout fast
        if not log and finite_vals.size and finite_vals.min() >= 0:
            # headroom for the annotations
            if horizontal:
                ax.set_xlim(0, max(finite_vals.max(), 1e-12) * 1.15)
            else:
                ax.set_ylim(0, max(finite_vals.max(), 1e-12) * 1.12)
        if note:
            add_note(ax, note)
    n_hl = int(hl.sum())
    desc = f"{total} values; {n_hl} highlighted; {int(bad.sum())} not plottable"
    if finite_vals.size:
        desc += f"; max {fmt_num(float(np.nanmax(vals[np.isfinite(vals)])))}"
    return to_svg(fig, name, title=title, desc=desc)
