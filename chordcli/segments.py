"""Chord segments: the unit shared by readers, decoders and writers."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChordSegment"]


@dataclass(frozen=True, slots=True)
class ChordSegment:
    """One chord over a time span.

    Parameters
    ----------
    start_s : float
        Start time in seconds from the beginning of the recording.
    end_s : float
        End time in seconds; greater than `start_s` in valid data.
    label : str
        Harte chord label (``"C:maj7"``, ``"A:min/b3"``), ``"N"`` for no chord
        or ``"X"`` for an unknown chord.
    confidence : float or None, optional
        Probability of the label in [0, 1] as estimated by a model, or None
        for annotations (LAB files carry no confidence).
    """

    start_s: float
    end_s: float
    label: str
    confidence: float | None = None

    @property
    def duration_s(self) -> float:
        """Length of the segment in seconds."""
        return self.end_s - self.start_s
