"""Ship a trained run as a bundled model: weights, config.json, MODEL_CARD.md, confusion picture.

    python scripts/ship_model.py RUN_DIR --name chordnet-v1 \\
        --eval .cache/eval/v1.json --baseline .cache/eval/template.json \\
        --confusion .cache/eval/v1.png --eval-command "chordcli eval ..." \\
        --corpus .cache/corpus-full [--extra-corpus .cache/corpus-melvar]

Without ``--eval`` only the weights and the run's ``config.json`` are copied (step 1), so the
bundled model can be evaluated by its name; step 2 adds the evaluation. RUN_DIR is a
``chordcli train`` run folder (its best epoch's ``model.weights.h5`` and
``config.json``). ``--eval`` and ``--baseline`` are the ``chordcli eval --json --confusion``
outputs of the model and of the template baseline on the same dev set. The script copies the
weights into ``models/weights/NAME/``, writes ``config.json`` (the run's settings plus the
weights' sha256, the vocabulary fingerprint, the data and the dev metrics) and renders
``MODEL_CARD.md`` from these files, so every figure in the card comes from a measurement.
``--extra-corpus`` names further rendered corpus folders whose train split the run also read
(such as lead-level variants, ``docs/training.md``); their files and hours join the data
section. Existing files are replaced only with ``--overwrite``.

For a model selected on another evaluation set than the dev split, ``--eval-set dev-cross``
names it in the card, ``--corpus-note`` says how the corpus was made, and ``--sections FILE``
(Markdown ``## `` sections, each with its figures and the commands that produced them)
replaces the generated sections of the same heading, such as "Training data and licences" or
"Known limits", and adds the others before "Known limits".

Both steps also export the network to ONNX (``model.onnx``, its sha256 in ``config.json``,
:func:`models.export.export_onnx`), which ``chordcli transcribe`` runs without TensorFlow.
``--onnx-only`` re-makes only that file for a shipped model (RUN_DIR is then its folder):

    python scripts/ship_model.py models/weights/chordnet-v1 --name chordnet-v1 --onnx-only
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from chordcli.confusion import ROW_LABELS
from models.chordnet import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    count_parameters,
    load_chordnet_backend,
    sha256_file,
)
from models.export import export_onnx
from theory.decode import DEFAULT_BASS_WEIGHT, DEFAULT_VECTOR_WEIGHT
from theory.vocabulary import vocabulary_fingerprint

REPO = Path(__file__).resolve().parents[1]
MAX_BYTES = 25 * 1000 * 1000
METRICS = ("root", "majmin", "majmin_inv", "sevenths", "sevenths_inv", "tetrads", "mirex")
#: Acceptance targets of the shipped model on the dev set (duration-weighted).
TARGETS = {"root": 0.90, "majmin": 0.88, "sevenths": 0.80, "tetrads": 0.72}
MARGIN_OVER_BASELINE = {"majmin": 0.03, "tetrads": 0.03}
MIN_RECALL, MIN_QUALITY_S = 0.40, 60.0

TRAIN_SOUNDFONTS = (
    "FluidR3_GM (MIT), TimGM6mb (GPL-2), FluidR3Mono_GM (MIT)",
    "sf_GMbank (public domain)",
)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def by_source(report: dict) -> dict[str, tuple[int, float, dict[str, float]]]:
    """Per corpus source (first folder below the dev folder): songs, hours, weighted scores."""
    groups: dict[str, list[dict]] = {}
    for song in report["songs"]:
        source = Path(song["ref"]).parent.name
        groups.setdefault(source, []).append(song)
    out = {}
    for source, songs in sorted(groups.items()):
        total = sum(s["duration_s"] for s in songs)
        scores = {}
        for m in METRICS:
            pairs = [(s["scores"][m], s["duration_s"]) for s in songs if s["scores"][m] is not None]
            weight = sum(d for _, d in pairs)
            scores[m] = sum(v * d for v, d in pairs) / weight if weight else None
        out[source] = (len(songs), total / 3600, scores)
    return out


def weak_qualities(report: dict) -> list[dict]:
    """Quality rows (not N) with at least a minute of reference time and recall below 0.40."""
    return [
        q
        for q in report["qualities"]
        if q["quality"] != "N"
        and q["reference_s"] >= MIN_QUALITY_S
        and (q["recall"] is None or q["recall"] < MIN_RECALL)
    ]


def acceptance(report: dict, baseline: dict) -> list[tuple[str, bool]]:
    checks = []
    for m, target in TARGETS.items():
        value = report["weighted"][m]
        checks.append((f"{m} {pct(value)} >= {pct(target)}", value >= target))
    for m, margin in MARGIN_OVER_BASELINE.items():
        gain = report["weighted"][m] - baseline["weighted"][m]
        checks.append((f"{m} {100 * gain:+.1f} points over the template (>= +3)", gain >= margin))
    low = weak_qualities(report)
    text = ", ".join(f"`{q['quality']}`" for q in low) or "none"
    checks.append((f"qualities with >= 1 min and recall < 0.40: {text}", not low))
    return checks


def model_card(
    name: str,
    config: dict,
    report: dict,
    baseline: dict,
    command: list[str],
    balance: str,
    start: str | None = None,
    eval_set: str = "the dev set",
) -> str:
    net, train = config["chordnet"], config["train"]
    rows = []
    for label, r in ((name, report), ("template (baseline)", baseline)):
        cells = " | ".join(pct(r["weighted"][m]) for m in METRICS)
        rows.append(f"| {label} | {cells} | {pct(r['key']['weighted'])} |")
    source_rows = []
    for label, r in ((name, report), ("template", baseline)):
        for source, (n, hours, scores) in by_source(r).items():
            cells = " | ".join(pct(scores[m]) for m in METRICS)
            source_rows.append(f"| {label} | {source} | {n} | {hours:.2f} | {cells} |")
    base_q = {q["quality"]: q for q in baseline["qualities"]}
    quality_rows = []
    by_name = {q["quality"]: q for q in report["qualities"]}
    for quality in ROW_LABELS:
        q = by_name.get(quality)
        if q is None or q["reference_s"] == 0:
            quality_rows.append(f"| `{quality}` | 0.0 | - | - | - | - |")
            continue
        b = base_q.get(quality, {})
        top = f"`{q['top_confusion']}`" if q["top_confusion"] else "-"
        quality_rows.append(
            f"| `{quality}` | {q['reference_s'] / 60:.1f} | {pct(q['recall'])} | "
            f"{pct(q['precision'])} | {pct(b.get('recall'))} | {top} |"
        )
    checks = "\n".join(
        f"* {'met' if ok else '**not met**'}: {text}" for text, ok in acceptance(report, baseline)
    )
    weak = (
        ", ".join(
            f"`{q['quality']}` ({pct(q['recall'])} %, mostly read as `{q['top_confusion']}`)"
            for q in weak_qualities(report)
        )
        or "none"
    )
    metrics = config.get("metrics", {})
    hours = report["duration_s"] / 3600
    if start:
        start = start.rstrip() + " "
    elif train.get("init"):
        start = f"Started from the weights of `{train['init']}` (fine-tuning, fresh optimizer). "
    else:
        start = ""
    sampling = (
        f"Examples drawn with quality-balanced sampling (balance {train['balance']:g}, "
        "`docs/model.md`). "
        if train.get("balance")
        else ""
    )
    decoder = config.get("decoder")
    if decoder and "reference_share" in decoder:
        root_prob = decoder.get("bass_root_min_prob")
        decoding = (
            "Decoding (`docs/decoding.md`) uses this model's calibration, fitted by "
            f"`scripts/tune_decoder.py` on dev-cross ({decoder['selection']['songs']} songs "
            "played by another arranger, with SoundFonts no training file uses, clean and "
            "degraded; never training timbres): the training share of each quality divided "
            f"out with strength {decoder['prior_strength']:g}, the share of real songs "
            f"({decoder['selection']['reference']}) multiplied in with strength "
            f"{decoder['reference_strength']:g}, no-chord offset "
            f"{decoder['no_chord_bias']:g}, per-song chord-tone adaptation "
            f"{decoder['tone_weight']:g}, root-position weight {decoder['bass_weight']:g}, "
            "bass choosing the root among same-pitch chords "
            + ("off" if root_prob is None else f"from a mean bass probability of {root_prob:g}")
            + "; `config.json` holds the selection record."
        )
    elif decoder:
        decoding = (
            "Decoding (`docs/decoding.md`) uses this model's settings, chosen by "
            f"`scripts/tune_decoder.py` on the {decoder['selection']['validation_songs']} "
            "validation songs (not the dev set): quality-prior strength "
            f"{decoder['prior_strength']:g}, root-position weight "
            f"{decoder.get('bass_weight', DEFAULT_BASS_WEIGHT):g}, smoothed-vector weight "
            f"{decoder.get('vector_weight', DEFAULT_VECTOR_WEIGHT):g} (decoder defaults: 0, "
            f"{DEFAULT_BASS_WEIGHT:g}, {DEFAULT_VECTOR_WEIGHT:g}); `config.json` holds the grid "
            "it searched."
        )
    else:
        decoding = "Decoding uses the defaults of `theory/decode.py` (no quality prior)."
    eq_db = config.get("augment", {}).get("eq_max_db", 0)
    eq = f", a random EQ of up to {eq_db:g} dB (tilt and bell)" if eq_db else ""
    heads = ", ".join(f"{k} {v:g}" for k, v in net["loss_weights"].items())
    return f"""# {name}

