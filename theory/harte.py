"""Harte chord labels: parse, validate and format.

The syntax is the one of Harte et al. (ISMIR 2005) as read by ``mir_eval.chord`` and the JAMS
``chord`` namespace::

    label   := "N" | "X" | root [":" (shorthand ["(" degrees ")"] | "(" degrees ")")] ["/" bass]
    root    := A-G followed by b... or #...      (enharmonic names allowed: Cb, E#, F##)
    degrees := degree ("," degree)*;  degree := ["*"] (b... | #...) 1..13   ("*" omits it)

Examples: ``C``, ``A:min/b3``, ``G:7(b9,*5)``, ``D:(3,5,b7)``, ``F#:sus4(b7,9)/5``.

Chord tones are kept as semitone intervals above the root, folded into one octave, so that a
label's pitch classes agree with ``mir_eval.chord.encode(label, reduce_extended_chords=True)``:
extended shorthands (``9``, ``min11``, ``13``) contain their upper extensions, each distinct degree
adds or (``*``) omits its semitone once whatever the order, and the bass note of an inversion
sounds as a chord tone. Labels mir_eval cannot read are refused: the shorthands ``aug7`` and
``maj11`` (write ``aug(b7)``, ``maj7(9,11)``) and an omitted root under another bass.

Parsing is a hand-written left-to-right scan (no backtracking regular expression), so its time is
linear in the length of the label whatever the input.
"""

from __future__ import annotations

from dataclasses import dataclass

from theory.pitch import pc_name, pitch_class

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

# mir_eval's reading (``mir_eval.chord.encode(label, reduce_extended_chords=True)``) is the
# reference: a shorthand is a base shape plus extension degrees (mir_eval's
# EXTENDED_QUALITY_REDUX), and the label's degrees add (+1) or omit (-1) semitones; each distinct
# degree string counts once, whatever its order, and a semitone sounds when its count is > 0.
_BASE_SHAPES: dict[str, frozenset[int]] = {
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
    "dim7": frozenset({0, 3, 6, 9}),
    "hdim7": frozenset({0, 3, 6, 10}),
}
_EXTENDED: dict[str, tuple[str, frozenset[str]]] = {
    "minmaj7": ("min", frozenset({"7"})),
    "9": ("7", frozenset({"9"})),
    "maj9": ("maj7", frozenset({"9"})),
    "min9": ("min7", frozenset({"9"})),
    "11": ("7", frozenset({"9", "11"})),
    "min11": ("min7", frozenset({"9", "11"})),
    "13": ("7", frozenset({"9", "11", "13"})),
    "maj13": ("maj7", frozenset({"9", "11", "13"})),
    "min13": ("min7", frozenset({"9", "11", "13"})),
}
# Shorthands of the Harte grammar that mir_eval cannot read, with the label to write instead.
_UNREADABLE_SHORTHANDS = {"aug7": "aug(b7)", "maj11": "maj7(9,11)"}

_DEGREE_SEMITONES = {
    "1": 0,
    "2": 2,
    "3": 4,
    "4": 5,
    "5": 7,
    "6": 9,
    "7": 11,
    "8": 12,
    "9": 14,
    "10": 16,
    "11": 17,
    "12": 19,
    "13": 21,
}


def _shape(shorthand: str) -> tuple[frozenset[int], frozenset[str]]:
    """Return the base tones and extension degrees of a shorthand (mir_eval's reduction)."""
    base, extensions = _EXTENDED.get(shorthand, (shorthand, frozenset()))
    return _BASE_SHAPES[base], extensions


# Semitones above the root of each Harte shorthand, extensions included (Harte 2010, table 2.2).
SHORTHANDS: dict[str, frozenset[int]] = {
    name: shape | {_DEGREE_SEMITONES[d] % 12 for d in extensions}
    for name in (*_BASE_SHAPES, *_EXTENDED)
    for shape, extensions in [_shape(name)]
}
_ROOT_LETTERS = frozenset("ABCDEFG")
_LABEL_HINT = "Harte syntax such as 'C:maj7', 'A:min/b3', 'N'"


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
    semitones = _degree_semitones(degree)
    if semitones is None:
        raise ChordLabelError(f"invalid scale degree {degree!r} (hint: e.g. '3', 'b7', '#11')")
    return semitones % 12


