"""Ranked alternatives from chord posteriors (chordcli.alternatives)."""

import numpy as np
import pytest

from chordcli.alternatives import confidence_temperature, with_alternatives
from chordcli.segments import ChordSegment
from theory.vocabulary import N_CLASS, N_CLASSES, chord_class

FPS = 10.0


def posteriors(*rows: dict[str, float], frames_each: int = 10) -> np.ndarray:
    """Frames of fixed distributions: each dict maps labels to probabilities (rest on N)."""
    out = []
    for row in rows:
        p = np.zeros(N_CLASSES)
        for label, value in row.items():
            p[chord_class(label)] = value
        p[N_CLASS] += 1.0 - p.sum()
        out += [p] * frames_each
    return np.asarray(out, dtype=np.float32)


def test_alternatives_rank_the_mean_posteriors_of_each_segment():
    chord = posteriors({"C:maj6": 0.5, "A:min7": 0.3, "F:maj": 0.1}, {"G:7": 0.9})
    segments = [ChordSegment(0.0, 0.95, "C:maj6", 0.5), ChordSegment(0.95, 2.0, "G:7", 0.9)]
    first, second = with_alternatives(segments, chord, frames_per_second=FPS)
    assert [a.label for a in first.alternatives[:4]] == ["C:maj6", "A:min7", "F:maj", "N"]
    assert [round(a.probability, 4) for a in first.alternatives[:3]] == [0.5, 0.3, 0.1]
    assert second.alternatives[0].label == "G:7"
    assert second.alternatives[0].probability == pytest.approx(0.9, abs=1e-6)
    for seg in (first, second):
        probs = [a.probability for a in seg.alternatives]
        assert len(probs) >= 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-9
        assert (seg.start_s, seg.end_s, seg.label) in {
            (s.start_s, s.end_s, s.label) for s in segments
        }
        assert seg.confidence == seg.alternatives[0].probability


def test_a_segment_averages_its_own_frames_only():
    chord = posteriors({"C:maj": 1.0}, {"D:min": 1.0}, frames_each=10)
    # Frames 0..9 are centred at 0.0 .. 0.9 s; the segment [0.95, 2.0) is frames 10..19.
    (seg,) = with_alternatives([ChordSegment(0.95, 2.0, "D:min")], chord, frames_per_second=FPS)
    assert seg.alternatives[0].label == "D:min"
    assert seg.alternatives[0].probability == pytest.approx(1.0)
    # Half and half when the segment straddles the change.
    (seg,) = with_alternatives([ChordSegment(0.45, 1.45, "C:maj")], chord, frames_per_second=FPS)
    assert [round(a.probability, 3) for a in seg.alternatives[:2]] == [0.5, 0.5]


def test_vocabulary_adds_up_the_classes_of_a_label_and_transposition_follows():
    chord = posteriors({"A:min7": 0.3, "A:min": 0.25, "C:maj6": 0.4})
    seg = ChordSegment(0.0, 1.0, "C:maj")
    (majmin,) = with_alternatives([seg], chord, frames_per_second=FPS, vocab="majmin")
    assert [(a.label, round(a.probability, 4)) for a in majmin.alternatives[:2]] == [
        ("A:min", 0.55),
        ("C:maj", 0.4),
    ]
    (shifted,) = with_alternatives([seg], chord, frames_per_second=FPS, vocab="majmin", shift=2)
    assert [a.label for a in shifted.alternatives[:2]] == ["B:min", "D:maj"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="shape"):
        with_alternatives([], np.zeros((4, 25)), frames_per_second=FPS)
    with pytest.raises(ValueError, match="at least 3"):
        with_alternatives([], np.zeros((4, N_CLASSES)), frames_per_second=FPS, n=2)


def test_confidence_is_the_probability_of_the_label_and_temperature_sharpens():
    chord = posteriors({"C:maj": 0.6, "A:min": 0.3})
    seg = ChordSegment(0.0, 1.0, "C:maj/3", 0.1)
    (plain,) = with_alternatives([seg], chord, frames_per_second=FPS)
    assert plain.confidence == pytest.approx(0.6, abs=1e-6)  # the slash chord's C:maj
    (sharp,) = with_alternatives([seg], chord, frames_per_second=FPS, temperature=0.5)
    # p ** 2 renormalised: 0.36 / (0.36 + 0.09 + 0.01)
    assert sharp.confidence == pytest.approx(0.36 / 0.46, abs=1e-6)
    assert sharp.alternatives[0].probability == sharp.confidence
    (flat,) = with_alternatives([seg], chord, frames_per_second=FPS, temperature=2.0)
    assert flat.confidence < plain.confidence < sharp.confidence
    unknown = ChordSegment(0.0, 1.0, "X", 0.25)
    assert with_alternatives([unknown], chord, frames_per_second=FPS)[0].confidence == 0.25
    with pytest.raises(ValueError, match="temperature"):
        with_alternatives([seg], chord, frames_per_second=FPS, temperature=0.0)


def test_confidence_temperature_of_a_backend():
    class Plain:
        pass

    class Calibrated:
        confidence_temperature = 0.6

    assert confidence_temperature(Plain()) == 1.0
    assert confidence_temperature(Calibrated()) == 0.6
