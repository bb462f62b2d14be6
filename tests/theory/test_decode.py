"""HMM/Viterbi decoding: exactness against a dense Viterbi, and decoding of known posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from theory.decode import (
    DEFAULT_BASS_WEIGHT,
    DEFAULT_VECTOR_WEIGHT,
    DecoderSettings,
    Decoding,
    decode,
    emission_log_probs,
    key_chord_log_prior,
    path_log_score,
    quality_log_prior,
    segment_bass,
    viterbi_stay_switch,
)
from theory.keys import KEY_NONE, parse_key
from theory.targets import chord_target
from theory.vocabulary import N_CLASS, N_CLASSES, chord_class


def dense_viterbi(log_emission, log_stay, log_switch, log_switch_prior, log_initial):
    n_frames, n_states = log_emission.shape
    delta = log_emission[0] + log_initial
    back = np.zeros((n_frames, n_states), dtype=int)
    for t in range(1, n_frames):
        trans = np.full((n_states, n_states), log_switch[t]) + log_switch_prior[None, :]
        np.fill_diagonal(trans, log_stay[t])
        cand = delta[:, None] + trans  # from j (rows) to i (columns)
        back[t] = np.argmax(cand, axis=0)
        delta = cand.max(axis=0) + log_emission[t]
    path = np.zeros(n_frames, dtype=int)
    path[-1] = int(np.argmax(delta))
    for t in range(n_frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path, float(delta.max())


@pytest.mark.parametrize("seed", range(40))
def test_stay_switch_viterbi_equals_dense_viterbi(seed):
    rng = np.random.default_rng(seed)
    n_states = int(rng.integers(2, 9))
    n_frames = int(rng.integers(1, 31))
    log_emission = rng.normal(scale=2.0, size=(n_frames, n_states))
    q = rng.uniform(0.01, 0.99, size=n_frames)
    log_stay = np.log1p(-q)
    log_switch = np.log(q / (n_states - 1))
    prior = rng.normal(size=n_states) if seed % 2 else np.zeros(n_states)
    initial = rng.normal(size=n_states) if seed % 3 == 0 else np.zeros(n_states)
    path = viterbi_stay_switch(
        log_emission,
        log_stay=log_stay,
        log_switch=log_switch,
        log_switch_prior=prior,
        log_initial=initial,
    )
    dense_path, dense_score = dense_viterbi(log_emission, log_stay, log_switch, prior, initial)
    score = path_log_score(
        path,
        log_emission,
        log_stay=log_stay,
        log_switch=log_switch,
        log_switch_prior=prior,
        log_initial=initial,
    )
    assert score == pytest.approx(dense_score, abs=1e-9)
    np.testing.assert_array_equal(path, dense_path)


def test_single_state_and_empty_input():
    assert viterbi_stay_switch(
        np.zeros((4, 1)), log_stay=np.zeros(4), log_switch=np.zeros(4)
    ).tolist() == [0, 0, 0, 0]
    assert viterbi_stay_switch(
        np.zeros((0, 3)), log_stay=np.zeros(0), log_switch=np.zeros(0)
    ).shape == (0,)


def test_viterbi_rejects_bad_shapes():
    with pytest.raises(ValueError, match="log_stay"):
        viterbi_stay_switch(np.zeros((4, 3)), log_stay=np.zeros(3), log_switch=np.zeros(4))


def _posteriors(labels_per_frame, *, peak=0.6):
    """Chord posteriors with `peak` on each frame's class and the rest spread uniformly."""
    n_frames = len(labels_per_frame)
    probs = np.full((n_frames, N_CLASSES), (1.0 - peak) / (N_CLASSES - 1), dtype=np.float32)
    for t, label in enumerate(labels_per_frame):
        probs[t, chord_class(label)] = peak
    return probs


def test_known_posteriors_decode_to_known_segments():
    labels = ["C:maj"] * 10 + ["A:min"] * 8 + ["F:maj7"] * 6 + ["N"] * 4
    probs = _posteriors(labels)
    # A one-frame glitch inside A:min is smoothed away.
    probs[13] = _posteriors(["D:maj"])[0]
    result = decode(probs, change=np.full(len(labels), 0.05))
    assert isinstance(result, Decoding)
    got = [(s.start_frame, s.end_frame, s.label) for s in result.segments]
    assert got == [(0, 10, "C:maj"), (10, 18, "A:min"), (18, 24, "F:maj7"), (24, 28, "N")]
    assert result.segments[0].confidence == pytest.approx(0.6, abs=1e-6)
    assert result.segments[1].confidence < 0.6  # the glitch frame lowers the mean


