"""Tests of the variable-Q front end (models.cqt)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.cqt import (
    DEFAULT_CQT,
    CQTConfig,
    CQTParameterError,
    SampleBlocks,
    cqt,
    cqt_magnitude,
    frame_times_s,
    log_compress,
    resample,
)

SR = DEFAULT_CQT.sample_rate_hz
HOP = DEFAULT_CQT.hop_length
# Frames farther than the longest window (0.61 s at C1, 6.6 frames) from both ends.
MIDDLE = slice(8, -8)


def tone(freq_hz: float, *, duration_s: float = 2.0, sr: int = SR, phase: float = 0.0):
    t = np.arange(int(duration_s * sr)) / sr
    return np.cos(2 * np.pi * freq_hz * t + phase).astype(np.float32)


def semitone_hz(k: float) -> float:
    """Frequency of the k-th semitone above C1 (k may be fractional)."""
    return DEFAULT_CQT.fmin_hz * 2.0 ** (k / 12)


def mean_spectrum(samples: np.ndarray, *, sr: int = SR, channel: int = 0) -> np.ndarray:
    mag = cqt_magnitude(samples, sample_rate_hz=sr)
    return mag[MIDDLE, :, channel].mean(axis=0)


# --- pitch -----------------------------------------------------------------------------------


def test_every_semitone_c1_to_b7_peaks_on_its_bin():
    """A sinusoid at semitone k above C1 peaks within +-1 bin of bin 3k, for all 84 notes."""
    misses = []
    for k in range(0, 84, 2):  # two notes per call: one per channel
        stereo = np.stack([tone(semitone_hz(k)), tone(semitone_hz(k + 1))], axis=1)
        mag = cqt_magnitude(stereo, sample_rate_hz=SR)[MIDDLE].mean(axis=0)
        for channel, note in enumerate((k, k + 1)):
            peak = int(mag[:, channel].argmax())
            if abs(peak - 3 * note) > 1:
                misses.append((note, peak))
    assert misses == []


def test_sinusoid_reads_half_its_amplitude_in_every_octave():
    for k in (0, 30, 57, 83):
        spec = mean_spectrum(0.8 * tone(semitone_hz(k)))
        assert spec[3 * k] == pytest.approx(0.4, rel=2e-3)


def test_neighbouring_semitones_are_separated_at_c1():
    """The lowest note reads at least 6 dB lower in the neighbouring semitone's bin."""
    spec = mean_spectrum(tone(semitone_hz(0), duration_s=3.0))
    assert 20 * np.log10(spec[3] / spec[0]) < -6.0


@pytest.mark.parametrize("root", [12, 36, 48])  # C2, C4, C5
def test_chord_of_harmonic_tones_folds_to_its_pitch_classes(root):
    """C-E-G with four harmonics each: the three largest pitch classes are C, E and G."""
    signal = np.zeros(int(2.0 * SR), dtype=np.float32)
    for interval in (0, 4, 7):
        f0 = semitone_hz(root + interval)
        for h in range(1, 5):
            signal += tone(h * f0, phase=h + interval) / h
    features = cqt(0.1 * signal, sample_rate_hz=SR)[MIDDLE, :, 0].mean(axis=0)
    semitone_of_bin = (np.arange(DEFAULT_CQT.n_bins) + 1) // 3
    chroma = np.bincount(semitone_of_bin % 12, weights=features, minlength=12)
    assert set(np.argsort(chroma)[-3:]) == {0, 4, 7}


@settings(max_examples=25, deadline=None)
@given(
    base=st.integers(min_value=0, max_value=83),
    shifted=st.integers(min_value=0, max_value=83),
    detune_bins=st.floats(min_value=-0.25, max_value=0.25),
)
def test_shifting_a_sinusoid_by_k_semitones_shifts_the_peak_by_3k_bins(base, shifted, detune_bins):
    detune = detune_bins / 3  # in semitones
    peak = int(mean_spectrum(tone(semitone_hz(base + detune), duration_s=1.6)).argmax())
    peak_shifted = int(mean_spectrum(tone(semitone_hz(shifted + detune), duration_s=1.6)).argmax())
    assert peak_shifted - peak == 3 * (shifted - base)


