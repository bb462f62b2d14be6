"""Every chord label in the shared datasets parses, agrees with mir_eval and maps to a class."""

from pathlib import Path

import numpy as np
import pytest

from theory import chord_class, chord_target, parse_chord
from theory.vocabulary import N_CLASS


def dataset_labels(shared_data: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    files = sorted(shared_data.glob("pop909/*/chord_midi.txt"))
    files += sorted(shared_data.glob("billboard/billboard-2.0.1-lab/*/full.lab"))
    assert len(files) > 1000
    for path in files:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                label = " ".join(parts[2:])
                counts[label] = counts.get(label, 0) + 1
    return counts


@pytest.fixture(scope="module")
def labels(shared_data):
    return dataset_labels(shared_data)


def test_every_dataset_label_parses_and_maps(labels):
    assert len(labels) > 1000  # 1,039 distinct labels at the time of writing
    for label in labels:
        chord = parse_chord(label)
        index = chord_class(chord)
        if label == "X":
            assert index is None
            assert chord_target(chord) is None
        else:
            assert 0 <= index <= N_CLASS
            assert chord_target(chord).shape == (25,)


def test_agrees_with_mir_eval(labels):
    mir_eval = pytest.importorskip("mir_eval")
    for label in labels:
        root, bitmap, bass = mir_eval.chord.encode(label, reduce_extended_chords=True)
        chord = parse_chord(label)
        if label in ("N", "X"):
            assert chord.root_pc is None
            continue
        assert chord.root_pc == root, label
        assert chord.bitmap() == list(bitmap), label
        assert chord.bass_interval == bass, label


def test_no_label_maps_to_a_contradicting_third(labels):
    for label in labels:
        chord = parse_chord(label)
        if chord.root_pc is None:
            continue
        index = chord_class(chord)
        quality_tones = index % 44
        from theory.vocabulary import QUALITIES

        shape = QUALITIES[quality_tones].intervals
        has_major, has_minor = 4 in chord.intervals, 3 in chord.intervals
        if has_major and not has_minor:
            assert not (3 in shape and 4 not in shape), label
        if has_minor and not has_major:
            assert not (4 in shape and 3 not in shape), label
        # the root pitch class always survives
        assert index // 44 == chord.root_pc
        target = chord_target(chord)
        assert np.isclose(target[12:].sum(), 1.0)