def test_change_head_at_one_forces_switches():
    labels = ["C:maj"] * 6 + ["G:maj"] * 6
    probs = _posteriors(labels, peak=0.3)
    probs[2] = _posteriors(["E:min"], peak=0.3)[0]
    # Low change probability: the single E:min frame is absorbed.
    low = decode(probs, change=np.full(12, 0.01))
    assert [s.label for s in low.segments] == ["C:maj", "G:maj"]
    # A change probability of one around frame 2 makes the switches free and staying costly.
    change = np.full(12, 0.01)
    change[[2, 3]] = 1.0
    high = decode(probs, change=change)
    assert [s.label for s in high.segments] == ["C:maj", "E:min", "C:maj", "G:maj"]
    assert [s.start_frame for s in high.segments] == [0, 2, 3, 6]


def test_key_prior_flips_a_tie():
    # E:maj and E:min equally likely; in A minor (harmonic: G#) both fit; in C major only E:min.
    probs = np.full((8, N_CLASSES), 1e-4, dtype=np.float32)
    probs[:, chord_class("E:maj")] = 0.4
    probs[:, chord_class("E:min")] = 0.4
    key_c = np.zeros(25, dtype=np.float32)
    key_c[parse_key("C:maj")] = 1.0
    key_e = np.zeros(25, dtype=np.float32)
    key_e[parse_key("E:maj")] = 1.0
    in_c = decode(probs, key=key_c, key_weight=0.5)
    in_e = decode(probs, key=np.tile(key_e, (8, 1)), key_weight=0.5)
    assert [s.label for s in in_c.segments] == ["E:min"]
    assert [s.label for s in in_e.segments] == ["E:maj"]


def test_key_chord_prior_table():
    table = key_chord_log_prior()
    assert table.shape == (25, N_CLASSES)
    np.testing.assert_allclose(np.exp(table.astype(np.float64)).sum(axis=1), 1.0, rtol=1e-5)
    c_major = parse_key("C:maj")
    a_minor = parse_key("A:min")
    # Diatonic chords share the top prior; an out-of-key chord is lower.
    assert table[c_major, chord_class("G:7")] == table[c_major, chord_class("C:maj")]
    assert table[c_major, chord_class("Eb:maj")] < table[c_major, chord_class("D:min")]
    assert table[a_minor, chord_class("E:7")] == table[a_minor, chord_class("A:min")]
    assert table[c_major, N_CLASS] == table[c_major, chord_class("C:maj")]
    assert np.all(table[KEY_NONE] == table[KEY_NONE, 0])


def test_quality_prior_divides_out_the_training_share():
    share = np.full(45, 0.01)
    share[0] = 0.56  # maj
    uniform = quality_log_prior(share, 0.0)
    np.testing.assert_allclose(uniform, -np.log(N_CLASSES))
    prior = quality_log_prior(share, 1.0)
    np.testing.assert_allclose(np.exp(prior).sum(), 1.0)
    gap = prior[chord_class("C:sus2")] - prior[chord_class("C:maj")]
    assert gap == pytest.approx(np.log(56.0))
    assert prior[chord_class("D:maj")] == prior[chord_class("C:maj")]  # roots share it
    assert quality_log_prior(share, 0.5)[N_CLASS] == pytest.approx(
        quality_log_prior(share, 0.5)[chord_class("E:sus2")]
    )
    # A frame the network calls maj 0.5 / sus2 0.3 decodes as sus2 once maj's share is out.
    probs = np.full((4, N_CLASSES), 0.2 / (N_CLASSES - 2), dtype=np.float32)
    probs[:, chord_class("C:maj")] = 0.5
    probs[:, chord_class("C:sus2")] = 0.3
    assert decode(probs).segments[0].label == "C:maj"
    assert decode(probs, class_log_prior=prior).segments[0].label == "C:sus2"
    for bad in (np.ones(44), np.zeros(45)):
        with pytest.raises(ValueError, match="quality_share"):
            quality_log_prior(bad, 1.0)


def test_decoder_settings_come_from_a_config_section_and_reach_decode():
    share = np.array([0.56] + [0.01] * 44)
    settings = DecoderSettings.from_config(
        {"quality_share": share.tolist(), "prior_strength": 1.0, "vector_weight": 0.0}
    )
    np.testing.assert_allclose(settings.class_log_prior, quality_log_prior(share, 1.0))
    assert (settings.bass_weight, settings.vector_weight) == (DEFAULT_BASS_WEIGHT, 0.0)
    for empty in (None, {}):
        plain = DecoderSettings.from_config(empty)
        assert plain.class_log_prior is None
        assert (plain.bass_weight, plain.vector_weight) == (
            DEFAULT_BASS_WEIGHT,
            DEFAULT_VECTOR_WEIGHT,
        )
    probs = np.full((4, N_CLASSES), 0.2 / (N_CLASSES - 2), dtype=np.float32)
    probs[:, chord_class("C:maj")] = 0.5
    probs[:, chord_class("C:sus2")] = 0.3
    assert decode(probs, **plain.kwargs()).segments[0].label == "C:maj"
    assert decode(probs, **settings.kwargs()).segments[0].label == "C:sus2"
    for bad in (
        {"prior_strength": 1.0},
        {"quality_share": [1.0] * 10, "prior_strength": 1.0},
        {"bass_weight": "heavy"},
        {"vector_weight": [1]},
        [1, 2],
    ):
        with pytest.raises(ValueError):
            DecoderSettings.from_config(bad)


