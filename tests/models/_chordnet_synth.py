"""A tiny numpy-synthesised chord dataset: additive harmonic tones per chord, FLAC + LAB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from theory import parse_chord

SAMPLE_RATE_HZ = 22050
CHORDS = ("C:maj", "A:min", "F:maj", "G:maj", "D:min", "N")


def chord_audio(label: str, duration_s: float, *, rng: np.random.Generator) -> np.ndarray:
    """Additive harmonic tones: chord tones around middle C plus the bass two octaves lower."""
    n = int(round(duration_s * SAMPLE_RATE_HZ))
    t = np.arange(n) / SAMPLE_RATE_HZ
    out = np.zeros(n)
    chord = parse_chord(label)
    if chord.root_pc is not None:
        midis = [60 + pc if pc >= chord.root_pc else 72 + pc - 12 for pc in chord.pitch_classes]
        midis.append(36 + chord.bass_pc)
        for midi in midis:
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            for h in range(1, 5):
                phase = rng.uniform(0, 2 * np.pi)
                out += 0.08 / h * np.sin(2 * np.pi * h * f0 * t + phase)
    out += 0.002 * rng.standard_normal(n)
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    return (out * fade).astype(np.float32)


def write_song(
    folder: Path,
    stem: str,
    *,
    rng: np.random.Generator,
    n_chords: int = 10,
    key: str | None = "C:major",
) -> tuple[Path, list[tuple[float, float, str]]]:
    """Write ``<stem>.flac`` (stereo) and ``<stem>.lab`` (and ``<stem>.key``) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    parts, segments, t = [], [], 0.0
    previous = None
    for _ in range(n_chords):
        label = previous
        while label == previous:
            label = str(rng.choice(CHORDS))
        previous = label
        duration = float(rng.choice([1.5, 2.0, 2.5, 3.0]))
        parts.append(chord_audio(label, duration, rng=rng))
        segments.append((t, t + duration, label))
        t += duration
    audio = np.concatenate(parts)
    path = folder / f"{stem}.flac"
    soundfile.write(path, np.stack([audio, 0.8 * audio], axis=1), SAMPLE_RATE_HZ)
    lab = "".join(f"{s:.6f}\t{e:.6f}\t{label}\n" for s, e, label in segments)
    (folder / f"{stem}.lab").write_text(lab, encoding="utf-8")
    if key is not None:
        (folder / f"{stem}.key").write_text(f"0.0\t{t:.6f}\t{key}\n", encoding="utf-8")
    return path, segments


def write_dataset(folder: Path, *, n_songs: int = 3, seed: int = 0, n_chords: int = 10) -> Path:
    """Write `n_songs` songs into `folder`; returns `folder`."""
    rng = np.random.default_rng(seed)
    for i in range(n_songs):
        write_song(folder, f"song{i:02d}", rng=rng, n_chords=n_chords)
    return folder
