"""scripts/pseudo_label.py: which stretches of a teacher's transcription become training labels."""

import sys

from conftest import REPO

from chordcli.lab import format_lab, parse_lab
from chordcli.segments import ChordSegment

sys.path.insert(0, str(REPO / "scripts"))
try:
    import pseudo_label
finally:
    sys.path.remove(str(REPO / "scripts"))


def seg(a, b, label, confidence=None):
    return ChordSegment(a, b, label, confidence)


def test_keeps_confident_chords_that_every_shifted_copy_agrees_on():
    original = [seg(0, 4, "C:maj", 0.9), seg(4, 8, "A:min", 0.9)]
    shifted = [seg(0, 8, "C:maj", 0.8)]  # agrees only over the first chord
    out = pseudo_label.pseudo_labels(
        original, [shifted], duration_s=8.0, min_confidence=0.5, min_run_s=1.0
    )
    assert [(s.start_s, s.end_s, s.label) for s in out] == [(0.0, 4.0, "C:maj"), (4.0, 8.0, "X")]


def test_low_confidence_no_chord_and_short_runs_become_unknown():
    original = [
        seg(0, 2, "G:7", 0.3),  # not confident
        seg(2, 4, "N", 0.99),  # no chord is never a pseudo-label
        seg(4, 4.5, "D:min", 0.9),  # too short a run
        seg(4.5, 7, "F:maj/3", 0.8),
    ]
    out = pseudo_label.pseudo_labels(
        original, [list(original)], duration_s=7.0, min_confidence=0.5, min_run_s=1.0
    )
    assert [(s.start_s, s.end_s, s.label) for s in out] == [(0.0, 4.5, "X"), (4.5, 7.0, "F:maj/3")]


def test_a_disagreement_inside_a_segment_splits_it_and_the_result_is_a_valid_lab():
    original = [seg(0, 10, "E:min7", 0.7)]
    other = [seg(0, 3, "E:min7"), seg(3, 5, "G:maj6"), seg(5, 10, "E:min7")]
    out = pseudo_label.pseudo_labels(
        original, [other, list(original)], duration_s=10.0, min_confidence=0.5, min_run_s=1.0
    )
    assert [(s.start_s, s.end_s, s.label) for s in out] == [
        (0.0, 3.0, "E:min7"),
        (3.0, 5.0, "X"),
        (5.0, 10.0, "E:min7"),
    ]
    assert [s.label for s in parse_lab(format_lab(out))] == ["E:min7", "X", "E:min7"]


def test_nothing_agreed_gives_one_unknown_span():
    out = pseudo_label.pseudo_labels(
        [seg(0, 5, "C:maj", 0.9)], [[seg(0, 5, "C#:maj")]],
        duration_s=5.0, min_confidence=0.5, min_run_s=1.0,
    )  # fmt: skip
    assert [(s.start_s, s.end_s, s.label) for s in out] == [(0.0, 5.0, "X")]


def test_only_the_allowed_qualities_are_taught_and_filtering_again_changes_nothing_else():
    import numpy as np

    from theory import QUALITIES

    allowed = np.zeros(len(QUALITIES) + 1, dtype=bool)
    allowed[[i for i, q in enumerate(QUALITIES) if (q.name or "maj") in ("maj", "m")]] = True
    original = [seg(0, 3, "C:maj", 0.9), seg(3, 6, "G:sus4(b7)", 0.9), seg(6, 9, "A:min", 0.9)]
    out = pseudo_label.pseudo_labels(
        original, [list(original)], duration_s=9.0, min_confidence=0.5, min_run_s=1.0,
        qualities=allowed,
    )  # fmt: skip
    expected = [(0.0, 3.0, "C:maj"), (3.0, 6.0, "X"), (6.0, 9.0, "A:min")]
    assert [(s.start_s, s.end_s, s.label) for s in out] == expected
    again = pseudo_label.pseudo_labels(
        out, [], duration_s=9.0, min_confidence=0.0, min_run_s=0.0, qualities=allowed
    )
    assert again == out


def test_unlabelled_recordings_are_tiled_by_unknown_segments_to_their_end():
    out = pseudo_label.unlabelled(25.0, 10.0)
    assert [(s.start_s, s.end_s, s.label) for s in out] == [
        (0.0, 10.0, "X"),
        (10.0, 20.0, "X"),
        (20.0, 25.0, "X"),
    ]
    assert parse_lab(format_lab(out)) == out
    assert [(s.start_s, s.end_s) for s in pseudo_label.unlabelled(20.0, 10.0)] == [
        (0.0, 10.0),
        (10.0, 20.0),
    ]
    assert len(pseudo_label.unlabelled(0.5, 10.0)) == 1


def test_labels_are_written_beside_a_link_also_when_the_link_is_there_already(tmp_path):
    source = tmp_path / "real" / "song.ogg"
    source.parent.mkdir()
    source.write_bytes(b"audio")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "song.ogg").symlink_to(source)  # a run stopped between link and LAB
    labels = pseudo_label.unlabelled(12.0, 10.0)
    pseudo_label.write_beside(source, folder, labels)
    assert (folder / "song.ogg").resolve() == source.resolve()
    assert parse_lab((folder / "song.lab").read_text()) == labels


def test_the_gate_writes_no_chord_over_silence_and_leaves_the_harmony_unknown(tmp_path):
    import numpy as np
    import pytest
    import soundfile as sf

    rate = 22050
    t = np.arange(5 * rate) / rate
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))
    source = tmp_path / "song.wav"
    sf.write(source, np.concatenate([chord, np.zeros(5 * rate)]), rate)
    out = pseudo_label.gated(source, pseudo_label.unlabelled(10.0, 10.0))
    assert [s.label for s in out] == ["X", "N"]
    assert out[0].start_s == 0.0 and out[-1].end_s == 10.0
    assert out[0].end_s == pytest.approx(5.0, abs=0.5)


def test_gate_without_unlabelled_is_a_usage_error(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        pseudo_label.main([str(tmp_path), "--out", str(tmp_path / "o"), "--gate"])
    assert exc.value.code == 2
    assert "--gate needs --unlabelled" in capsys.readouterr().err
