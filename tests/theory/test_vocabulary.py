import numpy as np
import pytest

from theory import (
    N_CLASS,
    N_CLASSES,
    N_QUALITIES,
    QUALITIES,
    chord_class,
    class_label,
    class_name,
    parse_chord,
    vocabulary_fingerprint,
)
from theory.vocabulary import (
    class_of,
    class_quality,
    class_quality_indices,
    class_root,
    quality_index,
    vocabulary_labels,
)

REQUIRED = (
    "maj min dim aug sus2 sus4 5 6 m6 7 maj7 m7 mM7 dim7 m7b5 aug7 7sus4 add9 madd9 9 maj9 m9 "
    "mM7(9) 69 m69 7(b9) 7(#9) 7(#11) 7(b13) 7(13) m7(11) m7(13) maj7(#11) 9sus4 11 13"
).split()


def test_size():
    assert N_QUALITIES == 44
    assert N_CLASSES == 529
    assert N_CLASS == 528
    assert len(vocabulary_labels()) == 529
    assert len(set(vocabulary_labels())) == 529


def test_required_qualities_present():
    names = {q.name for q in QUALITIES} | {"maj", "min"}
    for name in REQUIRED:
        assert name in names, name


def test_qualities_are_distinct_and_rooted():
    shapes = [q.intervals for q in QUALITIES]
    assert len(set(shapes)) == len(shapes)
    assert all(0 in s for s in shapes)


def test_every_class_label_is_valid_for_mir_eval_and_maps_to_itself():
    mir_eval = pytest.importorskip("mir_eval")
    for index, label in enumerate(vocabulary_labels()):
        mir_eval.chord.validate_chord_label(label)
        mir_eval.chord.encode(label, reduce_extended_chords=True)
        assert chord_class(label) == index, label


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("C:maj", "C"),
        ("A:min7", "Am7"),
        ("A:min7/b7", "Am7"),  # inversions keep their class; the bass is separate
        ("D:maj/3", "D"),
        ("G:7(b9,*5)", "G7(b9)"),  # omitted fifth still reads as the altered dominant
        ("C:1", "C5"),  # a bare root is read as a power chord
        ("C:(b3,b7)", "Cm7"),
        ("C:min(b13)", "Cm"),  # unsupported colour tone dropped
        ("C:maj6(7)", "Cmaj7"),
        ("C:9(13,#11)", "C13"),
        ("C:maj7(9,11)", "Cmaj13"),
        ("C:maj9(#11)", "Cmaj9"),
        ("C:7(11)", "C11"),
        ("C:min6(7)", "CmM7"),
        ("C:sus4(b13,b7)", "C7sus4"),
        ("C:(3)", "C"),
        ("C:maj(#9)", "C7(#9)"),
        ("Bb:sus4(b7,9)", "A#9sus4"),
        ("F#:minmaj7(9)", "F#mM7(9)"),
        ("C:min(11)", "Cmadd11"),
        ("C:(3,b5,b7)", "C7b5"),
    ],
)
def test_nearest_class(label, name):
    assert class_name(chord_class(label), flats=False) == name


def test_no_chord_and_unknown():
    assert chord_class("N") == N_CLASS
    assert chord_class("X") is None
    assert class_label(N_CLASS) == "N"
    assert class_name(N_CLASS) == "N"
    assert class_root(N_CLASS) is None
    assert class_quality(N_CLASS) is None


def test_class_helpers():
    index = class_of(9, "m7")
    assert index == 9 * 44 + quality_index("min7")
    assert class_root(index) == 9
    assert class_quality(index).harte == "min7"
    assert class_label(index) == "A:min7"
    assert class_label(index, bass_pc=7) == "A:min7/b7"
    assert class_label(index, bass_pc=9) == "A:min7"
    assert class_name(class_of(1, "maj7"), flats=True) == "Dbmaj7"
    with pytest.raises(ValueError):
        class_label(529)
    classes = np.array([index, class_of(2, "sus2"), N_CLASS, -1])
    np.testing.assert_array_equal(
        class_quality_indices(classes), [quality_index("min7"), quality_index("sus2"), 44, -1]
    )


def test_fingerprint_is_stable():
    assert vocabulary_fingerprint() == vocabulary_fingerprint()
    assert len(vocabulary_fingerprint()) == 16


def test_mapping_is_transposition_invariant():
    rng = np.random.default_rng(0)
    for _ in range(200):
        intervals = {0} | set(
            rng.choice(np.arange(1, 12), size=rng.integers(1, 6), replace=False).tolist()
        )
        from theory.harte import format_harte

        base = chord_class(parse_chord(format_harte(0, intervals)))
        for root in range(12):
            assert chord_class(parse_chord(format_harte(root, intervals))) == root * 44 + base
