"""Synthetic test audio: chord progressions of harmonic tones (no downloads, deterministic)."""

from __future__ import annotations

import numpy as np

from theory.harte import parse_chord


def chord_progression(
    labels: list[str],
    *,
    chord_s: float = 2.0,
    sample_rate_hz: int = 22050,
    seed: int = 0,
    tuning_cents: float = 0.0,
) -> np.ndarray:
    """Render each chord for `chord_s` seconds: bass note in octave 2, chord tones around C4.

    Every note has six harmonics with amplitudes 0.6 ** (h - 1) and a plucked envelope; ``N``
    is near-silence; every pitch is raised by `tuning_cents` (a detuned instrument).
    Returns mono float32 with a peak of 0.5.
    """
    rng = np.random.default_rng(seed)
    n = int(chord_s * sample_rate_hz)
    t = np.arange(n) / sample_rate_hz
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-0.7 * t)
    parts = []
    for label in labels:
        chord = parse_chord(label)
        y = np.zeros(n)
        if chord.root_pc is not None:
            notes = [36 + chord.bass_pc]
            for interval in sorted(chord.intervals):
                pc = (chord.root_pc + interval) % 12
                notes.append(60 + pc - (12 if pc > 7 else 0))
            for midi in notes:
                f0 = 440.0 * 2 ** ((midi - 69 + tuning_cents / 100) / 12)
                for h in range(1, 7):
                    if f0 * h < sample_rate_hz / 2:
                        y += 0.6 ** (h - 1) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
            y *= envelope
        parts.append(y + 1e-3 * rng.normal(size=n))
    audio = np.concatenate(parts)
    return (0.5 * audio / np.abs(audio).max()).astype(np.float32)
