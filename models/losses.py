"""Losses of the ChordNet heads: focal loss, Tversky and focal-Tversky, all with frame masks.

Every loss returns the mean over the frames whose weight is non-zero (0 when there are none),
so padded or unlabelled frames (``X`` chords, songs without a key) never count.

* :func:`focal_loss` (Lin et al. 2017) for the categorical heads (change, bass, key, chord):
  ``-alpha * (1 - p_t) ** gamma * log p_t`` with ``p_t`` the softmax probability of the target.
* :func:`tversky_loss` (Salehi et al. 2017) for the 25-dim chord-tone + bass vectors:
  ``1 - TI`` with ``TI = (TP + s) / (TP + alpha FP + beta FN + s)`` per frame, where
  ``TP = sum p g``, ``FP = sum p (1 - g)``, ``FN = sum (1 - p) g`` over the 25 entries.
* :func:`focal_tversky_loss` (Abraham & Khan 2019): ``(1 - TI) ** gamma``.

Functions take and return backend tensors through :mod:`keras.ops` (numpy arrays are
accepted), so they run inside the training ``tf.function`` and in plain numpy tests alike.
"""

from __future__ import annotations

from typing import Any

from keras import ops

__all__ = [
    "TVERSKY_SMOOTH",
    "chroma_probabilities",
    "confident_target_loss",
    "consistency_loss",
    "focal_loss",
    "focal_tversky_loss",
    "masked_mean",
    "tversky_index",
    "tversky_loss",
]

#: Smoothing term ``s`` of the Tversky index (keeps it defined for empty vectors).
TVERSKY_SMOOTH = 1.0

#: Floor of the base of the focal factors ``(1 - p_t) ** gamma`` and ``(1 - TI) ** gamma``.
#: For ``gamma < 1`` the power's derivative is infinite at 0, which a confident network reaches
#: in float32 (saturated sigmoids give ``TI == 1`` exactly); the floor keeps every gradient
#: finite and changes a loss by at most ``FOCAL_FLOOR ** gamma``.
FOCAL_FLOOR = 1e-6


def _focal_factor(x: Any, gamma: float) -> Any:
    """Return ``max(x, FOCAL_FLOOR) ** gamma`` (zero gradient below the floor)."""
    return ops.power(ops.maximum(x, FOCAL_FLOOR), gamma)


def masked_mean(values: Any, weights: Any | None = None) -> Any:
    """Return ``sum(values * weights) / sum(weights)``, 0 when all weights are 0.

    Parameters
    ----------
    values : array, shape (...)
        Per-frame losses.
    weights : array, shape (...), optional
        Frame weights (1 keep, 0 ignore); None weighs all frames 1.

    Returns
    -------
    scalar
        The weighted mean.
    """
    values = ops.cast(values, "float32")
    if weights is None:
        return ops.mean(values)
    weights = ops.cast(weights, "float32")
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), 1e-8)


def focal_loss(
    logits: Any,
    labels: Any,
    *,
    weights: Any | None = None,
    gamma: float = 2.0,
    alpha: float = 1.0,
    label_smoothing: float = 0.0,
) -> Any:
    """Categorical focal loss on softmax logits.

    Parameters
    ----------
    logits : array, shape (..., n_classes)
        Unnormalised scores.
    labels : int array, shape (...)
        Target class per frame; entries with weight 0 may hold any value (e.g. -1).
    weights : array, shape (...), optional
        Frame weights (0 for padding or unknown targets).
    gamma : float, optional
        Focusing parameter; 0 gives the cross-entropy.
    alpha : float, optional
        Overall scale.
    label_smoothing : float, optional
        Mix the one-hot target with a uniform distribution by this amount.

    Returns
    -------
    scalar
        Mean loss over the weighted frames, in nats.
    """
    logits = ops.cast(logits, "float32")
    n_classes = logits.shape[-1]
    labels = ops.cast(labels, "int32")
    safe = ops.where(labels < 0, 0, labels)
    target = ops.one_hot(safe, n_classes)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    log_p = ops.log_softmax(logits, axis=-1)
    p = ops.exp(log_p)
    per_class = -target * _focal_factor(1.0 - p, gamma) * log_p
    loss = alpha * ops.sum(per_class, axis=-1)
    if weights is None:
        weights = ops.cast(labels >= 0, "float32")
    else:
        weights = ops.cast(weights, "float32") * ops.cast(labels >= 0, "float32")
    return masked_mean(loss, weights)


def chroma_probabilities(logits: Any) -> Any:
    """Return 25-dim vector probabilities: sigmoid on ``[..., :12]``, softmax on ``[..., 12:]``."""
    logits = ops.cast(logits, "float32")
    return ops.concatenate(
        [ops.sigmoid(logits[..., :12]), ops.softmax(logits[..., 12:], axis=-1)], axis=-1
    )


