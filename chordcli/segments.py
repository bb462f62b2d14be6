"""Chord segments and transcriptions: the units shared by readers, decoders and writers."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MAX_TIME_S", "Alternative", "ChordSegment", "Transcription", "time_problem"]


@dataclass(frozen=True, slots=True)
class Alternative:
    """A chord the model considers for a segment, with its probability.

    Parameters
    ----------
    label : str
        Harte label in the transcription's vocabulary (root position).
    probability : float
        Mean model posterior of the label over the segment's frames, in [0, 1].
    """

    label: str
    probability: float


#: Latest time, in seconds, that a chord file may hold (24 h): beyond it a time is a unit or
#: typing error, and the bars, beats and frames built from it would not fit in memory.
MAX_TIME_S: float = 24 * 3600.0


def time_problem(value: float) -> str | None:
    """Say what is wrong with a time read from a file, or None if it is a usable time.

    Parameters
    ----------
    value : float
        A time in seconds.

    Returns
    -------
    str or None
        ``'is not a finite number'``, ``'is negative'`` or ``'is beyond 86400 s (24 h)'``.
    """
    if not math.isfinite(value):
        return "is not a finite number"
    if value < 0:
        return "is negative"
    if value > MAX_TIME_S:
        return f"is beyond {MAX_TIME_S:.0f} s (24 h)"
    return None


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
    alternatives : tuple of Alternative, optional
        The most probable chords of the segment by the model's posteriors, most probable
        first (see :mod:`chordcli.alternatives`); empty for annotations.
    """

    start_s: float
    end_s: float
    label: str
    confidence: float | None = None
    alternatives: tuple[Alternative, ...] = ()

    @property
    def duration_s(self) -> float:
        """Length of the segment in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Transcription:
    """The result of transcribing one recording, or of reading a transcription back.

    Parameters
    ----------
    segments : tuple of ChordSegment
        Chords in time order, non-overlapping; gaps are allowed (readers may fill them with N).
    duration_s : float
        Length of the recording in seconds (the end of the last segment if unknown).
    key : int
        Key class of :mod:`theory.keys` (0..11 major, 12..23 minor, 24 none).
    key_confidence : float or None
        Probability of the key, if estimated.
    tempo_bpm : float or None
        Estimated tempo in beats per minute.
    beats_s : tuple of float
        Beat times in seconds.
    downbeats_s : tuple of float
        Times of the first beat of each bar, a subset of ``beats_s``.
    beats_per_bar : int
        Metre used for bars (4 for 4/4).
    source : str or None
        The audio file (or the transcription file read back).
    model : str or None
        Name of the model that produced it, for provenance.
    tuning_cents : float or None
        Tuning of the recording in cents from A = 440 Hz that the features were centred on
        (estimated or given), or None if unknown.
    """

    segments: tuple[ChordSegment, ...]
    duration_s: float
    key: int = 24
    key_confidence: float | None = None
    tempo_bpm: float | None = None
    beats_s: tuple[float, ...] = ()
    downbeats_s: tuple[float, ...] = ()
    beats_per_bar: int = 4
    source: str | None = None
    model: str | None = None
    tuning_cents: float | None = None
