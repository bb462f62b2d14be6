"""Tuning estimation (models.tuning) and the CQT centred on it (models.cqt, tuning_cents)."""

import numpy as np
import pytest
from synth_audio import chord_progression

from models.cqt import DEFAULT_CQT, CQTParameterError, cqt
from models.tuning import TuningError, estimate_tuning, parse_tuning

PROGRESSION = ["C:maj", "A:min", "F:maj7", "G:7", "E:min", "D:min7"]


@pytest.mark.parametrize("cents", [-49.0, -40.0, -25.0, -10.0, 0.0, 10.0, 25.0, 40.0, 45.0])
def test_detuned_chords_are_estimated_within_ten_cents(cents):
    audio = chord_progression(PROGRESSION, tuning_cents=cents, seed=3)
    got = estimate_tuning(audio, sample_rate_hz=22050)
    # Distance on the circle of 100 cents: +49 and -51 are the same tuning.
    assert abs((got - cents + 50) % 100 - 50) <= 10.0
    assert -50.0 <= got < 50.0


@pytest.mark.parametrize("cents", [-40.0, 40.0])
def test_single_detuned_tone_at_44100_hz_stereo(cents):
    rate = 44100
    t = np.arange(3 * rate) / rate
    f0 = 440.0 * 2 ** ((cents - 900) / 1200)  # C4, detuned
    mono = sum(0.5**h * np.sin(2 * np.pi * f0 * (h + 1) * t) for h in range(4))
    stereo = np.stack([mono, 0.5 * mono], axis=1).astype(np.float32)
    assert abs(estimate_tuning(stereo, sample_rate_hz=rate) - cents) <= 10.0


def test_in_tune_audio_reads_close_to_zero():
    audio = chord_progression(PROGRESSION, seed=1)
    assert abs(estimate_tuning(audio, sample_rate_hz=22050)) <= 2.0


@pytest.mark.parametrize(
    "audio",
    [np.zeros(22050 * 3, dtype=np.float32), np.zeros(100, dtype=np.float32)],
    ids=["silence", "shorter-than-window"],
)
def test_no_tonal_content_gives_zero(audio):
    assert estimate_tuning(audio, sample_rate_hz=22050) == 0.0


def test_bad_rate_is_refused():
    with pytest.raises(TuningError, match="sample_rate_hz"):
        estimate_tuning(np.zeros(1000, dtype=np.float32), sample_rate_hz=4000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("auto", None), ("AUTO", None), ("0", 0.0), ("-12.5", -12.5), ("50", 50.0), ("-50", -50.0)],
)
def test_parse_tuning(text, expected):
    assert parse_tuning(text) == expected


@pytest.mark.parametrize("text", ["51", "-50.5", "nan", "inf", "sharp", ""])
def test_parse_tuning_refuses(text):
    with pytest.raises(TuningError, match="tuning"):
        parse_tuning(text)


def test_retuned_config_moves_every_bin():
    config = DEFAULT_CQT.retuned(40.0)
    ratio = config.frequencies_hz / DEFAULT_CQT.frequencies_hz
    np.testing.assert_allclose(ratio, 2 ** (40 / 1200))
    assert DEFAULT_CQT.retuned(0.0) is DEFAULT_CQT
    with pytest.raises(CQTParameterError, match="tuning_cents"):
        DEFAULT_CQT.retuned(60.0)


def test_centred_cqt_of_a_detuned_clip_matches_the_in_tune_one():
    """40 cents sharp with tuning_cents=40 gives the features of the in-tune clip."""
    in_tune = chord_progression(PROGRESSION[:3], seed=2)
    sharp = chord_progression(PROGRESSION[:3], tuning_cents=40.0, seed=2)
    reference = cqt(in_tune, sample_rate_hz=22050)
    centred = cqt(sharp, sample_rate_hz=22050, tuning_cents=40.0)
    plain = cqt(sharp, sample_rate_hz=22050)
    err_centred = np.abs(centred - reference).mean()
    err_plain = np.abs(plain - reference).mean()
    assert err_centred < 0.2 * err_plain
    # The semitone bins (every third) carry the energy of the detuned clip once centred.
    semitones = reference[..., 0].reshape(len(reference), -1, 3).sum(axis=(0, 1))
    centred_bins = centred[..., 0].reshape(len(centred), -1, 3).sum(axis=(0, 1))
    assert np.argmax(semitones) == np.argmax(centred_bins) == 0


@pytest.mark.parametrize("block", [3333, 8192, 1_000_000])
def test_tuning_frames_pushed_in_blocks_give_the_estimate_of_the_whole(block):
    from models.tuning import TuningFrames

    mono = chord_progression(["C:maj", "A:min", "F:maj", "G:7"] * 3, tuning_cents=23.0, seed=2)
    # Over 3 minutes: the 1,000 frames analysed are spread out, with samples between them.
    stereo = np.tile(np.stack([mono, 0.5 * mono], axis=1), (9, 1))
    frames = TuningFrames(n_samples=len(stereo), sample_rate_hz=22050)
    for i in range(0, len(stereo), block):
        frames.push(stereo[i : i + block])
    assert frames.estimate(len(stereo)) == estimate_tuning(stereo, sample_rate_hz=22050)
    # A length that puts the frames elsewhere asks for another read.
    assert frames.estimate(len(stereo) + 4096) is None
