"""Time to write a transcription in every output format, for a 4-minute and a 60-minute piece.

The transcriptions are synthetic: a chord every two beats at 120 bpm, tracked-looking beats
with jitter, downbeats, confidences, and the pitch classes of a typical pop vocabulary. Each
format is rendered to a file under a temporary directory; the first render of a format also
pays for importing its library (music21, jams, mido), reported apart.

    python benchmarks/bench_writers.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from chordcli.formats import SUFFIXES, OutputFormat
from chordcli.segments import ChordSegment, Transcription
from chordcli.writers import write_transcription

LABELS = ["C:maj", "A:min7", "F:maj7", "G:7", "E:min", "D:min7", "G:sus4(b7)", "C:maj/3"]


def synthetic(duration_s: float, *, seed: int = 0) -> Transcription:
    rng = np.random.default_rng(seed)
    period = 0.5
    beats = (
        np.arange(0.3, duration_s, period)
        + rng.normal(0, 0.01, int((duration_s - 0.3) / period) + 1)[
            : len(np.arange(0.3, duration_s, period))
        ]
    )
    beats = np.sort(beats)
    changes = beats[::2]
    segments = tuple(
        ChordSegment(
            float(a), float(b), LABELS[int(rng.integers(len(LABELS)))], float(rng.uniform(0.3, 1))
        )
        for a, b in zip(changes[:-1], changes[1:], strict=True)
    )
    return Transcription(
        segments=segments,
        duration_s=duration_s,
        key=0,
        key_confidence=0.7,
        tempo_bpm=120.0,
        beats_s=tuple(float(b) for b in beats),
        downbeats_s=tuple(float(b) for b in beats[::4]),
        source=f"synthetic-{duration_s:.0f}s.wav",
        model="template",
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for fmt in OutputFormat:  # warm up: import each library once
            t0 = time.perf_counter()
            write_transcription(synthetic(10.0), Path(tmp) / f"warm{SUFFIXES[fmt][0]}")
            rows.append((fmt.value, time.perf_counter() - t0))
        print("first write of a 10 s piece (includes imports):")
        for name, seconds in rows:
            print(f"  {name:10s} {seconds:6.2f} s")
        for minutes in (4, 60):
            t = synthetic(minutes * 60.0)
            print(f"{minutes}-minute piece, {len(t.segments)} chords, {len(t.beats_s)} beats:")
            for fmt in OutputFormat:
                path = Path(tmp) / f"{minutes}{SUFFIXES[fmt][0]}"
                t0 = time.perf_counter()
                write_transcription(t, path)
                seconds = time.perf_counter() - t0
                print(f"  {fmt.value:10s} {seconds:6.2f} s  {path.stat().st_size / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
