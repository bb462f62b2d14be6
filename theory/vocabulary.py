"""The 529-class chord vocabulary: 12 roots x 44 qualities + N.

Class ``root_pc * 44 + quality_index`` is the chord of that root and quality; class 528 is ``N``
(no chord). ``X`` (unknown) has no class: it is ignored in training and evaluation.

Any Harte label maps to its nearest class (:func:`chord_class`) by the rule documented in
``docs/vocabulary.md``:

1. ``N`` -> 528; ``X`` -> ``None``.
2. The root stays the root; the bass is kept apart (a slash chord maps to its root-position class,
   the bass head carries the inversion), so only the label's intervals above the root count.
3. If a quality has exactly those intervals, that is the class.
4. Otherwise every quality is scored by weighted tone agreement: each interval has a weight
   (third 3, seventh 2, fifth 1, other tones 1); score = shared weight - missing weight
   - 1.25 x extra weight, where *missing* are the label's tones the quality lacks and *extra* the
   quality's tones the label lacks. A quality whose third contradicts the label's
   (major vs minor) is never chosen when the label has a third. Ties go to the simpler quality
   (lower index in the table).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from theory.harte import NO_CHORD, UNKNOWN_CHORD, Chord, parse_chord
from theory.pitch import pc_name

__all__ = [
    "N_CLASS",
    "N_CLASSES",
    "N_QUALITIES",
    "QUALITIES",
    "Quality",
    "chord_class",
    "class_label",
    "class_name",
    "class_of",
    "class_quality",
    "class_quality_indices",
    "class_root",
    "quality_index",
    "vocabulary_fingerprint",
    "vocabulary_labels",
]


@dataclass(frozen=True)
class Quality:
    """One chord quality of the vocabulary.

    Attributes
    ----------
    harte : str
        Harte quality text after the colon, readable by mir_eval (``'min7'``, ``'maj6(9)'``).
    name : str
        Display suffix after the root (``'m7'``, ``'69'``); ``''`` for a major triad.
    intervals : frozenset of int
        Semitones above the root.
    """

    harte: str
    name: str
    intervals: frozenset[int]


_QUALITY_TABLE: tuple[tuple[str, str], ...] = (
    # triads and dyads
    ("maj", ""),
    ("min", "m"),
    ("dim", "dim"),
    ("aug", "aug"),
    ("sus2", "sus2"),
    ("sus4", "sus4"),
    ("5", "5"),
    # sixths and sevenths
    ("maj6", "6"),
    ("min6", "m6"),
    ("7", "7"),
    ("maj7", "maj7"),
    ("min7", "m7"),
    ("minmaj7", "mM7"),
    ("dim7", "dim7"),
    ("hdim7", "m7b5"),
    ("aug(b7)", "aug7"),
    ("sus4(b7)", "7sus4"),
    # added tones
    ("maj(9)", "add9"),
    ("min(9)", "madd9"),
    # ninths
    ("9", "9"),
    ("maj9", "maj9"),
    ("min9", "m9"),
    ("minmaj7(9)", "mM7(9)"),
    ("maj6(9)", "69"),
    ("min6(9)", "m69"),
    # altered and extended dominants and sevenths
    ("7(b9)", "7(b9)"),
    ("7(#9)", "7(#9)"),
    ("7(#11)", "7(#11)"),
    ("7(b13)", "7(b13)"),
    ("7(13)", "7(13)"),
    ("min7(11)", "m7(11)"),
    ("min7(13)", "m7(13)"),
    ("maj7(#11)", "maj7(#11)"),
    ("sus4(b7,9)", "9sus4"),
    ("11", "11"),
    ("13", "13"),
    # further colours common in pop and jazz
    ("min11", "m11"),
    ("maj13", "maj13"),
    ("min13", "m13"),
    ("sus4(9)", "sus4(9)"),
    ("maj(11)", "add11"),
    ("min(11)", "madd11"),
    ("sus2(b7)", "7sus2"),
    ("(3,b5,b7)", "7b5"),
)

QUALITIES: tuple[Quality, ...] = tuple(
    Quality(harte=h, name=n, intervals=parse_chord("C:" + h).intervals) for h, n in _QUALITY_TABLE
)
N_QUALITIES = len(QUALITIES)  # 44
N_CLASS = 12 * N_QUALITIES  # 528, the index of N
N_CLASSES = N_CLASS + 1  # 529

_BY_INTERVALS = {q.intervals: i for i, q in enumerate(QUALITIES)}
_BY_NAME = {q.name: i for i, q in enumerate(QUALITIES)} | {
    q.harte: i for i, q in enumerate(QUALITIES)
}
_WEIGHTS = np.ones(12)
_WEIGHTS[[3, 4]] = 3.0  # thirds
_WEIGHTS[[10, 11]] = 2.0  # sevenths
_EXTRA_PENALTY = 1.25


def quality_index(name: str) -> int:
    """Return the index of a quality given its display name (``'m7'``) or Harte text (``'min7'``).

    Raises
    ------
    KeyError
        If no quality has that name.
    """
    return _BY_NAME[name]


@lru_cache(maxsize=4096)
def _nearest_quality(intervals: frozenset[int]) -> int:
    exact = _BY_INTERVALS.get(intervals)
    if exact is not None:
        return exact
    label = np.zeros(12, dtype=bool)
    label[list(intervals)] = True
    third = 4 if label[4] and not label[3] else 3 if label[3] and not label[4] else None
    best_index, best_score = 0, -np.inf
    for index, quality in enumerate(QUALITIES):
        if (
            third is not None
            and (7 - third) in quality.intervals
            and third not in quality.intervals
        ):
            continue  # major quality for a minor label or vice versa
        shape = np.zeros(12, dtype=bool)
        shape[list(quality.intervals)] = True
        score = (
            _WEIGHTS[label & shape].sum()
            - _WEIGHTS[label & ~shape].sum()
            - _EXTRA_PENALTY * _WEIGHTS[shape & ~label].sum()
        )
        if score > best_score:
            best_index, best_score = index, score
    return best_index


def chord_class(chord: Chord | str) -> int | None:
    """Return the vocabulary class (0..528) nearest to a chord, ``None`` for ``X``.

    Parameters
    ----------
    chord : Chord or str
        A parsed chord or a Harte label.

    Returns
    -------
    int or None
        ``root_pc * 44 + quality_index``, 528 for ``N``, ``None`` for ``X``.

    Raises
    ------
    theory.harte.ChordLabelError
        If a string is not a valid Harte label.
    """
    if isinstance(chord, str):
        chord = parse_chord(chord)
    if chord.is_no_chord:
        return N_CLASS
    if chord.root_pc is None:
        return None
    return chord.root_pc * N_QUALITIES + _nearest_quality(chord.intervals)


def class_of(root_pc: int, quality: int | str) -> int:
    """Return the class index of a root and a quality (index, display name or Harte text)."""
    q = quality if isinstance(quality, int) else quality_index(quality)
    return (int(root_pc) % 12) * N_QUALITIES + q


def class_root(index: int) -> int | None:
    """Return the root pitch class of a class, ``None`` for N."""
    return None if index == N_CLASS else index // N_QUALITIES


def class_quality(index: int) -> Quality | None:
    """Return the :class:`Quality` of a class, ``None`` for N."""
    return None if index == N_CLASS else QUALITIES[index % N_QUALITIES]


def class_quality_indices(classes: np.ndarray) -> np.ndarray:
    """Return the quality index of each class: 0..43, :data:`N_QUALITIES` (44) for N.

    Negative entries (masked frames) give -1.
    """
    classes = np.asarray(classes)
    quality = np.where(classes == N_CLASS, N_QUALITIES, classes % N_QUALITIES)
    return np.where(classes < 0, -1, quality)


def class_label(index: int, *, bass_pc: int | None = None, flats: bool | None = None) -> str:
    """Return the Harte label of a class, optionally as a slash chord over ``bass_pc``.

    Parameters
    ----------
    index : int
        Class index 0..528.
    bass_pc : int or None
        Absolute pitch class of the bass; a bass other than the root adds ``/degree``.
    flats : bool or None
        Root spelling, as :func:`theory.pitch.pc_name`.

    Returns
    -------
    str
        For example ``'A:min7/b7'``; ``'N'`` for class 528.
    """
    from theory.harte import semitone_to_degree

    if not 0 <= index < N_CLASSES:
        raise ValueError(f"chord class {index} out of range 0..{N_CLASSES - 1}")
    if index == N_CLASS:
        return NO_CHORD
    root = index // N_QUALITIES
    label = f"{pc_name(root, flats=flats)}:{QUALITIES[index % N_QUALITIES].harte}"
    if bass_pc is not None and (bass_pc - root) % 12:
        label += "/" + semitone_to_degree((bass_pc - root) % 12)
    return label


def class_name(index: int, *, flats: bool | None = None) -> str:
    """Return the display name of a class such as ``'C#m7'`` or ``'Bbmaj7(#11)'``; ``'N'`` for N."""
    if index == N_CLASS:
        return NO_CHORD
    return pc_name(index // N_QUALITIES, flats=flats) + QUALITIES[index % N_QUALITIES].name


def vocabulary_labels() -> list[str]:
    """Return the 529 Harte labels in class order."""
    return [class_label(i) for i in range(N_CLASSES)]


def vocabulary_fingerprint() -> str:
    """Return a short sha256 fingerprint of the vocabulary (labels and order).

    Model configs store it so that weights are never used with a different class table.
    """
    text = "\n".join(vocabulary_labels())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


__all__ += ["UNKNOWN_CHORD"]
