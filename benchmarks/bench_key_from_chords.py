"""Accuracy of theory.keys.key_from_chords on the POP909 chord annotations.

Each song's reference key is the longest key of its ``key_audio.txt``; the estimate comes from
the chords of ``chord_midi.txt`` weighted by duration. Prints exact and relative-key-tolerant
accuracy and the mir_eval weighted key score.

    python benchmarks/bench_key_from_chords.py [--data ../shared/data/pop909]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mir_eval
import numpy as np

from theory.keys import key_from_chords, key_to_mir_eval, parse_key

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "pop909")
    args = parser.parse_args()
    exact, weighted, single = [], [], []
    for song in sorted(p for p in args.data.iterdir() if p.name.isdigit()):
        rows = [line.split() for line in (song / "chord_midi.txt").read_text().splitlines()]
        rows = [r for r in rows if len(r) == 3]
        keys = [line.split() for line in (song / "key_audio.txt").read_text().splitlines()]
        keys = [k for k in keys if len(k) == 3]
        ref = parse_key(max(keys, key=lambda k: float(k[1]) - float(k[0]))[2])
        est = key_from_chords(
            [r[2] for r in rows], durations_s=[float(r[1]) - float(r[0]) for r in rows]
        )
        exact.append(est == ref)
        if len(keys) == 1:
            single.append(est == ref)
        weighted.append(mir_eval.key.weighted_score(key_to_mir_eval(ref), key_to_mir_eval(est)))
    print(f"songs: {len(exact)} ({len(single)} with one key)")
    print(f"exact key: {np.mean(exact):.3f} (songs with one key: {np.mean(single):.3f})")
    print(f"mir_eval weighted key score: {np.mean(weighted):.3f}")


if __name__ == "__main__":
    main()
