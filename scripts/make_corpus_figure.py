"""Draw docs/img/corpus_excerpt.png: CQT of rendered corpus excerpts with their chord labels.

Renders the first seconds of a POP909 song and of a Billboard progression exactly as
``chordcli data render`` does (same arrangement code, seed rule and FluidSynth settings), then
plots the project's CQT with the LAB segments on top.

    python scripts/make_corpus_figure.py            # needs ../shared/data and FluidR3_GM
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from chordcli.corpus.arrangement import Arrangement, Note
from chordcli.corpus.build import arrange_job, plan_corpus
from chordcli.corpus.render import (
    draw_mix,
    find_soundfonts,
    render_arrangement,
    select_soundfonts,
)
from chordcli.segments import ChordSegment
from models.cqt import DEFAULT_CQT, cqt
from theory import chord_symbol

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "corpus_excerpt.png"
EXCERPTS = (("pop909", "003", 12.0, 30.0), ("billboard", "0004", 20.0, 38.0))


def cut(arrangement: Arrangement, start_s: float, end_s: float) -> Arrangement:
    """The arrangement between two times, shifted to start at 0."""
    parts = []
    for part in arrangement.parts:
        notes = tuple(
            Note(max(n.start_s, start_s) - start_s, min(n.end_s, end_s) - start_s, n.pitch,
                 n.velocity)
            for n in part.notes
            if n.start_s >= start_s and n.start_s < end_s
        )  # fmt: skip
        parts.append(dataclasses.replace(part, notes=notes))
    chords = tuple(
        ChordSegment(max(c.start_s, start_s) - start_s, min(c.end_s, end_s) - start_s, c.label)
        for c in arrangement.chords
        if c.end_s > start_s and c.start_s < end_s
    )
    return dataclasses.replace(
        arrangement, parts=tuple(parts), chords=chords, duration_s=end_s - start_s
    )


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fonts = select_soundfonts(find_soundfonts())
    font = next(s for s in fonts if s.name == "FluidR3_GM.sf2")
    plan = plan_corpus(soundfonts=fonts, split="all")
    fig, axes = plt.subplots(len(EXCERPTS), 1, figsize=(10, 6.4), dpi=90)
    for ax, (source, song_id, start_s, end_s) in zip(axes, EXCERPTS, strict=True):
        job = next(j for j in plan if j.source == source and j.song_id == song_id)
        excerpt = cut(arrange_job(job), start_s, end_s)
        mix = draw_mix(np.random.default_rng(job.seed + 1))
        audio = render_arrangement(excerpt, font, mix=mix)
        features = cqt(audio, sample_rate_hz=44100).mean(axis=2)
        fps = DEFAULT_CQT.frames_per_second
        extent = (0, len(features) / fps, 0, features.shape[1])
        ax.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=extent)
        octave = DEFAULT_CQT.bins_per_octave
        ax.set_yticks(np.arange(0, features.shape[1], octave))
        ax.set_yticklabels([f"C{i + 1}" for i in range(features.shape[1] // octave)])
        for chord in excerpt.chords:
            ax.axvline(chord.start_s, color="white", lw=0.8, alpha=0.8)
            if chord.label != "N" and chord.duration_s > 0.4:
                ax.text(chord.start_s + 0.05, features.shape[1] - 12, chord_symbol(chord.label),
                        color="white", fontsize=8, va="top")  # fmt: skip
        programs = ", ".join(k if v < 0 else f"{k} {v}" for k, v in excerpt.programs().items())
        ax.set_title(
            f"{source} {song_id}, {start_s:.0f}-{end_s:.0f} s, {font.name}; programs: {programs}",
            fontsize=9,
        )
        ax.set_ylabel("CQT bin")
    axes[-1].set_xlabel("time (s); white lines: LAB chord boundaries")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=90, format="png")
    buffer.seek(0)
    # a 128-colour palette keeps the picture under 300 KB
    image = Image.open(buffer).convert("RGB").quantize(colors=128)
    image.save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
