"""POP909 songs: the original melody, bridge and piano tracks plus an added bass and drums.

A song folder ``NNN/`` holds ``NNN.mid`` (tracks MELODY, BRIDGE, PIANO), ``chord_midi.txt``
(chord labels in seconds of the MIDI, with its tempo map), ``beat_midi.txt`` (beats and
downbeats in seconds of the MIDI) and ``key_audio.txt``. The arrangement keeps the three tracks
(each with a new GM program), adds a bass playing each label's bass pitch class on the beats and
a drum groove on beats and downbeats, and sometimes a pad holding the chords.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chordcli.corpus.arrangement import Arrangement, Beat, Note, Part, quantize_s, read_midi_notes
from chordcli.corpus.band import (
    BASS_PATTERNS,
    BASS_PROGRAMS,
    COMP_PROGRAMS,
    DRUM_PATTERNS,
    LEAD_PROGRAMS,
    PAD_PROGRAMS,
    bass_part,
    comp_part,
    drum_part,
)
from chordcli.errors import ChordcliError
from chordcli.segments import ChordSegment
from theory import ChordLabelError, parse_chord
from theory.keys import KeyError_, parse_key

__all__ = ["Pop909Song", "arrange_pop909", "load_pop909", "pop909_song_dirs"]

_TAIL_S = 1.5
_TRACKS = ("MELODY", "BRIDGE", "PIANO")


@dataclass(frozen=True)
class Pop909Song:
    """One POP909 song, all times in seconds of its MIDI file.

    Attributes
    ----------
    song_id : str
        Folder name (``'001'``).
    tracks : dict of str to tuple of Note
        Notes of the MELODY, BRIDGE and PIANO tracks (those present).
    chords : tuple of ChordSegment
        Contiguous labels from 0 to the end of the music (gaps filled with ``N``).
    beats : tuple of Beat
        Beats; ``beat_in_bar`` counts from the annotated downbeats.
    keys : tuple of (float, float, int)
        Key segments (times from ``key_audio.txt``; one key for most songs).
    end_s : float
        End of the last note or label.
    """

    song_id: str
    tracks: dict[str, tuple[Note, ...]]
    chords: tuple[ChordSegment, ...]
    beats: tuple[Beat, ...]
    keys: tuple[tuple[float, float, int], ...]
    end_s: float


def pop909_song_dirs(root: str | Path) -> list[Path]:
    """List the POP909 song folders (those with ``NNN.mid`` and ``chord_midi.txt``), sorted.

    Parameters
    ----------
    root : str or Path
        The ``pop909/`` folder.

    Returns
    -------
    list of Path
        Song folders.
    """
    root = Path(root)
    return sorted(
        d
        for d in root.iterdir()
        if d.is_dir() and (d / f"{d.name}.mid").is_file() and (d / "chord_midi.txt").is_file()
    )


def _rows(path: Path) -> list[list[str]]:
    """Whitespace-separated fields of the non-empty lines of a text file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChordcliError(f"cannot read '{path}': {exc.strerror or exc}") from None
    return [line.split() for line in text.splitlines() if line.strip()]


def load_pop909(song_dir: str | Path) -> Pop909Song:
    """Read a POP909 song folder.

    Parameters
    ----------
    song_dir : str or Path
        The folder ``NNN/``.

    Returns
    -------
    Pop909Song
        Notes, labels, beats and key; times on the MIDI tick grid of
        :mod:`chordcli.corpus.arrangement`.

    Raises
    ------
    ChordcliError
        If a file is missing or malformed.
    """
    song_dir = Path(song_dir)
    song_id = song_dir.name
    midi_path = song_dir / f"{song_id}.mid"
    try:
        raw_tracks = read_midi_notes(midi_path)
    except (OSError, ValueError, EOFError) as exc:
        raise ChordcliError(f"cannot read '{midi_path}': {exc}") from None
    tracks = {
        name: tuple(
            Note(quantize_s(n.start_s), max(quantize_s(n.end_s), quantize_s(n.start_s) + 1e-3),
                 n.pitch, n.velocity)
            for n in raw_tracks[name]
        )
        for name in _TRACKS
        if name in raw_tracks
    }  # fmt: skip
    chords: list[ChordSegment] = []
    chord_path = song_dir / "chord_midi.txt"
    for i, row in enumerate(_rows(chord_path), 1):
        try:
            start, end, label = quantize_s(float(row[0])), quantize_s(float(row[1])), row[2]
            parse_chord(label)
        except (ValueError, IndexError, ChordLabelError) as exc:
            raise ChordcliError(f"cannot read '{chord_path}' line {i}: {exc}") from None
        if end <= start:
            continue
        previous_end = chords[-1].end_s if chords else 0.0
        if start > previous_end:
            chords.append(ChordSegment(previous_end, start, "N"))
        start = max(start, previous_end)
        if end > start:
            chords.append(ChordSegment(start, end, label))
    if not chords:
        raise ChordcliError(f"cannot read '{chord_path}': no chords")
    note_end = max((n.end_s for notes in tracks.values() for n in notes), default=0.0)
    end_s = max(note_end, chords[-1].end_s)
    merged: list[ChordSegment] = []
    for c in chords:
        if merged and merged[-1].label == c.label:
            merged[-1] = ChordSegment(merged[-1].start_s, c.end_s, c.label)
        else:
            merged.append(c)
    beats = _read_beats(song_dir / "beat_midi.txt")
    keys = _read_keys(song_dir / "key_audio.txt", end_s=end_s)
    return Pop909Song(song_id, tracks, tuple(merged), tuple(beats), tuple(keys), end_s)


