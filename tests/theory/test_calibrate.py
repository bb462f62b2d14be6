"""Decoder calibration: priors, per-song tone adaptation, the bass choosing the root."""

from __future__ import annotations

import numpy as np
import pytest

from theory.calibrate import (
    bass_root_classes,
    calibrated_log_prior,
    choose_root_by_bass,
    quality_tone_counts,
    song_tone_count,
    tone_adaptation,
)
from theory.decode import DecoderSettings, decode, quality_log_prior
from theory.vocabulary import N_CLASS, N_CLASSES, N_QUALITIES, class_label, class_of, quality_index


def _share(seed: int = 0) -> np.ndarray:
    share = np.random.default_rng(seed).uniform(0.001, 1.0, N_QUALITIES + 1)
    return share / share.sum()


def test_without_a_reference_the_prior_is_the_old_quality_prior():
    share = _share()
    np.testing.assert_allclose(
        calibrated_log_prior(share, train_strength=0.4), quality_log_prior(share, 0.4), atol=1e-9
    )


def test_reference_prior_swaps_the_training_prior():
    train, reference = _share(1), _share(2)
    prior = calibrated_log_prior(
        train, train_strength=1.0, reference_share=reference, reference_strength=1.0
    )
    assert np.exp(prior).sum() == pytest.approx(1.0)
    # posterior p ~ train * likelihood; p * prior ~ reference * likelihood
    q = [quality_index("maj"), quality_index("sus2")]
    c = [class_of(0, "maj"), class_of(0, "sus2")]
    ratio = prior[c[0]] - prior[c[1]]
    expected = np.log(reference[q[0]] / train[q[0]]) - np.log(reference[q[1]] / train[q[1]])
    assert ratio == pytest.approx(expected)


def test_no_chord_bias_moves_only_n():
    share = _share()
    base = calibrated_log_prior(share)
    biased = calibrated_log_prior(share, no_chord_bias=-2.0)
    shift = biased - base
    np.testing.assert_allclose(shift[:N_CLASS], shift[0])
    assert shift[N_CLASS] - shift[0] == pytest.approx(-2.0)


def test_quality_bias_moves_each_quality_and_refuses_bad_values():
    share = _share()
    bias = np.zeros(N_QUALITIES + 1)
    bias[quality_index("5")] = -2.0
    shift = calibrated_log_prior(share, quality_bias=bias) - calibrated_log_prior(share)
    power, maj = class_of(7, "5"), class_of(7, "maj")
    assert shift[power] - shift[maj] == pytest.approx(-2.0)
    np.testing.assert_allclose(shift[class_of(0, "min")], shift[maj])
    with pytest.raises(ValueError, match="quality_bias"):
        calibrated_log_prior(share, quality_bias=np.zeros(3))
    with pytest.raises(ValueError, match="quality_bias"):
        calibrated_log_prior(share, quality_bias=np.full(N_QUALITIES + 1, np.nan))


def test_rare_strength_applies_only_to_qualities_rare_in_the_reference():
    train = _share()
    reference = np.full(N_QUALITIES + 1, 0.001)
    reference[[quality_index("maj"), quality_index("min7")]] = [0.6, 0.3]
    base = calibrated_log_prior(train, reference_share=reference, reference_strength=0.5)
    rare = calibrated_log_prior(
        train, reference_share=reference, reference_strength=0.5, rare_strength=1.5
    )
    shift = rare - base
    common = [class_of(0, "maj"), class_of(5, "min7")]
    assert shift[common[0]] == pytest.approx(shift[common[1]])
    # a rare quality moves by (1.5 - 0.5) * log(0.001) against the common ones
    assert shift[class_of(0, "sus4")] - shift[common[0]] == pytest.approx(np.log(0.001))


def test_tone_adaptation_favours_tetrads_when_more_tones_are_heard():
    maj, maj7 = class_of(0, "maj"), class_of(0, "maj7")
    jazz = tone_adaptation(4.0, tone_weight=1.0, tone_reference=3.1)
    pop = tone_adaptation(3.0, tone_weight=1.0, tone_reference=3.1)
    assert jazz[maj7] > jazz[maj] == 0.0 and pop[maj7] < 0.0
    assert jazz[N_CLASS] == 0.0
    assert quality_tone_counts()[quality_index("9")] == 5


