"""Render the bundled example clip with the corpus tools.

Usage: python scripts/make_example.py [--out examples] [--song 0297] [--seconds 30]

It arranges the chord progression of one McGill Billboard song (CC0 annotations; a song of the
held-out dev split, so no model is trained on it) with the corpus band, renders it with the
FluidR3 GM SoundFont (MIT) and keeps ``--seconds`` from the first chord, cut at a chord change.
Writes ``example.flac`` (stereo, 44.1 kHz), ``example.lab`` (the exact reference chords) and
``example.key``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile

from chordcli.corpus.billboard import arrange_billboard, read_salami
from chordcli.corpus.build import SAMPLE_RATE_HZ, song_split
from chordcli.corpus.render import draw_mix, find_soundfonts, render_arrangement, select_soundfonts
from chordcli.lab import format_lab
from chordcli.segments import ChordSegment
from theory import key_to_jams

REPO = Path(__file__).resolve().parents[1]
BILLBOARD = REPO.parent / "shared" / "data" / "billboard" / "billboard-2.0-salami_chords"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "examples")
    parser.add_argument("--song", default="0297")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--soundfont", default="FluidR3_GM")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if song_split("billboard", args.song) != "dev":
        print(f"warning: Billboard song {args.song} is in the training split", file=sys.stderr)
    song = read_salami(BILLBOARD / args.song / "salami_chords.txt")
    arrangement = arrange_billboard(song, rng=np.random.default_rng(args.seed))
    (soundfont,) = select_soundfonts(find_soundfonts(), [args.soundfont])
    audio = render_arrangement(
        arrangement,
        soundfont,
        mix=draw_mix(np.random.default_rng(args.seed + 1)),
        sample_rate_hz=SAMPLE_RATE_HZ,
    )

    chords = [c for c in arrangement.chords if c.label != "N"]
    start_s = chords[0].start_s
    cut_s = max((c.start_s for c in chords if c.start_s - start_s <= args.seconds), default=None)
    if cut_s is None or cut_s <= start_s:
        cut_s = start_s + args.seconds
    segments = [
        ChordSegment(
            round(c.start_s - start_s, 6), round(min(c.end_s, cut_s) - start_s, 6), c.label
        )
        for c in arrangement.chords
        if c.end_s > start_s and c.start_s < cut_s
    ]
    first, last = int(round(start_s * SAMPLE_RATE_HZ)), int(round(cut_s * SAMPLE_RATE_HZ))
    clip = audio[first:last]
    fade = int(0.05 * SAMPLE_RATE_HZ)
    clip[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=clip.dtype)[:, None]

    args.out.mkdir(parents=True, exist_ok=True)
    soundfile.write(
        args.out / "example.flac", clip, SAMPLE_RATE_HZ, format="FLAC", subtype="PCM_16"
    )
    (args.out / "example.lab").write_text(format_lab(segments))
    (args.out / "example.key").write_text(
        f"0.000000\t{segments[-1].end_s:.6f}\t{key_to_jams(arrangement.key)}\n"
    )
    print(
        f"wrote {args.out}/example.flac ({len(clip) / SAMPLE_RATE_HZ:.1f} s, {song.title} by "
        f"{song.artist}, {soundfont.name}, {arrangement.tempo_bpm:.0f} bpm)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