def _read_beats(path: Path) -> list[Beat]:
    """Beats of ``beat_midi.txt`` (third column flags downbeats), numbered within bars."""
    rows = _rows(path)
    try:
        times = [quantize_s(float(r[0])) for r in rows]
        down = [float(r[2]) > 0.5 if len(r) > 2 else float(r[1]) > 0.5 for r in rows]
    except (ValueError, IndexError) as exc:
        raise ChordcliError(f"cannot read '{path}': {exc}") from None
    if len(times) < 2:
        raise ChordcliError(f"cannot read '{path}': fewer than two beats")
    first = down.index(True) if any(down) else 0
    beats = []
    counter = 0
    for i, t in enumerate(times):
        if i >= first and down[i]:
            counter = 1
        elif i < first:
            counter = 4 - (first - i) % 4 + 1 if (first - i) % 4 else 1
        else:
            counter += 1
        beats.append(Beat(t, counter))
    return beats


def _read_keys(path: Path, *, end_s: float) -> list[tuple[float, float, int]]:
    """Key segments of ``key_audio.txt``, the first from 0 and the last to `end_s`."""
    if not path.is_file():
        return [(0.0, end_s, 24)]
    keys = []
    for row in _rows(path):
        try:
            keys.append((float(row[0]), float(row[1]), parse_key(row[2])))
        except (ValueError, IndexError, KeyError_):
            continue
    if not keys:
        return [(0.0, end_s, 24)]
    keys = [(quantize_s(a), quantize_s(b), k) for a, b, k in keys if a < end_s]
    keys[0] = (0.0, keys[0][1], keys[0][2])
    keys[-1] = (keys[-1][0], end_s, keys[-1][2])
    return keys


def arrange_pop909(song: Pop909Song, *, rng: np.random.Generator) -> Arrangement:
    """Arrange a POP909 song: new programs for its tracks, an added bass and drums.

    Parameters
    ----------
    song : Pop909Song
        The song.
    rng : numpy.random.Generator
        Programs, rhythms, mix.

    Returns
    -------
    Arrangement
        The song's tracks plus bass (90 %), drums (85 %) and a pad (25 %); labels as in
        ``chord_midi.txt`` with ``N`` up to the end of a short tail.
    """
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    duration_s = quantize_s(song.end_s + _TAIL_S)
    chords = list(song.chords)
    if chords[-1].end_s < duration_s:
        chords.append(ChordSegment(chords[-1].end_s, duration_s, "N"))
    side = 1 if rng.random() < 0.5 else -1

    def mixed(name: str, program: int, notes, *, pan: int, volume: int, drum=False) -> Part:
        return Part(
            name,
            program,
            tuple(notes),
            is_drum=drum,
            pan=int(np.clip(pan, 0, 127)),
            volume=int(np.clip(volume, 0, 127)),
            reverb=int(rng.integers(10, 90)),
            chorus=int(rng.integers(0, 60)),
        )

    programs = {"MELODY": pick(LEAD_PROGRAMS), "BRIDGE": pick(LEAD_PROGRAMS + PAD_PROGRAMS),
                "PIANO": pick(COMP_PROGRAMS)}  # fmt: skip
    parts = []
    for name, notes in song.tracks.items():
        pan = {"MELODY": 64 + int(rng.integers(-10, 11)), "BRIDGE": 64 - side * 35,
               "PIANO": 64 + side * int(rng.integers(0, 40))}[name]  # fmt: skip
        volume = {"MELODY": 105, "BRIDGE": 80, "PIANO": 95}[name] + int(rng.integers(-10, 11))
        parts.append(mixed(name.lower(), programs[name], notes, pan=pan, volume=volume))
    style = {"bass": None, "drums": None, "pad": None}
    if rng.random() < 0.25:
        style["pad"] = pick(PAD_PROGRAMS)
        pad = comp_part(
            chords, song.beats, program=style["pad"], pattern="whole", rng=rng,
            low=int(rng.integers(55, 64)), name="pad", held=True,
        )  # fmt: skip
        parts.append(mixed("pad", pad.program, pad.notes, pan=64 - side * 20, volume=70))
    if rng.random() < 0.9:
        style["bass"] = pick(BASS_PATTERNS)
        bass = bass_part(
            chords, song.beats, program=pick(BASS_PROGRAMS), pattern=style["bass"], rng=rng
        )
        parts.append(mixed("bass", bass.program, bass.notes, pan=64, volume=105))
    if rng.random() < 0.85:
        style["drums"] = pick(DRUM_PATTERNS)
        drums = drum_part(chords, song.beats, pattern=style["drums"], rng=rng)
        parts.append(mixed("drums", 0, drums.notes, pan=64, volume=90, drum=True))
    tempo = None
    if len(song.beats) > 1:
        tempo = round(60.0 / float(np.median(np.diff([b.time_s for b in song.beats]))), 2)
    return Arrangement(
        parts=tuple(parts),
        chords=tuple(chords),
        beats=song.beats,
        keys=song.keys,
        duration_s=duration_s,
        tempo_bpm=tempo,
        info={"patterns": style},
    )