def test_song_tone_count_ignores_no_chord_frames():
    vectors = np.zeros((4, 25), np.float32)
    vectors[:2, [0, 4, 7, 11]] = 1.0
    chord = np.zeros((4, N_CLASSES), np.float32)
    chord[:2, 0] = 1.0
    chord[2:, N_CLASS] = 1.0
    assert song_tone_count(vectors, chord) == pytest.approx(4.0)
    assert song_tone_count(vectors) == pytest.approx(2.0)


def test_same_pitch_classes_on_other_roots():
    c6 = class_of(0, "6")
    assert {class_label(c) for c in bass_root_classes()[c6]} == {"C:maj6", "A:min7"}
    dim7 = bass_root_classes()[class_of(0, "dim7")]
    assert len(dim7) == 4
    assert bass_root_classes()[N_CLASS] == (N_CLASS,)


def test_bass_chooses_the_root_among_same_pitch_classes():
    bass = np.zeros(13)
    bass[9] = 0.7  # A in the bass
    c6, am7 = class_of(0, "6"), class_of(9, "min7")
    assert choose_root_by_bass(c6, bass, min_prob=0.5) == am7
    assert choose_root_by_bass(c6, bass, min_prob=0.8) == c6  # bass not sure enough
    bass[:] = 0.0
    bass[4] = 0.9  # E: not a root of either reading
    assert choose_root_by_bass(c6, bass, min_prob=0.5) == c6
    maj = class_of(0, "maj")
    assert choose_root_by_bass(maj, bass, min_prob=0.1) == maj  # no other reading


def _two_classes(n: int, first: int, second: int, p: tuple[float, float]) -> np.ndarray:
    """Posteriors of n frames that favour `first` (p[0]) over `second` (p[1])."""
    chord = np.full((n, N_CLASSES), 1e-4, np.float32)
    chord[:, first], chord[:, second] = p
    return chord / chord.sum(axis=1, keepdims=True)


def test_decode_lets_the_bass_choose_the_root():
    n = 30
    c6, am7 = class_of(0, "6"), class_of(9, "min7")
    chord = _two_classes(n, c6, am7, (0.6, 0.4))
    bass = np.zeros((n, 13), np.float32)
    bass[:, 9] = 1.0
    plain = decode(chord, bass=bass)
    chosen = decode(chord, bass=bass, bass_root_min_prob=0.5)
    assert plain.segments[0].chord_class == c6
    assert chosen.segments[0].chord_class == am7 and (chosen.path == am7).all()
    assert chosen.segments[0].bass_pc is None


def test_decoder_settings_read_the_calibration_from_a_config():
    share = _share()
    section = {
        "quality_share": share.tolist(),
        "prior_strength": 1.0,
        "reference_share": _share(3).tolist(),
        "reference_strength": 0.5,
        "no_chord_bias": -1.0,
        "tone_weight": 2.0,
        "tone_reference": 3.2,
        "bass_root_min_prob": 0.35,
        "quality_bias": [-0.5] + [0.0] * N_QUALITIES,
    }
    settings = DecoderSettings.from_config(section)
    assert settings.tone_weight == 2.0 and settings.tone_reference == 3.2
    assert settings.bass_root_min_prob == 0.35
    expected = calibrated_log_prior(
        share,
        reference_share=_share(3),
        reference_strength=0.5,
        no_chord_bias=-1.0,
        quality_bias=np.array(section["quality_bias"]),
    )
    np.testing.assert_allclose(settings.class_log_prior, expected)
    assert settings.kwargs()["bass_root_min_prob"] == 0.35
    old = DecoderSettings.from_config({"quality_share": share.tolist(), "prior_strength": 0.2})
    np.testing.assert_allclose(old.class_log_prior, quality_log_prior(share, 0.2), atol=1e-9)
    assert old.bass_root_min_prob is None and old.tone_weight == 0.0


def test_tone_weight_changes_a_tetrad_call():
    n = 20
    maj, maj7 = class_of(0, "maj"), class_of(0, "maj7")
    chord = _two_classes(n, maj, maj7, (0.5, 0.4))
    vectors = np.zeros((n, 25), np.float32)
    vectors[:, [0, 4, 7, 11]] = 0.95
    assert decode(chord, smooth_chroma=vectors, vector_weight=0.0).path[0] == maj
    adapted = decode(chord, smooth_chroma=vectors, vector_weight=0.0, tone_weight=1.0)
    assert adapted.path[0] == maj7
