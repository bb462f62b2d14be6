"""Chord segments and transcriptions: the units shared by readers, decoders and writers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_BEATS_PER_BAR",
    "MAX_TIME_S",
    "TEMPO_RANGE_BPM",
    "Alternative",
    "ChordSegment",
    "Transcription",
    "capo_fret",
    "grid_problem",
    "time_problem",
]


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


#: Most beats in a bar that a chord file may declare (the metre of ``--beats-per-bar``).
MAX_BEATS_PER_BAR: int = 16
#: Slowest and fastest tempo that a chord file may declare or its beats may make (beats per
#: minute; the range of ``chordcli export --tempo``): a faster grid over a long file would not
#: fit in memory.
TEMPO_RANGE_BPM: tuple[float, float] = (1.0, 400.0)


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


def grid_problem(
    *, tempo_bpm: float | None, beats_s: Sequence[float], beats_per_bar: float
) -> str | None:
    """Say what is wrong with the tempo, beats or metre read from a file, or None.

    The beats must be usable times (:func:`time_problem`), increasing, and no faster than
    :data:`TEMPO_RANGE_BPM` allows (their median interval); the tempo within that range; the
    metre 1 to :data:`MAX_BEATS_PER_BAR` beats a bar.

    Returns
    -------
    str or None
        The problem, naming the value (``'tempo 1e+12 bpm is outside 1..400 bpm'``).
    """
    slowest, fastest = TEMPO_RANGE_BPM
    if tempo_bpm is not None and not (math.isfinite(tempo_bpm) and slowest <= tempo_bpm <= fastest):
        return f"tempo {tempo_bpm:g} bpm is outside {slowest:g}..{fastest:g} bpm"
    if not 1 <= beats_per_bar <= MAX_BEATS_PER_BAR:
        return f"{beats_per_bar:g} beats per bar (1..{MAX_BEATS_PER_BAR} are read)"
    for beat in beats_s:
        if (problem := time_problem(beat)) is not None:
            return f"beat time {beat:g} {problem}"
    intervals = [b - a for a, b in zip(beats_s, beats_s[1:], strict=False)]
    if any(interval <= 0 for interval in intervals):
        return "the beat times are not increasing"
    if intervals and 60.0 / statistics.median(intervals) > fastest:
        return f"the beats are faster than {fastest:g} bpm"
    return None


def capo_fret(value: object) -> int:
    """Return a capo fret read from a file (0..11; None or absent is 0).

    Raises
    ------
    ValueError
        If `value` is not a whole number from 0 to 11.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"capo {value!r} is not a fret number")
    if not 0 <= value <= 11:
        raise ValueError(f"capo {value!r} is not a fret 0..11")
    return int(value)


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
    capo : int
        Capo fret the chords are written for (0: none): the labels are the shapes played,
        ``capo`` semitones below the sounding chords. Charts, figures, JSON and JAMS say so.
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
    capo: int = 0
