"""Calibration of the segment confidences and coverage of the ranked alternatives.

Transcribes every labelled audio file of DATA (``<stem>.flac`` + ``<stem>.lab``) with the full
vocabulary and compares each estimated segment with the reference chords under it. A segment's
*accuracy* is the fraction of its duration where the reference names the same chord class
(:func:`theory.vocabulary.chord_class`: root and quality of the 529-class vocabulary, bass
ignored; reference ``X`` is left out), the event its confidence is the probability of.

* **ECE** (expected calibration error): segments are binned by confidence (10 bins of 0.1);
  ``sum_b w_b |accuracy_b - confidence_b|`` with ``w_b`` the share of the duration in bin b and
  accuracy and confidence duration-weighted means in it. 0 is perfectly calibrated.
* the same for the probability of the first alternative (the most probable chord of the
  segment, which the decoder does not always choose);
* **top-k coverage**: the share of the duration whose reference chord is among the first k
  alternatives.

Figures are printed without calibration (temperature 1) and with the model's temperature
(``confidence.temperature`` in its ``config.json``). ``--fit`` chooses the temperature on a grid
by the lowest ECE with two-fold cross-fitting (even-numbered songs fit, odd-numbered measured,
and the reverse), then on all songs (the value to ship).

    python benchmarks/bench_calibration.py /work/cache/corpus-dev/dev --limit 30 --fit
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chordcli.alternatives import confidence_temperature, with_alternatives
from chordcli.evaluate import find_labelled_audio, read_annotation
from chordcli.pipeline import analyse_file
from chordcli.segments import ChordSegment
from models.backend import DEFAULT_MODEL, load_backend
from theory.vocabulary import chord_class

N_BINS = 10
GRID = [round(0.1 + 0.05 * i, 2) for i in range(23)]  # temperatures 0.1 .. 1.2


def overlaps(
    estimate: Sequence[ChordSegment], reference: Sequence[ChordSegment]
) -> list[list[tuple[float, int | None]]]:
    """For each estimated segment, (duration, reference class) of the reference pieces under it."""
    out = []
    j = 0
    for seg in estimate:
        pieces = []
        while j < len(reference) and reference[j].end_s <= seg.start_s:
            j += 1
        k = j
        while k < len(reference) and reference[k].start_s < seg.end_s:
            ref = reference[k]
            overlap = min(seg.end_s, ref.end_s) - max(seg.start_s, ref.start_s)
            if overlap > 0:
                pieces.append((overlap, chord_class(ref.label)))
            k += 1
        out.append(pieces)
    return out


def ece(confidence: np.ndarray, accuracy: np.ndarray, weight: np.ndarray) -> tuple[float, list]:
    """Expected calibration error over N_BINS equal bins, and the rows of the table."""
    bins = np.minimum((confidence * N_BINS).astype(int), N_BINS - 1)
    total = weight.sum()
    error = 0.0
    rows = []
    for b in range(N_BINS):
        m = bins == b
        w = weight[m].sum()
        if w <= 0:
            continue
        conf = float(weight[m] @ confidence[m] / w)
        acc = float(weight[m] @ accuracy[m] / w)
        error += w / total * abs(acc - conf)
        rows.append((b, w / total, conf, acc))
    return float(error), rows


def song_rows(t, chord, reference, fps, temperature):
    """Per scored segment: confidence, accuracy, first-alternative probability and accuracy,
    duration, and the reference duration covered by the first k alternatives (k = 1..5)."""
    segments = with_alternatives(t.segments, chord, frames_per_second=fps, temperature=temperature)
    rows = []
    for seg, pieces in zip(segments, overlaps(segments, reference), strict=True):
        pieces = [(d, c) for d, c in pieces if c is not None]
        dur = sum(d for d, _ in pieces)
        if dur <= 0 or seg.confidence is None:
            continue
        est = chord_class(seg.label)
        ranked = [chord_class(a.label) for a in seg.alternatives]
        cover = [sum(d for d, c in pieces if c in ranked[: k + 1]) for k in range(5)]
        rows.append(
            (
                seg.confidence,
                sum(d for d, c in pieces if c == est) / dur,
                seg.alternatives[0].probability,
                sum(d for d, c in pieces if c == ranked[0]) / dur,
                dur,
                *cover,
            )
        )
    return np.asarray(rows).reshape(-1, 10)


def fit_temperature(songs, indices):
    """Temperature of the grid with the lowest segment ECE on the songs at `indices`."""
    best = None
    for temperature in GRID:
        rows = np.concatenate([song_rows(*songs[i], temperature) for i in indices])
        error, _ = ece(rows[:, 0], rows[:, 1], rows[:, 4])
        if best is None or error < best[1]:
            best = (temperature, error)
    return best


def report(songs, name, temperature):
    """Print ECE, coverage and the reliability table at one temperature."""
    rows = np.concatenate([song_rows(*song, temperature) for song in songs])
    w = rows[:, 4]
    error, table = ece(rows[:, 0], rows[:, 1], w)
    error1, _ = ece(rows[:, 2], rows[:, 3], w)
    cover = rows[:, 5:].sum(axis=0) / w.sum()
    print(
        f"{name} (T = {temperature:g}): segment confidence ECE {error:.3f} (mean confidence "
        f"{w @ rows[:, 0] / w.sum():.3f}, accuracy {w @ rows[:, 1] / w.sum():.3f}); first "
        f"alternative ECE {error1:.3f}; {len(w)} segments"
    )
    print("top-k coverage: " + ", ".join(f"k={k + 1} {c:.3f}" for k, c in enumerate(cover)))
    print("\n| confidence | share of duration | mean confidence | accuracy |")
    print("| --- | --- | --- | --- |")
    for b, share, c, a in table:
        print(f"| {b / N_BINS:.1f}-{(b + 1) / N_BINS:.1f} | {share:.3f} | {c:.3f} | {a:.3f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="labelled audio folder")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--limit", type=int, default=None, help="first N songs by name")
    parser.add_argument(
        "--fit", action="store_true", help="fit the temperature (two-fold cross-fitting)"
    )
    args = parser.parse_args()

    backend = load_backend(args.model)
    shipped = confidence_temperature(backend)
    pairs = find_labelled_audio(args.data).pairs[: args.limit]
    songs = []
    minutes = 0.0
    clock = time.perf_counter()
    for pair in pairs:
        analysis = analyse_file(pair.est_path, backend=backend, keep=True)
        t = analysis.transcription
        minutes += t.duration_s / 60
        reference = read_annotation(pair.ref_path).segments
        output = analysis.output
        songs.append((t, output.chord, reference, output.frames_per_second))
        print(f"{pair.name}: {len(t.segments)} segments", flush=True)
    print(
        f"\n{len(pairs)} songs, {minutes:.1f} min of audio, model {backend.name} "
        f"(temperature {shipped:g}); {time.perf_counter() - clock:.0f} s\n"
    )
    for name, temperature in (("uncalibrated", 1.0), ("shipped", shipped)):
        report(songs, name, temperature)
    if args.fit:
        folds = [range(0, len(songs), 2), range(1, len(songs), 2)]
        for k, (fit, test) in enumerate([(folds[0], folds[1]), (folds[1], folds[0])]):
            temperature, fit_error = fit_temperature(songs, fit)
            rows = np.concatenate([song_rows(*songs[i], temperature) for i in test])
            held_out, _ = ece(rows[:, 0], rows[:, 1], rows[:, 4])
            print(
                f"fold {k + 1}: T = {temperature:g} fitted on {len(fit)} songs (ECE "
                f"{fit_error:.3f}); held-out ECE {held_out:.3f} on the other {len(test)}"
            )
        temperature, error = fit_temperature(songs, range(len(songs)))
        print(f"all songs: T = {temperature:g} (ECE {error:.3f})\n")
        report(songs, "fitted on all songs", temperature)


if __name__ == "__main__":
    main()
