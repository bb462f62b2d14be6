"""Throughput of ``transcribe --engine ray`` against the local engine (docs/scale.md).

Transcribes the first N audio files of DATA to LAB twice, into fresh directories: with the local
engine (one process, one file after another, as ``chordcli transcribe FILES -o DIR``) and with
the Ray engine on a local Ray instance of ``--cpus`` CPUs (:func:`chordcli.catalogue.
transcribe_catalogue`: an actor pool of up to that many workers, each loading the model once).
Prints the wall time (for Ray with and without starting the local instance), minutes of audio
per wall minute, the load average before and after, and whether the LAB files are identical.

    python benchmarks/bench_engines.py /work/cache/corpus-dev/dev/pop909 --limit 12 --cpus 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from chordcli.catalogue import list_audio, transcribe_catalogue
from chordcli.pipeline import analyse_file
from chordcli.writers import write_transcription
from models.backend import DEFAULT_MODEL, load_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder of audio files")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--limit", type=int, default=6)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    files = [p for p, _ in list_audio([args.data])][: args.limit]
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp:
        local_dir, ray_dir = Path(tmp, "local"), Path(tmp, "ray")
        local_dir.mkdir()
        ray_dir.mkdir()
        clock = time.perf_counter()
        backend = load_backend(args.model)
        minutes = 0.0
        for path in files:
            t = analyse_file(path, backend=backend).transcription
            minutes += t.duration_s / 60
            write_transcription(t, local_dir / f"{path.stem}.lab")
        local_s = time.perf_counter() - clock

        import ray

        clock = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - clock
        entries = transcribe_catalogue(files, ray_dir, model=args.model)
        ray_s = time.perf_counter() - clock
        ray.shutdown()
        failed = [e for e in entries if e.status != "done"]
        same = all(
            (ray_dir / f"{p.stem}.lab").read_text() == (local_dir / f"{p.stem}.lab").read_text()
            for p in files
        )
    print(f"{len(files)} files, {minutes:.1f} min of audio, model {args.model}\n")
    print("| engine | wall time | audio minutes per wall minute |")
    print("| --- | --- | --- |")
    print(f"| local (1 process) | {local_s:.0f} s | {minutes / (local_s / 60):.1f} |")
    print(f"| ray ({args.cpus} CPUs) | {ray_s:.0f} s | {minutes / (ray_s / 60):.1f} |")
    job_s = ray_s - init_s
    rate = minutes / (job_s / 60)
    print(f"| ray, after ray.init ({init_s:.0f} s) | {job_s:.0f} s | {rate:.1f} |")
    print(f"\nLAB files identical: {same}; failed: {len(failed)}")
    print(f"load average (1, 5, 15 min) before {load_before}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
