"""How much audio the no-harmonic-content gate (chordcli/gate.py) writes as N, as in
docs/reliability.md.

Runs the CQT and the gate (no model) on 30 s of white noise, pink noise and near silence
(-90 dBFS noise), the bundled example, and any folders given: for a folder of labelled audio
(``<stem>.lab`` beside the audio, the corpus layout) it also reports the share of chord time
(labels other than N) and of N time that is gated.

    python benchmarks/bench_gate.py /work/cache/corpus-dev/dev/pop909 /work/cache/real \
        --limit-s 120 --every 4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from chordcli.audio import Audio, load_audio
from chordcli.evaluate import AUDIO_SUFFIXES
from chordcli.gate import DEFAULT_TONAL_GATE, gated_frames
from chordcli.lab import read_lab
from models.cqt import DEFAULT_CQT, cqt

REPO = Path(__file__).resolve().parents[1]
RATE = 44100


def gated(audio: Audio, limit_s: float) -> np.ndarray:
    samples = audio.samples[: int(limit_s * audio.sample_rate_hz)]
    features = cqt(samples, sample_rate_hz=audio.sample_rate_hz)
    return gated_frames(features, config=DEFAULT_CQT, gate=DEFAULT_TONAL_GATE)


def synthetic() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 30 * RATE
    white = 0.1 * rng.standard_normal((n, 2))
    spectrum = np.fft.rfft(rng.standard_normal((n, 2)), axis=0)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))[:, None]
    pink = np.fft.irfft(spectrum, n=n, axis=0)
    pink *= 0.5 / np.abs(pink).max()
    quiet = 10 ** (-90 / 20) * rng.standard_normal((n, 2))
    return {"white noise": white, "pink noise": pink, "near silence (-90 dBFS)": quiet}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--limit-s", type=float, default=120.0, help="seconds read per file")
    parser.add_argument("--every", type=int, default=1, help="take every n-th file")
    args = parser.parse_args()
    print("| audio | files | seconds | gated (N) | gated chord time | gated N time |")
    print("|---|---|---|---|---|---|")
    for name, samples in synthetic().items():
        mask = gated(Audio(samples.astype(np.float32), RATE, None), 30.0)
        print(f"| {name} | 1 | 30 | {mask.mean():.1%} | | |")
    example = gated(load_audio(REPO / "examples" / "example.flac"), args.limit_s)
    print(f"| examples/example.flac | 1 | 27 | {example.mean():.1%} | | |")
    fps = DEFAULT_CQT.frames_per_second
    for folder in args.folders:
        suffixes = (*AUDIO_SUFFIXES, ".opus")
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes)
        files = files[:: args.every]
        frames = seconds = 0.0
        chord = [0.0, 0.0]  # gated, total frames under chord labels
        no_chord = [0.0, 0.0]
        for path in files:
            mask = gated(load_audio(path), args.limit_s)
            frames += mask.sum()
            seconds += len(mask) / fps
            lab = path.with_suffix(".lab")
            if lab.is_file():
                times = np.arange(len(mask)) / fps
                for seg in read_lab(lab):
                    inside = (times >= seg.start_s) & (times < seg.end_s)
                    target = no_chord if seg.label == "N" else chord
                    target[0] += mask[inside].sum()
                    target[1] += inside.sum()
        share = frames / max(seconds * fps, 1)
        labelled = (
            f"{chord[0] / chord[1]:.2%} | {no_chord[0] / max(no_chord[1], 1):.1%}"
            if chord[1]
            else " | "
        )
        print(f"| {folder} | {len(files)} | {seconds:.0f} | {share:.2%} | {labelled} |")


if __name__ == "__main__":
    main()
