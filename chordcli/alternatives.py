"""Ranked alternatives: the chords a model considers for each segment, with probabilities.

A segment's distribution is the mean of the model's chord posteriors (``ModelOutput.chord``,
529 classes) over the frames it spans. It is carried into the transcription's vocabulary by
adding up the classes that name the same chord there (with ``--vocab majmin`` the probability
of ``A:min`` is that of every minor-family chord on A: ``A:min``, ``A:min7``, ``A:dim`` ...) and
transposed with the labels. The :data:`DEFAULT_N_ALTERNATIVES` most probable labels are kept,
most probable first; being part of one distribution they sum to at most 1. Alternatives are
root-position chords: the bass of a slash chord is decided separately (the bass head).

A segment's ``confidence`` becomes the probability of its own label in that distribution (the
mean posterior of the decoded class for the full vocabulary), after the model's calibration
temperature (:func:`confidence_temperature`) has sharpened or flattened the posteriors so that
confidences match how often the chords are right (measured in docs/benchmarks.md).

Frame ``i`` is centred at ``i / fps`` seconds, so a segment ``[start_s, end_s)`` covers the
frames ``floor(start_s * fps + 1/2) .. floor(end_s * fps + 1/2) - 1`` (at least one).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from chordcli.segments import Alternative, ChordSegment
from theory.simplify import simplify_label
from theory.transpose import transpose_label
from theory.vocabulary import N_CLASSES, class_label

__all__ = [
    "DEFAULT_N_ALTERNATIVES",
    "MIN_N_ALTERNATIVES",
    "confidence_temperature",
    "with_alternatives",
]

#: Alternatives kept per segment.
DEFAULT_N_ALTERNATIVES = 5
#: Fewest alternatives a segment can have (the smallest vocabulary has 25 labels).
MIN_N_ALTERNATIVES = 3


def with_alternatives(
    segments: Sequence[ChordSegment],
    chord: np.ndarray,
    *,
    frames_per_second: float,
    vocab: str = "full",
    shift: int = 0,
    n: int = DEFAULT_N_ALTERNATIVES,
    temperature: float = 1.0,
) -> list[ChordSegment]:
    """Attach the `n` most probable chords of each segment, and its label's probability.

    Parameters
    ----------
    segments : sequence of ChordSegment
        Segments in time order, labels already in `vocab` and transposed by `shift`.
    chord : ndarray, shape (n_frames, 529)
        Chord-class posteriors of the model, rows summing to 1.
    frames_per_second : float
        Frame rate of `chord`.
    vocab : {'full', 'sevenths', 'majmin'}
        Vocabulary of the labels (:func:`theory.simplify.simplify_label`).
    shift : int
        Semitones the labels were transposed by.
    n : int
        Alternatives per segment, at least :data:`MIN_N_ALTERNATIVES`.
    temperature : float
        Calibration temperature of the model (:func:`confidence_temperature`): every frame's
        posteriors become ``p ** (1 / temperature)``, renormalised, before they are averaged.

    Returns
    -------
    list of ChordSegment
        The segments with ``alternatives`` set, most probable first, and ``confidence`` the
        probability of the segment's own label (its root-position chord) in the same
        distribution; a label the distribution does not name keeps its confidence.

    Raises
    ------
    ValueError
        If `chord` is not (n_frames, 529) or `n` is below the minimum.
    """
    chord = np.asarray(chord)
    if chord.ndim != 2 or chord.shape[1] != N_CLASSES:
        raise ValueError(f"chord must have shape (n_frames, {N_CLASSES}), got {chord.shape}")
    if n < MIN_N_ALTERNATIVES:
        raise ValueError(f"n must be at least {MIN_N_ALTERNATIVES}, got {n}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature}")
    n_frames = chord.shape[0]
    if n_frames == 0:
        return list(segments)
    labels, members = _label_map(vocab, shift % 12)
    index = {label: i for i, label in enumerate(labels)}
    spans = []
    for seg in segments:
        a = _frame(seg.start_s, frames_per_second, n_frames - 1)
        spans.append((a, max(a + 1, _frame(seg.end_s, frames_per_second, n_frames))))
    bounds = np.unique(np.array(spans, dtype=np.int64).reshape(-1))
    cumulative = _cumulative_rows(chord, temperature, bounds)
    out = []
    for seg, (a, b) in zip(segments, spans, strict=True):
        ia, ib = np.searchsorted(bounds, (a, b))
        mean = (cumulative[ib] - cumulative[ia]) / (b - a)
        mean /= max(1.0, float(mean.sum()))  # float32 rows may sum to a hair above 1
        probs = np.bincount(members, weights=mean, minlength=len(labels))
        top = np.argsort(-probs, kind="stable")[:n]
        alternatives = tuple(
            Alternative(labels[i], min(1.0, max(0.0, float(probs[i])))) for i in top
        )
        own = index.get(seg.label.split("/")[0])
        confidence = seg.confidence if own is None else min(1.0, float(probs[own]))
        out.append(replace(seg, confidence=confidence, alternatives=alternatives))
    return out


def confidence_temperature(backend: object) -> float:
    """Return the calibration temperature of a loaded model (1.0 if it has none).

    ChordNet models read it from the ``confidence.temperature`` entry of their
    ``config.json``, fitted by ``benchmarks/bench_calibration.py --fit``.
    """
    value = getattr(backend, "confidence_temperature", None)
    return 1.0 if value is None else float(value)


#: Frames tempered and summed at a time by :func:`_cumulative_rows` (bounds its memory).
_BLOCK_FRAMES = 4096


def _cumulative_rows(chord: np.ndarray, temperature: float, rows: np.ndarray) -> np.ndarray:
    """Rows `rows` (sorted, in 0 .. n_frames) of the running sum of the tempered posteriors.

    Row ``k`` is the sum of the tempered frames ``0 .. k - 1`` (row 0 is zero), float64:
    ``np.cumsum`` over the whole song with a zero row in front, computed block by block (the
    same sums in the same order) so that no float64 copy of all the posteriors is made.
    """
    out = np.zeros((len(rows), chord.shape[1]))
    carry = None
    for start in range(0, chord.shape[0], _BLOCK_FRAMES):
        block = _tempered(chord[start : start + _BLOCK_FRAMES], temperature)
        if carry is None:
            sums = np.cumsum(block, axis=0)
        else:
            sums = np.cumsum(np.concatenate([carry, block]), axis=0)[1:]
        here = (rows > start) & (rows <= start + len(block))
        out[here] = sums[rows[here] - 1 - start]
        carry = sums[-1:]
    return out


def _tempered(chord: np.ndarray, temperature: float) -> np.ndarray:
    """Posteriors raised to ``1 / temperature`` and renormalised per frame, float64."""
    p = np.asarray(chord, dtype=np.float64)
    if temperature == 1.0:
        return p
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    q = np.exp(logits)
    return q / q.sum(axis=1, keepdims=True)


def _frame(time_s: float, frames_per_second: float, limit: int) -> int:
    """First frame whose centre is at or after `time_s` (see the module docstring)."""
    return min(limit, max(0, math.floor(time_s * frames_per_second + 0.5 + 1e-9)))


@functools.lru_cache(maxsize=16)
def _label_map(vocab: str, shift: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Labels of `vocab` (transposed by `shift`) and the label index of each class."""
    index: dict[str, int] = {}
    members = np.empty(N_CLASSES, dtype=np.int64)
    for cls in range(N_CLASSES):
        label = transpose_label(simplify_label(class_label(cls), vocab), shift)
        members[cls] = index.setdefault(label, len(index))
    members.setflags(write=False)
    return tuple(index), members
