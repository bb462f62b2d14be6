"""Measure how the variable-Q offset ``gamma_hz`` trades bass time resolution for pitch resolution.

For each candidate ``gamma_hz`` the script prints a Markdown table with

* the Hann window length at C1, C4 and B7 in seconds (time resolution);
* the bandwidth at C1 in semitones;
* the largest distance, in bins, between the peak of a pure tone and its expected bin over the
  84 semitones C1..B7 (pitch accuracy);
* the level of a pure C1 tone in the bin of the neighbouring semitone C#1, relative to its own
  bin (selectivity: -6 dB or lower means the neighbouring semitone reads at most half);
* the dip between two equal simultaneous tones C1 + C#1 in the time-averaged spectrum, and the
  lowest semitone pair (k, k + 1) from which such pairs show a dip of at least 3 dB.

Run from the repository root::

    python benchmarks/vqt_gamma.py
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from models.cqt import DEFAULT_CQT, CQTConfig, cqt_magnitude

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Candidates; the last is librosa's default for 36 bins per octave (ERB-like).
GAMMAS_HZ = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 24.7 * DEFAULT_CQT.alpha / 0.108)
DURATION_S = 4.0
# Averages use a fine hop (the filters do not depend on it): at the model's 93 ms hop two tones
# that beat at about 10.8 Hz would be sampled at the same beat phase in every frame.
MEASURE_HOP = 64
MIDDLE = slice(256, -256)  # frames away from the zero padding


def _note(semitone: int) -> str:
    return f"{NOTE_NAMES[semitone % 12]}{1 + semitone // 12}"


def _spectrum(signal: np.ndarray, config: CQTConfig) -> np.ndarray:
    """Time-averaged magnitude spectrum of a mono signal, shape (n_bins,)."""
    fine = dataclasses.replace(config, hop_length=MEASURE_HOP)
    mag = cqt_magnitude(signal, sample_rate_hz=config.sample_rate_hz, config=fine)
    return mag[MIDDLE, :, 0].mean(axis=0)


def _pair_dip_db(config: CQTConfig, t: np.ndarray, k: int) -> float:
    """Dip (dB below the lower peak) between equal tones at semitones k and k + 1."""
    f = config.frequencies_hz
    pair = np.cos(2 * np.pi * f[3 * k] * t) + np.cos(2 * np.pi * f[3 * k + 3] * t + 1.0)
    spec = _spectrum(pair, config)
    a, b = 3 * k, 3 * k + 3
    peaks = min(spec[max(a - 1, 0) : a + 2].max(), spec[b - 1 : b + 2].max())
    return float(20 * np.log10(peaks / spec[a : b + 1].min()))


def measure(config: CQTConfig) -> dict[str, float | str]:
    """Return the figures of one configuration (see the module docstring)."""
    sr = config.sample_rate_hz
    t = np.arange(int(DURATION_S * sr)) / sr
    f = config.frequencies_hz

    worst = 0
    for k in range(84):
        spec = _spectrum(np.cos(2 * np.pi * f[3 * k] * t), config)
        worst = max(worst, abs(int(spec.argmax()) - 3 * k))
        if k == 0:
            neighbour_db = 20 * np.log10(spec[3] / spec[0])

    # The dip grows with frequency (the bandwidth shrinks relative to a semitone): bisect.
    lo, hi = 0, 82
    if _pair_dip_db(config, t, lo) >= 3.0:
        hi = lo
    while hi - lo > 1:
        k = (lo + hi) // 2
        lo, hi = (lo, k) if _pair_dip_db(config, t, k) >= 3.0 else (k, hi)
    semitone_hz = f[3] - f[0]
    return {
        "gamma_hz": config.gamma_hz,
        "window_c1_s": config.window_lengths_s[0],
        "window_c4_s": config.window_lengths_s[3 * 36],
        "window_b7_s": config.window_lengths_s[3 * 83],
        "bandwidth_c1_semitones": config.bandwidths_hz[0] / semitone_hz,
        "worst_bin_error": worst,
        "neighbour_db": neighbour_db,
        "dip_c1_db": _pair_dip_db(config, t, 0),
        "lowest_resolved_pair": f"{_note(hi)}+{_note(hi + 1)}",
    }


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(
        "| gamma_hz | window C1 (s) | window C4 (s) | window B7 (s) | bandwidth C1 (semitones) "
        "| worst peak error (bins) | C1 tone in C#1 bin (dB) | C1+C#1 dip (dB) "
        "| lowest pair with 3 dB dip |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for gamma in GAMMAS_HZ:
        row = measure(dataclasses.replace(DEFAULT_CQT, gamma_hz=round(float(gamma), 2)))
        print(
            f"| {row['gamma_hz']:.2f} | {row['window_c1_s']:.2f} | {row['window_c4_s']:.3f} "
            f"| {row['window_b7_s']:.4f} | {row['bandwidth_c1_semitones']:.2f} "
            f"| {row['worst_bin_error']} | {row['neighbour_db']:.1f} | {row['dip_c1_db']:.1f} "
            f"| {row['lowest_resolved_pair']} |"
        )


if __name__ == "__main__":
    main()
