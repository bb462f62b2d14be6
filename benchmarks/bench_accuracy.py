"""Chord accuracy of the models on a labelled audio folder (the dev set), as in docs/benchmarks.md.

Transcribes every audio file of DATA that has a same-stem ``.lab`` (the data-folder convention
of ``chordcli eval --audio`` and the corpus renderer) with each model, scores it with
:mod:`chordcli.evaluate` (mir_eval chord metrics, duration-weighted over the folder and mean
over songs, key score from ``<stem>.key``) and prints Markdown tables: one row per model, the
same per first-level subfolder (corpus source), and per-quality recall for the commonest
qualities. Transcriptions are kept as JSON under ``--save`` so they can be re-scored with
``chordcli eval DATA <save>/<model>``; a confusion figure per model goes there too.

    python benchmarks/bench_accuracy.py .cache/corpus/dev --model template --model chordnet-v1

A model that cannot be loaded (e.g. no trained weights yet) is reported and left out.

``--dev-subset P,B,R`` renders (if not done yet) and measures a fixed subset of the corpus dev
split instead of a whole folder: P POP909, B Billboard and R rare-quality files, evenly spaced
over each source's dev list (:func:`chordcli.corpus.build.plan_corpus`), into DATA's corpus
folder (DATA must be ``<corpus>/dev``)::

    python benchmarks/bench_accuracy.py .cache/corpus/dev --dev-subset 16,12,12 --model template
"""

from __future__ import annotations

import argparse
import resource
import sys
from collections import defaultdict
from pathlib import Path

from chordcli.confusion import quality_table, save_confusion
from chordcli.evaluate import (
    EvalReport,
    Pairing,
    aggregate_scores,
    evaluate_audio_pairs,
    find_labelled_audio,
)
from chordcli.jsonio import write_json
from chordcli.pipeline import analyse_file
from models.backend import DEFAULT_MODEL, ModelError, load_backend

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ("root", "majmin", "majmin_inv", "sevenths", "sevenths_inv", "tetrads", "mirex", "seg")


def pct(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.1f}"


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def select(pairing: Pairing, limit: int | None) -> Pairing:
    """At most `limit` pairs, spread evenly over the name-sorted list (all sources)."""
    if limit is None or len(pairing.pairs) <= limit:
        return pairing
    step = len(pairing.pairs) / limit
    pairs = tuple(pairing.pairs[int(i * step)] for i in range(limit))
    return Pairing(pairs=pairs, problems=pairing.problems)


def dev_subset(data: Path, counts: str) -> Pairing:
    """Render the evenly spaced dev subset into ``data.parent`` and pair its files."""
    from chordcli.corpus.build import plan_corpus, render_corpus
    from chordcli.corpus.render import find_soundfonts, select_soundfonts

    if data.name != "dev":
        sys.exit(f"--dev-subset needs DATA = <corpus>/dev, not {data}")
    jobs = plan_corpus(soundfonts=select_soundfonts(find_soundfonts()), split="dev")
    chosen = []
    for source, n in zip(("pop909", "billboard", "rare"), map(int, counts.split(",")), strict=True):
        of_source = [j for j in jobs if j.source == source]
        step = len(of_source) / max(n, 1)
        chosen += [of_source[int(i * step)] for i in range(min(n, len(of_source)))]
    for result in render_corpus(chosen, data.parent):
        if result.status == "failed":
            print(f"render failed: {result.error}", file=sys.stderr)
    stems = {data.parent / j.stem for j in chosen}
    pairing = find_labelled_audio(data)
    pairs = tuple(p for p in pairing.pairs if p.est_path.with_suffix("") in stems)
    return Pairing(pairs=pairs)