# --- agreement with librosa ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("gamma_hz", [DEFAULT_CQT.gamma_hz, 0.0])
def test_magnitudes_agree_with_librosa_vqt(gamma_hz):
    """Same filters as ``librosa.vqt(scale=False, norm=1)`` divided by the filter lengths.

    Tolerance, over the frames away from the edges of a 6 s mixture of harmonic tones and
    noise: correlation of every frame > 0.999; every frame's largest magnitude within 1 %;
    every bin within 2 % of the frame's largest magnitude. The remaining differences come
    from the resampling filters between octaves (librosa uses soxr) and from librosa's
    sparsified filter spectra.
    """
    import librosa

    config = dataclasses.replace(DEFAULT_CQT, gamma_hz=gamma_hz)
    rng = np.random.default_rng(0)
    n = 6 * SR
    y = 0.01 * rng.standard_normal(n)
    t = np.arange(n) / SR
    for f0 in (41.2, 98.0, 130.8, 164.8, 196.0, 523.3, 1046.5, 2093.0):
        for h in range(1, 5):
            if h * f0 < 4000:
                y += 0.05 / h * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi))

    ours = cqt_magnitude(y, sample_rate_hz=SR, config=config)[:, :, 0]
    lengths = config.filter_scale * SR / config.bandwidths_hz
    theirs = (
        np.abs(
            librosa.vqt(
                y,
                sr=SR,
                hop_length=config.hop_length,
                fmin=config.fmin_hz,
                n_bins=config.n_bins,
                bins_per_octave=config.bins_per_octave,
                gamma=config.gamma_hz,
                filter_scale=config.filter_scale,
                scale=False,
                norm=1,
            )
        ).T
        / lengths
    )
    assert ours.shape == theirs.shape == (1 + n // HOP, config.n_bins)

    a, b = ours[MIDDLE], theirs[MIDDLE]
    correlation = [np.corrcoef(fa, fb)[0, 1] for fa, fb in zip(a, b, strict=True)]
    assert min(correlation) > 0.999
    np.testing.assert_allclose(a.max(axis=1), b.max(axis=1), rtol=0.01)
    assert (np.abs(a - b).max(axis=1) / b.max(axis=1)).max() < 0.02


# --- layout, channels, time axis -------------------------------------------------------------


def test_shape_dtype_and_frame_count():
    for n in (0, 1, HOP - 1, HOP, 5 * HOP + 7):
        out = cqt(np.zeros(n, dtype=np.float32), sample_rate_hz=SR)
        assert out.shape == (1 + n // HOP, 252, 2)
        assert out.dtype == np.float32
        assert not out.any()  # silence (and the zero padding) is exactly 0


def test_mono_is_duplicated_and_stereo_channels_stay_separate():
    x = tone(261.63) + 0.3 * tone(98.0)
    mono = cqt(x, sample_rate_hz=SR)
    np.testing.assert_array_equal(mono[..., 0], mono[..., 1])
    np.testing.assert_array_equal(cqt(x[:, None], sample_rate_hz=SR), mono)
    stereo = cqt(np.stack([x, x], axis=1), sample_rate_hz=SR)
    np.testing.assert_allclose(stereo, mono, rtol=1e-5, atol=1e-5)  # float32 rounding only

    left_only = cqt(np.stack([x, np.zeros_like(x)], axis=1), sample_rate_hz=SR)
    assert left_only[..., 0].max() > 5
    assert np.abs(left_only[..., 1]).max() < 1e-4


def test_frames_are_centred_on_multiples_of_the_hop():
    """A click at sample 10 * hop is loudest in frame 10, in the top and the bottom octave."""
    x = np.zeros(30 * HOP, dtype=np.float32)
    x[10 * HOP] = 1.0
    mag = cqt_magnitude(x, sample_rate_hz=SR)[..., 0]
    assert mag[:, 240].argmax() == 10
    assert mag[:, 5].argmax() == 10
    np.testing.assert_allclose(frame_times_s(3), [0.0, HOP / SR, 2 * HOP / SR])
    assert DEFAULT_CQT.frames_per_second == pytest.approx(10.7666, abs=1e-4)


def test_result_does_not_depend_on_the_block_size():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12 * HOP + 123, 2)).astype(np.float32)
    whole = cqt_magnitude(x, sample_rate_hz=SR, block_frames=10_000)
    for block_frames in (1, 5):
        blocks = cqt_magnitude(x, sample_rate_hz=SR, block_frames=block_frames)
        np.testing.assert_allclose(blocks, whole, rtol=1e-4, atol=1e-6 * whole.max())


