"""Size and writing time of the HTML chord player for a 4-minute song with embedded audio.

The song is the bundled example looped to 4 minutes (9 loops, 240.7 s) and written as MP3
(libsndfile's encoder, under ``.cache/bench/``). It is transcribed once with the template model
(real tracked beats and decoded segments); then the page is written with the audio embedded
(and linked), the median of 5 writes, and its size compared with the audio file's (and with
what a base64 ``data:`` URI would take). Finally
``chordcli transcribe`` runs in fresh processes with ``-o song.lab`` and with ``-o song.html``
(3 runs each, medians): the difference is the page's cost beyond the transcription.

    nice -n 10 python benchmarks/bench_html.py
"""

from __future__ import annotations

import base64
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from chordcli.audio import load_audio
from chordcli.pipeline import transcribe_file
from chordcli.segments import ChordSegment, Transcription
from chordcli.writers import write_transcription
from chordcli.writers.html import embed_bytes, embedding_key
from models.backend import load_backend
from theory.vocabulary import QUALITIES

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".cache" / "bench"
LOOPS = 9


def make_song() -> Path:
    """The example looped to about 4 minutes, as MP3."""
    path = BENCH / "example-4min.mp3"
    if not path.exists():
        BENCH.mkdir(parents=True, exist_ok=True)
        audio = load_audio(REPO / "examples" / "example.flac")
        samples = np.tile(audio.samples, (LOOPS, 1))
        soundfile.write(path, samples, audio.sample_rate_hz, format="MP3")
    return path


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cli_seconds(song: Path, outputs: list[Path], repeats: int = 5) -> list[float]:
    """Median wall time of ``chordcli transcribe`` to each output, the runs interleaved."""
    times: list[list[float]] = [[] for _ in outputs]
    for _ in range(repeats):
        for output, row in zip(outputs, times, strict=True):
            command = [sys.executable, "-m", "chordcli", "transcribe", str(song)]
            command += ["--model", "template", "-o", str(output), "--overwrite"]
            t0 = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            row.append(time.perf_counter() - t0)
    return [statistics.median(row) for row in times]


@dataclass(frozen=True)
class RankedSegment(ChordSegment):
    """A segment with ranked alternatives, as the page reads them."""

    alternatives: tuple[tuple[str, float], ...] = ()


def dense(duration_s: float, *, seed: int = 0) -> Transcription:
    """A chord on every beat at 120 bpm, 176 labels (4 roots x 44 qualities), 3 alternatives."""
    rng = np.random.default_rng(seed)
    labels = [f"{root}:{q.harte}" for root in ("C", "Eb", "F#", "A") for q in QUALITIES]
    beats = np.arange(0.0, duration_s, 0.5)
    segments = []
    for a, b in zip(beats[:-1], beats[1:], strict=True):
        chosen = rng.choice(len(labels), size=4, replace=False)
        alternatives = tuple((labels[i], 0.1) for i in chosen[1:])
        segments.append(RankedSegment(float(a), float(b), labels[chosen[0]], 0.7, alternatives))
    return Transcription(
        segments=tuple(segments),
        duration_s=duration_s,
        key=0,
        tempo_bpm=120.0,
        beats_s=tuple(float(b) for b in beats),
        downbeats_s=tuple(float(b) for b in beats[::4]),
        source="dense.wav",
        model="template",
    )


def main() -> None:
    song = make_song()
    audio_kib = song.stat().st_size / 1024
    duration_s = soundfile.info(song).duration
    t0 = time.perf_counter()
    transcription = transcribe_file(song, backend=load_backend("template"))
    transcribe_s = time.perf_counter() - t0
    print(
        f"song: {song.name}, {duration_s:.1f} s, {audio_kib:.0f} KiB MP3; template transcription "
        f"{transcribe_s:.1f} s, {len(transcription.segments)} chords, "
        f"{len(transcription.beats_s)} beats"
    )
    page = BENCH / "example-4min.html"
    base64_kib = len(base64.b64encode(song.read_bytes())) / 1024
    for link in (False, True):

        def write(link: bool = link) -> None:
            write_transcription(transcription, page, audio=song, link_audio=link, overwrite=True)

        seconds = median_time(write, 5)
        size_kib = page.stat().st_size / 1024
        what = "linked audio" if link else "embedded audio"
        line = f"page with {what}: written in {seconds:.3f} s, {size_kib:.0f} KiB"
        if not link:
            raw = song.read_bytes()
            escaped_kib = len(embed_bytes(raw, key=embedding_key(raw))) / 1024
            line += (
                f" = audio {audio_kib:.0f} KiB + escapes {escaped_kib - audio_kib:.0f} KiB"
                f" + page {size_kib - escaped_kib:.0f} KiB, audio + {size_kib - audio_kib:.0f} KiB"
                f" (a base64 data: URI would be audio + {base64_kib - audio_kib:.0f} KiB + page)"
            )
        print(line)
    worst = dense(duration_s)
    seconds = median_time(
        lambda: write_transcription(worst, page, audio=song, overwrite=True), repeats=5
    )
    size_kib = page.stat().st_size / 1024
    print(
        f"dense case ({len(worst.segments)} chords on every beat, 3 alternatives each): written "
        f"in {seconds:.3f} s, {size_kib:.0f} KiB = audio + {size_kib - audio_kib:.0f} KiB"
    )
    lab_s, html_s = cli_seconds(song, [BENCH / "example-4min.lab", page])
    print(
        f"chordcli transcribe --model template (fresh processes, interleaved, median of 5): "
        f"-o .lab {lab_s:.2f} s, -o .html {html_s:.2f} s, difference {html_s - lab_s:+.2f} s"
    )


if __name__ == "__main__":
    main()
