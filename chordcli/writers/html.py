"""A self-contained HTML chord player: the audio and the chord chart in one file.

The page holds an audio player and the chords laid out in bars (the bar grid of
:mod:`chordcli.bars`, as in the lead sheet). While the audio plays, the chord sounding is
highlighted, marked ``aria-current="true"`` and scrolled into view; a click on a chord or a bar
seeks there; space plays and pauses, the left and right arrows move by bar, up and down by
line. The header shows the key, tempo, metre, tuning (when the transcription has one), model and
capo (when one is set).

Transpose, capo and simplify (full / sevenths / triads) respell the chart without spelling a
chord in the page: :func:`page_data` spells every chord of the song, and of its alternatives,
for each of the 12 transpositions and each simplification level with the project's theory code
(:func:`theory.simplify.simplify_label`, :func:`theory.transpose.transpose_label` and the
key-aware :func:`theory.keys.chord_symbol`, the functions behind ``--vocab``, ``--transpose``,
``--capo`` and the lead sheet). The page only looks the symbols up: a shift of ``transpose -
capo`` semitones selects table ``shift mod 12``. A transcription written for a capo
(``--capo N``: its labels are the shapes played) opens with the capo on fret N, and lowering
it to 0 shows the sounding chords.

Everything is inline (style, script, chart data as JSON); the audio is embedded byte for byte
(:func:`format_html`), or linked by a path relative to the page. The page makes no network
request.
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from chordcli.bars import chart_bars
from chordcli.errors import ChordcliError
from chordcli.segments import ChordSegment, Transcription
from chordcli.writers.charts import chart_title, tuning_text
from theory.harte import NO_CHORD
from theory.keys import KEY_NONE, chord_symbol, key_name
from theory.simplify import simplify_label
from theory.transpose import transpose_key, transpose_label

__all__ = [
    "AUDIO_TYPES",
    "SIMPLIFY_LEVELS",
    "check_audio",
    "embed_bytes",
    "embedding_key",
    "format_html",
    "page_data",
    "with_audio_beats",
]

#: Simplification levels offered by the page: (name shown, vocabulary of theory.simplify).
SIMPLIFY_LEVELS: tuple[tuple[str, str], ...] = (
    ("full", "full"),
    ("sevenths", "sevenths"),
    ("triads", "majmin"),
)

#: MIME type of each audio suffix the page can play.
AUDIO_TYPES: dict[str, str] = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".webm": "audio/webm",
}

_N_SHIFTS = 12

# Parts of bars shorter than this (seconds), cut off by the ends of the recording, are dropped.
_MIN_PART_S = 0.05

# Sample rate the audio is read at for beat tracking (that of the bundled models).
_BEAT_SAMPLE_RATE_HZ = 22050


def page_data(transcription: Transcription) -> dict[str, Any]:
    """Return the data of the page: header, bars with timed chords, and every spelling.

    Parameters
    ----------
    transcription : Transcription
        The chords; bars come from its beats or tempo (:func:`chordcli.bars.chart_bars`).
        Segments may carry ``alternatives`` (pairs of Harte label and probability, or objects
        with ``label`` and ``probability``); the page shows them on hover.

    Returns
    -------
    dict
        JSON-ready, with keys

        ``title``, ``model``, ``duration_s``, ``tempo_bpm``, ``beats_per_bar``, ``tuning``
            Header fields (``model`` and ``tuning`` may be None).
        ``capo`` : int
            The capo fret the labels are written for (0: none).
        ``labels`` : list of str
            The distinct Harte labels of the chart and of the alternatives.
        ``levels`` : list of str
            Names of the simplification levels (``full``, ``sevenths``, ``triads``).
        ``symbols`` : dict
            ``symbols[level][shift][i]``: the symbol of ``labels[i]`` simplified to `level` and
            transposed by `shift` semitones (0..11), spelled for the transposed key.
        ``keys`` : list of str
            Key name for each shift (``"none"`` without a key).
        ``bars`` : list of dict
            ``start_s``, ``end_s`` and ``chords``: a list of dicts with ``start_s``, ``end_s``,
            ``beat`` (beat in the bar), ``beats`` (length), ``label`` (index into
            ``labels``), ``continued`` (held over from the bar before) and ``alternatives``
            (list of ``[label index, probability]``).
    """
    grid, bars, first = chart_bars(transcription)
    per_bar = grid.beats_per_bar
    duration_s = max(
        transcription.duration_s,
        transcription.segments[-1].end_s if transcription.segments else 0.0,
    )
    labels: dict[str, int] = {}

    def index(label: str) -> int:
        return labels.setdefault(label, len(labels))

    segments = transcription.segments
    starts = [s.start_s for s in segments]

    def clip(time_s: float) -> float:
        return round(min(max(time_s, 0.0), duration_s), 4)

    page_bars = []
    for n, bar in enumerate(bars):
        beat0 = (first + n) * per_bar
        chords = []
        for part in bar:
            start_s = clip(grid.beats_s[beat0 + part.beat])
            end_s = clip(grid.beats_s[beat0 + part.beat + part.n_beats])
            if end_s - start_s < _MIN_PART_S:
                # A sliver left by clipping the grid to the recording joins the chord before.
                previous = chords or (page_bars[-1]["chords"] if page_bars else [])
                if previous:
                    previous[-1]["end_s"] = end_s
                    if not chords:
                        page_bars[-1]["end_s"] = end_s
                continue
            alternatives = _segment_alternatives(segments, starts, part.label, start_s, end_s)
            chords.append(
                {
                    "start_s": start_s,
                    "end_s": end_s,
                    "beat": part.beat,
                    "beats": part.n_beats,
                    "label": index(part.label),
                    "continued": part.continued,
                    "alternatives": [[index(alt), p] for alt, p in alternatives],
                }
            )
        if not chords:
            continue
        page_bars.append(
            {
                "start_s": chords[0]["start_s"],
                "end_s": chords[-1]["end_s"],
                "chords": chords,
            }
        )
    names = list(labels)
    key = transcription.key
    return {
        "title": chart_title(transcription),
        "model": transcription.model,
        "duration_s": round(duration_s, 4),
        "tempo_bpm": round(transcription.tempo_bpm or grid.tempo_bpm, 1),
        "beats_per_bar": per_bar,
        "tuning": (
            None if transcription.tuning_cents is None else tuning_text(transcription.tuning_cents)
        ),
        "capo": transcription.capo,
        "labels": names,
        "levels": [name for name, _ in SIMPLIFY_LEVELS],
        "symbols": {
            name: [_spell(names, vocab=vocab, key=key, shift=shift) for shift in range(_N_SHIFTS)]
            for name, vocab in SIMPLIFY_LEVELS
        },
        "keys": [key_name(transpose_key(key, shift)) for shift in range(_N_SHIFTS)],
        "bars": page_bars,
    }


def embed_bytes(data: bytes, *, key: int = 0) -> bytes:
    """Escape bytes to stand in a page read as windows-1252 (the inverse of the page's reader).

    In a page whose encoding is windows-1252 every byte is one character, so a file can sit in
    a ``<script>`` element almost as it is. Four bytes cannot: NUL (the parser replaces it),
    CR (line ends are normalised), ``<`` (it could close the element) and the escape byte
    ``=`` itself. Every byte is first XORed with `key`, then each of those four is written as
    ``=`` followed by the byte plus 64 (modulo 256).

    Parameters
    ----------
    data : bytes
        The file.
    key : int, optional
        XOR key, 0..255 (see :func:`embedding_key`).

    Returns
    -------
    bytes
        The escaped bytes.
    """
    if key:
        data = data.translate(bytes(b ^ key for b in range(256)))
    return (
        data.replace(b"=", b"=}").replace(b"\x00", b"=@").replace(b"\r", b"=M").replace(b"<", b"=|")
    )


def embedding_key(data: bytes) -> int:
    """Return the XOR key that leaves the fewest bytes of `data` to escape in :func:`embed_bytes`.

    Compressed audio is close to uniform, but not quite (MP3 frames hold many zero bytes): the
    best key halves the escapes of a typical MP3 (from about 2.5 % to 1.3 % of its size).
    """
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    escaped = np.array([0x00, 0x0D, 0x3C, 0x3D])
    return int(np.argmin([counts[escaped ^ key].sum() for key in range(256)]))


def check_audio(audio: str | os.PathLike[str]) -> tuple[Path, str]:
    """Return an audio file for the page and its MIME type.

    Parameters
    ----------
    audio : str or os.PathLike
        The audio file (WAV, FLAC, MP3, OGG, Opus, M4A or WebM).

    Returns
    -------
    path : Path
        The file.
    mime : str
        Its MIME type (:data:`AUDIO_TYPES`).

    Raises
    ------
    ChordcliError
        If the file does not exist or is not a kind of audio browsers play.
    """
    path = Path(audio)
    mime = AUDIO_TYPES.get(path.suffix.lower())
    if mime is None:
        known = ", ".join(AUDIO_TYPES)
        raise ChordcliError(
            f"cannot embed '{path}': browsers do not play '{path.suffix}' files",
            hint=f"convert it to one of {known}",
        )
    if not path.is_file():
        raise ChordcliError(f"cannot read '{path}': file not found")
    return path, mime


def with_audio_beats(transcription: Transcription, audio: str | os.PathLike[str]) -> Transcription:
    """Return the transcription with the beats and tempo of its audio, if it has no beats.

    A LAB file carries no beats, so its chart would follow a constant tempo; with the audio at
    hand, the bars can follow the music. Beats are tracked as in ``chordcli transcribe``
    (:func:`chordcli.beats.track_beats`), and the downbeats are the bar phase that puts most
    chord changes on beat one (:func:`chordcli.beats.downbeats_from_changes`).

    Parameters
    ----------
    transcription : Transcription
        The chords; returned unchanged if it has beats.
    audio : str or os.PathLike
        The recording.

    Returns
    -------
    Transcription
        With ``beats_s``, ``downbeats_s`` and ``tempo_bpm`` from the audio (unchanged where no
        beat is found).

    Raises
    ------
    AudioError
        If the audio cannot be read.
    """
    if transcription.beats_s:
        return transcription
    from chordcli.audio import load_audio
    from chordcli.beats import downbeats_from_changes, onset_strength, track_beats

    sound = load_audio(audio, sample_rate_hz=_BEAT_SAMPLE_RATE_HZ)
    beats = track_beats(onset_strength(sound.samples, sample_rate_hz=sound.sample_rate_hz))
    if len(beats.beats_s) < 2:
        return transcription
    changes = [s.start_s for s in transcription.segments[1:]]
    downbeats = downbeats_from_changes(
        beats.beats_s, changes, beats_per_bar=transcription.beats_per_bar
    )
    return replace(
        transcription,
        beats_s=beats.beats_s,
        downbeats_s=downbeats,
        tempo_bpm=beats.tempo_bpm,
        duration_s=max(transcription.duration_s, sound.duration_s),
    )


def format_html(
    transcription: Transcription,
    *,
    audio: str | os.PathLike[str] | None = None,
    link_audio: bool = False,
    page_dir: str | os.PathLike[str] = ".",
) -> bytes:
    """Format a transcription as a self-contained HTML chord player.

    The page is encoded as windows-1252 and, apart from embedded audio, is plain ASCII. The
    audio is embedded byte for byte (see :func:`embed_bytes`) in a ``<script
    type="application/octet-stream">`` element, which the page's script turns into a ``blob:``
    URL for the audio element; the file is thus the audio's size plus about 1.3 % (MP3), where
    a base64 ``data:`` URI would add a third.

    Parameters
    ----------
    transcription : Transcription
        The chords (see :func:`page_data`).
    audio : str or os.PathLike, optional
        The recording; without it the page shows the chart with no player.
    link_audio : bool, optional
        Link `audio` by its path relative to `page_dir` instead of embedding it.
    page_dir : str or os.PathLike, optional
        The directory the page is written to (for `link_audio`).

    Returns
    -------
    bytes
        The HTML document.

    Raises
    ------
    ChordcliError
        If `audio` does not exist, cannot be read, or is not a kind of audio browsers play.
    """
    data = json.dumps(page_data(transcription), separators=(",", ":"))  # ASCII
    # "<" never appears raw inside the script element, so no "</script>" can close it early.
    data = data.replace("<", "\\u003c")
    title = escape(chart_title(transcription)).encode("ascii", "xmlcharrefreplace").decode()
    embedded = b""
    if audio is None:
        player = '<p class="no-audio">No audio: chart only.</p>'
    else:
        path, mime = check_audio(audio)
        if link_audio:
            src = quote(Path(os.path.relpath(path.resolve(), Path(page_dir).resolve())).as_posix())
            player = f'<audio id="audio" controls preload="auto" src="{escape(src)}"></audio>'
        else:
            player = '<audio id="audio" controls preload="auto"></audio>'
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise ChordcliError(f"cannot read '{path}': {exc.strerror or exc}") from None
            key = embedding_key(raw)
            embedded = (
                f'<script type="application/octet-stream" id="audio-data" data-type="{mime}" '
                f'data-bytes="{len(raw)}" data-key="{key}">'.encode("ascii")
                + embed_bytes(raw, key=key)
                + b"</script>\n"
            )
    head, tail = _TEMPLATE.split("{audio_data}")
    fields = {
        "title": title,
        "style": _resource("html_player.css"),
        "script": _resource("html_player.js"),
        "data": data,
        "player": player,
    }
    return head.format(**fields).encode("ascii") + embedded + tail.format(**fields).encode("ascii")


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="windows-1252">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="chordcli">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<dl id="info"></dl>
</header>
<section id="controls" aria-label="Player">
{player}
<div class="tools">
<span class="tool">Transpose
<button type="button" id="transpose-down" aria-label="Transpose down">&minus;</button>
<output id="transpose">0</output>
<button type="button" id="transpose-up" aria-label="Transpose up">+</button></span>
<span class="tool">Capo
<button type="button" id="capo-down" aria-label="Capo down">&minus;</button>
<output id="capo">0</output>
<button type="button" id="capo-up" aria-label="Capo up">+</button></span>
<label class="tool">Chords <select id="simplify"></select></label>
</div>
</section>
<main id="chart" aria-label="Chords"></main>
<footer>Space: play/pause &middot; &larr; &rarr;: previous/next bar &middot; &uarr; &darr;:
previous/next line &middot; click a chord to jump there.</footer>
<script type="application/json" id="chart-data">{data}</script>
{audio_data}<script>
{script}</script>
</body>
</html>
"""


def _spell(labels: Sequence[str], *, vocab: str, key: int, shift: int) -> list[str]:
    """Symbols of `labels` simplified to `vocab`, transposed by `shift`, spelled for the key."""
    new_key = transpose_key(key, shift)
    spelling_key = None if new_key == KEY_NONE else new_key
    return [
        chord_symbol(transpose_label(simplify_label(label, vocab), shift), key=spelling_key)
        for label in labels
    ]


def _segment_alternatives(
    segments: Sequence[ChordSegment],
    starts: Sequence[float],
    label: str,
    start_s: float,
    end_s: float,
) -> list[tuple[str, float]]:
    """Alternatives of the segment with `label` that overlaps ``[start_s, end_s)`` most."""
    if label == NO_CHORD or not segments:
        return []
    i = max(0, bisect.bisect_right(starts, start_s) - 1)
    best, best_overlap = None, 0.0
    for seg in segments[i:]:
        if seg.start_s >= end_s:
            break
        overlap = min(seg.end_s, end_s) - max(seg.start_s, start_s)
        if seg.label == label and overlap > best_overlap:
            best, best_overlap = seg, overlap
    if best is None:
        return []
    return list(_alternatives(getattr(best, "alternatives", None) or (), label))


def _alternatives(items: Iterable[Any], label: str) -> Iterable[tuple[str, float]]:
    """(label, probability) pairs of a segment's alternatives, without its own label."""
    for item in items:
        if isinstance(item, Sequence) and not isinstance(item, str):
            alt, probability = item[0], item[1]
        else:
            alt = item.label
            probability = getattr(item, "probability", getattr(item, "confidence", None))
        if alt != label and probability is not None:
            yield str(alt), round(float(probability), 3)


def _resource(name: str) -> str:
    """Text of a file shipped beside this module (the page's style and script)."""
    return resources.files("chordcli.writers").joinpath(name).read_text(encoding="utf-8")