def test_log_compression():
    assert log_compress(np.array([0.0]))[0] == 0.0
    assert log_compress(np.array([0.5]))[0] == pytest.approx(np.log1p(500.0))
    x = tone(440.0)
    np.testing.assert_allclose(
        cqt(x, sample_rate_hz=SR), log_compress(cqt_magnitude(x, sample_rate_hz=SR)), rtol=1e-6
    )


# --- other sample rates ----------------------------------------------------------------------


@pytest.mark.parametrize("rate_hz", [44100, 48000, 16000])
def test_other_rates_give_the_same_time_axis_and_peak(rate_hz):
    duration_s = 3.0
    f = semitone_hz(45)  # A4
    reference = cqt_magnitude(tone(f, duration_s=duration_s), sample_rate_hz=SR)
    out = cqt_magnitude(tone(f, duration_s=duration_s, sr=rate_hz), sample_rate_hz=rate_hz)
    assert out.shape == reference.shape
    assert out[MIDDLE, :, 0].mean(axis=0).argmax() == 3 * 45
    # Up to the resampling filters: resample_poly's default filter leaves images near -90 dB.
    np.testing.assert_allclose(out[MIDDLE], reference[MIDDLE], atol=1e-3 * reference.max())


@pytest.mark.parametrize("rate_hz", [44100, 88200, 48000, 16000])
def test_input_at_another_rate_equals_resampling_first(rate_hz):
    """Resampling inside cqt (blockwise, 2**m rates by matrix products) changes nothing."""
    rng = np.random.default_rng(2)
    x = (0.1 * rng.standard_normal((int(rate_hz * 1.5) + 17, 2))).astype(np.float32)
    via_resample = cqt_magnitude(resample(x, orig_hz=rate_hz, target_hz=SR), sample_rate_hz=SR)
    for block_frames in (3, 256):
        direct = cqt_magnitude(x, sample_rate_hz=rate_hz, block_frames=block_frames)
        np.testing.assert_allclose(direct, via_resample, rtol=0, atol=1e-5 * direct.max())


def test_resample_helper():
    x = tone(440.0, sr=44100)
    y = resample(x, orig_hz=44100, target_hz=SR)
    assert y.shape == (len(x) // 2,)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(resample(x, orig_hz=SR, target_hz=SR), x)
    with pytest.raises(CQTParameterError, match="orig_hz"):
        resample(x, orig_hz=0, target_hz=SR)


# --- configuration and validation ------------------------------------------------------------


def test_config_round_trips_through_json():
    config = CQTConfig(gamma_hz=0.5, log_gain=100.0, hop_length=1024)
    data = json.loads(json.dumps(config.to_dict()))
    assert CQTConfig.from_dict(data) == config
    assert CQTConfig.from_dict({}) == DEFAULT_CQT
    assert DEFAULT_CQT.n_bins == 252
    assert DEFAULT_CQT.frequencies_hz[[0, 108]] == pytest.approx([32.7032, 261.6256], abs=1e-4)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"hop": 512}, "unknown CQT parameter"),
        ({"hop_length": 1000}, "divisible"),
        ({"hop_length": 2048.5}, "integer"),
        ({"gamma_hz": -1.0}, "gamma_hz"),
        ({"fmin_hz": "low"}, "fmin_hz"),
        ({"n_octaves": 9}, "Nyquist|top bin"),
    ],
)
def test_invalid_configs_are_rejected(data, match):
    with pytest.raises(CQTParameterError, match=match):
        CQTConfig.from_dict(data)