ChordNet (`models/chordnet.py`) trained on the chordcli synthetic corpus; the default model of
`chordcli transcribe`. Input: the CQT of `models/cqt.py` (22,050 Hz, hop 2048 samples =
10.77 frames/s, 252 bins from C1 at 36 per octave, both stereo channels). Output per frame:
the 529-class chord posterior, 25-dim chord-tone + bass vectors, bass, key (24 + none) and
chord-change probabilities, which `theory/decode.py` turns into a chord sequence.

* Parameters: {config["parameters"]:,}; weights
  `{WEIGHTS_FILE}` ({config["weights_bytes"] / 1e6:.1f} MB, float32), sha256
  `{config["weights_sha256"]}` (checked at load).
{onnx_bullet(config)}
* Architecture: stem {net["stem_filters"]} filters, blocks {net["blocks"]},
  dense {net["dense_units"]}, dual-path BiLSTM {net["rnn_units"]} units per direction (chunks
  of {net["chunk_frames"]} frames), second stack {net["smooth_units"]}; stochastic depth
  {net["stochastic_depth"]}, dropout {net["dropout"]}. Loss weights: {heads}.
* Vocabulary fingerprint `{config["vocabulary"]}` (12 roots x 44 qualities + N,
  `docs/vocabulary.md`).
