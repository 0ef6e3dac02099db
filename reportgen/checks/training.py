"""training.* checks (and data.too_few_samples): what the training history says about how the
model learned.

Every rule compares the curves with themselves or with reference points, never with absolute
loss values: the loss of the trivial predictor (class priors, mean/median; see
``model.trivial_loss``), the loss at the curve's own minimum, the epoch-to-epoch noise of the
curve, and a quick simple model fitted on the same data (``model.best_reference``). The learning
rate (from the model's optimizer or a ``lr``/``learning_rate`` history column) corroborates but
never decides alone. A ``critical`` needs two kinds of evidence (e.g. the curve and the learning
rate, or the curve and the measured test results).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..findings import Finding, Severity
from .model import (ADAM_LIKE, _r, best_reference, data_cause, fit_level, layer_stats, learning_rate,
                    optimizer_name, output_mismatch_severe, sample_metric, trivial_loss)


# -- the history ---------------------------------------------------------------------------------
def series(ctx, key: str) -> np.ndarray | None:
    h = ctx.inputs.history
    if not h or key not in h or not len(h[key]):
        return None
    return np.asarray(h[key], dtype=np.float64)


def lr_info(ctx) -> dict[str, Any]:
    """The learning rate and whether it is unusually high or low for the optimizer."""
    if "lr_info" in ctx.cache:
        return ctx.cache["lr_info"]
    lr = learning_rate(ctx.model) if ctx.model is not None else None
    opt = optimizer_name(ctx.model) if ctx.model is not None else None
    source = "optimizer" if lr is not None else None
    hist_lr = None
    for key in ("lr", "learning_rate"):
        s = series(ctx, key)
        if s is not None and np.isfinite(s).any():
            hist_lr = s[np.isfinite(s)]
            break
    if hist_lr is not None:
        lr_max = float(hist_lr.max())
        if lr is None:
            lr, source = float(f"{float(hist_lr[-1]):.6g}"), "history"
    else:
        lr_max = lr
    sgd = opt == "SGD"
    adam_like = (opt in ADAM_LIKE) or opt is None
    high = very_high = low = very_low = False
    if lr is not None:
        top = max(lr, lr_max or lr)
        if sgd:
            high, very_high = top >= 0.5, top >= 2.0
            low, very_low = lr < 1e-3, lr < 1e-4
        elif adam_like:
            high, very_high = top > 1.1e-2, top >= 0.1
            low, very_low = lr < 1e-4, lr < 1e-5
        else:  # unknown optimiser family: only the extremes count
            high, very_high = top >= 0.5, top >= 2.0
            low, very_low = lr < 1e-5, lr < 1e-6
    info = {"lr": lr, "lr_max": lr_max, "optimizer": opt, "source": source, "high": high,
            "very_high": very_high, "low": low, "very_low": very_low}
    ctx.cache["lr_info"] = info
    return info


def _lr_evidence(info: dict) -> dict[str, Any]:
    out = {}
    if info.get("lr") is not None:
        out["learning_rate"] = _r(info["lr"])
    if info.get("optimizer"):
        out["optimizer"] = info["optimizer"]
    return out


def _ref_loss(ctx) -> float | None:
    t = trivial_loss(ctx)
    return t["loss"] if t else None


def _window(n: int) -> int:
    """The 'end of training' window: the last 20% of epochs, at least 2 (1 in runs of <= 5 epochs,
    whose first steps are the steep start of any curve)."""
    return max(1 if n <= 5 else 2, int(math.ceil(0.2 * n)))


def _noise(v: np.ndarray) -> float:
    """Typical epoch-to-epoch jitter of a curve (median absolute second difference)."""
    if len(v) < 4:
        return 0.0
    d2 = np.diff(v, 2)
    return float(np.median(np.abs(d2))) / 2.0


# -- signals (computed once, shared between checks) ----------------------------------------------
def unstable_signal(ctx) -> dict[str, Any] | None:
    if "sig_unstable" in ctx.cache:
        return ctx.cache["sig_unstable"]
    ctx.cache["sig_unstable"] = res = _unstable_signal(ctx)
    return res


def _unstable_signal(ctx) -> dict[str, Any] | None:
    loss = series(ctx, "loss")
    if loss is None:
        return None
    val = series(ctx, "val_loss")
    res: dict[str, Any] = {"epochs": int(len(loss))}
    bad = ~np.isfinite(loss)
    if val is not None:
        bad_val = ~np.isfinite(val)
    else:
        bad_val = np.zeros(len(loss), dtype=bool)
    if bad.any() or bad_val.any():
        first = int(np.argmax(bad | bad_val))
        res["nonfinite_epoch"] = first + 1
        res["nonfinite_in"] = "loss" if bad.any() else "val_loss"
    fin = loss[np.isfinite(loss)]
    if len(fin) < 2:
        return res if "nonfinite_epoch" in res else None
    triv = trivial_loss(ctx)
    ref = max(triv["loss"], triv["untrained_loss"]) if triv else float(fin[0])
    ref = max(ref, 1e-12)
    # blow-up: the loss jumped far above both the untrained level and its own earlier values
    peak_i = int(np.argmax(fin))
    peak = float(fin[peak_i])
    res["peak_loss"] = peak
    res["reference_loss"] = ref
    if peak >= 10 * ref:
        if peak_i > 0 and peak >= 10 * float(fin[:peak_i].min()):
            res["blowup"] = "rise"
        elif peak_i == 0:
            res["blowup"] = "first_epoch"  # ambiguous alone (unscaled inputs also start high)
    # divergence: the loss ends far above its minimum and was rising
    n = len(fin)
    m = int(np.argmin(fin))
    lo = float(fin[m])
    end = float(np.mean(fin[-min(2, n - m - 1):])) if m < n - 1 else lo
    rise = end - lo
    if m < n - 1 and end >= 1.5 * lo + 1e-12 and rise >= 0.05 * ref and rise > 3 * _noise(fin):
        res["diverging"] = {"min_epoch": m + 1, "min_loss": lo, "end_loss": end, "ratio": end / max(lo, 1e-12)}
    # oscillation: epochs where the loss jumps up by >= 20% of its level (level floored at 5% of
    # the reference, so that jitter of a near-zero loss does not count; dropout noise in an
    # epoch-mean loss stays well below 20%)
    if n >= 5:
        d = np.diff(fin)
        level = np.maximum(fin[:-1], 0.05 * ref)
        ups = d >= 0.2 * level
        share = float(ups.mean())
        res["up_jumps"] = int(ups.sum())
        res["up_jump_share"] = share
        if share >= 0.2 and ups.sum() >= 2:
            res["oscillating"] = True
    return res


def slow_signal(ctx) -> dict[str, Any] | None:
    if "sig_slow" in ctx.cache:
        return ctx.cache["sig_slow"]
    ctx.cache["sig_slow"] = res = _slow_signal(ctx)
    return res


def _monotone_share(v: np.ndarray) -> float:
    d = np.diff(v)
    return float(np.mean(d < 0)) if len(d) else 0.0


def _slow_signal(ctx) -> dict[str, Any] | None:
    loss = series(ctx, "loss")
    if loss is None or len(loss) < 2 or not np.isfinite(loss).all():
        return None
    n = len(loss)
    val = series(ctx, "val_loss")
    if val is not None and not np.isfinite(val).all():
        val = None
    triv = trivial_loss(ctx)
    res: dict[str, Any] = {"epochs": n}
    start = float(loss[0])
    best = float(loss.min())
    res["total_relative_decrease"] = (start - best) / start if start > 0 else 0.0
    res["monotone_share"] = _monotone_share(loss)
    if triv:
        res["final_over_trivial"] = float(loss[-1]) / triv["loss"]
    # (a) barely moved: the loss fell by < 10% over the whole run, steadily (so it is moving,
    #     just slowly) and from a level the trivial predictor already reaches
    low_lr = lr_info(ctx)["low"]
    barely = (res["total_relative_decrease"] < 0.1 and res["monotone_share"] >= 0.7 and n >= 2
              and (not triv or float(loss[-1]) >= 0.5 * triv["loss"]))
    if barely and val is not None and len(val) >= 3:
        barely = int(np.argmin(val)) >= n - 2 or _monotone_share(val) >= 0.6
    res["barely_moved"] = bool(barely)
    # (b) still falling at the end: over the last 20% of epochs train (and validation) loss kept
    #     falling, steadily, by >= 5% (and >= 0.5% per epoch), and by an amount that matters:
    #     >= 5% of the trivial predictor's loss (a loss already near zero keeps falling in relative
    #     terms without changing any prediction). A learning rate known to be low lowers the bar
    #     (2% and 1%): the cause is then already corroborated.
    rel_bar, triv_bar = (0.02, 0.01) if low_lr else (0.05, 0.05)
    w = min(_window(n), n - 1)
    seg = loss[-w - 1:]
    tr_drop = (seg[0] - seg[-1]) / seg[0] if seg[0] > 0 else 0.0
    res["window_epochs"] = w
    res["train_drop_in_window"] = float(tr_drop)
    per_epoch = 0.0 if low_lr else 0.005
    falling = tr_drop >= max(rel_bar, per_epoch * w) and _monotone_share(seg) >= 0.75
    if val is not None:
        vseg = val[-w - 1:]
        v_drop = (vseg[0] - vseg[-1]) / vseg[0] if vseg[0] > 0 else 0.0
        res["val_drop_in_window"] = float(v_drop)
        res["val_min_epoch"] = int(np.argmin(val)) + 1
        falling = (falling and v_drop >= max(rel_bar, per_epoch * w) and int(np.argmin(val)) >= n - 2
                   and _monotone_share(vseg) >= 0.6)
    else:
        # without validation, a falling training loss alone is ambiguous: demand more, and a
        # loss still far from a good fit
        falling = falling and tr_drop >= max(2 * rel_bar, 0.01 * w) and (
            not triv or float(loss[-1]) >= 0.3 * triv["loss"])
    curve = val if val is not None else loss
    cseg = curve[-w - 1:]
    if triv:
        res["drop_over_trivial"] = float(cseg[0] - cseg[-1]) / triv["loss"]
        falling = falling and res["drop_over_trivial"] >= triv_bar
    res["still_falling"] = bool(falling and not barely)
    return res


def overfit_signal(ctx) -> dict[str, Any] | None:
    if "sig_overfit" in ctx.cache:
        return ctx.cache["sig_overfit"]
    ctx.cache["sig_overfit"] = res = _overfit_signal(ctx)
    return res


def _overfit_signal(ctx) -> dict[str, Any] | None:
    loss, val = series(ctx, "loss"), series(ctx, "val_loss")
    if loss is None or val is None or len(val) < 5:
        return None
    if not (np.isfinite(loss).all() and np.isfinite(val).all()):
        return None
    n = len(val)
    m = int(np.argmin(val))
    k = n - 1 - m  # epochs after the validation minimum
    v_min = float(val[m])
    tail = val[-min(3, k):] if k > 0 else val[-1:]
    v_end = float(np.mean(tail))
    l_at_min, l_end = float(loss[m]), float(loss[-1])
    res: dict[str, Any] = {
        "epochs": n, "val_min_epoch": m + 1, "epochs_after_min": k, "val_loss_min": v_min,
        "val_loss_end": v_end, "rise": v_end / v_min if v_min > 0 else float("inf"),
        "train_loss_at_val_min": l_at_min, "train_loss_end": l_end,
        "gap_at_min": v_min - l_at_min, "gap_end": v_end - l_end,
    }
    # early stopping: the run ended within a patience-like window of the minimum; with
    # restore_best_weights the model holds the best epoch, so the rise is not in the model
    patience_like = k <= min(25, max(10, int(0.2 * n)))
    res["early_stopping_like"] = bool(patience_like)
    noise = _noise(val[: m + 1]) if m >= 3 else _noise(val)
    train_fell = l_end <= 0.9 * l_at_min
    gap_grew = res["gap_end"] > max(res["gap_at_min"], 0) + 3 * noise
    res["train_fell"] = bool(train_fell)
    res["gap_grew"] = bool(gap_grew)
    # the model must fit its training rows (a run that blew up and collapsed to a constant
    # prediction also has a rising validation loss and a "falling" training loss)
    triv = trivial_loss(ctx)
    fits = not triv or l_end <= 0.7 * triv["loss"]
    res["fits_training_data"] = bool(fits)
    rising = (k >= 3 and res["rise"] >= 1.2 and (v_end - v_min) > 3 * noise and train_fell and gap_grew
              and fits and l_end < v_end)
    res["rising"] = bool(rising)
    # a claim needs a long climb (not an early-stopping tail), by >= 30%, and by an amount that
    # matters next to what the model learned (>= 5% of the trivial predictor's loss)
    res["material"] = bool(not triv or (v_end - v_min) >= 0.05 * triv["loss"])
    res["claimed"] = bool(rising and not patience_like and res["rise"] >= 1.3 and res["material"])
    return res


def generalisation_gap(ctx) -> dict[str, Any] | None:
    """Measured: the model's accuracy / R^2 on the training sample against the test rows.

    Not for forecasts: a later test period differs from the training period for reasons (trend,
    drift) that have nothing to do with memorising the training rows."""
    if ctx.model is None or not ctx.has_train or ctx.task == "forecast" or ctx.inputs.time_column:
        return None
    tr, te = sample_metric(ctx, "train"), sample_metric(ctx, "test")
    if tr is None or te is None:
        return None
    return {"metric": "accuracy" if ctx.is_classification else "r2", "train": tr, "test": te, "gap": tr - te}


def underfit_signal(ctx) -> dict[str, Any] | None:
    if "sig_underfit" in ctx.cache:
        return ctx.cache["sig_underfit"]
    ctx.cache["sig_underfit"] = res = _underfit_signal(ctx)
    return res


def _underfit_signal(ctx) -> dict[str, Any] | None:
    triv = trivial_loss(ctx)
    if not triv:
        return None
    loss = series(ctx, "loss")
    res: dict[str, Any] = {"trivial_loss": triv["loss"]}
    if loss is not None and np.isfinite(loss).any():
        best = float(np.nanmin(np.where(np.isfinite(loss), loss, np.nan)))
        res["best_train_loss"] = best
        res["source"] = "history"
    elif ctx.model is not None and ctx.has_train:
        st = layer_stats(ctx)
        if not st or st.get("sample_loss") is None or not math.isfinite(st["sample_loss"]):
            return None
        best = float(st["sample_loss"])
        res["best_train_loss"] = best
        res["source"] = "measured on training rows"
    else:
        return None
    ratio = best / triv["loss"]
    res["ratio_to_trivial"] = ratio
    # the delivered model measured on its training rows (no dropout, class weights or weight
    # penalties inflating the number) must agree that the fit is poor
    measured = fit_level(ctx) if ctx.model is not None and ctx.has_train else None
    if measured is not None:
        res["measured_train_loss_over_trivial"] = measured
    if ratio < 0.5 or (measured is not None and measured < 0.5):
        res["underfit"] = False
        return res
    ref = best_reference(ctx, need_below=min(0.5 * best, 0.7 * triv["loss"]))
    if ref is not None:
        res["reference"] = ref
        res["reference_over_trivial"] = ref["loss"] / triv["loss"]
        res["train_over_reference"] = best / ref["loss"] if ref["loss"] > 0 else float("inf")
    learnable = ref is not None and ref["loss"] <= 0.7 * triv["loss"]
    # E1: never got far below the trivial predictor although the data is learnable
    e1 = ratio >= 0.8 and learnable
    # E2: a simple model scores better on unseen rows than the network on its own training rows
    e2 = ref is not None and best >= 2.0 * ref["loss"] and ref["loss"] < triv["loss"]
    res["stays_near_trivial"] = bool(e1)
    res["worse_than_reference"] = bool(e2)
    res["underfit"] = bool(e1 or e2)
    return res


# -- checks --------------------------------------------------------------------------------------
def check_unstable(ctx) -> list[Finding]:
    """Loss turning NaN, blowing up, diverging or oscillating."""
    sig = unstable_signal(ctx)
    if not sig:
        return []
    lr = lr_info(ctx)
    from .model import weight_growth_signal

    growth = weight_growth_signal(ctx)
    ev: dict[str, Any] = {"epochs": sig["epochs"], **_lr_evidence(lr)}
    if growth:
        ev["max_weight_growth"] = _r(growth["max_growth"])
    rec = ("Lower the learning rate (e.g. by 10x) or use a schedule with warm-up, clip gradients "
           "(clipnorm=1.0), normalise inputs and targets, and use a larger batch if it is very small.")
    if "nonfinite_epoch" in sig:
        ev.update({"first_nonfinite_epoch": sig["nonfinite_epoch"], "in": sig["nonfinite_in"]})
        return [Finding("training.unstable", Severity.CRITICAL,
                        f"The {sig['nonfinite_in'].replace('_', ' ')} turned NaN/inf at epoch {sig['nonfinite_epoch']}",
                        ev, rec, impact=1.0)]
    corroborated = lr["high"] or bool(growth and growth["huge"])
    kinds = []
    if sig.get("blowup") == "rise" or (sig.get("blowup") == "first_epoch" and corroborated):
        kinds.append("blew up")
        ev.update({"peak_loss": _r(sig["peak_loss"]), "untrained_loss": _r(sig["reference_loss"]),
                   "peak_over_untrained": _r(sig["peak_loss"] / sig["reference_loss"])})
    if sig.get("diverging"):
        dv = sig["diverging"]
        kinds.append("diverged")
        ev.update({"min_loss": _r(dv["min_loss"]), "min_epoch": dv["min_epoch"], "end_loss": _r(dv["end_loss"]),
                   "end_over_min": _r(dv["ratio"])})
    if sig.get("oscillating"):
        kinds.append("oscillated")
        ev.update({"epochs_with_jumps": sig["up_jumps"], "share_of_epochs_with_jumps": _r(sig["up_jump_share"], 3)})
    if not kinds:
        if lr["very_high"] and sig.get("up_jump_share", 0) >= 0.1:
            ev.update({"share_of_epochs_with_jumps": _r(sig["up_jump_share"], 3)})
            return [Finding("training.unstable", Severity.INFO,
                            "The learning rate is very high and the loss jumps now and then", ev, rec)]
        return []
    sev = Severity.CRITICAL if corroborated else Severity.WARNING
    upstream = data_cause(ctx)
    if upstream and not corroborated and sig.get("blowup") != "rise":
        sev, ev["explained_by"] = Severity.INFO, upstream  # unscaled inputs make the loss jumpy
    what = " and ".join(kinds)
    return [Finding("training.unstable", sev, f"Training was unstable: the loss {what}", ev, rec,
                    impact=0.8 if sev is Severity.CRITICAL else 0.5)]


def check_slow_convergence(ctx) -> list[Finding]:
    """The loss barely moved, or was still falling steadily when training stopped."""
    sig = slow_signal(ctx)
    if not sig or not (sig["barely_moved"] or sig["still_falling"]):
        return []
    un = unstable_signal(ctx) or {}
    if un.get("nonfinite_epoch") or un.get("diverging") or un.get("oscillating"):
        return []
    lr = lr_info(ctx)
    triv = trivial_loss(ctx)
    ev: dict[str, Any] = {"epochs": sig["epochs"], **_lr_evidence(lr),
                          "total_relative_decrease": _r(sig["total_relative_decrease"], 3),
                          "share_of_epochs_improving": _r(sig["monotone_share"], 3)}
    if "final_over_trivial" in sig:
        ev["final_loss_over_trivial_loss"] = _r(sig["final_over_trivial"], 3)
    if sig["barely_moved"]:
        # only a claim when the data is learnable: a simple model does clearly better
        ref = best_reference(ctx, need_below=0.8 * triv["loss"]) if triv else None
        if triv and (ref is None or ref["loss"] > 0.8 * triv["loss"]):
            return []
        if ref is not None:
            ev["reference_model"] = ref["kind"]
            ev["reference_loss_over_trivial"] = _r(ref["loss"] / triv["loss"], 3)
        title = f"The loss barely moved: it fell by only {sig['total_relative_decrease']:.1%} in {sig['epochs']} epochs"
    else:
        ev.update({"last_epochs": sig["window_epochs"], "train_loss_drop_in_last_epochs": _r(sig["train_drop_in_window"], 3)})
        if "val_drop_in_window" in sig:
            ev["val_loss_drop_in_last_epochs"] = _r(sig["val_drop_in_window"], 3)
        last = "the last epoch" if sig["window_epochs"] == 1 else f"the last {sig['window_epochs']} epochs"
        title = (f"Training stopped while the loss was still falling steadily "
                 f"({sig['train_drop_in_window']:.0%} in {last})")
    poor = bool(triv and sig.get("final_over_trivial", 0) >= 0.5)
    sev = Severity.CRITICAL if (lr["low"] and (poor or sig["barely_moved"])) else Severity.WARNING
    cause = explained_by_model_cause(ctx) or (None if lr["low"] else data_cause(ctx))
    if cause:
        sev = Severity.INFO  # e.g. the output layer cannot reach the targets: that is the cause
        ev["explained_by"] = cause
    rec = ("Raise the learning rate (Adam: 1e-3 to 1e-2) or train for more epochs with early stopping on the "
           "validation loss; normalise inputs so that the loss surface is better conditioned.")
    return [Finding("training.slow_convergence", sev, title, ev, rec,
                    impact=0.8 if sev is Severity.CRITICAL else 0.5)]


def explained_by_model_cause(ctx) -> str | None:
    """A model-level cause that by itself makes the loss stay high or flat: the output layer
    cannot fit the loss/target, gradients vanish and the loss stalled, or the network collapsed
    (blow-up with a corroborating cause, dead units with a constant output). Returns its code."""
    if ctx.model is None:
        return None
    from .model import vanishing_signal

    if output_mismatch_severe(ctx):
        return "model.output_loss_mismatch"
    van = vanishing_signal(ctx) or {}
    if van.get("vanishing"):
        from .model import stalled

        if stalled(ctx)["stalled"]:
            return "model.vanishing_gradients"
    if _explained_by_collapse(ctx):
        return "training.unstable / model.dead_units"
    return None


def _explained_by_collapse(ctx) -> bool:
    """A blow-up with a corroborating cause, or a constant output from dead units, explains a
    high training loss better than 'underfitting' does."""
    un = unstable_signal(ctx) or {}
    lr = lr_info(ctx)
    if ctx.model is None:
        return False
    from .model import _constant_output, weight_growth_signal

    growth = weight_growth_signal(ctx) or {}
    if un.get("blowup") and (lr["high"] or growth.get("huge")):
        return True
    st = layer_stats(ctx) or {}
    dead_path = any(h.get("dead_share", 0) >= 0.95 for h in st.get("hidden", []))
    return bool(dead_path and _constant_output(ctx))


def check_underfitting(ctx) -> list[Finding]:
    """Training loss stays high: the model does not fit even its training data."""
    if series(ctx, "loss") is None:
        return []
    sig = underfit_signal(ctx)
    if not sig or not sig.get("underfit"):
        return []
    ev: dict[str, Any] = {"best_train_loss": _r(sig["best_train_loss"]), "trivial_loss": _r(sig["trivial_loss"]),
                          "train_loss_over_trivial": _r(sig["ratio_to_trivial"], 3), "from": sig["source"]}
    if "measured_train_loss_over_trivial" in sig:
        ev["measured_train_loss_over_trivial"] = _r(sig["measured_train_loss_over_trivial"], 3)
    ref = sig.get("reference")
    if ref:
        ev.update({"reference_model": ref["kind"], "reference_heldout_loss": _r(ref["loss"]),
                   "train_loss_over_reference": _r(sig["train_over_reference"], 3),
                   f"reference_heldout_{ref['metric']}": _r(ref["score"], 3)})
    tr = sample_metric(ctx, "train") if ctx.model is not None and ctx.has_train else None
    if tr is not None:
        ev[f"model_train_{'accuracy' if ctx.is_classification else 'r2'}"] = _r(tr, 3)
    both = sig["stays_near_trivial"] and sig["worse_than_reference"]
    sev = Severity.CRITICAL if both else Severity.WARNING
    # a learning rate far too low (or an unstable run) explains the high loss: name that cause
    # first and keep this as context
    slow = slow_signal(ctx) or {}
    un = unstable_signal(ctx) or {}
    lr = lr_info(ctx)
    if sev is Severity.CRITICAL and (slow.get("still_falling") or slow.get("barely_moved")):
        sev = Severity.WARNING  # training stopped mid-way: slow_convergence names the likelier cause
    cause = explained_by_model_cause(ctx)
    if (slow.get("barely_moved") and lr["low"]) or un.get("nonfinite_epoch") or cause:
        sev = Severity.INFO
        if cause:
            ev["explained_by"] = cause
    if sig["stays_near_trivial"]:
        title = (f"The training loss never got far below that of a constant prediction "
                 f"({sig['ratio_to_trivial']:.0%} of it)")
    else:
        title = (f"The model fits its own training data worse than a simple {ref['kind']} fits unseen rows "
                 f"(loss {sig['train_over_reference']:.1f}x higher)")
    rec = ("Give the model more capacity (wider/more layers), train longer or with a better learning rate, "
           "normalise the inputs, and reduce regularisation (dropout, weight decay) if it is strong.")
    return [Finding("training.underfitting", sev, title, ev, rec,
                    impact=0.9 if sev is Severity.CRITICAL else 0.6)]


def check_overfitting(ctx) -> list[Finding]:
    """Validation loss rising from its minimum while the training loss keeps falling."""
    sig = overfit_signal(ctx)
    if not sig or not sig["rising"]:
        return []
    ev: dict[str, Any] = {
        "epochs": sig["epochs"], "val_loss_min": _r(sig["val_loss_min"]), "val_loss_min_epoch": sig["val_min_epoch"],
        "val_loss_end": _r(sig["val_loss_end"]), "val_loss_end_over_min": _r(sig["rise"], 3),
        "epochs_after_min": sig["epochs_after_min"], "train_loss_at_val_min": _r(sig["train_loss_at_val_min"]),
        "train_loss_end": _r(sig["train_loss_end"]),
    }
    gap = generalisation_gap(ctx)
    if gap:
        ev.update({f"train_{gap['metric']}": _r(gap["train"], 3), f"test_{gap['metric']}": _r(gap["test"], 3)})
    rec = ("Use early stopping on the validation loss with restore_best_weights=True, add regularisation "
           "(dropout, weight decay), reduce the model's size, or get more training data.")
    triv = _ref_loss(ctx)
    if triv:
        ev["val_loss_rise_over_trivial"] = _r((sig["val_loss_end"] - sig["val_loss_min"]) / triv, 3)
    if not sig["claimed"]:
        why = ("early stopping likely kept the best epoch" if sig["early_stopping_like"]
               else "a small rise compared with what the model learned")
        title = (f"Validation loss rose {sig['rise'] - 1:.0%} above its minimum in the last "
                 f"{sig['epochs_after_min']} epochs ({why})")
        return [Finding("training.overfitting", Severity.INFO, title, ev, rec)]
    big_gap = bool(gap and (gap["gap"] >= 0.1 if ctx.is_classification else gap["gap"] >= 0.2))
    sev = Severity.CRITICAL if (sig["rise"] >= 1.5 and big_gap) else Severity.WARNING
    title = (f"Overfitting: validation loss rose to {sig['rise']:.2f}x its minimum over the last "
             f"{sig['epochs_after_min']} epochs while the training loss kept falling")
    return [Finding("training.overfitting", sev, title, ev, rec, impact=0.8 if sev is Severity.CRITICAL else 0.5)]


def check_too_few_samples(ctx) -> list[Finding]:
    """Too little training data for the task and the model's size, shown by how it learned."""
    if not ctx.has_train:
        return []
    n = int(len(ctx.inputs.train))
    n_feat = len(ctx.inputs.feature_columns)
    params = int(ctx.model.count_params()) if ctx.model is not None else None
    ev: dict[str, Any] = {"training_rows": n, "features": n_feat}
    few = []
    if ctx.is_classification:
        counts = np.bincount(ctx.y_train, minlength=len(ctx.labels))
        present = counts[counts > 0]
        min_class = int(present.min()) if len(present) else 0
        ev["rows_in_smallest_class"] = min_class
        if min_class < 30:
            few.append("class")
    else:
        if n < max(100, 10 * n_feat):
            few.append("rows")
    if params is not None:
        ev["parameters"] = params
        ev["parameters_per_row"] = _r(params / max(n, 1), 3)
        if params >= 10 * n:
            few.append("parameters")
    if not few:
        return []
    # the learning signal: overfitting in the history, or a large measured train/test gap
    of = overfit_signal(ctx) or {}
    gap = generalisation_gap(ctx)
    signals = []
    if of.get("claimed"):
        signals.append("validation loss rising")
        ev["val_loss_end_over_min"] = _r(of["rise"], 3)
    if of and of.get("val_loss_end") is not None and of.get("train_loss_end", 0) >= 0:
        tl = of["train_loss_end"]
        triv = _ref_loss(ctx)
        if triv and tl < 0.2 * triv and of["val_loss_end"] >= max(5 * tl, 0.5 * triv):
            signals.append("validation loss far above training loss")
            ev["val_loss_end"] = _r(of["val_loss_end"])
            ev["train_loss_end"] = _r(tl)
    if gap:
        ev[f"train_{gap['metric']}"] = _r(gap["train"], 3)
        ev[f"test_{gap['metric']}"] = _r(gap["test"], 3)
        # with validation curves, they decide; the test gap alone (no curves) also counts
        # the bar is lower when the data is small on two counts (e.g. per class and per parameter)
        bar = (0.1 if ctx.is_classification else 0.25) * (0.5 if len(few) >= 2 else 1.0)
        if gap["gap"] >= bar and (signals or not of or len(few) >= 2):
            signals.append("train/test gap")
    data_small = "class" in few or "rows" in few
    if gap and data_small:
        from .model import learning_curve

        lc = learning_curve(ctx)
        # a simple model still gains clearly from more rows, and the network memorised more
        # than it generalised: the data set, not the model, limits the results
        if lc and lc["gain"] >= (0.03 if ctx.is_classification else 0.05) \
                and gap["gap"] >= (0.05 if ctx.is_classification else 0.1):
            signals.append("a simple model still gains from more rows")
            ev.update({f"reference_{lc['metric']}_on_half_rows": _r(lc["score_half"], 3),
                       f"reference_{lc['metric']}_on_all_rows": _r(lc["score_all"], 3)})
    if not signals:
        return []
    if not data_small and not ({"validation loss rising", "validation loss far above training loss"} & set(signals)):
        return []  # many rows per class: only the curves can show the model is starved of data
    ev["evidence_of_variance"] = ", ".join(signals)
    sev = Severity.CRITICAL if (len(few) >= 2 and len(signals) >= 2) else Severity.WARNING
    what = {"class": "too few rows per class", "rows": "too few rows for the number of features",
            "parameters": "far more parameters than rows"}
    title = f"Too little training data for this model: {', '.join(what[f] for f in few)}, and the model does not generalise"
    rec = ("Collect more labelled data (or augment it), use a smaller or more regularised model, or "
           "cross-validate to get a reliable estimate; transfer learning helps when data is scarce.")
    return [Finding("data.too_few_samples", sev, title, ev, rec, impact=0.8 if sev is Severity.CRITICAL else 0.5)]



CHECKS = [
    check_overfitting,
    check_underfitting,
    check_unstable,
    check_slow_convergence,
    check_too_few_samples,
]
