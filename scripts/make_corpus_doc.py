"""Write the planned corpus figures into docs/training.md (sources table and class balance).

Plans the full corpus (``--split all``, the SoundFonts installed here), arranges every file
without rendering (the labels are the ones a render writes) and replaces the blocks between
``<!-- corpus-sources:start/end -->`` and ``<!-- corpus-balance:start/end -->``. Takes a few
minutes of CPU:

    nice -n 10 python scripts/make_corpus_doc.py --jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chordcli.corpus.build import (
    SOURCES,
    Balance,
    format_balance_md,
    plan_corpus,
    planned_balance,
)
from chordcli.corpus.render import find_soundfonts, select_soundfonts

DOC = Path(__file__).resolve().parents[1] / "docs" / "training.md"
WHAT = {
    "pop909": "every POP909 song in `../shared/data/pop909`: its melody, bridge and piano tracks "
    "(new GM programs) plus an added bass and drum track",
    "billboard": "the first 500 McGill Billboard progressions (bars, metre, tonic, inversions) "
    "arranged for a band at the song's real tempo",
    "rare": "one piece per vocabulary quality (44) and root (12), each giving the quality "
    "at least 60 s",
}


def replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + body + end + tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    plan = plan_corpus(soundfonts=select_soundfonts(find_soundfonts()), split="all")
    parts: dict[str, Balance] = {}
    rows = [
        "| source | what is played | files (train + dev) | audio |",
        "| --- | --- | ---: | ---: |",
    ]
    for source in SOURCES:
        jobs = [j for j in plan if j.source == source]
        parts[source] = planned_balance(jobs, workers=args.jobs)
        n_dev = sum(j.split == "dev" for j in jobs)
        rows.append(
            f"| `{source}` | {WHAT[source]} | {len(jobs)} ({len(jobs) - n_dev} + {n_dev}) "
            f"| {parts[source].total_minutes[2]:,.0f} min |"
        )
    fields = ("quality_minutes", "root_minutes", "no_chord_minutes", "total_minutes", "n_files")
    total = Balance(
        parts[SOURCES[0]].splits, *(sum(getattr(p, f) for p in parts.values()) for f in fields)
    )
    minutes = total.total_minutes[2]
    rows.append("")
    rows.append(
        f"In all {int(total.n_files[2]):,} files and {minutes:,.0f} minutes "
        f"({minutes / 60:.1f} hours) of stereo 44.1 kHz audio, about {minutes * 5.0 / 1000:.0f} GB "
        "of FLAC. Least covered quality: "
        + ", ".join(
            f"{split} {total.quality_minutes[i].min():.1f} min"
            for i, split in enumerate(total.splits)
        )
        + "."
    )
    balance_md = format_balance_md(total).split("\n", 2)[2]  # drop the title
    balance_md = balance_md.replace("## Minutes per", "#### Minutes per")
    text = DOC.read_text(encoding="utf-8")
    text = replace_block(text, "corpus-sources", "\n".join(rows) + "\n")
    text = replace_block(text, "corpus-balance", balance_md)
    DOC.write_text(text, encoding="utf-8")
    print(f"updated {DOC}: {int(total.n_files[2])} files, {minutes:.0f} min")


if __name__ == "__main__":
    main()
