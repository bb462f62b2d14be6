"""Billboard progressions: real songs' bars, metre and tonic, arranged for a band.

The McGill Billboard ``salami_chords.txt`` files give each song as lines of bars
(``| A:min . . C:maj |``: equal slots per bar, ``.`` repeats the previous chord), with the
metre, bar-level metre changes (``(2/4)``), repeats (``x4``) and the tonic. The lines carry
the original recording's times, from which the song's real tempo is estimated; the
arrangement is played at that tempo changed by up to +-8 % (clamped to a plausible range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chordcli.corpus.arrangement import Arrangement, Beat, quantize_s
from chordcli.corpus.band import band_parts, choose_style
from chordcli.errors import ChordcliError
from chordcli.segments import ChordSegment
from theory import ChordLabelError, parse_chord
from theory.keys import key_index
from theory.pitch import PitchNameError, pitch_class

__all__ = [
    "billboard_quality_shares",
    "SalamiBar",
    "SalamiSong",
    "arrange_billboard",
    "billboard_song_dirs",
    "parse_salami",
    "progression_timeline",
    "read_salami",
]

_BAR_RE = re.compile(r"\|.*\|")
_METRE_RE = re.compile(r"^\((\d+)/(\d+)\)$")
_REPEAT_RE = re.compile(r"(?:^|[\s,])x(\d+)\b")
#: Tempo range (beats per minute) of the arrangements.
TEMPO_RANGE_BPM = (60.0, 180.0)
_LEAD_IN_S = 0.5
_TAIL_S = 1.5


@dataclass(frozen=True)
class SalamiBar:
    """One bar of a progression.

    Attributes
    ----------
    slots : tuple of str
        Chord label of each equal slot of the bar (``N`` for silence).
    beats : float
        Length of the bar in beats.
    tonic_pc : int or None
        Tonic in force (pitch class).
    """

    slots: tuple[str, ...]
    beats: float
    tonic_pc: int | None


@dataclass(frozen=True)
class SalamiSong:
    """A parsed ``salami_chords.txt``.

    Attributes
    ----------
    song_id : str
        The Billboard id (folder name, ``'0003'``).
    title, artist : str
        From the header.
    metre : str
        The header metre (``'4/4'``).
    bars : tuple of SalamiBar
        Every bar in order, repeats expanded, leading and trailing silence removed.
    beat_s : float or None
        Median beat length of the original recording, in seconds.
    """

    song_id: str
    title: str
    artist: str
    metre: str
    bars: tuple[SalamiBar, ...]
    beat_s: float | None

    @property
    def minor(self) -> bool:
        """Whether chords on the tonic are more often minor than major."""
        score = 0
        for bar in self.bars:
            for label in bar.slots:
                chord = parse_chord(label)
                if chord.root_pc is not None and chord.root_pc == bar.tonic_pc:
                    score += (3 in chord.intervals) - (4 in chord.intervals)
        return score > 0


def _beats_per_bar(numerator: int, denominator: int) -> float:
    """Beats of a bar: dotted quarters for compound metres, else the written unit."""
    if denominator == 8 and numerator % 3 == 0 and numerator > 3:
        return numerator / 3
    return float(numerator)


def parse_salami(text: str, *, song_id: str = "", source: str = "<string>") -> SalamiSong:
    """Parse a Billboard ``salami_chords.txt``.

    Parameters
    ----------
    text : str
        File content.
    song_id : str, optional
        Id recorded in the result.
    source : str, optional
        File name for error messages.

    Returns
    -------
    SalamiSong
        The song with repeats expanded.

    Raises
    ------
    ChordcliError
        If a chord label is not Harte syntax or the file has no bars.
    """
    title = artist = ""
    metre = (4, 4)
    tonic: int | None = None
    bars: list[SalamiBar] = []
    line_spans: list[tuple[float, float]] = []  # (time, beats) per line with bars
    for line_no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            name, _, value = line[1:].partition(":")
            name, value = name.strip(), value.strip()
            if name == "title":
                title = value
            elif name == "artist":
                artist = value
            elif name == "metre":
                num, _, den = value.partition("/")
                metre = (int(num), int(den))
            elif name == "tonic":
                try:
                    tonic = pitch_class(value)
                except PitchNameError:
                    tonic = None
            continue
        time_text, _, rest = line.partition("\t")
        match = _BAR_RE.search(rest)
        try:
            time_s = float(time_text)
        except ValueError:
            continue
        line_spans.append((time_s, 0.0))
        if match is None:
            continue
        repeat = _REPEAT_RE.search(rest[match.end() :])
        line_bars = []
        for bar_text in match.group(0).strip("|").split("|"):
            tokens = bar_text.split()
            bar_metre = metre
            if tokens and _METRE_RE.match(tokens[0]):
                m = _METRE_RE.match(tokens[0])
                bar_metre = (int(m.group(1)), int(m.group(2)))
                tokens = tokens[1:]
            if not tokens:
                continue
            slots = []
            for token in tokens:
                if token == ".":
                    slots.append(slots[-1] if slots else (bars[-1].slots[-1] if bars else "N"))
                    continue
                label = "N" if token in ("N", "&pause", "*") else token
                try:
                    parse_chord(label)
                except ChordLabelError as exc:
                    raise ChordcliError(
                        f"cannot read '{source}' line {line_no}: {exc}",
                        hint="fix the chord label",
                    ) from None
                slots.append(label)
            line_bars.append(SalamiBar(tuple(slots), _beats_per_bar(*bar_metre), tonic))
        line_bars = line_bars * (int(repeat.group(1)) if repeat else 1)
        bars.extend(line_bars)
        line_spans[-1] = (time_s, sum(b.beats for b in line_bars))
    while bars and all(s == "N" for s in bars[0].slots):
        bars.pop(0)
    while bars and all(s == "N" for s in bars[-1].slots):
        bars.pop()
    if not bars:
        raise ChordcliError(f"cannot read '{source}': no bars", hint="is it a salami_chords.txt?")
    beat_lengths = [
        (t1 - t0) / beats
        for (t0, beats), (t1, _) in zip(line_spans, line_spans[1:], strict=False)
        if beats > 0 and t1 > t0
    ]
    beat_s = float(np.median(beat_lengths)) if beat_lengths else None
    return SalamiSong(
        song_id=song_id,
        title=title,
        artist=artist,
        metre=f"{metre[0]}/{metre[1]}",
        bars=tuple(bars),
        beat_s=beat_s,
    )


def read_salami(path: str | Path) -> SalamiSong:
    """Read a ``salami_chords.txt`` (the song id is its folder's name).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    SalamiSong
        The parsed song.

    Raises
    ------
    ChordcliError
        If the file cannot be read or parsed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ChordcliError(f"cannot read '{path}': {exc.strerror or exc}") from None
    return parse_salami(text, song_id=path.parent.name, source=str(path))


def billboard_song_dirs(root: str | Path) -> list[Path]:
    """List the song folders holding a ``salami_chords.txt``, sorted by id.

    Parameters
    ----------
    root : str or Path
        The Billboard folder (``billboard/``) or its ``billboard-2.0-salami_chords/``.

    Returns
    -------
    list of Path
        Song folders.
    """
    root = Path(root)
    if (root / "billboard-2.0-salami_chords").is_dir():
        root = root / "billboard-2.0-salami_chords"
    return sorted(p.parent for p in root.glob("*/salami_chords.txt"))


def progression_timeline(
    song: SalamiSong, *, tempo_bpm: float, start_s: float = _LEAD_IN_S
) -> tuple[list[ChordSegment], list[Beat], list[tuple[float, float, int]], float]:
    """Lay a progression out in time at a tempo.

    Parameters
    ----------
    song : SalamiSong
        The progression.
    tempo_bpm : float
        Beats per minute.
    start_s : float, optional
        Time of the first bar; the labels say ``N`` before it.

    Returns
    -------
    chords : list of ChordSegment
        Contiguous segments from 0 to the end (repeated labels merged), times on the MIDI grid.
    beats : list of Beat
        Every beat of every bar.
    keys : list of (float, float, int)
        Key segments (tonic changes); mode from :attr:`SalamiSong.minor`.
    end_s : float
        Time when the last bar ends.
    """
    beat_s = 60.0 / tempo_bpm
    minor = song.minor
    slots: list[tuple[float, float, str]] = []
    beats: list[Beat] = []
    keys: list[tuple[float, float, int]] = []
    t = start_s
    for bar in song.bars:
        bar_s = bar.beats * beat_s
        for b in range(int(np.ceil(bar.beats - 1e-9))):
            beats.append(Beat(quantize_s(t + b * beat_s), b + 1))
        for k, label in enumerate(bar.slots):
            slots.append(
                (t + bar_s * k / len(bar.slots), t + bar_s * (k + 1) / len(bar.slots), label)
            )
        key = 24 if bar.tonic_pc is None else key_index(bar.tonic_pc, minor=minor)
        if keys and keys[-1][2] == key:
            keys[-1] = (keys[-1][0], t + bar_s, key)
        else:
            keys.append((t, t + bar_s, key))
        t += bar_s
    end_s = quantize_s(t)
    chords = [ChordSegment(0.0, quantize_s(start_s), "N")]
    for s0, _, label in slots:
        s0 = quantize_s(s0)
        if chords[-1].label == label:
            continue
        chords[-1] = ChordSegment(chords[-1].start_s, s0, chords[-1].label)
        chords.append(ChordSegment(s0, s0, label))
    chords[-1] = ChordSegment(chords[-1].start_s, end_s, chords[-1].label)
    keys = [(quantize_s(a), quantize_s(b), k) for a, b, k in keys]
    keys[0] = (0.0, keys[0][1], keys[0][2])
    return chords, beats, keys, end_s


def arrange_billboard(song: SalamiSong, *, rng: np.random.Generator) -> Arrangement:
    """Arrange a Billboard progression for a band at a plausible tempo.

    Parameters
    ----------
    song : SalamiSong
        The progression.
    rng : numpy.random.Generator
        Tempo, style and performance choices.

    Returns
    -------
    Arrangement
        Comping (every chord tone of each label), bass (the label's bass), drums, maybe a pad
        and a melody, labels ending with ``N`` over a short tail.
    """
    low, high = TEMPO_RANGE_BPM
    numerator, _, denominator = song.metre.partition("/")
    compound = denominator == "8" and int(numerator) % 3 == 0 and int(numerator) > 3
    if compound:
        low, high = 40.0, 100.0
    tempo = 60.0 / song.beat_s if song.beat_s else float(rng.uniform(80, 130))
    while tempo > high:
        tempo /= 2
    while tempo < low:
        tempo *= 2
    tempo = float(np.clip(tempo * rng.uniform(0.92, 1.08), low, high))
    chords, beats, keys, end_s = progression_timeline(song, tempo_bpm=tempo)
    duration_s = quantize_s(end_s + _TAIL_S)
    chords.append(ChordSegment(end_s, duration_s, "N"))
    keys[-1] = (keys[-1][0], duration_s, keys[-1][2])
    style = choose_style(rng, subdivisions=3 if compound else 2)
    parts = band_parts(chords, beats, style=style, key=keys[0][2], rng=rng)
    return Arrangement(
        parts=tuple(parts),
        chords=tuple(chords),
        beats=tuple(beats),
        keys=tuple(keys),
        duration_s=duration_s,
        tempo_bpm=round(tempo, 2),
        info={"title": song.title, "artist": song.artist, "style": style.to_dict()},
    )


def billboard_quality_shares(root: str | Path) -> tuple[np.ndarray, float]:
    """Return each chord quality's share of the time of the Billboard annotations.

    Reads every LAB file below `root` (the Billboard folder holds
    ``billboard-2.0.1-lab/<id>/full.lab``; any folder of LAB files will do), maps each label to its
    vocabulary class (:func:`theory.vocabulary.chord_class`, the nearest quality; ``X`` and
    single notes such as ``C:1`` are left out) and sums durations per quality. Files that do
    not parse (a few have times out of order) are left out.

    Parameters
    ----------
    root : str or Path
        The Billboard folder (``../shared/data/billboard``) or another folder of LAB files.

    Returns
    -------
    shares : ndarray, shape (45,)
        Duration share of each quality (index as :data:`theory.QUALITIES`, then ``N``);
        sums to 1.
    hours : float
        Annotated hours counted.

    Raises
    ------
    ChordcliError
        If no annotation is found.
    """
    from chordcli.lab import read_lab
    from theory.vocabulary import N_QUALITIES, chord_class, class_quality_indices

    totals = np.zeros(N_QUALITIES + 1)
    labs = sorted(Path(root).rglob("*.lab"))
    if not labs:
        raise ChordcliError(f"no chord annotations (.lab files) in '{root}'")
    for lab in labs:
        try:
            segments = read_lab(lab)
        except ChordcliError:
            continue  # a few annotation files have times out of order; they are left out
        for seg in segments:
            chord = parse_chord(seg.label)
            if not chord.is_no_chord and len(chord.pitch_classes) < 2:
                continue  # a single note ('C:1') is not a chord
            cls = chord_class(chord)
            if cls is not None and seg.end_s > seg.start_s:
                totals[int(class_quality_indices(np.array([cls]))[0])] += seg.end_s - seg.start_s
    return totals / totals.sum(), float(totals.sum() / 3600)
