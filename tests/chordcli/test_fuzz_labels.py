"""Fuzzing the public label parsers: generated and mutated labels, LAB lines and JSON files.

6,000 labels (valid ones from the vocabulary and the Harte grammar, then mutated: characters
inserted, deleted and replaced, parts repeated hundreds of times, times made absurd) go through
:func:`theory.parse_chord`, :func:`chordcli.lab.parse_lab` and :func:`chordcli.jsonio.parse_json`.
Each must either succeed or raise the project's own error; a label that is accepted must also be
read by mir_eval. A backtracking parser hangs here (a few labels of the first version took
seconds to minutes each).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from chordcli.errors import ChordcliError
from chordcli.jsonio import parse_json
from chordcli.lab import parse_lab
from theory import ChordLabelError, parse_chord
from theory.harte import SHORTHANDS
from theory.vocabulary import vocabulary_labels

N_LABELS = 6000
ALPHABET = list("ABCDEFGNXb#:(),*/0123456789 majinsudhg") + ["\t", "é", "\x00", "١", "(("]
DEGREES = ["1", "b3", "3", "5", "#5", "b7", "7", "9", "b9", "#11", "13", "bb1"]
TIMES = ["0", "1.5", "2", "nan", "inf", "-1", "1e9", "1e400", "1e-320", "0x10", "", "٣", "1_0"]


def _seeds() -> list[str]:
    labels = list(vocabulary_labels()) + ["N", "X", "C", "G:7(b9,*5)/3", "D:(3,5,b7)"]
    labels += [f"F#:{q}" for q in SHORTHANDS] + ["C:aug7", "C:maj11", "C:maj(*1)/3"]
    return labels


def _mutate(label: str, rng: np.random.Generator) -> str:
    chars = list(label)
    for _ in range(int(rng.integers(1, 4))):
        op = rng.integers(0, 6)
        at = int(rng.integers(0, len(chars) + 1))
        if op == 0:
            chars.insert(at, str(rng.choice(ALPHABET)))
        elif op == 1 and chars:
            del chars[min(at, len(chars) - 1)]
        elif op == 2 and chars:
            chars[min(at, len(chars) - 1)] = str(rng.choice(ALPHABET))
        elif op == 3:  # a long degree list, often malformed at its end
            degrees = ",".join(rng.choice(DEGREES, size=int(rng.integers(20, 400))))
            chars = list(f"{label.split(':')[0]}:({degrees}{rng.choice(['', ',x', ')', ',*'])})")
        elif op == 4:  # a repeated run of accidentals, stars or parentheses
            run = str(rng.choice(["b", "#", "*", "(", ",", ":"])) * int(rng.integers(50, 3000))
            chars[at:at] = list(run)
        else:
            chars = chars + list(str(rng.choice(["/", "/b", "/9", ")", "(3)", ":min"])))
    return "".join(chars)


def fuzzed_labels(n: int = N_LABELS, seed: int = 19) -> list[str]:
    """``n`` labels: a quarter of them valid seeds, the rest mutated seeds."""
    rng = np.random.default_rng(seed)
    seeds = _seeds()
    labels = [str(rng.choice(seeds)) for _ in range(n // 4)]
    labels += [_mutate(str(rng.choice(seeds)), rng) for _ in range(n - len(labels))]
    return labels


@pytest.fixture(scope="module")
def labels() -> list[str]:
    return fuzzed_labels()


def test_parse_chord_accepts_or_refuses_every_label_and_mir_eval_reads_the_accepted(labels):
    import mir_eval

    accepted = 0
    for label in labels:
        try:
            chord = parse_chord(label)
        except ChordLabelError:
            continue
        accepted += 1
        root, bitmap, bass = mir_eval.chord.encode(chord.label, reduce_extended_chords=True)
        if chord.root_pc is not None:
            assert chord.bass_pc == (root + bass) % 12, label
    assert len(labels) >= 5000 and 1500 < accepted < len(labels)


def test_lab_and_json_readers_raise_only_the_project_error(labels):
    rng = np.random.default_rng(7)
    failures = 0
    for i, label in enumerate(labels):
        start, end = rng.choice(TIMES, size=2) if i % 3 == 0 else ("0", "2.5")
        text = f"{start} {end} {label}\n"
        try:
            segments = parse_lab(text, source="fuzz.lab")
        except ChordcliError:
            failures += 1
        else:
            assert all(0 <= s.start_s < s.end_s <= 86400 for s in segments)
        document = {
            "format": "chordcli-transcription",
            "segments": [{"start_s": 0.0, "end_s": float(rng.choice([2.5, 1e12])), "label": label}],
        }
        try:
            parse_json(json.dumps(document), source="fuzz.json")
        except ChordcliError:
            failures += 1
    assert failures > 0


HEADER_VALUES = [0, 1, 4, 16, 17, -3, 2.5, 1e-9, 1e9, 1e12, float("nan"), "4", None, True, [], {}]


def test_json_headers_either_refused_or_laid_in_bars_at_once():
    """Random tempo, metre, beats and capo: refused with the project's error, or charted.

    The chart of an hour of audio stays small whatever the header says (no bar grid that
    grows with a tiny beat period): its size bounds the work, which a timer would only
    measure on a quiet machine.
    """
    from chordcli.bars import chart_bars

    rng = np.random.default_rng(11)
    charted = 0
    for _ in range(400):
        n = int(rng.integers(0, 6))
        beats = np.cumsum(rng.choice([1e-9, 0.01, 0.5, 1.0, -1.0, 1e5], size=n)).tolist()
        document = {
            "format": "chordcli-transcription",
            "segments": [{"start_s": 0.0, "end_s": float(rng.choice([8.0, 3600.0])), "label": "C"}],
            "tempo_bpm": HEADER_VALUES[rng.integers(len(HEADER_VALUES))],
            "beats_per_bar": HEADER_VALUES[rng.integers(len(HEADER_VALUES))],
            "capo": HEADER_VALUES[rng.integers(len(HEADER_VALUES))],
            "beats_s": beats,
        }
        document = {k: v for k, v in document.items() if v is not None or rng.random() < 0.5}
        try:
            transcription = parse_json(json.dumps(document), source="fuzz.json")
        except ChordcliError:
            continue
        _, bars, _ = chart_bars(transcription)
        assert len(bars) < 100_000 and sum(len(bar) for bar in bars) < 100_000
        charted += 1
    assert charted > 10
