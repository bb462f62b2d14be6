import numpy as np
import pytest

from theory import parse_chord
from theory.keys import KEY_NONE, key_from_chords, key_name, parse_key
from theory.transpose import transpose_key, transpose_label


@pytest.mark.parametrize(
    ("labels", "durations", "key"),
    [
        (["C:maj", "F:maj", "G:7", "C:maj"], None, "C:maj"),
        (["A:min", "D:min", "E:7", "A:min"], None, "A:min"),
        (["G:maj", "C:maj", "D:7", "G:maj"], None, "G:maj"),
        (["Eb:maj", "Ab:maj", "Bb:7", "Eb:maj"], None, "Eb:maj"),
        (["E:min", "A:min", "B:7", "E:min"], [4, 2, 2, 4], "E:min"),
        # the same chords, weighted differently, tip relative keys apart
        (["C:maj", "A:min", "G:maj", "E:maj"], [8, 1, 1, 1], "C:maj"),
        (["C:maj", "A:min", "G:maj", "E:maj"], [1, 8, 1, 4], "A:min"),
    ],
)
def test_known_progressions(labels, durations, key):
    assert key_name(key_from_chords(labels, durations_s=durations)) == key_name(parse_key(key))


@pytest.mark.parametrize("shift", range(12))
def test_transposing_chords_transposes_the_key(shift):
    labels = ["D:min7", "G:7", "C:maj7", "A:min", "F:maj", "G:sus4(b7)", "C:maj/3"]
    durations = [2, 2, 4, 2, 2, 1, 3]
    key = key_from_chords(labels, durations_s=durations)
    moved = [transpose_label(label, shift) for label in labels]
    assert key_from_chords(moved, durations_s=durations) == transpose_key(key, shift)


def test_no_pitch_content_gives_no_key():
    assert key_from_chords([]) == KEY_NONE
    assert key_from_chords(["N", "X", "N"], durations_s=[1.0, 2.0, 3.0]) == KEY_NONE
    # all twelve pitch classes equally long: no tonal centre
    assert key_from_chords(["C:dim7", "C#:dim7", "D:dim7"]) == KEY_NONE


def test_accepts_parsed_chords_and_checks_lengths():
    chords = [parse_chord(x) for x in ("F:maj", "C:7", "F:maj")]
    assert key_name(key_from_chords(chords)) == "F major"
    with pytest.raises(ValueError, match="durations_s"):
        key_from_chords(["C:maj"], durations_s=np.ones(2))
