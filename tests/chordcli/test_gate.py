"""The no-harmonic-content gate: noise and silence are N, chords are not."""

from __future__ import annotations

import numpy as np
import pytest
from synth_audio import chord_progression

from chordcli.gate import gate_segments, non_harmonic_frames
from chordcli.segments import ChordSegment
from models.cqt import DEFAULT_CQT, cqt

SR = 22050
FPS = DEFAULT_CQT.frames_per_second


def _gated(samples: np.ndarray) -> np.ndarray:
    features = cqt(samples, sample_rate_hz=SR)
    return non_harmonic_frames(
        features,
        log_gain=DEFAULT_CQT.log_gain,
        bins_per_octave=DEFAULT_CQT.bins_per_octave,
        frames_per_second=FPS,
    )


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    pink = np.fft.irfft(spectrum, n=n)
    return 0.5 * pink / np.abs(pink).max()


@pytest.mark.parametrize("kind", ["white", "pink", "near silence"])
def test_noise_and_silence_are_gated(kind):
    rng = np.random.default_rng(1)
    n = 10 * SR
    samples = {
        "white": 0.1 * rng.standard_normal(n),
        "pink": _pink(n, rng),
        "near silence": 10 ** (-90 / 20) * rng.standard_normal(n),
    }[kind]
    assert _gated(samples.astype(np.float32)).mean() >= 0.95


def test_chords_are_not_gated_and_a_silent_gap_is():
    music = chord_progression(["C:maj", "A:min", "F:maj", "G:7"], sample_rate_hz=SR)
    assert not _gated(music).any()
    gap = np.zeros(3 * SR, dtype=np.float32)
    mask = _gated(np.concatenate([music, gap, music]))
    times = np.arange(len(mask)) / FPS
    inside = (times > 8.5) & (times < 10.5)
    assert mask[inside].all() and not mask[times < 7.5].any() and not mask[times > 11.5].any()


def test_gate_segments_writes_n_over_the_gated_stretch_only():
    segments = [ChordSegment(0.0, 4.0, "C:maj", 0.9), ChordSegment(4.0, 8.0, "G:maj", 0.8)]
    mask = np.zeros(int(8 * FPS), dtype=bool)
    mask[int(3 * FPS) : int(5 * FPS)] = True
    out = gate_segments(segments, mask, frames_per_second=FPS)
    assert [s.label for s in out] == ["C:maj", "N", "G:maj"]
    assert out[1].start_s == pytest.approx(3.0, abs=0.15) and out[1].end_s == pytest.approx(
        5.0, abs=0.15
    )
    assert out[0].start_s == 0.0 and out[-1].end_s == 8.0
    assert out[0].confidence == 0.9 and out[1].confidence is None
    # gated to the end: N runs to the end of the last segment; nothing gated: unchanged
    mask[int(6 * FPS) :] = True
    last = gate_segments(segments, mask, frames_per_second=FPS)[-1]
    assert (last.label, last.end_s) == ("N", 8.0) and last.start_s == pytest.approx(6.0, abs=0.15)
    assert gate_segments(segments, np.zeros_like(mask), frames_per_second=FPS) == segments
