"""Onset strength, tempo, beat tracking and downbeats on synthetic click tracks."""

from __future__ import annotations

import numpy as np
import pytest

from chordcli.beats import (
    OnsetEnvelope,
    downbeats_from_changes,
    estimate_tempo,
    onset_strength,
    snap_to_beats,
    track_beats,
)

SR = 22050


def click_track(bpm: float, *, duration_s: float = 20.0, start_s: float = 0.5, sr: int = SR):
    rng = np.random.default_rng(0)
    y = 0.001 * rng.normal(size=int(duration_s * sr)).astype(np.float32)
    clicks = np.arange(start_s, duration_s - 0.3, 60.0 / bpm)
    n = int(0.1 * sr)
    tone = np.sin(2 * np.pi * 1000 * np.arange(n) / sr) * np.exp(-np.arange(n) / (0.01 * sr))
    for c in clicks:
        i = int(round(c * sr))
        y[i : i + n] += 0.5 * tone.astype(np.float32)
    return y, clicks


@pytest.mark.parametrize("sr", [22050, 44100])
def test_click_track_at_120_bpm(sr):
    y, clicks = click_track(120.0, sr=sr)
    env = onset_strength(y, sample_rate_hz=sr)
    assert isinstance(env, OnsetEnvelope)
    assert env.frames_per_second == pytest.approx(86.1, abs=0.2)
    tempo = estimate_tempo(env)
    assert tempo == pytest.approx(120.0, rel=0.02)
    beats = np.array(track_beats(env).beats_s)
    assert len(beats) == len(clicks)
    assert np.max(np.abs(beats - clicks)) < 0.030


@pytest.mark.parametrize("bpm", [75.0, 96.0, 140.0])
def test_other_tempi(bpm):
    y, clicks = click_track(bpm, duration_s=24.0)
    env = onset_strength(y, sample_rate_hz=SR)
    assert estimate_tempo(env) == pytest.approx(bpm, rel=0.02)
    beats = np.array(track_beats(env).beats_s)
    errors = [np.min(np.abs(beats - c)) for c in clicks]
    assert np.max(errors) < 0.030


def test_stereo_input_and_silence_give_no_beats():
    silence = np.zeros((SR * 3, 2), dtype=np.float32)
    env = onset_strength(silence, sample_rate_hz=SR)
    assert estimate_tempo(env) is None
    result = track_beats(env)
    assert result.tempo_bpm is None and result.beats_s == ()


def test_downbeats_follow_chord_changes():
    beats = np.arange(0.5, 20.0, 0.5)
    # Chord changes every bar on beat index 2, 6, 10, ... (third beat from the start).
    changes = beats[2::4] + 0.03
    down = downbeats_from_changes(beats, changes, beats_per_bar=4)
    assert down[:3] == pytest.approx([1.5, 3.5, 5.5])
    # In 3/4 with changes on beat index 1, 4, 7, ...
    down3 = downbeats_from_changes(beats, beats[1::3], beats_per_bar=3)
    assert down3[:2] == pytest.approx([1.0, 2.5])
    # No changes: the first beat starts the first bar.
    assert downbeats_from_changes(beats, [], beats_per_bar=4)[0] == pytest.approx(0.5)
    assert downbeats_from_changes([], [1.0]) == ()


def test_snap_to_beats():
    beats = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(snap_to_beats([0.2, 1.4, 1.6, 2.5, 9.0], beats), [1, 1, 2, 2, 3])
    np.testing.assert_allclose(snap_to_beats([0.3], []), [0.3])


def test_beat_grid_is_extrapolated_over_the_chords_at_both_edges():
    from chordcli.beats import Beats, extend_to_span

    tracked = Beats(tempo_bpm=72.0, beats_s=tuple(0.8359 * np.arange(3, 28)))  # misses 0..2, 28+
    grid = np.array(extend_to_span(tracked, start_s=0.0, end_s=26.7).beats_s)
    np.testing.assert_allclose(grid, 0.8359 * np.arange(0, 32), atol=1e-9)  # 31 * 0.8359 < 26.7
    assert grid[-1] < 26.7
    # a single beat has no interval to extrapolate; a span inside the grid adds nothing
    assert extend_to_span(Beats(72.0, (1.0,)), start_s=0.0, end_s=9.0).beats_s == (1.0,)
    assert extend_to_span(tracked, start_s=5.0, end_s=10.0) == tracked


@pytest.mark.parametrize("block", [777, 50_000, 10**6])
def test_onset_flux_pushed_in_blocks_equals_onset_strength(block):
    from chordcli.beats import OnsetFlux

    rng = np.random.default_rng(block)
    x = (0.1 * rng.standard_normal((int(SR * 50.3), 2))).astype(np.float32)
    x[:: SR // 2] += 0.9  # clicks
    whole = onset_strength(x, sample_rate_hz=SR)
    flux = OnsetFlux(sample_rate_hz=SR)
    for i in range(0, len(x), block):
        flux.push(x[i : i + block])
    pushed = flux.envelope()
    np.testing.assert_array_equal(pushed.strength, whole.strength)
    assert (pushed.frames_per_second, pushed.offset_s) == (whole.frames_per_second, whole.offset_s)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunked_dynamic_programme_equals_the_frame_by_frame_one(seed):
    from chordcli.beats import _best_chains

    rng = np.random.default_rng(seed)
    period = rng.uniform(20, 60)
    local = rng.standard_normal(3000) * (np.arange(3000) > 200)  # onsets start at frame 201
    lags = np.arange(int(np.round(-2 * period)), -int(np.round(period / 2)) + 1)
    penalty = -100.0 * np.log(-lags / period) ** 2
    score, back = _best_chains(local, lags, penalty)

    expected, previous = np.zeros(len(local)), np.full(len(local), -1)
    first_beat = int(np.flatnonzero(local >= 0.01 * local.max())[0])
    for t in range(len(local)):
        idx = t + lags
        cand = np.where(idx >= 0, expected[np.maximum(idx, 0)] + penalty, -np.inf)
        k = int(np.argmax(cand))
        link = cand[k] > 0 and t >= first_beat
        expected[t] = local[t] + (cand[k] if link else 0.0)
        previous[t] = t + lags[k] if link else -1
    np.testing.assert_array_equal(score, expected)
    np.testing.assert_array_equal(back, previous)


@pytest.mark.parametrize("n", [256, 1024, 2048])
def test_periodic_hann_is_scipys(n):
    import scipy.signal

    from chordcli.beats import periodic_hann

    np.testing.assert_array_equal(periodic_hann(n), scipy.signal.get_window("hann", n))
