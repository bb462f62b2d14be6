"""ONNX Runtime against Keras on a labelled audio folder: frame agreement and score changes.

Each song is read once and transcribed with the bundled model by both runtimes
(``load_backend(runtime="keras")`` and ``runtime="onnx"``); the labels of the two
transcriptions are compared every 10 ms (share of the audio where they agree), and both are
scored against the references with ``chordcli eval``'s metrics (duration-weighted).

    python benchmarks/bench_runtimes.py /work/cache/corpus-dev/dev [--limit N]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

METRICS = ("root", "majmin", "majmin_inv", "sevenths", "sevenths_inv", "tetrads", "mirex")
STEP_S = 0.01


def labels_at(segments, times_s: np.ndarray) -> np.ndarray:
    """Label of the segment holding each time (``N`` outside every segment)."""
    starts = np.array([s.start_s for s in segments])
    labels = np.array([s.label for s in segments] + ["N"], dtype=object)
    index = np.searchsorted(starts, times_s, side="right") - 1
    ends = np.array([s.end_s for s in segments])
    inside = (index >= 0) & (times_s < ends[np.clip(index, 0, None)])
    return np.where(inside, labels[np.clip(index, 0, None)], "N")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, help="first N songs (sorted by path)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from chordcli.audio import load_audio
    from chordcli.evaluate import evaluate_audio_pairs, find_labelled_audio
    from chordcli.pipeline import analyse_audio
    from models.backend import load_backend

    runtimes = {name: load_backend(runtime=name) for name in ("keras", "onnx")}
    pairing = find_labelled_audio(args.folder)
    pairs = sorted(pairing.pairs, key=lambda p: str(p.est_path))[: args.limit]
    pairing = type(pairing)(pairs=tuple(pairs), problems=())
    done: dict[str, dict[Path, object]] = {name: {} for name in runtimes}
    agree_s = total_s = 0.0
    seconds = dict.fromkeys(runtimes, 0.0)
    before = os.getloadavg()[0]
    for pair in pairs:
        audio = load_audio(pair.est_path, sample_rate_hz=runtimes["onnx"].cqt_config.sample_rate_hz)
        for name, backend in runtimes.items():
            clock = time.perf_counter()
            done[name][pair.est_path] = analyse_audio(audio, backend=backend).transcription
            seconds[name] += time.perf_counter() - clock
        grid = np.arange(0.0, audio.duration_s, STEP_S)
        a = labels_at(done["keras"][pair.est_path].segments, grid)
        b = labels_at(done["onnx"][pair.est_path].segments, grid)
        agree_s += float(np.sum(a == b)) * STEP_S
        total_s += len(grid) * STEP_S
    reports = {
        name: evaluate_audio_pairs(pairing, transcribe=done[name].__getitem__, model=name)
        for name in runtimes
    }
    print(f"load average (1 min): {before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(
        f"{len(pairs)} songs, {total_s / 3600:.2f} h; labels agree on "
        f"{100 * agree_s / total_s:.2f} % of the audio; analysis time keras "
        f"{seconds['keras']:.0f} s, onnx {seconds['onnx']:.0f} s\n"
    )
    print("| metric | Keras | ONNX Runtime | difference (points) |")
    print("| --- | --- | --- | --- |")
    for metric in METRICS:
        k = reports["keras"].weighted[metric]
        o = reports["onnx"].weighted[metric]
        print(f"| {metric} | {100 * k:.2f} | {100 * o:.2f} | {100 * (o - k):+.2f} |")


if __name__ == "__main__":
    main()
