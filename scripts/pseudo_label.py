"""Pseudo-labels for unlabelled real recordings: a model's chords where it is sure and consistent.

    python scripts/pseudo_label.py /work/cache/real --out /work/cache/real-pseudo \\
        [--model chordnet-v1] [--shifts -1 1] [--min-confidence 0.5] [--min-run-s 1.0] \\
        [--min-share 0.02] [--billboard ../shared/data/billboard]

Semi-supervised ("noisy student") training data from the recordings of
``scripts/collect_real.py``. Each recording is transcribed as it is and resampled to play
``k`` semitones higher for each of ``--shifts`` (as ``benchmarks/bench_real.py`` does); the
shifted transcriptions are mapped back (transposed by ``-k``, times rescaled). On a 0.1 s
grid a point keeps the original transcription's label when

* the label is a chord (not ``N``), with a calibrated confidence of at least
  ``--min-confidence``, of a quality that takes at least ``--min-share`` of the time of the
  Billboard annotations of real songs (``--billboard``; at 2 %: maj, min, 7, min7, maj7), so
  that the teacher's own over-calls of rare qualities are not taught back;
* every shifted transcription has the same vocabulary class there (root and quality);

and runs of kept points shorter than ``--min-run-s`` are dropped. Everything else is written
as ``X``, which training masks. The recordings of the label-free check
(``bench_real.check_files``, ``--check-per-package`` per package) are left out, so the check
stays on audio that training never used.

With ``--unlabelled SECONDS`` no model runs: every recording is written as ``X`` segments of
that length, which give training examples over the whole recording but no labels, for the
pitch-shift consistency loss alone (``"consistency_weight"``, ``docs/model.md``). With
``--gate`` as well, the stretches that the no-harmonic-content gate (:mod:`chordcli.gate`)
finds become ``N``: what stays ``X`` then holds harmonic content, which the training option
``"unlabelled_chord_weight"`` teaches is some chord, not no-chord.

Writes ``OUT/<package>/<file>`` (a symbolic link to the recording) and ``OUT/<package>/<stem>.lab``
beside it, so ``chordcli train OUT`` reads them, and prints the kept share per package.
Resumable: a recording whose LAB exists is not transcribed again, only filtered again by
``--min-share`` (labels already written as ``X`` stay so).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from chordcli.segments import ChordSegment  # noqa: E402
from models.dataset import segment_index  # noqa: E402
from theory.vocabulary import N_CLASS, chord_class, class_quality_indices  # noqa: E402

STEP_S = 0.1


def on_grid(segments: Sequence[ChordSegment], n_points: int) -> tuple[np.ndarray, ...]:
    """At each grid point ``i * STEP_S``: segment index, vocabulary class and confidence.

    Where no segment holds the point the index and class are -1 and the confidence 0; the
    class of ``X`` is -1 too, and a segment without a confidence has 0.
    """
    times = (np.arange(n_points) + 1e-9) * STEP_S
    if not segments:
        return np.full(n_points, -1), np.full(n_points, -1), np.zeros(n_points)
    index = segment_index(
        times,
        np.array([s.start_s for s in segments]),
        np.array([s.end_s for s in segments]),
    )
    # index -1 picks the last entry of each table
    classes = [chord_class(s.label) for s in segments]
    cls = np.array([-1 if c is None else c for c in classes] + [-1], dtype=np.int64)
    confidence = np.array([s.confidence or 0.0 for s in segments] + [0.0])
    return index, cls[index], confidence[index]


def pseudo_labels(
    original: Sequence[ChordSegment],
    others: Sequence[Sequence[ChordSegment]],
    *,
    duration_s: float,
    min_confidence: float,
    min_run_s: float,
    qualities: np.ndarray | None = None,
) -> list[ChordSegment]:
    """Keep `original`'s chords where they are confident and every one of `others` agrees.

    Parameters
    ----------
    original : sequence of ChordSegment
        The transcription of the recording as it is (with confidences).
    others : sequence of sequences of ChordSegment
        Transcriptions of altered copies, already mapped back to the original's times and key.
    duration_s : float
        Length of the recording.
    min_confidence, min_run_s : float
        Lowest segment confidence kept; shortest run of kept grid points, in seconds.
    qualities : ndarray of bool, shape (45,), optional
        The chord qualities that may be kept (index as :data:`theory.QUALITIES`); None
        keeps every quality.

    Returns
    -------
    list of ChordSegment
        Segments covering ``[0, duration_s]`` in order: the original's labels where kept,
        ``X`` elsewhere (adjacent ``X`` merged).
    """
    n = int(np.floor(duration_s / STEP_S + 1e-6))
    if n <= 0:
        return []
    index, classes, confidence = on_grid(original, n)
    keep = (classes >= 0) & (classes != N_CLASS) & (confidence >= min_confidence)
    if qualities is not None:
        keep &= np.asarray(qualities, dtype=bool)[class_quality_indices(np.maximum(classes, 0))]
    for other in others:
        keep &= on_grid(other, n)[1] == classes
    run = np.where(keep, index, -1)  # runs of kept points inside one segment
    cuts = np.flatnonzero(np.diff(run)) + 1
    out: list[ChordSegment] = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True):
        if run[a] >= 0 and (b - a) * STEP_S >= min_run_s - 1e-9:
            label = original[int(run[a])].label
            out.append(ChordSegment(float(a * STEP_S), float(b * STEP_S), label))
    return _fill_unknown(out, n * STEP_S)


def _fill_unknown(kept: list[ChordSegment], end_s: float) -> list[ChordSegment]:
    """Put ``X`` in the gaps between kept segments and up to `end_s`."""
    out: list[ChordSegment] = []
    t = 0.0
    for s in kept:
        if s.start_s > t + 1e-9:
            out.append(ChordSegment(t, s.start_s, "X"))
        out.append(s)
        t = s.end_s
    if end_s > t + 1e-9:
        out.append(ChordSegment(t, end_s, "X"))
    return _rounded(out)


def _rounded(segments: list[ChordSegment]) -> list[ChordSegment]:
    """`segments` with their times rounded to the millisecond, as LAB files hold them."""
    return [ChordSegment(round(s.start_s, 3), round(s.end_s, 3), s.label) for s in segments]


def unlabelled(duration_s: float, segment_s: float) -> list[ChordSegment]:
    """A recording of `duration_s` as ``X`` segments of `segment_s` (the last one shorter)."""
    n = max(int(np.ceil(duration_s / segment_s - 1e-9)), 1)
    edges = [round(min(i * segment_s, duration_s), 3) for i in range(n + 1)]
    return [ChordSegment(a, b, "X") for a, b in itertools.pairwise(edges) if b > a]


def gated(source: Path, segments: list[ChordSegment]) -> list[ChordSegment]:
    """`segments` with ``N`` over the stretches of `source` that hold no harmonic content."""
    from chordcli.audio import load_audio
    from chordcli.gate import gate_segments, gated_frames
    from models.cqt import DEFAULT_CQT, cqt

    audio = load_audio(source, sample_rate_hz=DEFAULT_CQT.sample_rate_hz)
    features = cqt(audio.samples, sample_rate_hz=audio.sample_rate_hz, config=DEFAULT_CQT)
    non_harmonic = gated_frames(features, config=DEFAULT_CQT)
    out = gate_segments(segments, non_harmonic, frames_per_second=DEFAULT_CQT.frames_per_second)
    return _rounded(out)


def label_recording(
    source: Path, folder: Path, backend, args: argparse.Namespace, qualities: np.ndarray
) -> list[ChordSegment]:
    """Write (or filter again) one recording's pseudo-labels beside a link to it; the labels."""
    from bench_real import mapped_back, shifted

    from chordcli.audio import load_audio
    from chordcli.lab import read_lab, write_lab
    from chordcli.pipeline import analyse_audio

    lab = folder / source.with_suffix(".lab").name
    if lab.exists():  # filter again (a stricter --min-share)
        segs = read_lab(lab)
        labels = pseudo_labels(
            segs,
            [],
            duration_s=max((s.end_s for s in segs), default=0.0),
            min_confidence=0.0,
            min_run_s=0.0,
            qualities=qualities,
        )
        if labels != segs:
            write_lab(labels, lab, overwrite=True)
        return labels
    audio = load_audio(source, sample_rate_hz=backend.cqt_config.sample_rate_hz)
    original = analyse_audio(audio, backend=backend).transcription.segments
    others = []
    for k in args.shifts:
        moved, speed = shifted(audio, k)
        segs = analyse_audio(moved, backend=backend).transcription.segments
        others.append(mapped_back(segs, k, speed))
    labels = pseudo_labels(
        original,
        others,
        duration_s=audio.duration_s,
        min_confidence=args.min_confidence,
        min_run_s=args.min_run_s,
        qualities=qualities,
    )
    write_beside(source, folder, labels)
    return labels


