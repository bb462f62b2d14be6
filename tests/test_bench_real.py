"""benchmarks/bench_real.py: how a shifted transcription is compared with the original."""

import sys

from conftest import REPO

from chordcli.evaluate import score_song
from chordcli.segments import ChordSegment

sys.path.insert(0, str(REPO / "benchmarks"))
try:
    import bench_real
finally:
    sys.path.remove(str(REPO / "benchmarks"))


def test_mapping_back_undoes_the_shift_in_pitch_and_time():
    speed = 2 ** (2 / 12)
    moved = [ChordSegment(0.0, 2.0, "D:maj"), ChordSegment(2.0, 3.0, "N")]
    back = bench_real.mapped_back(moved, 2, speed)
    assert [s.label for s in back] == ["C:maj", "N"]
    assert back[1].end_s == 3.0 * speed


def test_the_chord_time_agreement_leaves_out_what_the_original_calls_no_chord():
    original = [ChordSegment(0.0, 2.0, "N"), ChordSegment(2.0, 4.0, "C:maj")]
    other = [ChordSegment(0.0, 2.0, "N"), ChordSegment(2.0, 4.0, "A:min")]
    assert score_song(original, other).scores["majmin"] == 0.5  # N against N agrees
    chords = score_song(bench_real.without_no_chord(original), other)
    assert chords.scores["majmin"] == 0.0 and chords.weights_s["majmin"] == 2.0
    assert bench_real.without_no_chord(original)[1] == original[1]
