import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import (
    KEY_NONE,
    N_CLASS,
    chord_class,
    chord_target,
    class_label,
    parse_chord,
    score_vectors,
    transpose_class,
    transpose_key,
    transpose_label,
    transpose_target,
)
from theory.targets import class_templates, targets_for_labels
from theory.vocabulary import vocabulary_labels

LABELS = vocabulary_labels()


def test_target_layout():
    target = chord_target("A:min7/b3")
    assert target.shape == (25,) and target.dtype == np.float32
    assert np.flatnonzero(target[:12]).tolist() == [0, 4, 7, 9]
    assert np.flatnonzero(target[12:]).tolist() == [0]  # bass C
    none = chord_target("N")
    assert none[:12].sum() == 0 and none[24] == 1
    assert chord_target("X") is None


def test_targets_for_labels_masks_unknown():
    targets, valid = targets_for_labels(["C:maj", "X", "N"])
    assert valid.tolist() == [True, False, True]
    assert targets[1].sum() == 0


def test_every_class_scores_best_on_its_own_template():
    tones, roots = class_templates()
    vectors = np.zeros((529, 25), dtype=np.float32)
    vectors[:, :12] = tones
    vectors[np.arange(529), 12 + roots] = 1.0
    scores = score_vectors(vectors)
    assert scores.shape == (529, 529)
    assert (scores.argmax(axis=1) == np.arange(529)).all()


def test_inversion_bass_still_supports_class():
    vector = chord_target("C:maj/3")[None]
    scores = score_vectors(vector)
    assert scores.argmax() == chord_class("C:maj")


def test_score_vectors_rejects_bad_shape():
    with pytest.raises(ValueError, match="shape"):
        score_vectors(np.zeros((3, 24)))


@pytest.mark.parametrize(
    ("label", "k", "expected"),
    [
        ("A:min7/b3", 3, "C:min7/b3"),
        ("C:maj", -1, "B:maj"),
        ("Bb:7(#9)", 2, "C:7(#9)"),
        ("N", 5, "N"),
        ("X", 1, "X"),
    ],
)
def test_transpose_label(label, k, expected):
    assert transpose_label(label, k) == expected


def test_transpose_key():
    assert transpose_key(0, 2) == 2
    assert transpose_key(12 + 11, 1) == 12
    assert transpose_key(KEY_NONE, 3) == KEY_NONE


@given(st.sampled_from(LABELS), st.integers(-24, 24))
def test_transposition_is_consistent(label, k):
    """Transposing a label, its class and its target vector by k agree with each other."""
    moved = transpose_label(label, k)
    assert chord_class(moved) == transpose_class(chord_class(label), k)
    np.testing.assert_array_equal(chord_target(moved), transpose_target(chord_target(label), k))
    if label != "N":
        assert parse_chord(moved).root_pc == (parse_chord(label).root_pc + k) % 12


@given(st.integers(0, 528), st.integers(0, 11), st.integers(-12, 12))
def test_transpose_slash_class_label(index, bass, k):
    label = class_label(index, bass_pc=bass)
    moved = transpose_label(label, k)
    if index == N_CLASS:
        assert moved == "N"
    else:
        assert parse_chord(moved).bass_pc == (bass + k) % 12


def test_transpose_arrays():
    classes = np.array([0, 43, 527, N_CLASS])
    np.testing.assert_array_equal(transpose_class(classes, 1), [44, 87, 43, N_CLASS])
    vectors = np.stack([chord_target("C:maj"), chord_target("N")])
    moved = transpose_target(vectors, 12)
    np.testing.assert_array_equal(moved, vectors)