def write_beside(source: Path, folder: Path, labels: list[ChordSegment]) -> None:
    """Link `source` into `folder` (unless linked already) and write `labels` as its LAB."""
    from chordcli.lab import write_lab

    link = folder / source.name
    if not link.exists():
        link.symlink_to(source.resolve())
    write_lab(labels, folder / source.with_suffix(".lab").name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("real", type=Path, help="folder of scripts/collect_real.py")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="chordnet-v1")
    parser.add_argument("--shifts", type=int, nargs="+", default=[-1, 1])
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--min-run-s", type=float, default=1.0)
    parser.add_argument("--min-share", type=float, default=0.02)
    parser.add_argument("--billboard", type=Path, default=REPO.parent / "shared/data/billboard")
    parser.add_argument("--check-per-package", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="skip recordings longer than this")  # fmt: skip
    parser.add_argument("--unlabelled", type=float, metavar="SECONDS",
                        help="no model: X segments of this length")  # fmt: skip
    parser.add_argument("--gate", action="store_true",
                        help="with --unlabelled: N where there is no harmonic content")  # fmt: skip
    args = parser.parse_args(argv)
    if 0 in args.shifts:
        parser.error("--shifts: 0 is the original itself")
    if args.unlabelled is not None and args.unlabelled <= 0:
        parser.error("--unlabelled: the segment length must be > 0 seconds")
    if args.gate and args.unlabelled is None:
        parser.error("--gate needs --unlabelled (a model's labels are gated already)")

    from bench_real import check_files

    from chordcli.corpus.billboard import billboard_quality_shares
    from chordcli.lab import read_lab
    from models.backend import load_backend

    if args.unlabelled is None:
        shares, _ = billboard_quality_shares(args.billboard)
        qualities = shares >= args.min_share
        qualities[-1] = False  # never N
        backend = load_backend(args.model)
    rows = [line.split("\t") for line in (args.real / "list.tsv").read_text().splitlines()[1:]]
    held = set(check_files(args.real, args.check_per_package))
    kept_s: dict[str, list[float]] = {}
    for package, name, seconds, *_ in rows:
        if name in held or float(seconds) > args.max_seconds:
            continue
        folder = args.out / package
        folder.mkdir(parents=True, exist_ok=True)
        if args.unlabelled is not None:
            source = args.real / name
            lab = folder / source.with_suffix(".lab").name
            if lab.exists():
                segs = read_lab(lab)
            else:
                segs = unlabelled(float(seconds), args.unlabelled)
                if args.gate:
                    segs = gated(source, segs)
                write_beside(source, folder, segs)
        else:
            segs = label_recording(args.real / name, folder, backend, args, qualities)
        total = sum(s.duration_s for s in segs)
        known = sum(s.duration_s for s in segs if s.label != "X")
        kept_s.setdefault(package, [0.0, 0.0])
        kept_s[package][0] += known
        kept_s[package][1] += total
        print(f"{name}: {100 * known / max(total, 1e-9):.0f} % kept", file=sys.stderr, flush=True)
    print("| package | kept min | of min | kept % |\n|---|---:|---:|---:|")
    for package, (known, total) in sorted(kept_s.items()):
        print(f"| {package} | {known / 60:.1f} | {total / 60:.1f} | {100 * known / total:.1f} |")
    known = sum(v[0] for v in kept_s.values())
    total = sum(v[1] for v in kept_s.values())
    print(f"| all | {known / 60:.1f} | {total / 60:.1f} | {100 * known / max(total, 1e-9):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
