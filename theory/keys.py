"""Keys: 25 classes (12 major, 12 minor, none), conversions and key-aware spelling.

Class ``tonic_pc`` is the major key on that tonic, ``12 + tonic_pc`` the minor key, and 24 means
no key (or no tonal centre). Keys convert only at the edges:

=========  ===========  ==============  ==============
class      display      JAMS key_mode   mir_eval.key
=========  ===========  ==============  ==============
9 + 12     ``A minor``  ``A:minor``     ``A minor``
6          ``F# major`` ``F#:major``    ``F# major``
24         ``none``     ``N``           ``X``
=========  ===========  ==============  ==============
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from theory.harte import Chord, parse_chord
from theory.pitch import FLAT_NAMES, SHARP_NAMES, PitchNameError, pitch_class
from theory.vocabulary import N_QUALITIES, _nearest_quality
from theory.vocabulary import QUALITIES as _QUALITIES

__all__ = [
    "KEY_NONE",
    "N_KEYS",
    "KeyError_",
    "chord_symbol",
    "key_flats",
    "key_index",
    "key_from_chords",
    "key_is_minor",
    "key_name",
    "key_tonic",
    "key_tonic_name",
    "key_to_jams",
    "key_to_mir_eval",
    "parse_key",
    "spell_interval",
    "spell_pc",
]

N_KEYS = 25
KEY_NONE = 24

# Conventional tonic spelling: the signature with fewer accidentals (F# major over Gb major by
# convention of six sharps, Eb minor over D# minor).
_MAJOR_TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
# Major keys whose signature has flats (F Bb Eb Ab Db, and Gb when written so); C uses flats for
# its chromatic chords (Bb, Eb, Ab are far more common than A#, D#, G#) except F#.
_FLAT_MAJOR = frozenset({0, 1, 3, 5, 8, 10})
# Minor keys spelled with flats: those whose tonic spelling above is natural-or-flat and whose
# signature has flats (D G C F Bb Eb minor), and A minor, which follows C major.
_FLAT_MINOR = frozenset({0, 2, 3, 5, 7, 9, 10})

_KEY_RE = re.compile(
    r"^\s*(?P<tonic>[A-Ga-g](?:b*|#*))\s*(?::|\s)?\s*(?P<mode>maj|major|min|minor|m|ionian|aeolian)?\s*$"
)


class KeyError_(ValueError):  # noqa: N801 - avoid shadowing the builtin KeyError
    """A string that is not a key."""


def key_index(tonic_pc: int, *, minor: bool) -> int:
    """Return the key class of a tonic pitch class and mode."""
    return (int(tonic_pc) % 12) + (12 if minor else 0)


def key_tonic(index: int) -> int | None:
    """Return the tonic pitch class of a key class, ``None`` for no key."""
    return None if index == KEY_NONE else index % 12


def key_is_minor(index: int) -> bool:
    """Return whether a key class is minor."""
    return 12 <= index < 24


def parse_key(text: str) -> int:
    """Parse a key string into a key class.

    Accepts POP909 and Harte style (``'Gb:maj'``, ``'A:min'``), JAMS (``'A:minor'``), mir_eval
    (``'A minor'``), a bare tonic (``'D'``, major), ``'Am'``, and ``'N'``/``'X'``/``'none'``
    for no key.

    Parameters
    ----------
    text : str
        The key.

    Returns
    -------
    int
        Key class 0..24.

    Raises
    ------
    KeyError_
        If ``text`` is not a key.
    """
    stripped = str(text).strip()
    if stripped.lower() in {"n", "x", "none", ""}:
        return KEY_NONE
    match = _KEY_RE.match(stripped)
    if match is None:
        raise KeyError_(f"invalid key {stripped!r} (hint: e.g. 'Gb:maj', 'A:minor', 'A minor')")
    try:
        tonic = pitch_class(match.group("tonic"))
    except PitchNameError as err:  # pragma: no cover - the regex admits only note names
        raise KeyError_(str(err)) from None
    mode = (match.group("mode") or "maj").lower()
    return key_index(tonic, minor=mode in {"min", "minor", "m", "aeolian"})


def key_flats(index: int) -> bool:
    """Return whether chords in this key are spelled with flats."""
    if index == KEY_NONE:
        return True
    return index % 12 in (_FLAT_MINOR if key_is_minor(index) else _FLAT_MAJOR)


def key_tonic_name(index: int) -> str:
    """Return the conventional spelling of a key's tonic (``'Eb'``, ``'F#'``); ``''`` for none."""
    if index == KEY_NONE:
        return ""
    return (_MINOR_TONICS if key_is_minor(index) else _MAJOR_TONICS)[index % 12]


