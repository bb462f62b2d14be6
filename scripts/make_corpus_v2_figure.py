"""Draw docs/img/corpus_v2.png: what the v2 training corpus holds.

Four panels from the plan of ``chordcli data render --variant v2`` (arrangements and effect
draws only, no audio; they equal what a render writes to its manifest) or from a rendered
folder's ``manifest.jsonl``: minutes per style, parts per General MIDI family and part,
minutes per chord quality (log scale) and the share of songs with each effect.

    python scripts/make_corpus_v2_figure.py --every 10             # a sample of the plan
    python scripts/make_corpus_v2_figure.py --manifest /work/cache/corpus-v2/manifest.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from chordcli.corpus.build import arrange_job, plan_corpus
from chordcli.corpus.mixing import song_chain
from chordcli.corpus.render import find_soundfonts, select_soundfonts
from chordcli.corpus.styles import GM_FAMILIES, STYLES, gm_family
from theory.vocabulary import N_CLASS, QUALITIES, chord_class, class_quality

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "corpus_v2.png"
PARTS = ("comp", "power", "pad", "bass", "melody", "bridge", "piano", "fx")


def plan_entries(every: int, pop909: str, billboard: str) -> list[dict]:
    """Manifest-like entries of a sample of the v2 training plan."""
    jobs = plan_corpus(
        soundfonts=select_soundfonts(find_soundfonts()), split="train", variant="v2", every=every,
        pop909_dir=pop909, billboard_dir=billboard,
    )  # fmt: skip
    entries = []
    for job in jobs:
        song = arrange_job(job)
        labels = [(c.label, c.end_s - c.start_s) for c in song.chords]
        entries.append({
            "info": song.info, "programs": song.programs(), "labels": labels,
            "effects": song_chain(job.seed).to_dict(), "duration_s": song.duration_s,
        })  # fmt: skip
    return entries


def manifest_entries(path: Path) -> list[dict]:
    """Entries of a rendered folder's manifest, with the labels of each file's LAB."""
    from chordcli.lab import read_lab

    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("variant") != "v2":
            continue
        lab = path.parent / Path(entry["path"]).with_suffix(".lab")
        entry["labels"] = [(s.label, s.duration_s) for s in read_lab(lab)]
        entries.append(entry)
    return entries


def tallies(entries: list[dict]) -> dict[str, Counter]:
    """Minutes per style and quality, part counts per family, songs per effect."""
    style, quality, effects = Counter(), Counter(), Counter()
    family = {part: Counter() for part in PARTS}
    for entry in entries:
        v2 = entry["info"]["v2"]
        style[v2["style"]] += entry["duration_s"] / 60
        for part, program in entry["programs"].items():
            if part in family and program >= 0:
                family[part][gm_family(program)] += 1
        for label, seconds in entry["labels"]:
            cls = chord_class(label)
            if cls is not None and cls != N_CLASS:
                quality[class_quality(cls).harte] += seconds / 60
        fx = entry["effects"]
        effects["sung lead"] += v2.get("voice") is not None
        effects["power chords"] += "power" in entry["programs"]
        effects["guitar pedal"] += "power" in entry["programs"] and bool(fx["guitar_pedal"])
        effects["tuning offset"] += v2["tuning_cents"] != 0
        effects["bus saturation"] += fx["saturation_db"] is not None
        effects["low-pass < 10 kHz"] += fx["lowpass_hz"] < 10000
        effects["room wet > 0.15"] += fx["room_wet"] > 0.15
        effects["drums"] += "drums" in entry["programs"]
    effects = Counter({k: 100 * v / max(len(entries), 1) for k, v in effects.items()})
    return {"style": style, "quality": quality, "effects": effects, **family}


def draw(counts: dict[str, Counter], n_files: int, out: Path) -> None:
    """Draw the four panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(2, 2, figsize=(13, 9), dpi=80)
    ax = axes[0, 0]
    names = list(STYLES)
    ax.barh(names, [counts["style"][n] for n in names], color="tab:blue")
    ax.set_xlabel("minutes")
    ax.set_title(f"Style ({n_files} files)")
    ax = axes[0, 1]
    grid = np.array([[counts[p][f] for p in PARTS] for f in GM_FAMILIES], dtype=float)
    grid /= np.maximum(grid.sum(axis=0, keepdims=True), 1)
    ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=0.5)
    ax.set_xticks(range(len(PARTS)), PARTS)
    ax.set_yticks(range(len(GM_FAMILIES)), GM_FAMILIES, fontsize=8)
    ax.set_title("GM family per part (share of the part's files)")
    ax = axes[1, 0]
    qualities = [q.harte for q in QUALITIES]
    ax.bar(range(len(qualities)), [max(counts["quality"][q], 1e-2) for q in qualities])
    ax.set_yscale("log")
    ax.set_xticks(range(len(qualities)), qualities, rotation=90, fontsize=7)
    ax.set_ylabel("minutes")
    ax.set_title("Chord quality")
    ax = axes[1, 1]
    effects = sorted(counts["effects"].items(), key=lambda kv: kv[1])
    ax.barh([k for k, _ in effects], [v for _, v in effects], color="tab:orange")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of files")
    ax.set_title("Parts and effects")
    fig.suptitle("chordcli v2 training corpus")
    fig.tight_layout()
    fig.savefig(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, help="a rendered corpus's manifest.jsonl")
    parser.add_argument("--every", type=int, default=10, help="plan sample: every K-th song")
    parser.add_argument("--pop909", default="../shared/data/pop909")
    parser.add_argument("--billboard", default="../shared/data/billboard")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.manifest:
        entries = manifest_entries(args.manifest)
    else:
        entries = plan_entries(args.every, args.pop909, args.billboard)
    draw(tallies(entries), len(entries), args.out)
    print(f"wrote {args.out} from {len(entries)} files")


if __name__ == "__main__":
    main()
