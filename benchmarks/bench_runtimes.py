"""ONNX Runtime against Keras on a labelled audio folder: frame agreement and score changes.

Each song is read once and transcribed with the bundled model by both runtimes
(``load_backend(runtime="keras")`` and ``runtime="onnx"``). Per song and runtime the result
(segments, key, the argmax chord class of every network frame, analysis time) is cached as
JSON under ``--cache``, so an interrupted run resumes where it stopped and a finished one
reports again without transcribing. The report, per source (the first folder below the data
folder: ``billboard``, ``pop909``, ``rare``) and for all songs:

* *labels agree*: share of the audio (compared every 10 ms) where both transcriptions give
  the same label;
* *network frames agree*: share of the network's frames whose most likely chord class is the
  same in both runtimes;
* both runtimes' duration-weighted ``chordcli eval`` scores and their difference in points.

    nice -n 10 python benchmarks/bench_runtimes.py /work/cache/corpus-dev/dev \
        --cache .cache/runtimes [--limit N] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

METRICS = ("root", "majmin", "majmin_inv", "sevenths", "sevenths_inv", "tetrads", "mirex")
RUNTIMES = ("keras", "onnx")
STEP_S = 0.01


def labels_at(segments, times_s: np.ndarray) -> np.ndarray:
    """Label of the segment holding each time (``N`` outside every segment)."""
    starts = np.array([s.start_s for s in segments])
    labels = np.array([s.label for s in segments] + ["N"], dtype=object)
    index = np.searchsorted(starts, times_s, side="right") - 1
    ends = np.array([s.end_s for s in segments])
    inside = (index >= 0) & (times_s < ends[np.clip(index, 0, None)])
    return np.where(inside, labels[np.clip(index, 0, None)], "N")


def source_of(path: Path, folder: Path) -> str:
    """The first folder of `path` below `folder` (the corpus source), or ``.``."""
    parts = path.relative_to(folder).parts
    return parts[0] if len(parts) > 1 else "."


def cache_file(cache: Path, path: Path, folder: Path) -> Path:
    return cache / path.relative_to(folder).with_suffix(".json")


def transcribe_pair(path: Path, backends: dict) -> dict:
    """Both runtimes on one song: segments, key, network argmax per frame, seconds."""
    from chordcli.audio import load_audio
    from chordcli.pipeline import analyse_audio

    rate = backends["onnx"].cqt_config.sample_rate_hz
    audio = load_audio(path, sample_rate_hz=rate)
    result = {"duration_s": audio.duration_s}
    for name, backend in backends.items():
        clock = time.perf_counter()
        analysis = analyse_audio(audio, backend=backend, keep=True)
        seconds = time.perf_counter() - clock
        t = analysis.transcription
        result[name] = {
            "segments": [[s.start_s, s.end_s, s.label] for s in t.segments],
            "key": int(t.key),
            "argmax": np.argmax(analysis.output.chord, axis=1).tolist(),
            "seconds": seconds,
        }
    return result


def run(folder: Path, cache: Path, pairs, *, report_only: bool) -> dict[Path, dict]:
    """Return the cached or new result of every pair (in order), writing new ones."""
    results: dict[Path, dict] = {}
    backends = None
    for i, pair in enumerate(pairs):
        file = cache_file(cache, pair.est_path, folder)
        if file.is_file():
            results[pair.est_path] = json.loads(file.read_text())
            continue
        if report_only:
            continue
        if backends is None:
            from models.backend import load_backend

            backends = {name: load_backend(runtime=name) for name in RUNTIMES}
        result = transcribe_pair(pair.est_path, backends)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(result))
        tmp.replace(file)
        results[pair.est_path] = result
        load = os.getloadavg()[0]
        print(f"[{i + 1}/{len(pairs)}] {pair.est_path} load {load:.1f}", flush=True)
    return results


def segments_of(entry: dict) -> list:
    from chordcli.segments import ChordSegment

    return [ChordSegment(a, b, label) for a, b, label in entry["segments"]]


def summarise(pairs, results: dict[Path, dict]) -> dict:
    """Agreement, analysis seconds and both runtimes' scores of the pairs with results."""
    from chordcli.evaluate import Pairing, evaluate_audio_pairs

    pairs = [p for p in pairs if p.est_path in results]
    agree_s = total_s = agree_frames = n_frames = 0.0
    seconds = dict.fromkeys(RUNTIMES, 0.0)
    for pair in pairs:
        r = results[pair.est_path]
        grid = np.arange(0.0, r["duration_s"], STEP_S)
        a, b = (labels_at(segments_of(r[name]), grid) for name in RUNTIMES)
        agree_s += float(np.sum(a == b)) * STEP_S
        total_s += len(grid) * STEP_S
        x, y = (np.asarray(r[name]["argmax"]) for name in RUNTIMES)
        agree_frames += float(np.sum(x == y))
        n_frames += len(x)
        for name in RUNTIMES:
            seconds[name] += r[name]["seconds"]

    def estimate(name):
        def transcribe(path):
            entry = results[path][name]
            return SimpleNamespace(segments=segments_of(entry), key=entry["key"])

        return transcribe

    pairing = Pairing(pairs=tuple(pairs), problems=())
    reports = {
        name: evaluate_audio_pairs(pairing, transcribe=estimate(name), model=name)
        for name in RUNTIMES
    }
    return {
        "songs": len(pairs),
        "hours": total_s / 3600,
        "labels": agree_s / max(total_s, 1e-9),
        "frames": agree_frames / max(n_frames, 1),
        "seconds": seconds,
        "scores": {name: reports[name].weighted for name in RUNTIMES},
    }


def print_report(groups: dict[str, dict]) -> None:
    print(
        "| source | songs | audio | labels agree | network frames agree "
        "| analysis s (Keras, ONNX) |"
    )
    print("| --- " * 6 + "|")
    for name, g in groups.items():
        print(
            f"| {name} | {g['songs']} | {g['hours']:.2f} h | {100 * g['labels']:.2f} % | "
            f"{100 * g['frames']:.2f} % | {g['seconds']['keras']:.0f}, "
            f"{g['seconds']['onnx']:.0f} |"
        )
    print("\nDuration-weighted scores, Keras / ONNX Runtime (difference in points):\n")
    print("| source | " + " | ".join(METRICS) + " |")
    print("| --- " * (len(METRICS) + 1) + "|")
    for name, g in groups.items():
        cells = []
        for metric in METRICS:
            k, o = (100 * g["scores"][r][metric] for r in RUNTIMES)
            cells.append(f"{k:.2f} / {o:.2f} ({o - k:+.2f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cache", type=Path, required=True, help="per-song results (resumable)")
    parser.add_argument("--limit", type=int, help="first N songs (sorted by path)")
    parser.add_argument("--report-only", action="store_true", help="report the cached songs")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from chordcli.evaluate import find_labelled_audio

    folder = args.folder.resolve()
    pairs = sorted(find_labelled_audio(folder).pairs, key=lambda p: str(p.est_path))
    pairs = pairs[: args.limit]
    before = os.getloadavg()[0]
    results = run(folder, args.cache, pairs, report_only=args.report_only)
    sources = sorted({source_of(p.est_path, folder) for p in pairs})
    groups = {
        source: summarise([p for p in pairs if source_of(p.est_path, folder) == source], results)
        for source in sources
    }
    groups["all"] = summarise(pairs, results)
    print(f"\nload average (1 min): {before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{len(results)} of {len(pairs)} songs have results in {args.cache}\n")
    print_report(groups)


if __name__ == "__main__":
    main()
