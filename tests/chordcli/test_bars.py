from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chordcli.bars import (
    DEFAULT_TEMPO_BPM,
    BarChord,
    GridChord,
    make_grid,
    quantize_segments,
    split_bars,
    transcription_grid,
)
from chordcli.segments import ChordSegment, Transcription

LABELS = ["C:maj", "A:min", "F:maj7", "G:7", "N", "D:min7/b7"]


def _segments(draw_times, labels):
    times = sorted(set(draw_times))
    return [
        ChordSegment(a, b, labels[i % len(labels)])
        for i, (a, b) in enumerate(zip(times[:-1], times[1:], strict=False))
    ]


segment_lists = st.builds(
    _segments,
    st.lists(st.floats(0, 60, allow_nan=False), min_size=2, max_size=30),
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=8),
)


@st.composite
def grids(draw, duration_s):
    per_bar = draw(st.integers(1, 7))
    if draw(st.booleans()):
        tempo = draw(st.floats(40, 240))
        return make_grid(
            duration_s,
            beats_per_bar=per_bar,
            tempo_bpm=tempo,
            anchor_s=draw(st.floats(0, duration_s + 1)),
        )
    period = draw(st.floats(0.25, 1.5))
    first = draw(st.floats(0, 3))
    jitter = draw(st.lists(st.floats(-0.05, 0.05), min_size=2, max_size=200))
    beats = first + period * np.arange(len(jitter)) + np.array(jitter) * period
    down = beats[draw(st.integers(0, len(beats) - 1)) :: per_bar]
    return make_grid(duration_s, beats_s=beats, downbeats_s=down, beats_per_bar=per_bar)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), segments=segment_lists)
def test_grid_covers_duration_and_segments_map_within_one_beat(data, segments):
    duration = segments[-1].end_s if segments else 0.0
    grid = data.draw(grids(duration))
    beats = np.array(grid.beats_s)
    assert beats[0] <= 1e-9 and beats[-1] >= duration - 1e-9
    assert grid.n_beats % grid.beats_per_bar == 0 and grid.n_bars >= 1
    assert np.all(np.diff(beats) > 0)
    starts = np.array([s.start_s for s in segments])
    if starts.size:
        nearest = grid.nearest_beat(starts)
        local = np.diff(beats).max()
        assert np.all(np.abs(beats[nearest] - starts) <= local)
    chords = quantize_segments(segments, grid, duration_s=duration)
    # cover every beat exactly once, no repeated neighbours
    assert chords[0].start_beat == 0 and chords[-1].end_beat == grid.n_beats
    for a, b in zip(chords[:-1], chords[1:], strict=True):
        assert a.end_beat == b.start_beat and a.label != b.label
    assert all(c.n_beats > 0 for c in chords)
    # every chord other than the N fill starts within one beat of a segment with its label
    for chord in chords:
        if chord.label == "N":
            continue
        t = beats[chord.start_beat]
        assert any(s.label == chord.label and abs(s.start_s - t) <= local for s in segments)
    bars = split_bars(chords, grid)
    assert len(bars) == grid.n_bars
    assert all(sum(p.n_beats for p in bar) == grid.beats_per_bar for bar in bars)


def test_beat_position_round_trips_and_extrapolates():
    grid = make_grid(10.0, beats_s=[0.5, 1.0, 1.6, 2.0], beats_per_bar=4)
    times = np.array([-3.0, 0.0, 0.75, 1.3, 5.0, 12.0])
    assert np.allclose(grid.time_s(grid.beat_position(times)), times)


def test_constant_grid_puts_a_downbeat_on_the_anchor():
    grid = make_grid(10.0, tempo_bpm=60, beats_per_bar=4, anchor_s=2.25)
    assert grid.tempo_bpm == pytest.approx(60)
    assert 2.25 in [pytest.approx(grid.bar_start_s(b)) for b in range(grid.n_bars)]
    assert grid.beats_s[0] == pytest.approx(-1.75)
    assert grid.beats_s[-1] >= 10.0


def test_downbeats_set_the_bar_phase():
    beats = np.arange(0.0, 8.0, 0.5)
    grid = make_grid(8.0, beats_s=beats, downbeats_s=beats[1::4], beats_per_bar=4)
    bar_starts = [grid.bar_start_s(b) for b in range(grid.n_bars)]
    assert 0.5 in bar_starts and 2.5 in bar_starts
    assert grid.beats_s[0] == pytest.approx(-1.5)


def test_quantize_known_case():
    grid = make_grid(8.0, tempo_bpm=60, beats_per_bar=4)  # one beat per second
    segs = [
        ChordSegment(0.1, 1.9, "C:maj", 0.9),
        ChordSegment(1.9, 2.2, "G:maj", 0.5),  # less than half a beat: dropped
        ChordSegment(2.2, 4.0, "A:min", 0.8),
        ChordSegment(4.0, 6.0, "A:min", 0.4),  # merged with the previous one
        # the gap 6.0 .. 6.6 is N and lasts from beat 6 to beat 7
        ChordSegment(6.6, 7.9, "F:maj"),
    ]
    chords = quantize_segments(segs, grid, duration_s=8.0)
    assert chords == (
        GridChord(0, 2, "C:maj", 0.9),
        GridChord(2, 6, "A:min", pytest.approx(0.6)),
        GridChord(6, 7, "N"),
        GridChord(7, 8, "F:maj"),
    )
    assert split_bars(chords, grid) == (
        (BarChord(0, 2, "C:maj"), BarChord(2, 2, "A:min")),
        (
            BarChord(0, 2, "A:min", continued=True),
            BarChord(2, 1, "N"),
            BarChord(3, 1, "F:maj"),
        ),
    )


def test_transcription_grid_defaults_and_overrides():
    t = Transcription(segments=(ChordSegment(0.5, 10.0, "C:maj"),), duration_s=10.0)
    grid = transcription_grid(t)
    assert grid.tempo_bpm == pytest.approx(DEFAULT_TEMPO_BPM)
    assert grid.bar_start_s(1) == pytest.approx(0.5)
    grid = transcription_grid(t, tempo_bpm=90, beats_per_bar=3)
    assert grid.tempo_bpm == pytest.approx(90) and grid.beats_per_bar == 3


def test_invalid_arguments():
    with pytest.raises(ValueError, match="beats_per_bar"):
        make_grid(1.0, beats_per_bar=0)
    with pytest.raises(ValueError, match="tempo"):
        make_grid(1.0, tempo_bpm=0)
    with pytest.raises(ValueError, match="increasing"):
        make_grid(1.0, beats_s=[1.0, 0.5])


def test_tempo_from_changes_finds_the_grid_of_a_lab():
    from chordcli.bars import fill_tempo, tempo_from_changes
    from chordcli.lab import read_lab

    example = read_lab(Path(__file__).resolve().parents[2] / "examples" / "example.lab")
    assert tempo_from_changes([s.start_s for s in example]) == pytest.approx(71.79, abs=0.05)
    # changes every 2 s fit 60 bpm (the slowest tempo in range); no grid fits irregular times
    assert tempo_from_changes([2.0, 4.0, 6.0, 8.0]) == pytest.approx(60.0)
    assert tempo_from_changes([1.0, 2.37, 3.11, 5.93, 6.41, 8.88, 9.05]) is None
    lab = Transcription(segments=tuple(example), duration_s=example[-1].end_s)
    filled, note = fill_tempo(lab)
    assert filled.tempo_bpm == pytest.approx(71.79, abs=0.05) and "72 bpm estimated" in note
    assert fill_tempo(filled) == (filled, None)  # a tempo is kept