def _accidental_run_end(text: str, start: int) -> int:
    """End of the run of one accidental (``b...`` or ``#...``) that begins at ``start``."""
    end = start
    if end < len(text) and text[end] in "b#":
        mark = text[end]
        while end < len(text) and text[end] == mark:
            end += 1
    return end


def _degree_semitones(degree: str) -> int | None:
    """Semitones above the root of a degree (``b3``, ``#11``), unfolded; None if malformed.

    A single left-to-right scan: linear in the length of ``degree``.
    """
    end = _accidental_run_end(degree, 0)
    number = _DEGREE_SEMITONES.get(degree[end:])
    if number is None:
        return None
    return number + (end if degree[:1] == "#" else -end)


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
    root_name, shorthand, degrees, bass = _split_label(text)
    root_pc = pitch_class(root_name)
    if shorthand is None:
        shorthand = "" if degrees else "maj"
    if shorthand in _UNREADABLE_SHORTHANDS:
        raise ChordLabelError(
            f"invalid chord label {_shown(text)}: quality {shorthand!r} is not read by mir_eval "
            f"(hint: write {root_name}:{_UNREADABLE_SHORTHANDS[shorthand]})"
        )
    if shorthand and shorthand not in SHORTHANDS:
        raise ChordLabelError(
            f"invalid chord label {_shown(text)}: unknown quality {_shown(shorthand)} "
            f"(hint: one of {', '.join(SHORTHANDS)})"
        )
    base, extensions = _shape(shorthand) if shorthand else (frozenset(), frozenset())
    counts = [1 if i in base else 0 for i in range(12)]
    counts[0] = 1
    for item in set(degrees) | extensions:
        omit = item.startswith("*")
        counts[_degree_semitones(item.lstrip("*")) % 12] += -1 if omit else 1
    bass_interval = _degree_semitones(bass) % 12 if bass is not None else 0
    if counts[0] <= 0 and bass_interval != 0:
        raise ChordLabelError(
            f"invalid chord label {_shown(text)}: the root is omitted (hint: name the lowest "
            "sounding chord tone as the root)"
        )
    intervals = frozenset(i for i in range(12) if counts[i] > 0) | {0}
    return Chord(
        label=text,
        root_pc=root_pc,
        intervals=intervals,
        bass_interval=bass_interval,
        root_name=root_name,
        shorthand=shorthand or None,
    )


def _shown(text: str, limit: int = 48) -> str:
    """Quote a label for a message, cut to ``limit`` characters (a label can be any line)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _split_label(text: str) -> tuple[str, str | None, list[str], str | None]:
    """Split a label into root, shorthand, degrees (``*`` kept) and bass, checking its syntax.

    A hand-written scan with ``str.partition``/``split`` and one pass per part: linear in the
    length of the label, whatever the input (no backtracking).
    """

    def bad(problem: str) -> ChordLabelError:
        return ChordLabelError(
            f"invalid chord label {_shown(text)}: {problem} (hint: {_LABEL_HINT})"
        )

    head, slash, bass = text.partition("/")
    if slash and _degree_semitones(bass) is None:
        raise bad(f"bad bass degree {bass[:20]!r}")
    if not head or head[0] not in _ROOT_LETTERS:
        raise bad("no root note A-G")
    root_end = _accidental_run_end(head, 1)
    root, rest = head[:root_end], head[root_end:]
    if not rest:
        return root, None, [], bass if slash else None
    if rest[0] != ":":
        raise bad(f"unexpected {rest[:20]!r} after the root")
    shorthand, paren, degree_text = rest[1:].partition("(")
    degrees: list[str] = []
    if paren:
        if not degree_text.endswith(")") or ")" in degree_text[:-1]:
            raise bad("unbalanced parentheses")
        degrees = degree_text[:-1].split(",")
        for item in degrees:
            if _degree_semitones(item[1:] if item[:1] == "*" else item) is None:
                raise bad(f"bad degree {item[:20]!r}")
    elif not shorthand:
        raise bad("nothing after ':'")
    return root, shorthand or None, degrees, bass if slash else None


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
