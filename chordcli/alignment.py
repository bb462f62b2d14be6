"""Reference and estimate cut at the union of their boundaries, as mir_eval compares them.

The first three steps of a chord comparison (see :mod:`chordcli.evaluate`): gaps between
segments filled with ``N`` (gaps and overlaps under
:data:`~chordcli.lab.OVERLAP_TOLERANCE_S` closed instead), the estimate cropped or padded to
the reference span, both cut at the union of their boundaries. The scores
(:mod:`chordcli.evaluate`) and the quality confusion (:mod:`chordcli.confusion`) both start
from an :class:`Alignment`, so it lives in a module of its own below both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chordcli.lab import OVERLAP_TOLERANCE_S
from chordcli.segments import ChordSegment
from theory import NO_CHORD

__all__ = ["Alignment", "align_segments"]


@dataclass(frozen=True)
class Alignment:
    """Reference and estimate cut at the union of their boundaries.

    Attributes
    ----------
    intervals : ndarray, shape (n, 2), float64
        Start and end of each piece, seconds; contiguous, spanning the reference.
    ref_labels : tuple of str, length n
        Reference label of each piece.
    est_labels : tuple of str, length n
        Estimated label of each piece.
    ref_intervals : ndarray, shape (k, 2), float64
        The gap-filled reference segments (before cutting).
    est_intervals : ndarray, shape (m, 2), float64
        The gap-filled estimate adjusted to the reference span (before cutting).
    ref_segment_labels, est_segment_labels : tuple of str
        Labels of those segments.
    """

    intervals: np.ndarray
    ref_labels: tuple[str, ...]
    est_labels: tuple[str, ...]
    ref_intervals: np.ndarray
    est_intervals: np.ndarray
    ref_segment_labels: tuple[str, ...]
    est_segment_labels: tuple[str, ...]

    @property
    def durations_s(self) -> np.ndarray:
        """Duration of each piece in seconds, shape (n,)."""
        return self.intervals[:, 1] - self.intervals[:, 0]


def _filled(segments: Sequence[ChordSegment]) -> tuple[np.ndarray, list[str]]:
    """Intervals and labels with gaps filled by N; rounding gaps and overlaps closed.

    A segment starting within :data:`~chordcli.lab.OVERLAP_TOLERANCE_S` of the previous end
    (before or after it) starts exactly there, so float rounding in annotation files neither
    inserts slivers of N nor splits a chord for the segmentation scores.
    """
    intervals: list[tuple[float, float]] = []
    labels: list[str] = []
    for seg in sorted(segments, key=lambda s: s.start_s):
        start, end = float(seg.start_s), float(seg.end_s)
        if intervals:
            prev_end = intervals[-1][1]
            if start > prev_end + OVERLAP_TOLERANCE_S:
                intervals.append((prev_end, start))
                labels.append(NO_CHORD)
            elif start > prev_end - OVERLAP_TOLERANCE_S:
                start = prev_end
            start = max(start, prev_end)
        if end > start:
            intervals.append((start, end))
            labels.append(seg.label)
    return np.asarray(intervals, dtype=np.float64).reshape(-1, 2), labels


def align_segments(
    reference: Sequence[ChordSegment], estimate: Sequence[ChordSegment]
) -> Alignment:
    """Cut a reference and an estimate at the union of their boundaries, as mir_eval does.

    Parameters
    ----------
    reference : sequence of ChordSegment
        Reference chords in time order; gaps count as ``N``.
    estimate : sequence of ChordSegment
        Estimated chords in time order; cropped or padded with ``N`` to the reference span.

    Returns
    -------
    Alignment
        The common pieces with both labels.

    Raises
    ------
    ValueError
        If the reference has no segment of positive duration.
    """
    import mir_eval

    ref_intervals, ref_labels = _filled(reference)
    if len(ref_labels) == 0:
        raise ValueError("the reference has no chord segments")
    est_intervals, est_labels = _filled(estimate)
    start, end = float(ref_intervals[0, 0]), float(ref_intervals[-1, 1])
    if len(est_labels) == 0:
        est_intervals, est_labels = np.array([[start, end]]), [NO_CHORD]
    est_intervals, est_labels = mir_eval.util.adjust_intervals(
        est_intervals, est_labels, start, end, NO_CHORD, NO_CHORD
    )
    intervals, ref_cut, est_cut = mir_eval.util.merge_labeled_intervals(
        ref_intervals, ref_labels, est_intervals, est_labels
    )
    return Alignment(
        intervals=np.asarray(intervals, dtype=np.float64).reshape(-1, 2),
        ref_labels=tuple(ref_cut),
        est_labels=tuple(est_cut),
        ref_intervals=ref_intervals,
        est_intervals=np.asarray(est_intervals, dtype=np.float64).reshape(-1, 2),
        ref_segment_labels=tuple(ref_labels),
        est_segment_labels=tuple(est_labels),
    )
