"""Musical contexts for every vocabulary quality, so that rare chords get enough audio.

Each of the 44 qualities of :data:`theory.vocabulary.QUALITIES` has a context: the target chord
alternates with two partner chords (``T p1 T p2``, a bar each or two beats each), chosen so the
target has its usual function (ii-V-I with the extension on the V, sus resolutions, a line
cliche around mM7, a tritone substitution for ``7(#11)``, ...). A piece plays the context in one
root, looped with variations (inversions of the target, bar or half-bar rhythm) until the
target has sounded for :data:`TARGET_SECONDS`; one piece per quality and root gives each quality
``12 * TARGET_SECONDS`` of audio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from chordcli.corpus.arrangement import Arrangement, Beat, quantize_s
from chordcli.corpus.band import band_parts, choose_style
from chordcli.segments import ChordSegment
from theory import parse_chord
from theory.harte import semitone_to_degree
from theory.keys import key_index
from theory.pitch import pc_name
from theory.vocabulary import QUALITIES

__all__ = [
    "CONTEXTS",
    "TARGET_SECONDS",
    "RareContext",
    "arrange_rare",
    "rare_piece_id",
    "rare_pieces",
]

#: Seconds of the target chord in one rare-quality piece.
TARGET_SECONDS = 60.0
_LEAD_IN_S = 0.5
_TAIL_S = 1.5


@dataclass(frozen=True)
class RareContext:
    """How a quality is used: two partner chords and the key, relative to the target root.

    Attributes
    ----------
    quality : str
        Harte quality of the target (``'minmaj7'``).
    partners : tuple of (int, str), length 2
        ``(semitones above the target root, Harte quality)`` of the two partner chords.
    key : (int, bool)
        ``(tonic in semitones above the target root, minor)``.
    """

    quality: str
    partners: tuple[tuple[int, str], tuple[int, str]]
    key: tuple[int, bool]


def _ctx(quality: str, p1: str, p2: str, key: str) -> RareContext:
    """Build a context from ``'offset:quality'`` texts and a key ``'offset:maj|min'``."""

    def split(text: str) -> tuple[int, str]:
        offset, _, q = text.partition(":")
        return int(offset) % 12, q

    tonic, mode = split(key)
    return RareContext(quality, (split(p1), split(p2)), (tonic, mode == "min"))


#: One context per quality, in vocabulary order.
CONTEXTS: tuple[RareContext, ...] = (
    _ctx("maj", "5:maj", "7:maj", "0:maj"),  # I IV I V
    _ctx("min", "8:maj", "7:7", "0:min"),  # i VI i V7
    _ctx("dim", "1:maj", "6:maj", "1:maj"),  # vii° I vii° IV
    _ctx("aug", "0:maj", "5:maj", "0:maj"),  # I+ I I+ IV
    _ctx("sus2", "0:maj", "5:maj", "0:maj"),  # Isus2 I Isus2 IV
    _ctx("sus4", "0:maj", "0:7", "5:maj"),  # Vsus4 V Vsus4 V7
    _ctx("5", "10:5", "5:5", "0:min"),  # power chords i5 bVII5 i5 iv5
    _ctx("maj6", "9:min7", "7:7", "0:maj"),  # I6 vi7 I6 V7
    _ctx("min6", "0:min", "7:7", "0:min"),  # i6 i i6 V7
    _ctx("7", "5:maj", "7:min7", "5:maj"),  # V7 I V7 ii7
    _ctx("maj7", "5:maj7", "2:min7", "0:maj"),  # Imaj7 IVmaj7 Imaj7 ii7
    _ctx("min7", "5:7", "10:maj7", "10:maj"),  # ii7 V7 ii7 Imaj7
    _ctx("minmaj7", "0:min", "0:min6", "0:min"),  # line cliche i imM7 i6
    _ctx("dim7", "1:min", "1:maj", "1:maj"),  # passing #i°7 to ii / I
    _ctx("hdim7", "5:7", "10:min", "10:min"),  # iiø V7 iiø i
    _ctx("aug(b7)", "5:maj", "5:maj7", "5:maj"),  # V7#5 I
    _ctx("sus4(b7)", "0:7", "5:maj", "5:maj"),  # V7sus4 V7 V7sus4 I
    _ctx("maj(9)", "5:maj", "9:min", "0:maj"),  # Iadd9 IV Iadd9 vi
    _ctx("min(9)", "8:maj7", "5:min7", "0:min"),  # i(add9) VImaj7 i(add9) iv7
    _ctx("9", "5:maj7", "7:min7", "5:maj"),  # V9 Imaj7 V9 ii7
    _ctx("maj9", "5:maj7", "9:min7", "0:maj"),  # Imaj9 IVmaj7 Imaj9 vi7
    _ctx("min9", "5:7", "10:maj7", "10:maj"),  # ii9 V7 ii9 Imaj7
    _ctx("minmaj7(9)", "0:min", "0:min7", "0:min"),  # line cliche with the 9th
    _ctx("maj6(9)", "9:min7", "7:9", "0:maj"),  # I69 vi7 I69 V9
    _ctx("min6(9)", "0:min", "7:7", "0:min"),  # i69 i i69 V7
    _ctx("7(b9)", "5:min", "7:hdim7", "5:min"),  # V7b9 i V7b9 iiø
    _ctx("7(#9)", "3:maj", "5:7", "0:min"),  # the 'Hendrix' vamp
    _ctx("7(#11)", "11:maj7", "1:min7", "11:maj"),  # tritone substitute bII7#11 -> I
    _ctx("7(b13)", "5:min", "7:hdim7", "5:min"),  # V7b13 i V7b13 iiø
    _ctx("7(13)", "5:maj7", "7:min9", "5:maj"),  # V13 Imaj7 V13 ii9
    _ctx("min7(11)", "5:7", "3:min7", "0:min"),  # im7(11) IV7 im7(11) biiim7
    _ctx("min7(13)", "5:9", "0:min7", "0:min"),  # dorian vamp
    _ctx("maj7(#11)", "0:maj7", "2:maj", "0:maj"),  # lydian Imaj7#11 Imaj7 II
    _ctx("sus4(b7,9)", "0:9", "5:maj7", "5:maj"),  # V9sus4 V9 V9sus4 Imaj7
    _ctx("11", "0:9", "5:maj9", "5:maj"),  # V11 V9 V11 Imaj9
    _ctx("13", "5:maj9", "7:min9", "5:maj"),  # V13 Imaj9 V13 ii9
    _ctx("min11", "5:min7", "7:7", "0:min"),  # im11 ivm7 im11 V7
    _ctx("maj13", "5:maj7", "2:min9", "0:maj"),  # Imaj13 IVmaj7 Imaj13 ii9
    _ctx("min13", "5:7", "10:maj7", "10:maj"),  # iim13 V7 iim13 Imaj7
    _ctx("sus4(9)", "0:maj", "0:maj(9)", "0:maj"),  # Isus4(9) I Isus4(9) Iadd9
    _ctx("maj(11)", "0:maj", "5:maj", "0:maj"),  # Iadd11 I Iadd11 IV
    _ctx("min(11)", "0:min", "8:maj", "0:min"),  # iadd11 i iadd11 VI
    _ctx("sus2(b7)", "0:7", "5:maj", "5:maj"),  # V7sus2 V7 V7sus2 I
    _ctx("(3,b5,b7)", "5:maj7", "7:min7", "5:maj"),  # V7b5 Imaj7 V7b5 ii7
)


def _label(root_pc: int, quality: str, *, flats: bool, bass: int | None = None) -> str:
    """Harte label of a root and quality, with an optional bass interval."""
    text = f"{pc_name(root_pc, flats=flats)}:{quality}"
    if bass:
        text += "/" + semitone_to_degree(bass)
    return text


def rare_piece_id(quality: str, root_pc: int) -> str:
    """File-name id of the piece of a quality in a root (``'22-minmaj7_9-09'``).

    Parameters
    ----------
    quality : str
        Harte quality.
    root_pc : int
        Root pitch class.

    Returns
    -------
    str
        ``'<quality index>-<quality slug>-<root pc>'``.
    """
    index = [q.harte for q in QUALITIES].index(quality)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", quality).strip("_") or "x"
    return f"{index:02d}-{slug}-{root_pc:02d}"


def rare_pieces() -> list[tuple[str, int]]:
    """Return every ``(quality, root_pc)`` piece of the rare set: 44 x 12."""
    return [(c.quality, root) for c in CONTEXTS for root in range(12)]


def arrange_rare(quality: str, root_pc: int, *, rng: np.random.Generator) -> Arrangement:
    """Arrange the context of a quality in one root.

    Parameters
    ----------
    quality : str
        Harte quality from :data:`theory.vocabulary.QUALITIES`.
    root_pc : int
        Root pitch class of the target chord.
    rng : numpy.random.Generator
        Tempo, rhythm, inversions and band style.

    Returns
    -------
    Arrangement
        4/4 bars at 70..140 bpm; the target chord sounds for at least :data:`TARGET_SECONDS`.

    Raises
    ------
    ValueError
        If `quality` has no context.
    """
    by_quality = {c.quality: c for c in CONTEXTS}
    if quality not in by_quality:
        raise ValueError(f"no rare-quality context for {quality!r}")
    context = by_quality[quality]
    tonic = (root_pc + context.key[0]) % 12
    key = key_index(tonic, minor=context.key[1])
    flats = tonic in (1, 3, 5, 8, 10) or (context.key[1] and tonic in (0, 2, 7))
    tempo = float(rng.uniform(70, 140))
    beat_s = 60.0 / tempo
    target_tones = parse_chord(f"C:{quality}").intervals
    inversions = [i for i in (3, 4, 7, 10) if i in target_tones]
    slots: list[tuple[float, str]] = []  # (beats, label)
    target_beats = 0.0
    while target_beats * beat_s < TARGET_SECONDS:
        half = rng.random() < 0.3  # two beats per chord instead of a bar
        beats = 2.0 if half else 4.0
        for step in range(4):
            if step % 2 == 0:
                bass = None
                if inversions and rng.random() < 0.15:
                    bass = inversions[int(rng.integers(len(inversions)))]
                label = _label(root_pc, quality, flats=flats, bass=bass)
                target_beats += beats
            else:
                offset, partner = context.partners[step // 2]
                label = _label((root_pc + offset) % 12, partner, flats=flats)
            slots.append((beats, label))
    t = _LEAD_IN_S
    chords = [ChordSegment(0.0, quantize_s(t), "N")]
    beats_out: list[Beat] = []
    bar_pos = 0.0
    for n_beats, label in slots:
        for b in range(int(n_beats)):
            beats_out.append(Beat(quantize_s(t + b * beat_s), int(bar_pos + b) % 4 + 1))
        start = quantize_s(t)
        chords.append(ChordSegment(start, quantize_s(t + n_beats * beat_s), label))
        t += n_beats * beat_s
        bar_pos = (bar_pos + n_beats) % 4
    end_s = chords[-1].end_s
    duration_s = quantize_s(end_s + _TAIL_S)
    chords.append(ChordSegment(end_s, duration_s, "N"))
    merged: list[ChordSegment] = []
    for c in chords:
        if merged and merged[-1].label == c.label:
            merged[-1] = ChordSegment(merged[-1].start_s, c.end_s, c.label)
        else:
            merged.append(c)
    style = choose_style(rng)
    parts = band_parts(merged, beats_out, style=style, key=key, rng=rng)
    return Arrangement(
        parts=tuple(parts),
        chords=tuple(merged),
        beats=tuple(beats_out),
        keys=((0.0, duration_s, key),),
        duration_s=duration_s,
        tempo_bpm=round(tempo, 2),
        info={"quality": quality, "root_pc": root_pc, "style": style.to_dict()},
    )
