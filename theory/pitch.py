"""Pitch classes and note names.

Pitch classes are integers 0..11 with C = 0. Names are spelled with sharps or flats on request;
the default spelling is the one most common in lead sheets (``C C# D Eb E F F# G Ab A Bb B``).
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_NAMES",
    "FLAT_NAMES",
    "SHARP_NAMES",
    "PitchNameError",
    "pc_name",
    "pitch_class",
]

SHARP_NAMES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES: tuple[str, ...] = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
DEFAULT_NAMES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

_NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NOTE_RE = re.compile(r"^([A-Ga-g])(b*|#*)$")


class PitchNameError(ValueError):
    """A note name that is not a letter A-G followed by flats or sharps."""


def pitch_class(name: str) -> int:
    """Return the pitch class (0..11, C = 0) of a note name.

    Parameters
    ----------
    name : str
        A letter ``A``-``G`` followed by any number of ``b`` or any number of ``#``
        (``Gb``, ``F##``, ``Cb``). A lower-case letter is accepted.

    Returns
    -------
    int
        The pitch class; enharmonic names give the same value (``Cb`` -> 11).

    Raises
    ------
    PitchNameError
        If ``name`` is not a note name.
    """
    match = _NOTE_RE.match(name.strip())
    if match is None:
        raise PitchNameError(f"invalid note name {name!r} (hint: use A-G with b or #, e.g. 'Eb')")
    letter, accidentals = match.groups()
    shift = len(accidentals) if accidentals.startswith("#") else -len(accidentals)
    return (_NATURAL_PC[letter.upper()] + shift) % 12


def pc_name(pc: int, *, flats: bool | None = None) -> str:
    """Return the name of a pitch class.

    Parameters
    ----------
    pc : int
        Pitch class; taken modulo 12.
    flats : bool or None
        ``True`` spells black keys with flats, ``False`` with sharps, ``None`` uses
        :data:`DEFAULT_NAMES`.

    Returns
    -------
    str
        The note name, e.g. ``'Eb'``.
    """
    table = DEFAULT_NAMES if flats is None else (FLAT_NAMES if flats else SHARP_NAMES)
    return table[int(pc) % 12]
