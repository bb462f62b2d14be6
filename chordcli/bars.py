"""Bars and beats for chord charts: lay chord segments on a grid of whole bars.

Lead sheets, ChordPro, MusicXML and MIDI show chords in bars. This module turns the times of a
:class:`~chordcli.segments.Transcription` into such a grid:

1. :func:`make_grid` builds a :class:`BarGrid`, the beat times of whole bars that cover the
   recording. With tracked beats, the bar phase comes from the downbeats (the phase shared by most
   of them; the first beat is a downbeat if there are none) and the grid is extended before the
   first and after the last beat with the median beat interval. Without beats, the grid has a
   constant tempo (the transcription's, else :data:`DEFAULT_TEMPO_BPM`), with a downbeat on the
   first chord that is not ``N``. Either way the grid starts at or before 0 s on a downbeat and
   ends at or after the end of the recording on a bar line; beats before 0 s form a pickup that
   holds no chord.
2. :func:`quantize_segments` moves each chord change to the nearest beat. Gaps, the time before
   the first segment and after the last are ``N``. A chord whose change lands on the same beat as
   the next change (it lasts less than about a beat) is dropped, and neighbours with the same
   label are merged, so the result covers every beat of the grid exactly once.
3. :func:`split_bars` cuts the quantized chords at bar lines.

:func:`chart_bars` does all three for a transcription, and leaves out a first bar that starts
before the recording and holds no chord (a pickup of silence), as charts and scores show it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from chordcli.segments import ChordSegment, Transcription
from theory.harte import NO_CHORD

__all__ = [
    "DEFAULT_TEMPO_BPM",
    "BarChord",
    "BarGrid",
    "GridChord",
    "chart_bars",
    "fill_tempo",
    "make_grid",
    "quantize_segments",
    "split_bars",
    "tempo_from_changes",
    "transcription_grid",
]

#: Tempo of the bar grid when a transcription has neither beats nor a tempo and none can be
#: read from its chord changes (beats per minute).
DEFAULT_TEMPO_BPM: float = 120.0
#: Tempi searched when the beat grid is estimated from chord changes (beats per minute).
CHANGE_TEMPO_RANGE_BPM: tuple[float, float] = (60.0, 180.0)


@dataclass(frozen=True)
class BarGrid:
    """Beat times laid out in whole bars.

    Parameters
    ----------
    beats_s : tuple of float
        Times of the grid's beats in seconds, increasing: ``n_bars * beats_per_bar + 1`` of them,
        the last one closing the final bar. Beat ``i * beats_per_bar`` is the first beat of bar
        ``i``. The first time is at or before 0 s.
    beats_per_bar : int
        Beats in each bar.
    tempo_bpm : float
        Tempo of the grid (from the median beat interval), in beats per minute.
    """

    beats_s: tuple[float, ...]
    beats_per_bar: int
    tempo_bpm: float

    @property
    def n_beats(self) -> int:
        """Number of beats in the grid (the closing bar line is not a beat)."""
        return len(self.beats_s) - 1

    @property
    def n_bars(self) -> int:
        """Number of bars in the grid."""
        return self.n_beats // self.beats_per_bar

    def bar_start_s(self, bar: int) -> float:
        """Return the time in seconds of the first beat of `bar` (0-based)."""
        return self.beats_s[bar * self.beats_per_bar]

    def beat_position(self, times_s: float | np.ndarray) -> np.ndarray:
        """Return the position of times on the grid, in beats (fractional).

        Parameters
        ----------
        times_s : float or ndarray
            Times in seconds.

        Returns
        -------
        ndarray of float
            Beat index ``i + f`` for a time a fraction ``f`` of the way from beat ``i`` to beat
            ``i + 1``. Times outside the grid extrapolate with the first or last beat interval.
        """
        beats = np.asarray(self.beats_s)
        times = np.asarray(times_s, dtype=float)
        index = np.arange(len(beats), dtype=float)
        position = np.interp(times, beats, index)
        first, last = beats[1] - beats[0], beats[-1] - beats[-2]
        position = np.where(times < beats[0], (times - beats[0]) / first, position)
        return np.where(times > beats[-1], index[-1] + (times - beats[-1]) / last, position)

    def time_s(self, positions: float | np.ndarray) -> np.ndarray:
        """Return the times in seconds of grid positions in beats (inverse of `beat_position`)."""
        beats = np.asarray(self.beats_s)
        pos = np.asarray(positions, dtype=float)
        times = np.interp(pos, np.arange(len(beats), dtype=float), beats)
        first, last = beats[1] - beats[0], beats[-1] - beats[-2]
        times = np.where(pos < 0, beats[0] + pos * first, times)
        return np.where(pos > len(beats) - 1, beats[-1] + (pos - len(beats) + 1) * last, times)

    def nearest_beat(self, times_s: float | np.ndarray) -> np.ndarray:
        """Return the index of the nearest grid beat (or closing bar line) of times in seconds."""
        position = np.rint(self.beat_position(times_s))
        return np.clip(position, 0, self.n_beats).astype(int)


@dataclass(frozen=True, slots=True)
class GridChord:
    """A chord on a bar grid.

    Parameters
    ----------
    start_beat : int
        Grid beat where the chord starts.
    end_beat : int
        Grid beat where the next chord starts (greater than `start_beat`).
    label : str
        Harte label, ``N`` where nothing sounds.
    confidence : float or None
        Confidence of the segment(s) it comes from (the beat-weighted mean when merged), or None.
    """

    start_beat: int
    end_beat: int
    label: str
    confidence: float | None = None

    @property
    def n_beats(self) -> int:
        """Length of the chord in beats."""
        return self.end_beat - self.start_beat


@dataclass(frozen=True, slots=True)
class BarChord:
    """The part of a chord that falls into one bar.

    Parameters
    ----------
    beat : int
        Beat within the bar where this part starts (0 is the downbeat).
    n_beats : int
        Length of the part in beats.
    label : str
        Harte label.
    continued : bool
        Whether the chord started in an earlier bar (it is tied over the bar line).
    """

    beat: int
    n_beats: int
    label: str
    continued: bool = False


def make_grid(
    duration_s: float,
    *,
    beats_s: Sequence[float] = (),
    downbeats_s: Sequence[float] = (),
    beats_per_bar: int = 4,
    tempo_bpm: float | None = None,
    anchor_s: float = 0.0,
) -> BarGrid:
    """Build a grid of whole bars that covers ``[0, duration_s]``.

    Parameters
    ----------
    duration_s : float
        Length of the recording in seconds.
    beats_s : sequence of float, optional
        Tracked beat times in seconds. With fewer than two, a constant-tempo grid is built.
    downbeats_s : sequence of float, optional
        Times of first beats of bars (a subset of `beats_s`); they set the bar phase.
    beats_per_bar : int, optional
        Beats in each bar, at least 1.
    tempo_bpm : float, optional
        Tempo of a constant-tempo grid; :data:`DEFAULT_TEMPO_BPM` if None. Ignored with beats.
    anchor_s : float, optional
        A time in seconds that falls on a downbeat of a constant-tempo grid (for example the
        first chord). Ignored with beats.

    Returns
    -------
    BarGrid
        Starts at or before 0 s on a downbeat and ends on a bar line at or after `duration_s`.

    Raises
    ------
    ValueError
        If `beats_per_bar` is below 1, `tempo_bpm` is not a positive finite number, or the
        beats are not increasing.
    """
    if beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be at least 1, not {beats_per_bar}")
    duration_s = max(float(duration_s), 0.0)
    beats = np.asarray(beats_s, dtype=float)
    if beats.size >= 2:
        if np.any(np.diff(beats) <= 0) or not np.all(np.isfinite(beats)):
            raise ValueError("beat times must be finite and increasing")
        period = float(np.median(np.diff(beats)))
        phase = _bar_phase(beats, np.asarray(downbeats_s, dtype=float), beats_per_bar)
    else:
        tempo = DEFAULT_TEMPO_BPM if tempo_bpm is None else float(tempo_bpm)
        if not (math.isfinite(tempo) and tempo > 0):
            raise ValueError(f"tempo_bpm must be a positive number, not {tempo_bpm!r}")
        period = 60.0 / tempo
        anchor = float(anchor_s) if math.isfinite(anchor_s) else 0.0
        beats = np.array([anchor, anchor + period])
        phase = 0
    # Prepend beats until the first is at or before 0 s and is a downbeat.
    n_before = max(0, math.ceil(beats[0] / period - 1e-9))
    n_before += (-(phase + n_before)) % beats_per_bar
    head = beats[0] - period * np.arange(n_before, 0, -1)
    beats = np.concatenate([head, beats])
    # Append beats until the last is at or after the end and closes a bar.
    n_after = max(0, math.ceil((duration_s - beats[-1]) / period - 1e-9))
    n_after += (-(len(beats) - 1 + n_after)) % beats_per_bar
    tail = beats[-1] + period * np.arange(1, n_after + 1)
    beats = np.concatenate([beats, tail])
    return BarGrid(
        beats_s=tuple(float(b) for b in beats),
        beats_per_bar=int(beats_per_bar),
        tempo_bpm=60.0 / period,
    )


def transcription_grid(
    transcription: Transcription,
    *,
    tempo_bpm: float | None = None,
    beats_per_bar: int | None = None,
) -> BarGrid:
    """Build the bar grid of a transcription (see :func:`make_grid`).

    Parameters
    ----------
    transcription : Transcription
        Its beats, downbeats, metre and tempo are used; without beats, the constant-tempo grid
        puts a downbeat on the first segment that is not ``N``.
    tempo_bpm : float, optional
        Tempo of the constant grid when the transcription has no beats; default: the
        transcription's tempo, else :data:`DEFAULT_TEMPO_BPM`.
    beats_per_bar : int, optional
        Metre; default: the transcription's ``beats_per_bar``.

    Returns
    -------
    BarGrid
        The grid.
    """
    anchor = next((s.start_s for s in transcription.segments if s.label != NO_CHORD), 0.0)
    return make_grid(
        _duration(transcription),
        beats_s=transcription.beats_s,
        downbeats_s=transcription.downbeats_s,
        beats_per_bar=beats_per_bar or transcription.beats_per_bar,
        tempo_bpm=tempo_bpm if tempo_bpm is not None else transcription.tempo_bpm,
        anchor_s=anchor,
    )


def quantize_segments(
    segments: Iterable[ChordSegment], grid: BarGrid, *, duration_s: float | None = None
) -> tuple[GridChord, ...]:
    """Move chord changes to the nearest beat of a grid.

    Parameters
    ----------
    segments : iterable of ChordSegment
        Chords in time order, without overlaps; gaps are allowed.
    grid : BarGrid
        The grid (see :func:`make_grid`).
    duration_s : float, optional
        End of the recording; ``N`` fills from the last segment to it. Default: the end of the
        last segment.

    Returns
    -------
    tuple of GridChord
        Chords that cover the beats ``0 .. grid.n_beats`` without gaps or overlaps, in order;
        consecutive chords have different labels. ``N`` fills gaps, the pickup before the
        recording and the end of the last bar.
    """
    filled = _fill_gaps(list(segments), duration_s)
    if not filled:
        return (GridChord(0, grid.n_beats, NO_CHORD),)
    starts = grid.nearest_beat(np.array([s.start_s for s in filled]))
    ends = np.append(starts[1:], grid.nearest_beat(filled[-1].end_s))
    chords: list[GridChord] = []
    cursor = 0
    for seg, start, end in zip(filled, starts, ends, strict=True):
        start, end = max(int(start), cursor), int(end)
        if end <= start:
            continue
        if start > cursor:
            _append(chords, GridChord(cursor, start, NO_CHORD))
        _append(chords, GridChord(start, end, seg.label, seg.confidence))
        cursor = end
    if cursor < grid.n_beats:
        _append(chords, GridChord(cursor, grid.n_beats, NO_CHORD))
    return tuple(chords)


def split_bars(chords: Sequence[GridChord], grid: BarGrid) -> tuple[tuple[BarChord, ...], ...]:
    """Cut quantized chords at the bar lines of a grid.

    Parameters
    ----------
    chords : sequence of GridChord
        Output of :func:`quantize_segments` (covering every beat of `grid`).
    grid : BarGrid
        The grid.

    Returns
    -------
    tuple of tuple of BarChord
        One tuple per bar (``grid.n_bars`` of them), the parts of chords in that bar in order;
        their lengths add up to ``grid.beats_per_bar``.
    """
    per_bar = grid.beats_per_bar
    bars: list[list[BarChord]] = [[] for _ in range(grid.n_bars)]
    for chord in chords:
        beat = chord.start_beat
        while beat < chord.end_beat:
            bar, in_bar = divmod(beat, per_bar)
            end = min(chord.end_beat, (bar + 1) * per_bar)
            bars[bar].append(
                BarChord(in_bar, end - beat, chord.label, continued=beat > chord.start_beat)
            )
            beat = end
    return tuple(tuple(bar) for bar in bars)


def chart_bars(
    transcription: Transcription,
) -> tuple[BarGrid, tuple[tuple[BarChord, ...], ...], int]:
    """Lay the chords of a transcription in bars, as charts and scores show them.

    Parameters
    ----------
    transcription : Transcription
        The transcription (grid from :func:`transcription_grid`).

    Returns
    -------
    grid : BarGrid
        The bar grid.
    bars : tuple of tuple of BarChord
        The chords of each bar shown (see :func:`split_bars`).
    first_bar : int
        Grid index of the first bar shown: 1 when the grid's first bar starts before 0 s and
        holds only ``N``, else 0.
    """
    grid = transcription_grid(transcription)
    chords = quantize_segments(transcription.segments, grid, duration_s=transcription.duration_s)
    bars = split_bars(chords, grid)
    first = 0
    if len(bars) > 1 and grid.beats_s[0] < 0 and all(part.label == NO_CHORD for part in bars[0]):
        first = 1
    return grid, bars[first:], first


def tempo_from_changes(
    change_times_s: Sequence[float],
    *,
    anchor_s: float = 0.0,
    tempo_range_bpm: tuple[float, float] = CHANGE_TEMPO_RANGE_BPM,
    tolerance_beats: float = 0.1,
    min_share: float = 0.9,
) -> float | None:
    """Estimate the tempo of a constant beat grid on which chord changes fall.

    Candidate beat periods are the intervals between changes divided by 1 to 16; for each,
    every change gets its whole number of beats after ``anchor_s`` and the period is refined by
    least squares. The slowest tempo in ``tempo_range_bpm`` whose grid puts ``min_share`` of
    the changes within ``tolerance_beats`` of a beat wins (faster multiples fit too).

    Parameters
    ----------
    change_times_s : sequence of float
        Chord change times in seconds.
    anchor_s : float
        A time on the grid (the first chord).
    tempo_range_bpm : (float, float)
        Slowest and fastest tempo considered.
    tolerance_beats : float
        How far from a beat a change may lie, in beats.
    min_share : float
        Share of the changes that must lie on the grid.

    Returns
    -------
    float or None
        The tempo in beats per minute; None with no change after the anchor or no fit.
    """
    times = np.sort(np.asarray(change_times_s, dtype=float) - anchor_s)
    times = times[times > 1e-3]
    if times.size == 0:
        return None
    intervals = np.diff(np.concatenate([[0.0], times]))
    intervals = np.unique(np.round(intervals[intervals > 0.05], 3))[:16]
    slowest, fastest = 60.0 / tempo_range_bpm[0], 60.0 / tempo_range_bpm[1]
    periods = sorted(
        {p for p in (i / k for i in intervals for k in range(1, 17)) if fastest <= p <= slowest},
        reverse=True,
    )
    for period in periods:
        beats = np.round(times / period)
        if not np.any(beats):
            continue
        refined = float(beats @ times / (beats @ beats))
        error = np.abs(times - beats * refined) / refined
        if fastest <= refined <= slowest and np.mean(error <= tolerance_beats) >= min_share:
            return 60.0 / refined
    return None


def fill_tempo(transcription: Transcription) -> tuple[Transcription, str | None]:
    """Give a transcription without beats or tempo (a LAB) the tempo of its chord changes.

    Returns
    -------
    transcription : Transcription
        With ``tempo_bpm`` set from :func:`tempo_from_changes` (unchanged if it has beats or a
        tempo, or no tempo fits).
    note : str or None
        Which tempo the chart uses when the input had none: ``'tempo 72 bpm estimated from the
        chord changes'`` or ``'tempo 120 bpm assumed (...)'``; None if the input had one.
    """
    if len(transcription.beats_s) >= 2 or transcription.tempo_bpm:
        return transcription, None
    sounding = [s for s in transcription.segments if s.label != NO_CHORD]
    anchor = sounding[0].start_s if sounding else 0.0
    tempo = tempo_from_changes([s.start_s for s in transcription.segments], anchor_s=anchor)
    if tempo is None:
        note = f"tempo {DEFAULT_TEMPO_BPM:g} bpm assumed (no steady beat in the chord changes)"
        return transcription, note
    # the end of the last chord is a boundary too: put it on a beat when it is near one, so
    # the grid does not overshoot it by a hair into an empty bar
    end_s = transcription.segments[-1].end_s - anchor
    beats = end_s * tempo / 60.0
    if round(beats) > 0 and abs(beats - round(beats)) <= 0.1:
        tempo = 60.0 * round(beats) / end_s
    filled = replace(transcription, tempo_bpm=tempo)
    return filled, f"tempo {tempo:.0f} bpm estimated from the chord changes"


def _duration(transcription: Transcription) -> float:
    """Length of a transcription: its duration, or the end of its last segment if later."""
    last = transcription.segments[-1].end_s if transcription.segments else 0.0
    return max(transcription.duration_s, last)


def _bar_phase(beats: np.ndarray, downbeats: np.ndarray, beats_per_bar: int) -> int:
    """Index modulo `beats_per_bar` of the beats that most downbeats fall on."""
    if downbeats.size == 0:
        return 0
    nearest = np.abs(beats[None, :] - downbeats[:, None]).argmin(axis=1)
    counts = Counter(int(i) % beats_per_bar for i in nearest)
    return max(sorted(counts), key=lambda phase: counts[phase])


def _fill_gaps(segments: list[ChordSegment], duration_s: float | None) -> list[ChordSegment]:
    """Segments with ``N`` in the gaps between them and up to `duration_s`."""
    filled: list[ChordSegment] = []
    cursor = 0.0
    for seg in segments:
        if seg.start_s > cursor:
            filled.append(ChordSegment(cursor, seg.start_s, NO_CHORD))
        filled.append(seg)
        cursor = max(cursor, seg.end_s)
    if duration_s is not None and duration_s > cursor:
        filled.append(ChordSegment(cursor, duration_s, NO_CHORD))
    return filled


def _append(chords: list[GridChord], chord: GridChord) -> None:
    """Append `chord`, merging it into the last chord if their labels are equal."""
    if chords and chords[-1].label == chord.label and chords[-1].end_beat == chord.start_beat:
        last = chords[-1]
        confidence = None
        if last.confidence is not None and chord.confidence is not None:
            confidence = (last.confidence * last.n_beats + chord.confidence * chord.n_beats) / (
                last.n_beats + chord.n_beats
            )
        chords[-1] = GridChord(last.start_beat, chord.end_beat, last.label, confidence)
    else:
        chords.append(chord)
