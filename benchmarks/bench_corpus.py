"""Corpus render speed: seconds per audio minute on a subset, extrapolated to the full corpus.

Renders every k-th file of each source of the full plan (``--split all``, all installed
SoundFonts) with ``--jobs`` workers into ``.cache/bench/corpus`` (re-rendered each run), and
prints wall-clock and CPU seconds per minute of audio, per source and overall, with the
estimated wall time of the full corpus at the same number of workers.

    nice -n 10 python benchmarks/bench_corpus.py --per-source 6 --jobs 2
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from collections import defaultdict
from pathlib import Path

from chordcli.corpus.build import SOURCES, plan_corpus, render_corpus
from chordcli.corpus.render import find_soundfonts, select_soundfonts

OUT = Path(".cache/bench/corpus")


def cpu_seconds() -> float:
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=6, help="files rendered per source")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    plan = plan_corpus(soundfonts=select_soundfonts(find_soundfonts()), split="all")
    by_source = defaultdict(list)
    for job in plan:
        by_source[job.source].append(job)
    subset = []
    for source in SOURCES:
        jobs = by_source[source]
        step = max(1, len(jobs) // args.per_source)
        subset += jobs[::step][: args.per_source]
    shutil.rmtree(OUT, ignore_errors=True)
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    audio = defaultdict(float)
    busy = defaultdict(float)
    for result in render_corpus(subset, OUT, workers=args.jobs, overwrite=True):
        if result.status != "rendered":
            raise SystemExit(f"failed: {result.error}")
        audio[result.job.source] += result.duration_s / 60
        busy[result.job.source] += result.render_s
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds() - cpu0
    total_audio = sum(audio.values())
    print(f"subset: {len(subset)} files, {total_audio:.1f} min of audio, --jobs {args.jobs}")
    print(f"wall {wall:.1f} s = {wall / total_audio:.2f} s per audio minute")
    print(f"cpu  {cpu:.1f} s = {cpu / total_audio:.2f} cpu-s per audio minute")
    estimate_minutes = 0.0
    estimate_worker_s = 0.0
    for source in SOURCES:
        n = len(by_source[source])
        rendered = [j for j in subset if j.source == source]
        mean_min = audio[source] / len(rendered)
        per_min = busy[source] / audio[source]
        estimate_minutes += n * mean_min
        estimate_worker_s += n * mean_min * per_min
        print(
            f"  {source:9s} {n:4d} files, ~{n * mean_min:7.0f} min of audio, "
            f"{per_min:.2f} worker-s per audio minute"
        )
    full_wall = estimate_worker_s / args.jobs
    print(
        f"full corpus: ~{estimate_minutes:.0f} min of audio, "
        f"estimated {full_wall / 3600:.2f} h wall at --jobs {args.jobs}"
    )


if __name__ == "__main__":
    main()
