"""Draw ``docs/img/cqt_piano_scale.png``: a piano-like scale through the CQT front end.

A C-major scale from C1 to C7 (one note every 0.4 s, eight harmonics, piano-like decay) is
shown twice: with a constant-Q transform (``gamma_hz = 0``) and with the front end's
variable-Q default. Both use the same bins, hop and log compression; the y axis is labelled
with note names.

    python benchmarks/plot_cqt_scale.py
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from models.cqt import DEFAULT_CQT, cqt, frame_times_s

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "img" / "cqt_piano_scale.png"
NOTE_S = 0.4
MAJOR = (0, 2, 4, 5, 7, 9, 11)


def piano_scale(*, sample_rate_hz: int) -> tuple[np.ndarray, list[int]]:
    """C-major scale C1..C7 as a mono float32 signal, and the semitone (above C1) of each note."""
    semitones = [12 * octave + step for octave in range(6) for step in MAJOR] + [72]
    n_note = int(NOTE_S * sample_rate_hz)
    tail = int(1.0 * sample_rate_hz)
    out = np.zeros(n_note * len(semitones) + tail)
    t = np.arange(n_note + tail) / sample_rate_hz
    rng = np.random.default_rng(0)
    for i, k in enumerate(semitones):
        f0 = DEFAULT_CQT.fmin_hz * 2 ** (k / 12)
        decay_s = 1.2 * (32.7 / f0) ** 0.3  # low notes ring longer, as on a piano
        note = np.zeros_like(t)
        for h in range(1, 9):
            if h * f0 < 0.45 * sample_rate_hz:
                partial_decay = np.exp(-t * h**0.5 / decay_s)
                note += partial_decay * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 6)) / h
        note *= np.minimum(1.0, t / 0.005)
        note[n_note:] *= np.exp(-(t[n_note:] - NOTE_S) / 0.05)  # damper: key released
        out[i * n_note : i * n_note + len(t)] += 0.2 * note
    return out.astype(np.float32), semitones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sr = DEFAULT_CQT.sample_rate_hz
    signal, _ = piano_scale(sample_rate_hz=sr)
    configs = (
        (
            "constant-Q (gamma = 0): C1 window 1.59 s",
            dataclasses.replace(DEFAULT_CQT, gamma_hz=0.0),
        ),
        (
            f"front end (variable-Q, gamma = {DEFAULT_CQT.gamma_hz:g} Hz): C1 window "
            f"{DEFAULT_CQT.window_lengths_s[0]:.2f} s",
            DEFAULT_CQT,
        ),
    )
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6), sharey=True, constrained_layout=True)
    for ax, (title, config) in zip(axes, configs, strict=True):
        features = cqt(signal, sample_rate_hz=sr, config=config)[:, :, 0]
        times = frame_times_s(len(features), config=config)
        image = ax.imshow(
            features.T,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            cmap="magma",
            extent=(times[0], times[-1], -0.5, config.n_bins - 0.5),
            vmin=0.0,
        )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("time (s)")
        # C, E and G of every octave, on their centre bins (bin 3k = k semitones above C1).
        names = {0: "C", 4: "E", 7: "G"}
        ticks = [36 * octave + 3 * k for octave in range(config.n_octaves) for k in names]
        ax.set_yticks(ticks, [f"{names[(b // 3) % 12]}{1 + b // 36}" for b in ticks], fontsize=8)
        ax.grid(axis="y", color="white", alpha=0.15, linewidth=0.5)
    axes[0].set_ylabel("note (bin 3k = k semitones above C1)")
    fig.colorbar(image, ax=axes, label="log1p(1000 x magnitude)", shrink=0.9)
    fig.suptitle("C-major scale C1 to C7, a note every 0.4 s (piano-like tones, 8 harmonics)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=90)
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
