"""ChordNet training and inference speed on this machine, as in docs/benchmarks.md.

For the default (seed-size) and the slim configuration: trainable parameters; training
frames per second of the real training step (:mod:`models.train`: forward, all six losses,
gradients, AdamW) on batches of 8 x 256 frames of random features and targets; inference
frames per second of :class:`models.chordnet.ChordNetBackend` on a 4-minute song (windows of
512 frames, hop 256, 8 windows per batch, one ``tf.function``). Tracing happens in a warm-up
that is not timed; figures are medians over the timed repetitions.

    python benchmarks/bench_model.py --write-docs
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
START, END = "<!-- chordnet:start -->", "<!-- chordnet:end -->"
COMMAND = "python benchmarks/bench_model.py --write-docs"


def random_batch(rng: np.random.Generator, batch: int, frames: int) -> dict[str, np.ndarray]:
    return {
        "features": rng.uniform(0, 4, size=(batch, frames, 252, 2)).astype(np.float32),
        "mask": np.ones((batch, frames), dtype=np.float32),
        "frame_weight": np.ones((batch, frames), dtype=np.float32),
        "vector": (rng.random((batch, frames, 25)) < 0.25).astype(np.float32),
        "vector_mask": np.ones((batch, frames), dtype=np.float32),
        "change": (rng.random((batch, frames)) < 0.05).astype(np.int32),
        "bass": rng.integers(0, 13, size=(batch, frames), dtype=np.int32),
        "key": rng.integers(0, 25, size=(batch, frames), dtype=np.int32),
        "chord": rng.integers(0, 529, size=(batch, frames), dtype=np.int32),
    }


def measure(name: str, config, *, steps: int, song_s: float, repeats: int) -> dict[str, float]:
    import keras

    from models.chordnet import ChordNetBackend, build_chordnet, count_parameters
    from models.cqt import DEFAULT_CQT
    from models.train import _make_steps

    rng = np.random.default_rng(0)
    model = build_chordnet(config, seed=0)
    optimizer = keras.optimizers.AdamW(learning_rate=1e-4)
    optimizer.build(model.trainable_variables)
    train_step, _ = _make_steps(model, optimizer, config)
    batch = random_batch(rng, 8, 256)
    t0 = time.perf_counter()
    float(train_step(batch)["loss"])
    trace_s = time.perf_counter() - t0
    float(train_step(batch)["loss"])
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        float(train_step(batch)["loss"])
        times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)

    backend = ChordNetBackend(model, cqt_config=DEFAULT_CQT, name=name)
    n_frames = int(round(song_s * DEFAULT_CQT.frames_per_second))
    song = rng.uniform(0, 4, size=(n_frames, 252, 2)).astype(np.float32)
    t0 = time.perf_counter()
    backend.predict(song)
    first_s = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        backend.predict(song)
        runs.append(time.perf_counter() - t0)
    infer_s = statistics.median(runs)
    result = {
        "parameters": count_parameters(model),
        "trace_s": trace_s,
        "step_s": step_s,
        "train_fps": 8 * 256 / step_s,
        "song_frames": n_frames,
        "first_s": first_s,
        "infer_s": infer_s,
        "infer_fps": n_frames / infer_s,
    }
    print(name, result, file=sys.stderr)
    return result


def section(
    results: dict[str, dict[str, float]], *, song_s: float, steps: int, repeats: int, load: float
) -> str:
    import keras
    import tensorflow as tf

    n_frames = next(iter(results.values()))["song_frames"]
    rows = [
        "| config | parameters | training frames/s | s per step (8 x 256) | inference frames/s "
        f"| s per {song_s / 60:g}-min song | first call (tracing) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['parameters'] / 1e6:.2f} M | {r['train_fps']:,.0f} | {r['step_s']:.2f} "
            f"| {r['infer_fps']:,.0f} | {r['infer_s']:.2f} | {r['first_s']:.1f} s |"
        )
    return "\n".join(
        [
            "## ChordNet training and inference speed",
            "",
            "Training: the real training step of `models.train` (forward pass, the six head "
            "losses, gradients, AdamW update) in one `tf.function` on batches of 8 examples x "
            f"256 frames (23.8 s each) of random features and targets; median of {steps} steps "
            "after two untimed ones (the first traces the graph). Inference: "
            f"`ChordNetBackend.predict` on {song_s / 60:g} minutes of random features "
            f"({n_frames} frames): windows of 512 frames with hop 256, 8 windows per batch "
            f"through one `tf.function`, centre-stitched; median of {repeats} runs after the "
            "first (which traces, "
            "shown in the last column). CQT and decoding are not included.",
            "",
            f"    {COMMAND}",
            "",
            *rows,
            "",
            f"Machine: {os.cpu_count()} CPU cores, Python {platform.python_version()}, TensorFlow "
            f"{tf.__version__} (CPU), Keras {keras.__version__}, no `jit_compile`; load average "
            f"{load:.1f} when the run started (the machine is shared, so figures vary by about "
            "a factor of two between runs).",
        ]
    )


def write_docs(text: str) -> None:
    """Replace the text between the markers in docs/benchmarks.md (append them if missing)."""
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"{START}\n{text}\n{END}"
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        _, tail = rest.split(END, 1)
        doc = head + block + tail
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--repeats", type=int, default=3, help="timed inference runs")
    parser.add_argument("--song-s", type=float, default=240.0, help="inference song length")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()

    from models.chordnet import DEFAULT_CHORDNET, SLIM_CHORDNET

    load = os.getloadavg()[0]
    results = {}
    for name, config in (("default", DEFAULT_CHORDNET), ("slim", SLIM_CHORDNET)):
        results[name] = measure(
            name, config, steps=args.steps, song_s=args.song_s, repeats=args.repeats
        )
    text = section(results, song_s=args.song_s, steps=args.steps, repeats=args.repeats, load=load)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