def tversky_index(
    probs: Any,
    targets: Any,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = TVERSKY_SMOOTH,
) -> Any:
    """Per-frame Tversky index of probability vectors against binary targets.

    Parameters
    ----------
    probs : array, shape (..., n)
        Predicted probabilities.
    targets : array, shape (..., n)
        Targets in [0, 1].
    alpha, beta : float, optional
        Weights of false positives and false negatives (0.5, 0.5 is the Dice coefficient).
    smooth : float, optional
        Added to numerator and denominator.

    Returns
    -------
    array, shape (...)
        ``(TP + s) / (TP + alpha FP + beta FN + s)``.
    """
    p = ops.cast(probs, "float32")
    g = ops.cast(targets, "float32")
    tp = ops.sum(p * g, axis=-1)
    fp = ops.sum(p * (1.0 - g), axis=-1)
    fn = ops.sum((1.0 - p) * g, axis=-1)
    return (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)


def tversky_loss(
    logits: Any,
    targets: Any,
    *,
    weights: Any | None = None,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = TVERSKY_SMOOTH,
) -> Any:
    """Tversky loss ``1 - TI`` of 25-dim chord-tone + bass vectors.

    Parameters
    ----------
    logits : array, shape (..., 25)
        Vector logits (12 sigmoid, 13 softmax; see :func:`chroma_probabilities`).
    targets : array, shape (..., 25)
        Targets from :func:`theory.targets.chord_target`.
    weights : array, shape (...), optional
        Frame weights.
    alpha, beta, smooth : float, optional
        As :func:`tversky_index`.

    Returns
    -------
    scalar
        Mean ``1 - TI`` over the weighted frames.
    """
    ti = tversky_index(chroma_probabilities(logits), targets, alpha=alpha, beta=beta, smooth=smooth)
    return masked_mean(1.0 - ti, weights)


def focal_tversky_loss(
    logits: Any,
    targets: Any,
    *,
    weights: Any | None = None,
    alpha: float = 0.5,
    beta: float = 0.5,
    gamma: float = 0.75,
    smooth: float = TVERSKY_SMOOTH,
) -> Any:
    """Focal-Tversky loss ``(1 - TI) ** gamma`` of 25-dim vectors.

    Parameters
    ----------
    logits : array, shape (..., 25)
        Vector logits.
    targets : array, shape (..., 25)
        Targets.
    weights : array, shape (...), optional
        Frame weights.
    alpha, beta, smooth : float, optional
        As :func:`tversky_index`.
    gamma : float, optional
        Exponent; below 1 it emphasises frames that are nearly right.

    Returns
    -------
    scalar
        Mean ``(1 - TI) ** gamma`` over the weighted frames.
    """
    ti = tversky_index(chroma_probabilities(logits), targets, alpha=alpha, beta=beta, smooth=smooth)
    return masked_mean(_focal_factor(1.0 - ti, gamma), weights)


def consistency_loss(probs: Any, mapped: Any, weights: Any) -> Any:
    """Return the weighted mean over frames of the squared difference of two views' probabilities.

    Parameters
    ----------
    probs, mapped : tensor, shape (batch, frames, classes)
        One head's probabilities of a view, and those of its pitch-shifted partner mapped back
        to the same classes.
    weights : tensor, shape (batch, frames)
        Frame weights (in-song frames 1, padding 0).
    """
    diff = ops.cast(probs, "float32") - ops.cast(mapped, "float32")
    return masked_mean(ops.sum(diff * diff, axis=-1), weights)


def confident_target_loss(
    probs: Any, mapped: Any, weights: Any, threshold: float, ignore_class: int | None = None
) -> Any:
    """Return the consistency of two views as hard targets where one view is confident.

    Where a view's largest probability is at least `threshold`, its class is a fixed target
    (no gradient flows into the view that sets it) for the other view's cross-entropy, both
    ways; the mean is over all weighted frames, so unconfident frames add 0. Unlike
    :func:`consistency_loss`, this is not lowered by making both views flat: it only ever
    sharpens the view that does not set the target (FixMatch, Sohn et al. 2020).

    `probs`, `mapped` and `weights` are as in :func:`consistency_loss`; `threshold`, in
    (0, 1), is the probability a view's top class needs to set a target. A frame whose top
    class is `ignore_class` sets no target (the chord head passes ``N``: on unlabelled
    recordings a confident no-chord in one view would teach the other view no-chord, and the
    network drifts to calling ``N`` on real music).
    """
    probs = ops.cast(probs, "float32")
    mapped = ops.cast(mapped, "float32")

    def one_way(source: Any, other: Any) -> Any:
        source = ops.stop_gradient(source)
        top = ops.argmax(source, axis=-1)
        target = ops.one_hot(top, int(source.shape[-1]))
        confident = ops.cast(ops.max(source, axis=-1) >= threshold, "float32")
        if ignore_class is not None:
            confident = confident * ops.cast(top != ignore_class, "float32")
        cross_entropy = -ops.sum(target * ops.log(ops.maximum(other, 1e-7)), axis=-1)
        return masked_mean(cross_entropy * confident, weights)

    return 0.5 * (one_way(probs, mapped) + one_way(mapped, probs))