def key_name(index: int) -> str:
    """Return a display name such as ``'A minor'`` or ``'Eb major'``; ``'none'`` for no key."""
    if index == KEY_NONE:
        return "none"
    return f"{key_tonic_name(index)} {'minor' if key_is_minor(index) else 'major'}"


def key_to_jams(index: int) -> str:
    """Return the JAMS ``key_mode`` value (``'A:minor'``, ``'N'`` for no key)."""
    if index == KEY_NONE:
        return "N"
    return f"{key_tonic_name(index)}:{'minor' if key_is_minor(index) else 'major'}"


def key_to_mir_eval(index: int) -> str:
    """Return the ``mir_eval.key`` string (``'A minor'``, ``'X'`` for no key)."""
    return "X" if index == KEY_NONE else key_name(index)


def spell_pc(pc: int, *, key: int | None = None) -> str:
    """Spell a pitch class for a key.

    Notes of the key's scale take the scale's letters (Cb in Eb minor, E# in F# major; in minor
    keys also the raised sixth and seventh, G# in A minor); other notes are spelled with flats in
    flat keys and sharps in sharp keys. ``key=None`` spells as in C major.
    """
    pc = int(pc) % 12
    if key is None:
        key = 0
    table = FLAT_NAMES if key_flats(key) else SHARP_NAMES
    if key == KEY_NONE:
        return table[pc]
    degrees = _MINOR_DEGREES if key_is_minor(key) else _MAJOR_DEGREES
    degree = degrees.get((pc - key) % 12)
    if degree is None:
        return table[pc]
    tonic = key_tonic_name(key)
    letter = _LETTERS[(_LETTERS.index(tonic[0]) + degree) % 7]
    shift = (pc - pitch_class(letter) + 6) % 12 - 6
    if abs(shift) > 1:  # pragma: no cover - no conventional key needs a double accidental
        return table[pc]
    return letter + ("#" if shift > 0 else "b" if shift < 0 else "")


# Scale degree (0 = tonic) of each diatonic interval above the tonic.
_MAJOR_DEGREES = {0: 0, 2: 1, 4: 2, 5: 3, 7: 4, 9: 5, 11: 6}
_MINOR_DEGREES = {0: 0, 2: 1, 3: 2, 5: 3, 7: 4, 8: 5, 9: 5, 10: 6, 11: 6}
_LETTERS = "CDEFGAB"


def chord_symbol(chord: Chord | str, *, key: int | None = None) -> str:
    """Return a lead-sheet symbol for a chord, spelled for ``key``.

    The quality suffix is the display name of the chord's vocabulary quality (its own when the
    label's intervals are in the vocabulary, the nearest one otherwise, see
    :func:`theory.vocabulary.chord_class`); an inversion adds ``/bass``.

    Parameters
    ----------
    chord : Chord or str
        A parsed chord or a Harte label.
    key : int or None
        Key class used for spelling; ``None`` spells as C major.

    Returns
    -------
    str
        For example ``'Bbmaj7/D'``, ``'F#m7'``; ``'N.C.'`` for no chord and ``'X'`` for unknown.

    Examples
    --------
    >>> chord_symbol("Bb:maj7/3", key=parse_key("F:maj"))
    'Bbmaj7/D'
    """
    if isinstance(chord, str):
        chord = parse_chord(chord)
    if chord.is_no_chord:
        return "N.C."
    if chord.root_pc is None:
        return "X"
    quality = _QUALITIES[_nearest_quality(chord.intervals)]
    root_name = spell_pc(chord.root_pc, key=key)
    symbol = root_name + quality.name
    if chord.is_inversion:
        symbol += "/" + spell_interval(root_name, chord.bass_interval, fallback_key=key)
    return symbol