@pytest.mark.parametrize(
    ("samples", "rate", "match"),
    [
        (np.zeros((100, 3), dtype=np.float32), SR, "shape"),
        (np.zeros((2, 100, 1), dtype=np.float32), SR, "shape"),
        (np.zeros(100, dtype=np.int16), SR, "floating point"),
        (np.zeros(100, dtype=np.float32), 0, "sample_rate_hz"),
        (np.zeros(100, dtype=np.float32), 22050.5, "sample_rate_hz"),
        (np.full(5000, np.nan, dtype=np.float32), SR, "NaN"),
    ],
)
def test_invalid_input_is_rejected(samples, rate, match):
    with pytest.raises(CQTParameterError, match=match):
        cqt(samples, sample_rate_hz=rate)


def test_import_is_light():
    """Importing models.cqt loads neither TensorFlow nor test/plot libraries nor scipy.signal."""
    heavy = ("tensorflow", "keras", "librosa", "matplotlib", "scipy.signal")
    code = (
        "import sys, models.cqt; "
        f"bad = [m for m in {heavy!r} if m in sys.modules]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
@pytest.mark.parametrize("block", [1000, 65536, 10**6])
def test_cqt_of_blocks_equals_cqt_of_the_whole_signal(rate, block):
    rng = np.random.default_rng(block)
    x = (0.2 * rng.standard_normal((int(3.1 * rate), 2))).astype(np.float32)
    whole = cqt(x, sample_rate_hz=rate, tuning_cents=12.0)
    blocks = (x[i : i + block] for i in range(0, len(x), block))
    streamed = cqt(SampleBlocks(blocks, len(x)), sample_rate_hz=rate, tuning_cents=12.0)
    np.testing.assert_array_equal(streamed, whole)


def test_cqt_refuses_blocks_shorter_than_announced():
    x = np.zeros((30000, 2), np.float32)
    with pytest.raises(CQTParameterError, match="announced"):
        cqt(SampleBlocks([x], 40000), sample_rate_hz=22050)


@pytest.mark.parametrize("pass_edge", np.linspace(0.05, 0.24, 12))
def test_filter_designs_are_scipy_signals_bit_for_bit(pass_edge):
    import scipy.signal

    from models.cqt import _kaiser_lowpass, _kaiserord, _octave_fir

    width = (0.5 - 2 * pass_edge) / 0.5
    n_taps, beta = scipy.signal.kaiserord(80.0, width)
    assert _kaiserord(80.0, width) == (n_taps, beta)
    half = n_taps // 2
    while True:  # the decimator's design with scipy.signal's firwin and freqz
        fir = scipy.signal.firwin(2 * half + 1, 0.25, window=("kaiser", beta), fs=1.0)
        freqs, response = scipy.signal.freqz(fir, worN=2048, fs=1.0)
        if 20 * np.log10(np.abs(response[freqs >= 0.5 - pass_edge]).max()) <= -80.0:
            break
        half += 1
    np.testing.assert_array_equal(_octave_fir(pass_edge=pass_edge), fir)
    for factor in (2, 3, 4):
        np.testing.assert_array_equal(
            _kaiser_lowpass(20 * factor + 1, 1.0 / factor, 5.0),
            scipy.signal.firwin(20 * factor + 1, 1.0 / factor, window=("kaiser", 5.0)),
        )


def test_a_transcription_front_end_does_not_import_scipy_signal():
    code = (
        "import sys, numpy as np\n"
        "from models.cqt import cqt\n"
        "from chordcli.beats import onset_strength, track_beats\n"
        "from models.tuning import estimate_tuning\n"
        "x = np.random.default_rng(0).standard_normal((22050 * 5, 2)).astype(np.float32)\n"
        "cqt(x, sample_rate_hz=22050); cqt(x, sample_rate_hz=44100)\n"
        "track_beats(onset_strength(x, sample_rate_hz=22050))\n"
        "estimate_tuning(x, sample_rate_hz=22050)\n"
        "print('scipy.signal' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("shape", [(1000, 2), (40, 252, 2), (100, 3), (50, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mix_to_mono_is_numpys_mean_bit_for_bit(shape, dtype):
    from models.cqt import mix_to_mono

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x[::7] *= 1e-30  # sums that lose bits in float32
    np.testing.assert_array_equal(mix_to_mono(x, dtype=dtype), x.mean(axis=-1, dtype=dtype))