* Trained from commit `{config.get("git_commit", "?")}`; settings and figures in `config.json`.

## Training data and licences

The corpus of `chordcli data render` (`docs/training.md`): POP909 songs (MIT licence; Wang et
al., ISMIR 2020) arranged with added bass and drums, progressions of McGill Billboard songs
(CC0; Burgoyne et al., ISMIR 2011) and rare-quality pieces, rendered with FluidSynth. Only the
train split was used: {config["data"]["train"]}. SoundFonts of the train split:
{TRAIN_SOUNDFONTS[0]}. The dev split (below) holds other songs, other progressions, the
held-out root of each rare-quality piece and another SoundFont, {TRAIN_SOUNDFONTS[1]}.

{balance}

## Training

{start}{sampling}`chordcli train` on 2 CPU cores: batches of
{train["batch_size"]} x {train["example_frames"]} frames cut at chord onsets,
{train["steps_per_epoch"]} steps per epoch, {train["epochs"]} epochs, AdamW (peak learning
rate {train["learning_rate"]:g}, {train["schedule"]} schedule, {train["warmup_steps"]} warm-up
steps, weight decay {train["weight_decay"]:g}), pitch shifts over all 12 keys{eq}, time and
frequency masks. Best epoch {config.get("best_epoch", "?")} by validation loss (validation:
{config["songs"]["validation"]} train-split songs held out of the gradient steps): chord-class
accuracy {pct(metrics.get("val_chord_acc"))} %, bass {pct(metrics.get("val_bass_acc"))} %,
key {pct(metrics.get("val_key_acc"))} % per frame.

{decoding}

## Evaluation on {eval_set}

{report["songs_scored"]} dev files, {hours:.1f} hours, none used in training, rendered with
the held-out SoundFont. mir_eval chord metrics, duration-weighted over all files (MIREX style),
in %; key: mir_eval key score, duration-weighted. Produced by:

{chr(10).join("    " + c for c in command)}

| model | {" | ".join(METRICS)} | key |
| --- | {" | ".join("---:" for _ in METRICS)} | ---: |
{chr(10).join(rows)}

By source (weighted by file duration):

| model | source | files | hours | {" | ".join(METRICS)} |
| --- | --- | ---: | ---: | {" | ".join("---:" for _ in METRICS)} |
{chr(10).join(source_rows)}

