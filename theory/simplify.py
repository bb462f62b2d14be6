"""Simplify chord labels to smaller vocabularies: ``full``, ``sevenths`` and ``majmin``.

The vocabularies are those of the MIREX chord evaluation:

* ``full``: the label unchanged;
* ``sevenths``: ``maj``, ``min``, ``7``, ``maj7``, ``min7`` (and ``N``, ``X``);
* ``majmin``: ``maj`` and ``min`` (and ``N``, ``X``).

Rule, on the tones of the label above its root (bass excluded):

1. **Family** from the third: a minor third without a major third (``min``, ``dim``, ``hdim7``,
   ``min9`` ...) is minor; everything else (a major third, or no third: ``sus2``, ``sus4``,
   ``5``, ``aug``) is major.
2. **Seventh** (``sevenths`` only): a minor seventh (b7) gives ``7`` in the major family and
   ``min7`` in the minor family; a major seventh (7) gives ``maj7`` in the major family. Other
   cases keep the triad: ``minmaj7`` -> ``min``, ``dim7`` (whose seventh is a 6th) -> ``min``,
   ``maj6`` -> ``maj``. Extensions are dropped (``9`` -> ``7``, ``maj9`` -> ``maj7``,
   ``min11`` -> ``min7``, ``sus4(b7)`` -> ``7``).
3. **Bass**: ``majmin`` gives root-position chords. ``sevenths`` keeps an inversion when the bass
   is a tone of the simplified chord (``C:maj7/3`` -> ``C:maj7/3``, ``C:sus4/4`` -> ``C:maj``).

The root keeps the spelling of the label.
"""

from __future__ import annotations

from theory.harte import parse_chord, semitone_to_degree

__all__ = ["VOCABULARIES", "simplify_label"]

#: Names of the vocabularies, the richest first.
VOCABULARIES: tuple[str, ...] = ("full", "sevenths", "majmin")

_TONES = {
    "maj": frozenset({0, 4, 7}),
    "min": frozenset({0, 3, 7}),
    "7": frozenset({0, 4, 7, 10}),
    "maj7": frozenset({0, 4, 7, 11}),
    "min7": frozenset({0, 3, 7, 10}),
}


def simplify_label(label: str, vocab: str) -> str:
    """Map a Harte label to the ``full``, ``sevenths`` or ``majmin`` vocabulary.

    Parameters
    ----------
    label : str
        A Harte label; ``N`` and ``X`` are returned unchanged.
    vocab : {'full', 'sevenths', 'majmin'}
        Target vocabulary (see the module docstring for the rule).

    Returns
    -------
    str
        The simplified label, e.g. ``simplify_label('A:min9/b3', 'sevenths') == 'A:min7/b3'``.

    Raises
    ------
    ValueError
        If ``vocab`` is not one of :data:`VOCABULARIES`.
    theory.harte.ChordLabelError
        If ``label`` is not a valid Harte label.
    """
    if vocab not in VOCABULARIES:
        raise ValueError(f"unknown vocabulary {vocab!r} (hint: one of {', '.join(VOCABULARIES)})")
    chord = parse_chord(label)
    if vocab == "full" or chord.root_pc is None:
        return chord.label
    tones = chord.intervals
    minor = 3 in tones and 4 not in tones
    quality = "min" if minor else "maj"
    if vocab == "sevenths":
        if 10 in tones:
            quality = "min7" if minor else "7"
        elif 11 in tones and not minor:
            quality = "maj7"
    simplified = f"{chord.root_name}:{quality}"
    bass = chord.bass_interval
    if vocab == "sevenths" and bass and bass in _TONES[quality]:
        simplified += "/" + semitone_to_degree(bass)
    return simplified
