"""MusicXML lead sheets through music21.

The score has one part of slash notation: every beat of every bar is a stemless slash note on
the middle line (a rest where no chord sounds, a whole-bar rest for a bar without chords), and
a chord symbol (``<harmony>``) stands at each chord change, at its beat in the bar. Bars come
from :func:`chordcli.bars.chart_bars` (measure 1 is the first bar shown); the first bar carries
the time signature (``beats_per_bar``/4), the key signature of the transcription's key and
the tempo.

Chord symbols are written with the MusicXML ``kind`` of the chord's vocabulary quality and
``<degree>`` elements for added or altered tones, so that every reader realises the same
pitches; the ``text`` of the kind is the quality's lead-sheet name (``maj7``, ``m7b5``,
``7sus4``), and roots and basses are spelled as :func:`theory.keys.chord_symbol` spells them.
Only kinds of the MusicXML standard are used (music21 also knows kinds such as
``suspended-fourth-seventh`` that MusicXML lacks).
``N`` is written as a no-chord symbol (``N.C.``); ``X`` as a no-chord symbol reading ``X``.

A ``.mxl`` file is the same score compressed, as MusicXML defines it (a zip archive with
``META-INF/container.xml``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from chordcli import __version__
from chordcli.bars import chart_bars
from chordcli.segments import Transcription
from theory.harte import NO_CHORD, parse_chord
from theory.keys import KEY_NONE, key_is_minor, key_tonic_name, spell_interval, spell_pc
from theory.vocabulary import chord_class, class_quality, class_root

__all__ = ["MUSICXML_KINDS", "compress_musicxml", "format_musicxml"]

# (MusicXML kind as music21 names it, [(modification, degree, alteration)]) of each vocabulary
# quality, by Harte shorthand. music21 writes 'dominant-seventh' as MusicXML 'dominant',
# 'half-diminished-seventh' as 'half-diminished' and 'minor-major-seventh' as 'major-minor'.
_ADD, _ALTER = "add", "alter"
MUSICXML_KINDS: dict[str, tuple[str, tuple[tuple[str, int, int], ...]]] = {
    "maj": ("major", ()),
    "min": ("minor", ()),
    "dim": ("diminished", ()),
    "aug": ("augmented", ()),
    "sus2": ("suspended-second", ()),
    "sus4": ("suspended-fourth", ()),
    "5": ("power", ()),
    "maj6": ("major-sixth", ()),
    "min6": ("minor-sixth", ()),
    "7": ("dominant-seventh", ()),
    "maj7": ("major-seventh", ()),
    "min7": ("minor-seventh", ()),
    "minmaj7": ("minor-major-seventh", ()),
    "dim7": ("diminished-seventh", ()),
    "hdim7": ("half-diminished-seventh", ()),
    "aug(b7)": ("augmented-seventh", ()),
    "sus4(b7)": ("suspended-fourth", ((_ADD, 7, -1),)),
    "maj(9)": ("major", ((_ADD, 9, 0),)),
    "min(9)": ("minor", ((_ADD, 9, 0),)),
    "9": ("dominant-ninth", ()),
    "maj9": ("major-ninth", ()),
    "min9": ("minor-ninth", ()),
    "minmaj7(9)": ("minor-major-seventh", ((_ADD, 9, 0),)),
    "maj6(9)": ("major-sixth", ((_ADD, 9, 0),)),
    "min6(9)": ("minor-sixth", ((_ADD, 9, 0),)),
    "7(b9)": ("dominant-seventh", ((_ADD, 9, -1),)),
    "7(#9)": ("dominant-seventh", ((_ADD, 9, 1),)),
    "7(#11)": ("dominant-seventh", ((_ADD, 11, 1),)),
    "7(b13)": ("dominant-seventh", ((_ADD, 13, -1),)),
    "7(13)": ("dominant-seventh", ((_ADD, 13, 0),)),
    "min7(11)": ("minor-seventh", ((_ADD, 11, 0),)),
    "min7(13)": ("minor-seventh", ((_ADD, 13, 0),)),
    "maj7(#11)": ("major-seventh", ((_ADD, 11, 1),)),
    "sus4(b7,9)": ("suspended-fourth", ((_ADD, 7, -1), (_ADD, 9, 0))),
    "11": ("dominant-11th", ()),
    "13": ("dominant-13th", ()),
    "min11": ("minor-11th", ()),
    "maj13": ("major-13th", ()),
    "min13": ("minor-13th", ()),
    "sus4(9)": ("suspended-fourth", ((_ADD, 9, 0),)),
    "maj(11)": ("major", ((_ADD, 11, 0),)),
    "min(11)": ("minor", ((_ADD, 11, 0),)),
    "sus2(b7)": ("suspended-second", ((_ADD, 7, -1),)),
    "(3,b5,b7)": ("dominant-seventh", ((_ALTER, 5, -1),)),
}

_SLASH_PITCH_STEP = "B"  # the middle line of the treble clef
_SLASH_OCTAVE = 4


def format_musicxml(transcription: Transcription) -> str:
    """Format a transcription as a MusicXML lead sheet (see the module docstring).

    Parameters
    ----------
    transcription : Transcription
        The chords; bars come from its beats or tempo (:func:`chordcli.bars.make_grid`).

    Returns
    -------
    str
        A MusicXML 4.0 ``score-partwise`` document.
    """
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    exporter = GeneralObjectExporter(build_score(transcription))
    # The score is complete as built (measures filled, no accidentals to show); music21's own
    # notation pass would only copy it and recompute the same, six times slower.
    exporter.makeNotation = False
    return exporter.parse().decode("utf-8")


def build_score(transcription: Transcription) -> Any:
    """Build the music21 score of a transcription.

    Parameters
    ----------
    transcription : Transcription
        The chords.

    Returns
    -------
    music21.stream.Score
        One part with one measure per bar of the grid.
    """
    from music21 import instrument, metadata, meter, note, stream, tempo
    from music21 import key as m21key

    grid, bars, _ = chart_bars(transcription)
    per_bar = grid.beats_per_bar

    score = stream.Score()
    score.metadata = metadata.Metadata()
    if transcription.source:
        score.metadata.title = Path(transcription.source).stem
    score.metadata.addContributor(
        metadata.Contributor(role="transcriber", name=f"chordcli {__version__}")
    )
    part = stream.Part()
    chords_instrument = instrument.Piano()
    chords_instrument.partName = "Chords"
    part.insert(0, chords_instrument)  # notation programs expect an instrument for each part

    key_signature = None
    if transcription.key != KEY_NONE:
        mode = "minor" if key_is_minor(transcription.key) else "major"
        key_signature = m21key.Key(_m21_name(key_tonic_name(transcription.key)), mode)
    slash_pitch = _SLASH_PITCH_STEP
    if key_signature is not None and key_signature.accidentalByStep(_SLASH_PITCH_STEP):
        slash_pitch += key_signature.accidentalByStep(_SLASH_PITCH_STEP).modifier
    slash_pitch += str(_SLASH_OCTAVE)

    symbols: dict[str, Any] = {}
    for number, bar in enumerate(bars, start=1):
        measure = stream.Measure(number=number)
        if number == 1:
            measure.insert(0, meter.TimeSignature(f"{per_bar}/4"))
            if key_signature is not None:
                measure.insert(0, key_signature)
            measure.insert(0, tempo.MetronomeMark(number=round(grid.tempo_bpm)))
        if all(part_.label == NO_CHORD for part_ in bar):
            if not bar[0].continued:
                measure.insert(0, _symbol(NO_CHORD, transcription.key, symbols))
            rest = note.Rest(quarterLength=per_bar)
            rest.fullMeasure = True
            measure.insert(0, rest)
            part.append(measure)
            continue
        for piece in bar:
            if not piece.continued:
                measure.insert(piece.beat, _symbol(piece.label, transcription.key, symbols))
            for beat in range(piece.beat, piece.beat + piece.n_beats):
                if piece.label == NO_CHORD:
                    measure.insert(beat, note.Rest(quarterLength=1))
                else:
                    slash = note.Note(slash_pitch, quarterLength=1)
                    slash.notehead = "slash"
                    slash.stemDirection = "noStem"
                    if slash.pitch.accidental is not None:
                        slash.pitch.accidental.displayStatus = False
                    measure.insert(beat, slash)
        part.append(measure)
    score.insert(0, part)
    return score


def compress_musicxml(text: str, *, name: str = "score.musicxml") -> bytes:
    """Pack MusicXML text into a compressed ``.mxl`` archive.

    Parameters
    ----------
    text : str
        A MusicXML document.
    name : str, optional
        Name of the score file inside the archive.

    Returns
    -------
    bytes
        The archive: an uncompressed ``mimetype`` entry first, ``META-INF/container.xml``
        pointing at the score, and the score.
    """
    container = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<container>\n  <rootfiles>\n"
        f'    <rootfile full-path="{name}" media-type="application/vnd.recordare.musicxml+xml"/>\n'
        "  </rootfiles>\n</container>\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype", date_time=(1980, 1, 1, 0, 0, 0)),
            "application/vnd.recordare.musicxml",
            compress_type=zipfile.ZIP_STORED,
        )
        for entry, data in (("META-INF/container.xml", container), (name, text)):
            archive.writestr(
                zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buffer.getvalue()


def _symbol(label: str, key: int, cache: dict[str, Any]) -> Any:
    """Return a music21 chord symbol for a Harte label (built once per label, then copied)."""
    import copy

    if label not in cache:
        cache[label] = _make_symbol(label, key)
    return copy.deepcopy(cache[label])


def _make_symbol(label: str, key: int) -> Any:
    """Build the music21 chord symbol of a Harte label, spelled for `key`."""
    from music21 import harmony, pitch

    chord = parse_chord(label)
    if chord.is_no_chord:
        return harmony.NoChord()
    index = chord_class(chord)
    if index is None:
        return harmony.NoChord(kindStr="X")
    quality = class_quality(index)
    kind, degrees = MUSICXML_KINDS[quality.harte]
    root_name = spell_pc(class_root(index), key=key)
    root = pitch.Pitch(_m21_name(root_name))
    bass = None
    if chord.is_inversion:
        bass_name = spell_interval(root_name, chord.bass_interval, fallback_key=key)
        bass = pitch.Pitch(_m21_name(bass_name))
    symbol = harmony.ChordSymbol(root=root, bass=bass, kind=kind, kindStr=quality.name)
    for modification, degree, alteration in degrees:
        symbol.addChordStepModification(
            harmony.ChordStepModification(modification, degree, alteration)
        )
    return symbol


def _m21_name(name: str) -> str:
    """Return a note name in music21 spelling (``Bb`` -> ``B-``)."""
    return name[0] + name[1:].replace("b", "-")