Acceptance (duration-weighted, {eval_set.removeprefix("the ")}):

{checks}

### Recall per quality

Share of each reference quality's time where the estimate has the same root and quality
(`chordcli eval --confusion`; the template's recall for comparison). Qualities with about a
minute of dev audio are measured on one or two short pieces, so their figures are coarse.

| quality | dev minutes | recall | precision | template recall | most confused with |
| --- | ---: | ---: | ---: | ---: | --- |
{chr(10).join(quality_rows)}

### Confusion

Time-weighted quality confusion on {eval_set} (rows: reference quality; columns: estimate,
root-relative; "wrong root" columns at the right):

![confusion matrix](confusion.png)

## Known limits

* Trained only on synthesised General MIDI audio: no singing voice, no recorded drums or
  amplified guitars, no mastering. Accuracy on commercial recordings is not measured here and
  is expected to be lower than on {eval_set}.
* Frame rate 10.77 frames/s: chords shorter than about 0.3 s are often missed or merged.
* No tuning estimation: recordings far from A = 440 Hz are read against 440 Hz bins; the
  training audio is all at 440 Hz.
* Rare qualities have about 12 minutes each in the whole corpus (the commonest, `maj`, has 48
  hours). Dev recall below 40 % (qualities with at least a minute of dev audio): {weak}.
"""


def split_sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Split Markdown at its '## ' headings: (text before the first, [(heading, section)])."""
    parts = re.split(r"(?m)^(?=## )", text)
    head = parts[0] if not parts[0].startswith("## ") else ""
    sections = [part for part in parts if part.startswith("## ")]
    return head, [(part.splitlines()[0][3:].strip(), part) for part in sections]


def with_sections(card: str, extra: str) -> str:
    """Return `card` with the '## ' sections of `extra`: same heading replaces, others go
    before 'Known limits' (or at the end)."""
    head, sections = split_sections(card)
    _, added = split_sections(extra)
    by_heading = {heading: i for i, (heading, _) in enumerate(sections)}
    new = []
    for heading, text in added:
        if heading in by_heading:
            sections[by_heading[heading]] = (heading, text)
        else:
            new.append((heading, text))
    at = by_heading.get("Known limits", len(sections))
    sections[at:at] = new
    body = "".join(text.rstrip("\n") + "\n\n" for _, text in sections)
    return (head + body).rstrip("\n") + "\n"


def extra_corpus(folder: Path) -> tuple[float, str]:
    """Hours and a description of an extra corpus's train split, from its manifest."""
    lines = (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    entries = [e for e in entries if e["split"] == "train"]
    hours = sum(e["duration_s"] for e in entries) / 3600
    sources = "/".join(sorted({e["source"] for e in entries}))
    gains = [e["lead_db"] for e in entries if "lead_db" in e]
    what = f"{len(entries)} more `{sources}` renders, {hours:.1f} h"
    if gains:
        low, high = (int(round(g)) for g in (min(gains), max(gains)))
        what += f", melody and bridge at {low:+d} to {high:+d} dB"
    return hours, what


def onnx_bullet(config: dict) -> str:
    """The model card's line on the ONNX export (``config.json``'s ``onnx`` section)."""
    onnx = config.get("onnx")
    if not onnx:
        return "* No ONNX export: run with `--runtime keras` (the `chordcli[train]` extra)."
    return (
        f"* ONNX export `{onnx['file']}` (opset {onnx['opset']}, {onnx['converter']}), sha256\n"
        f"  `{onnx['sha256']}` (checked at load): the network `chordcli transcribe` runs with\n"
        "  ONNX Runtime, without TensorFlow; every head within "
        f"{onnx['max_head_difference']:.1e} of Keras."
    )


def write_onnx(out: Path) -> None:
    """Export the shipped weights to ONNX (checked against Keras) and record it in config.json."""
    section = export_onnx(out)
    print(
        f"wrote {out / section['file']} (opset {section['opset']}, largest head difference "
        f"to Keras {section['max_head_difference']:.1e})"
    )


def refresh_card_onnx(out: Path) -> None:
    """Rewrite the ONNX line of an existing model card from ``config.json`` (after --onnx-only)."""
    card_path = out / "MODEL_CARD.md"
    if not card_path.is_file():
        return
    config = json.loads((out / CONFIG_FILE).read_text())
    card = card_path.read_text(encoding="utf-8")
    bullet = re.compile(r"^\* (ONNX export|No ONNX export).*?(?=^\* |^$)", re.M | re.S)
    new, n = bullet.subn(lambda _: onnx_bullet(config) + "\n", card, count=1)
    if n:
        card_path.write_text(new, encoding="utf-8")


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--name", default="chordnet-v1")
    parser.add_argument("--eval", type=Path, dest="eval_json")
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--confusion", type=Path)
    parser.add_argument("--eval-command", action="append", help="one per command, in order")
    parser.add_argument("--corpus", type=Path)
    parser.add_argument(
        "--corpus-note",
        default="chordcli data render --split all (docs/training.md)",
        help="how the training corpus was made, for config.json",
    )
    parser.add_argument("--onnx-only", action="store_true", help="re-export model.onnx only")
    parser.add_argument("--extra-corpus", type=Path, action="append", default=[])
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument(
        "--start", help="sentence on where training started (default: from train.init)"
    )
    parser.add_argument(
        "--sections",
        type=Path,
        help="Markdown file of '## ' sections: one with a generated section's heading replaces "
        "it, the others go before 'Known limits'",
    )
    parser.add_argument(
        "--eval-set",
        default="the dev set",
        help="what --eval scored, as the card names it (default: 'the dev set')",
    )
    return parser


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()

    out = REPO / "models" / "weights" / args.name
    if args.onnx_only:
        write_onnx(out)
        refresh_card_onnx(out)
        return
    if args.corpus is None:
        parser.error("--corpus is required")
    if (out / "MODEL_CARD.md").exists() and not args.overwrite:
        sys.exit(f"'{out}' exists (pass --overwrite to replace it)")
    config = json.loads((args.run / CONFIG_FILE).read_text())
    weights = args.run / WEIGHTS_FILE
    if config["weights_sha256"] != sha256_file(weights):
        sys.exit(f"'{weights}' does not match the sha256 in its config.json")
    if weights.stat().st_size > MAX_BYTES:
        sys.exit(f"'{weights}' is {weights.stat().st_size / 1e6:.1f} MB, over 25 MB")
    if config["vocabulary"] != vocabulary_fingerprint():
        sys.exit("the run was trained on another vocabulary")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(weights, out / WEIGHTS_FILE)
    if args.eval_json is None:  # step 1: the weights alone, to be evaluated by name
        shutil.copyfile(args.run / CONFIG_FILE, out / CONFIG_FILE)
        write_onnx(out)
        print(f"wrote {out} (weights only; evaluate it, then rerun with --eval)")
        return
    report = json.loads(args.eval_json.read_text())
    baseline = json.loads(args.baseline.read_text())
    balance_md = (args.corpus / "balance.md").read_text()
    summary = next(line for line in balance_md.splitlines() if line.startswith("Files:"))

    shutil.copyfile(args.confusion, out / "confusion.png")
    config.pop("data_dir", None)
    train_h = float(re.search(r"train ([0-9.]+) h", summary).group(1))
    extras = [extra_corpus(folder) for folder in args.extra_corpus]
    extra_text = "".join(f", and {text}" for _, text in extras)
    config.update(
        name=args.name,
        weights_bytes=(out / WEIGHTS_FILE).stat().st_size,
        data={
            "corpus": args.corpus_note,
            "train": f"{config['songs']['train'] + config['songs']['validation']} files, "
            f"{train_h + sum(h for h, _ in extras):.1f} h (the train split{extra_text})",
            "dev": f"{report['songs_scored']} files, {report['duration_s'] / 3600:.1f} h",
        },
        dev_metrics={
            "weighted": {m: report["weighted"][m] for m in METRICS},
            "key_weighted": report["key"]["weighted"],
            "template_weighted": {m: baseline["weighted"][m] for m in METRICS},
            "command": args.eval_command,
        },
    )
    config["parameters"] = count_parameters(load_chordnet_backend(args.run).model)
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    write_onnx(out)
    config = json.loads((out / CONFIG_FILE).read_text())
    card = model_card(
        args.name,
        config,
        report,
        baseline,
        args.eval_command,
        summary,
        start=args.start,
        eval_set=args.eval_set,
    )
    if args.sections is not None:
        card = with_sections(card, args.sections.read_text(encoding="utf-8"))
    (out / "MODEL_CARD.md").write_text(card)
    for text, ok in acceptance(report, baseline):
        print(("met      " if ok else "NOT MET  ") + text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