def spell_interval(root_name: str, semitones: int, *, fallback_key: int | None = None) -> str:
    """Spell the note ``semitones`` above a spelled root by interval, as a bass note is read.

    The letter follows the interval's degree (``semitone_to_degree``: a major seventh above G is
    F#, never Gb; a minor third above A is C); a spelling that would need a double accidental
    falls back to :func:`spell_pc` in ``fallback_key``.
    """
    from theory.harte import semitone_to_degree

    degree = semitone_to_degree(semitones)
    steps = int(degree.lstrip("b#")) - 1
    letter = _LETTERS[(_LETTERS.index(root_name[0]) + steps) % 7]
    target = (pitch_class(root_name) + semitones) % 12
    shift = (target - pitch_class(letter) + 6) % 12 - 6
    if abs(shift) > 1:
        return spell_pc(target, key=fallback_key)
    return letter + ("#" if shift > 0 else "b" if shift < 0 else "")


# Key profiles of Albrecht & Shanahan (2013, Music Perception 31(1)): pitch-class distributions of
# major- and minor-key passages, tonic first. Of the classic profiles (Krumhansl-Kessler, Temperley,
# Albrecht-Shanahan) these match chord annotations best (benchmarks/bench_key_from_chords.py).
_MAJOR_PROFILE = np.array(
    [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081]
)
_MINOR_PROFILE = np.array(
    [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052]
)


def key_from_chords(
    labels: Sequence[str | Chord], *, durations_s: Sequence[float] | None = None
) -> int:
    """Estimate the key of a chord progression by key-profile matching.

    Each chord adds its duration to every pitch class it sounds (bass included); the key is the
    one of the 24 whose rotated Albrecht-Shanahan profile correlates best with that histogram.

    Parameters
    ----------
    labels : sequence of str or Chord
        Harte labels or parsed chords, in any order. ``N`` and ``X`` add nothing.
    durations_s : sequence of float, optional
        Duration of each chord in seconds, same length as `labels`; every chord counts 1 if
        omitted.

    Returns
    -------
    int
        Key class 0..23, or :data:`KEY_NONE` when no chord sounds a pitch class or the histogram
        is flat (every pitch class equally long).

    Raises
    ------
    ChordLabelError
        If a label is not a Harte chord.
    ValueError
        If `durations_s` does not have one entry per label.

    Examples
    --------
    >>> key_name(key_from_chords(["A:min", "D:min", "E:7", "A:min"]))
    'A minor'
    """
    if durations_s is None:
        durations = np.ones(len(labels))
    else:
        durations = np.asarray(durations_s, dtype=float)
        if durations.shape != (len(labels),):
            raise ValueError(f"durations_s has {durations.size} entries for {len(labels)} labels")
    histogram = np.zeros(12)
    for label, duration in zip(labels, durations, strict=True):
        chord = parse_chord(label) if isinstance(label, str) else label
        histogram[list(chord.pitch_classes)] += duration
    histogram -= histogram.mean()
    if not np.any(np.abs(histogram) > 1e-12):
        return KEY_NONE
    profiles = np.stack(
        [np.roll(_MAJOR_PROFILE, k) for k in range(12)]
        + [np.roll(_MINOR_PROFILE, k) for k in range(12)]
    )
    profiles -= profiles.mean(axis=1, keepdims=True)
    scores = profiles @ histogram / np.linalg.norm(profiles, axis=1)
    return int(np.argmax(scores))


assert N_QUALITIES == len(_QUALITIES)
