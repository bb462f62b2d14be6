"""Tune ONNX Runtime's session options for ChordNet: session creation and network time.

For each combination of graph optimisation level, intra-op threads and thread spin-waiting
(inter-op threads 1, sequential execution), a
fresh session of the bundled model's ``model.onnx`` runs the windows of a 4-minute song
(random CQT features: the network's time does not depend on the values). Median of
``--repeats`` runs.

    python benchmarks/bench_onnx.py [--model chordnet-v1] [--minutes 4] [--repeats 3] [--markdown]

``--batches 4 8 16 32`` measures instead the CPU time of the default session with one thread
for each number of windows per batch (and whether the posteriors stay the same), and how far
1, 2, 3, 4 and 8 intra-op threads move the posteriors from those of one thread.

The load average is printed before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

import numpy as np

LEVELS = ("ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL")


def measure(path: str, level: str, threads: int, spin: str, features, repeats: int) -> dict:
    import onnxruntime

    from models.backend import load_backend

    times, creates = [], []
    for _ in range(repeats):
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = getattr(onnxruntime.GraphOptimizationLevel, level)
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        start = time.perf_counter()
        session = onnxruntime.InferenceSession(
            path, sess_options=options, providers=["CPUExecutionProvider"]
        )
        creates.append(time.perf_counter() - start)
        backend = load_backend(runtime="onnx")
        backend.session = session
        start = time.perf_counter()
        backend.predict(features)
        times.append(time.perf_counter() - start)
    return {
        "level": level.removeprefix("ORT_ENABLE_").lower(),
        "intra": threads,
        "spinning": "on" if spin == "1" else "off",
        "create_s": statistics.median(creates),
        "model_s": statistics.median(times),
    }


def batches_and_threads(features, sizes: list[int], threads: list[int]) -> None:
    """CPU time per batch size (one thread), and whether thread counts change the posteriors.

    With one intra-op thread ONNX Runtime computes on the calling thread, so the process's
    CPU time is the network's work whatever else runs on the machine.
    """
    import onnxruntime

    from models.backend import load_backend
    from models.onnx_runtime import session_options

    backend = load_backend(runtime="onnx")
    path = backend.session._model_path

    def session(n_threads: int):
        return onnxruntime.InferenceSession(
            path,
            sess_options=session_options(intra_op_threads=n_threads),
            providers=["CPUExecutionProvider"],
        )

    backend.session = session(1)
    reference = backend.predict(features).chord  # 8 windows per batch, the default
    print("| windows per batch | CPU time (1 thread) | same posteriors as 8 |")
    print("| --- | --- | --- |")
    for size in sizes:
        backend.batch_windows = size
        clock = time.process_time()
        chord = backend.predict(features).chord
        cpu_s = time.process_time() - clock
        same = "yes" if np.array_equal(chord, reference) else "no"
        print(f"| {size} | {cpu_s:.2f} s | {same} |")
    backend.batch_windows = 8
    base = None
    print("\n| intra-op threads | largest difference to 1 thread |")
    print("| --- | --- |")
    for n_threads in threads:
        backend.session = session(n_threads)
        chord = backend.predict(features).chord
        base = chord if base is None else base
        print(f"| {n_threads} | {float(np.abs(chord - base).max()):.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="chordnet-v1")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--batches",
        type=int,
        nargs="+",
        help="instead: CPU time of these batch sizes, and the posteriors of 1-4 and 8 threads",
    )
    args = parser.parse_args()
    from models.backend import load_backend, model_dir
    from models.inference import ONNX_FILE

    backend = load_backend(args.model, runtime="onnx")
    n = int(args.minutes * 60 * backend.cqt_config.frames_per_second)
    rng = np.random.default_rng(0)
    features = rng.uniform(0, 3, (n, backend.n_bins, backend.n_channels)).astype(np.float32)
    if args.batches:
        print(f"load average (1 min): {os.getloadavg()[0]:.2f}; {args.minutes:g} minutes\n")
        batches_and_threads(features, args.batches, [1, 2, 3, 4, 8])
        return
    path = str(model_dir(args.model) / ONNX_FILE)
    cores = len(os.sched_getaffinity(0))
    rows = []
    before = os.getloadavg()[0]
    for level, threads, spin in itertools.product(LEVELS, range(1, cores + 1), ("1", "0")):
        rows.append(measure(path, level, threads, spin, features, args.repeats))
    print(f"load average (1 min): {before:.2f} before, {os.getloadavg()[0]:.2f} after\n")
    if args.markdown:
        print("| optimisation | intra-op threads | spin-waiting | session creation | network |")
        print("| --- | --- | --- | --- | --- |")
        for r in rows:
            print(
                f"| {r['level']} | {r['intra']} | {r['spinning']} | {r['create_s']:.2f} s "
                f"| {r['model_s']:.2f} s |"
            )
    else:
        for r in rows:
            print(r)


if __name__ == "__main__":
    main()
