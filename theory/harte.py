"""Harte chord labels: parse, validate and format.

The syntax is the one of Harte et al. (ISMIR 2005) as read by ``mir_eval.chord`` and the JAMS
``chord`` namespace::

    label   := "N" | "X" | root [":" (shorthand ["(" degrees ")"] | "(" degrees ")")] ["/" bass]
    root    := A-G followed by b... or #...      (enharmonic names allowed: Cb, E#, F##)
    degrees := degree ("," degree)*;  degree := ["*"] (b... | #...) 1..13   ("*" omits it)

Examples: ``C``, ``A:min/b3``, ``G:7(b9,*5)``, ``D:(3,5,b7)``, ``F#:sus4(b7,9)/5``.

Chord tones are kept as semitone intervals above the root, folded into one octave, so that a
label's pitch classes agree with ``mir_eval.chord.encode(label, reduce_extended_chords=True)``:
extended shorthands (``9``, ``min11``, ``13``) contain their upper extensions, and the bass note of
an inversion sounds as a chord tone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from theory.pitch import PitchNameError, pc_name, pitch_class

__all__ = [
    "NO_CHORD",
    "SHORTHANDS",
    "UNKNOWN_CHORD",
    "Chord",
    "ChordLabelError",
    "degree_to_semitone",
    "format_harte",
    "is_valid_label",
    "parse_chord",
    "semitone_to_degree",
]

NO_CHORD = "N"
UNKNOWN_CHORD = "X"

# Semitones above the root of each Harte shorthand, extensions included (Harte 2010, table 2.2).
SHORTHANDS: dict[str, frozenset[int]] = {
    "maj": frozenset({0, 4, 7}),
    "min": frozenset({0, 3, 7}),
    "dim": frozenset({0, 3, 6}),
    "aug": frozenset({0, 4, 8}),
    "sus2": frozenset({0, 2, 7}),
    "sus4": frozenset({0, 5, 7}),
    "1": frozenset({0}),
    "5": frozenset({0, 7}),
    "maj6": frozenset({0, 4, 7, 9}),
    "min6": frozenset({0, 3, 7, 9}),
    "7": frozenset({0, 4, 7, 10}),
    "maj7": frozenset({0, 4, 7, 11}),
    "min7": frozenset({0, 3, 7, 10}),
    "minmaj7": frozenset({0, 3, 7, 11}),
    "dim7": frozenset({0, 3, 6, 9}),
    "hdim7": frozenset({0, 3, 6, 10}),
    "aug7": frozenset({0, 4, 8, 10}),
    "9": frozenset({0, 4, 7, 10, 2}),
    "maj9": frozenset({0, 4, 7, 11, 2}),
    "min9": frozenset({0, 3, 7, 10, 2}),
    "11": frozenset({0, 4, 7, 10, 2, 5}),
    "maj11": frozenset({0, 4, 7, 11, 2, 5}),
    "min11": frozenset({0, 3, 7, 10, 2, 5}),
    "13": frozenset({0, 4, 7, 10, 2, 5, 9}),
    "maj13": frozenset({0, 4, 7, 11, 2, 5, 9}),
    "min13": frozenset({0, 3, 7, 10, 2, 5, 9}),
}

_DEGREE_SEMITONES = {
    1: 0,
    2: 2,
    3: 4,
    4: 5,
    5: 7,
    6: 9,
    7: 11,
    8: 12,
    9: 14,
    10: 16,
    11: 17,
    12: 19,
    13: 21,
}

_DEGREE = r"\*?(?:b*|#*)(?:1[0-3]|[1-9])"
_LABEL_RE = re.compile(
    r"^(?P<root>[A-G](?:b*|#*))"
    r"(?::(?P<shorthand>[a-z0-9]+)?(?:\((?P<degrees>" + _DEGREE + r"(?:," + _DEGREE + r")*)\))?)?"
    r"(?:/(?P<bass>(?:b*|#*)(?:1[0-3]|[1-9])))?$"
)
_DEGREE_RE = re.compile(r"^(?P<omit>\*?)(?P<acc>b*|#*)(?P<num>1[0-3]|[1-9])$")


class ChordLabelError(ValueError):
    """A string that is not a valid Harte chord label."""


def degree_to_semitone(degree: str) -> int:
    """Return the semitones above the root of a scale degree such as ``'b3'`` or ``'#11'``.

    Parameters
    ----------
    degree : str
        An optional run of ``b`` or ``#`` followed by a number 1..13 (no ``*``).

    Returns
    -------
    int
        Semitones in 0..11 (compound intervals are folded into one octave).

    Raises
    ------
    ChordLabelError
        If ``degree`` is not a scale degree.
    """
    match = _DEGREE_RE.match(degree)
    if match is None or match.group("omit"):
        raise ChordLabelError(f"invalid scale degree {degree!r} (hint: e.g. '3', 'b7', '#11')")
    acc = match.group("acc")
    shift = len(acc) if acc.startswith("#") else -len(acc)
    return (_DEGREE_SEMITONES[int(match.group("num"))] + shift) % 12


# The preferred Harte degree for each semitone above the root (used for bass notes and intervals).
_SEMITONE_DEGREES = ("1", "b2", "2", "b3", "3", "4", "b5", "5", "b6", "6", "b7", "7")
# Preferred spelling of an added tone that is not a chord-shape tone (extensions above the octave).
_SEMITONE_EXTENSIONS = ("1", "b9", "9", "#9", "3", "11", "#11", "5", "b13", "13", "b7", "7")


def semitone_to_degree(semitones: int, *, extension: bool = False) -> str:
    """Return the Harte degree naming an interval.

    Parameters
    ----------
    semitones : int
        Interval above the root, taken modulo 12.
    extension : bool
        Name the interval as an upper extension (``9``, ``#11``, ``b13``) instead of a
        simple degree (``2``, ``#4``/``b5``, ``b6``).

    Returns
    -------
    str
        For example ``'b3'``, ``'5'``, or with ``extension=True`` ``'b9'``.
    """
    table = _SEMITONE_EXTENSIONS if extension else _SEMITONE_DEGREES
    return table[int(semitones) % 12]


@dataclass(frozen=True)
class Chord:
    """A parsed Harte chord label.

    Attributes
    ----------
    label : str
        The label as given (stripped of surrounding white space).
    root_pc : int or None
        Root pitch class 0..11, ``None`` for ``N`` and ``X``.
    intervals : frozenset of int
        Semitones above the root of the chord's tones (shorthand, added and omitted degrees),
        without the bass note; empty for ``N`` and ``X``.
    bass_interval : int or None
        Semitones above the root of the bass note (0 in root position); ``None`` for ``N``/``X``.
    root_name : str
        The root as spelled in the label (``''`` for ``N``/``X``).
    shorthand : str or None
        The quality shorthand written in the label, ``None`` if absent.
    """

    label: str
    root_pc: int | None
    intervals: frozenset[int]
    bass_interval: int | None
    root_name: str = ""
    shorthand: str | None = None

    @property
    def is_no_chord(self) -> bool:
        """True for ``N``."""
        return self.label == NO_CHORD

    @property
    def is_unknown(self) -> bool:
        """True for ``X``."""
        return self.label == UNKNOWN_CHORD

    @property
    def tones(self) -> frozenset[int]:
        """Semitones above the root of every sounding tone, the bass note included."""
        if self.bass_interval is None:
            return self.intervals
        return self.intervals | {self.bass_interval}

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Absolute pitch classes of every sounding tone (bass included); empty for N/X."""
        if self.root_pc is None:
            return frozenset()
        return frozenset((self.root_pc + t) % 12 for t in self.tones)

    @property
    def bass_pc(self) -> int | None:
        """Absolute pitch class of the bass note, ``None`` for N/X."""
        if self.root_pc is None or self.bass_interval is None:
            return None
        return (self.root_pc + self.bass_interval) % 12

    @property
    def is_inversion(self) -> bool:
        """True when the bass is not the root."""
        return bool(self.bass_interval)

    def bitmap(self) -> list[int]:
        """Return the 12 root-relative tone bits, as ``mir_eval.chord.encode`` gives them."""
        return [1 if i in self.tones else 0 for i in range(12)]


def parse_chord(label: str) -> Chord:
    """Parse a Harte chord label.

    Parameters
    ----------
    label : str
        A Harte label such as ``'C:maj7/3'``; ``'N'`` is no chord and ``'X'`` an unknown chord.

    Returns
    -------
    Chord
        The parsed chord.

    Raises
    ------
    ChordLabelError
        If ``label`` is not valid Harte syntax or names an unknown shorthand.

    Examples
    --------
    >>> c = parse_chord("A:min/b3")
    >>> c.root_pc, sorted(c.intervals), c.bass_interval
    (9, [0, 3, 7], 3)
    """
    text = str(label).strip()
    if text in (NO_CHORD, UNKNOWN_CHORD):
        return Chord(label=text, root_pc=None, intervals=frozenset(), bass_interval=None)
    match = _LABEL_RE.match(text)
    if match is None:
        raise ChordLabelError(
            f"invalid chord label {text!r} (hint: Harte syntax such as 'C:maj7', 'A:min/b3', 'N')"
        )
    root_name = match.group("root")
    try:
        root_pc = pitch_class(root_name)
    except PitchNameError as err:  # pragma: no cover - the regex admits only note names
        raise ChordLabelError(str(err)) from None
    shorthand = match.group("shorthand")
    degrees = match.group("degrees")
    has_colon = ":" in text.split("/", 1)[0]
    if has_colon and shorthand is None and degrees is None:
        raise ChordLabelError(f"invalid chord label {text!r}: nothing after ':'")
    if shorthand is not None:
        if shorthand not in SHORTHANDS:
            raise ChordLabelError(
                f"invalid chord label {text!r}: unknown quality {shorthand!r} "
                f"(hint: one of {', '.join(SHORTHANDS)})"
            )
        intervals = set(SHORTHANDS[shorthand])
    elif degrees is not None:
        intervals = {0}
    else:
        intervals = set(SHORTHANDS["maj"])
    if degrees is not None:
        for item in degrees.split(","):
            if item.startswith("*"):
                intervals.discard(degree_to_semitone(item[1:]))
            else:
                intervals.add(degree_to_semitone(item))
    intervals.add(0)  # the root always sounds (as in mir_eval.chord.encode)
    bass = match.group("bass")
    bass_interval = degree_to_semitone(bass) if bass is not None else 0
    return Chord(
        label=text,
        root_pc=root_pc,
        intervals=frozenset(intervals),
        bass_interval=bass_interval,
        root_name=root_name,
        shorthand=shorthand,
    )


def is_valid_label(label: str) -> bool:
    """Return whether ``label`` parses as a Harte chord label."""
    try:
        parse_chord(label)
    except ChordLabelError:
        return False
    return True


def format_harte(
    root_pc: int,
    intervals: frozenset[int] | set[int],
    bass_interval: int = 0,
    *,
    flats: bool | None = None,
) -> str:
    """Write a Harte label for a root and a set of intervals.

    The shortest description is chosen: a shorthand whose tones equal ``intervals`` if one
    exists, otherwise the shorthand sharing most tones with added (``9``) and omitted (``*5``)
    degrees, or a bare degree list ``C:(3,b7)``.

    Parameters
    ----------
    root_pc : int
        Root pitch class.
    intervals : set of int
        Semitones above the root (0 is implied).
    bass_interval : int
        Semitones above the root of the bass note.
    flats : bool or None
        Spelling of the root, as :func:`theory.pitch.pc_name`.

    Returns
    -------
    str
        A label that parses back to the same root, intervals and bass.
    """
    tones = frozenset(int(i) % 12 for i in intervals) | {0}
    best: tuple[float, str] | None = None
    for name, shape in _FORMAT_SHORTHANDS.items():
        added = tones - shape
        omitted = shape - tones - {0}
        cost = len(added) + 2.5 * len(omitted)
        if best is None or cost < best[0]:
            parts = sorted((_added_degree(i, tones) for i in added), key=_degree_number)
            parts += ["*" + semitone_to_degree(i) for i in sorted(omitted)]
            text = name + (f"({','.join(parts)})" if parts else "")
            best = (cost, text)
    bare = sorted((_added_degree(i, tones) for i in tones - {0}), key=_degree_number)
    assert best is not None
    quality = best[1] if best[0] <= len(bare) else "(" + ",".join(bare) + ")"
    if tones == {0}:
        quality = "1"
    label = f"{pc_name(root_pc, flats=flats)}:{quality}"
    if bass_interval % 12:
        label += "/" + semitone_to_degree(bass_interval % 12)
    return label


# Shorthands used when writing labels; only those mir_eval also reads.
_FORMAT_SHORTHANDS = {
    name: SHORTHANDS[name]
    for name in (
        "maj",
        "min",
        "dim",
        "aug",
        "sus4",
        "sus2",
        "5",
        "7",
        "maj7",
        "min7",
        "minmaj7",
        "maj6",
        "min6",
        "dim7",
        "hdim7",
        "9",
        "maj9",
        "min9",
        "11",
        "min11",
        "13",
        "maj13",
        "min13",
    )
}
_EXTENSION_SEMITONES = frozenset({1, 2, 3, 6, 8})


def _degree_number(degree: str) -> int:
    """Sort key of a degree: its number without accidentals."""
    return int(degree.lstrip("b#*"))


def _added_degree(semitones: int, tones: frozenset[int]) -> str:
    """Name an added tone: an altered fifth when the fifth is absent, else an extension."""
    if semitones in (6, 8) and 7 not in tones:
        return "b5" if semitones == 6 else "#5"
    return semitone_to_degree(semitones, extension=semitones in _EXTENSION_SEMITONES)