def test_root_position_term_reads_the_root_from_the_bass():
    # C:maj6 and A:min7 have the same tones; the chord head cannot choose, the bass can.
    probs = np.full((6, N_CLASSES), 1e-4, dtype=np.float32)
    probs[:, chord_class("C:maj6")] = 0.4
    probs[:, chord_class("A:min7")] = 0.41
    bass_c = np.full((6, 13), 0.01, dtype=np.float32)
    bass_c[:, 0] = 0.88
    assert decode(probs, bass=bass_c).segments[0].label == "A:min7/b3"
    assert decode(probs, bass=bass_c, bass_weight=1.0).segments[0].label == "C:maj6"
    bass_a = np.roll(bass_c, 9, axis=1)
    bass_a[:, 12], bass_a[:, 9] = 0.01, 0.88
    assert decode(probs, bass=bass_a, bass_weight=1.0).segments[0].label == "A:min7"
    emission = emission_log_probs(probs, bass=bass_c, bass_weight=2.0)
    plain = emission_log_probs(probs)
    np.testing.assert_allclose(
        emission[:, N_CLASS] - plain[:, N_CLASS], 2 * np.log(0.011), rtol=1e-4
    )
    with pytest.raises(ValueError, match="bass"):
        emission_log_probs(probs, bass=bass_c[:, :12], bass_weight=1.0)
    # a negative weight leans against the bass-as-root reading among chords; N gains nothing
    against = emission_log_probs(probs, bass=bass_c, bass_weight=-0.5)
    np.testing.assert_array_equal(against[:, N_CLASS], plain[:, N_CLASS])
    gap = against[:, chord_class("A:min7")] - against[:, chord_class("C:maj6")]
    np.testing.assert_allclose(
        gap - (plain[:, chord_class("A:min7")] - plain[:, chord_class("C:maj6")]),
        -0.5 * (np.log(0.011) - np.log(0.881)),
        rtol=1e-4,
    )


def test_vector_score_breaks_a_tie():
    probs = np.full((5, N_CLASSES), 1e-4, dtype=np.float32)
    probs[:, chord_class("C:maj")] = 0.4
    probs[:, chord_class("A:min")] = 0.4
    vector = np.tile(chord_target("A:min") * 0.9 + 0.05, (5, 1))
    result = decode(probs, smooth_chroma=vector, vector_weight=0.5)
    assert [s.label for s in result.segments] == ["A:min"]
    emission = emission_log_probs(probs, smooth_chroma=vector, vector_weight=0.0)
    np.testing.assert_allclose(emission, np.log(probs + 1e-6), rtol=1e-5)


def _bass(pcs):
    out = np.full((len(pcs), 13), 0.02, dtype=np.float32)
    for t, pc in enumerate(pcs):
        out[t, pc] = 0.76
    return out


def test_bass_head_makes_slash_chords():
    labels = ["C:maj"] * 6 + ["G:maj"] * 6 + ["F:maj"] * 6
    bass = _bass([4] * 6 + [7] * 6 + [1] * 6)  # E under C, G under G, Db under F
    result = decode(_posteriors(labels), bass=bass, change=np.full(18, 0.05))
    assert [s.label for s in result.segments] == ["C:maj/3", "G:maj", "F:maj"]


@pytest.mark.parametrize(
    ("label", "bass_pc", "expected"),
    [
        ("C:maj", 4, 4),  # third: first inversion
        ("C:maj", 7, 7),  # fifth
        ("C:maj", 11, 11),  # common passing bass (C/B)
        ("C:maj", 10, 10),  # C/Bb
        ("C:maj", 1, None),  # Db is neither a chord tone nor a common slash bass
        ("C:maj", 0, None),  # root position
        ("C:maj", 12, None),  # no bass
        ("N", 4, None),
    ],
)
def test_segment_bass_rule(label, bass_pc, expected):
    mean = np.full(13, 0.01)
    mean[bass_pc] = 0.8
    assert segment_bass(chord_class(label), mean) == expected


def test_weak_bass_gives_root_position():
    mean = np.full(13, 1 / 13)
    assert segment_bass(chord_class("C:maj"), mean) is None


def test_decode_validates_shapes():
    with pytest.raises(ValueError, match="chord must have shape"):
        decode(np.zeros((3, 12)))
    with pytest.raises(ValueError, match="change"):
        decode(np.full((3, N_CLASSES), 1 / N_CLASSES), change=np.zeros(4))
    assert decode(np.zeros((0, N_CLASSES))).segments == ()