def run_model(name: str, pairing: Pairing, save: Path | None) -> EvalReport | None:
    try:
        backend = load_backend(name)
    except ModelError as exc:
        print(f"{name}: not measured ({exc})", file=sys.stderr)
        return None
    out = None
    if save is not None:
        out = save / name.replace("/", "_")
        out.mkdir(parents=True, exist_ok=True)
    audio_s, work_s = 0.0, 0.0

    def transcribe(path: Path):
        nonlocal audio_s, work_s
        analysis = analyse_file(path, backend=backend)
        audio_s += analysis.transcription.duration_s
        work_s += analysis.times.total_s
        if out is not None:
            write_json(analysis.transcription, out / f"{path.stem}.json", overwrite=True)
        return analysis.transcription

    def progress(pair) -> None:
        print(f"{name}: {pair.est_path}", file=sys.stderr)

    report = evaluate_audio_pairs(
        pairing,
        transcribe=transcribe,
        model=backend.name,
        confusion=True,
        on_song=progress,
        catch=(ModelError,),
    )
    for problem in report.problems:
        print(f"{name}: {problem.kind}: {problem.message}", file=sys.stderr)
    rtf = audio_s / work_s if work_s > 0 else float("nan")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name}: {len(report.songs)} songs, {hours(audio_s)} of audio in {work_s:.1f} s "
        f"({rtf:.1f}x real time), peak RSS {peak_mib:.0f} MiB",
        file=sys.stderr,
    )
    if out is not None and report.confusion is not None:
        save_confusion(report.confusion, out / "confusion.png", overwrite=True, title=f"{name}")
    return report


def by_source(report: EvalReport, data: Path) -> dict[str, EvalReport]:
    groups = defaultdict(list)
    for song in report.songs:
        rel = Path(song.est_path).relative_to(data)
        groups[rel.parts[0] if len(rel.parts) > 1 else "."].append(song)
    return {name: aggregate_scores(songs) for name, songs in sorted(groups.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", default=REPO / ".cache" / "corpus" / "dev")
    parser.add_argument("--model", action="append", dest="models", metavar="NAME")
    parser.add_argument("--limit", type=int, default=None, help="at most N songs, spread evenly")
    parser.add_argument("--dev-subset", metavar="P,B,R", help="fixed corpus dev subset")
    parser.add_argument("--save", type=Path, default=REPO / ".cache" / "bench" / "accuracy")
    args = parser.parse_args()
    models = args.models or ["template", DEFAULT_MODEL]
    if args.dev_subset:
        pairing = select(dev_subset(args.data, args.dev_subset), args.limit)
    else:
        pairing = select(find_labelled_audio(args.data), args.limit)
    reports = {}
    for name in models:
        report = run_model(name, pairing, args.save)
        if report is not None and report.songs:
            reports[name] = report
    if not reports:
        sys.exit("nothing was measured")

    any_report = next(iter(reports.values()))
    print(f"Data: `{args.data}`, {len(any_report.songs)} songs, {hours(any_report.duration_s)}.\n")
    print("Duration-weighted over the folder (MIREX style), % (mean over songs in brackets):\n")
    print("| model | " + " | ".join(COLUMNS) + " | key (weighted) |")
    print("| --- " * (len(COLUMNS) + 2) + "|")
    for name, r in reports.items():
        cells = [f"{pct(r.weighted[m])} ({pct(r.mean[m])})" for m in COLUMNS]
        print(f"| {name} | " + " | ".join(cells) + f" | {pct(r.key_weighted)} |")

    print("\nBy source (duration-weighted %):\n")
    print("| model | source | songs | " + " | ".join(COLUMNS) + " |")
    print("| --- " * (len(COLUMNS) + 3) + "|")
    for name, r in reports.items():
        for source, sr in by_source(r, args.data).items():
            cells = [pct(sr.weighted[m]) for m in COLUMNS]
            print(f"| {name} | {source} | {len(sr.songs)} | " + " | ".join(cells) + " |")

    print("\nPer quality (recall % with root; most frequent reference qualities):\n")
    print("| model | quality | ref time | recall | precision | bass | most confused with |")
    print("| --- " * 7 + "|")
    for name, r in reports.items():
        rows = sorted(quality_table(r.confusion), key=lambda row: -row.reference_s)[:12]
        for row in rows:
            if row.reference_s == 0:
                continue
            top = f"{row.top_confusion} ({pct(row.top_confusion_share)})"
            print(
                f"| {name} | {row.quality} | {hours(row.reference_s)} | {pct(row.recall)} | "
                f"{pct(row.precision)} | {pct(row.bass_accuracy)} | {top} |"
            )


if __name__ == "__main__":
    main()
