"""Latency and accuracy of live transcription (``chordcli listen --simulate``) against offline.

Each labelled audio file of DATA (``<stem>.flac`` + ``<stem>.lab``) is cut to its first
``--seconds`` and played in real time into :class:`chordcli.live.LiveTranscriber` (as
``chordcli listen --simulate`` does, sharing the machine with whatever else runs); the same
clip is also transcribed offline. For every chord the live run displays, the latency is the
wall-clock time of the display minus the moment the chord began in the playback: the live
decoder's own change time, and the change time of the offline transcription when the offline
run has the same chord within 1.5 s (the change as the whole recording places it). majmin is
scored with mir_eval against the reference, duration-weighted over the clips. The CPU time of
each update (all threads of the process) is reported too: on a quiet machine the latency is
about the look-ahead plus half the update interval plus that time.

    python benchmarks/bench_listen.py /work/cache/corpus-dev/dev --limit 4 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from chordcli.audio import Audio, load_audio
from chordcli.evaluate import aggregate_scores, find_labelled_audio, read_annotation, score_song
from chordcli.live import LiveChord, LiveTranscriber, run_live, simulated_input
from chordcli.pipeline import analyse_audio
from models.backend import DEFAULT_MODEL, load_backend


def crop(segments, end_s):
    """Reference segments cut at `end_s`."""
    return [type(s)(s.start_s, min(s.end_s, end_s), s.label) for s in segments if s.start_s < end_s]


class Timed(LiveTranscriber):
    """A live transcriber that records the wall and CPU time of every update."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wall_s, self.cpu_s = [], []

    def update(self):
        wall, cpu = time.perf_counter(), time.process_time()
        events = super().update()
        self.wall_s.append(time.perf_counter() - wall)
        self.cpu_s.append(time.process_time() - cpu)
        return events


def live_run(backend, clip, *, update_s, lookahead):
    """Play `clip` in real time into a live transcriber; return it and the displayed chords."""
    rate = clip.sample_rate_hz
    live = Timed(backend, sample_rate_hz=rate, lookahead_frames=lookahead)
    shown: list[tuple[float, LiveChord]] = []
    with simulated_input(clip.samples, sample_rate_hz=rate) as blocks:
        start = time.monotonic()

        def show(chord: LiveChord) -> None:
            shown.append((time.monotonic() - start, chord))

        run_live(blocks, live, on_chord=show, update_s=update_s)
    return live, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="labelled audio folder")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--limit", type=int, default=4, help="first N songs by name")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each clip")
    parser.add_argument("--update", type=float, default=None, help="update interval, s")
    parser.add_argument("--lookahead", type=int, default=None, help="look-ahead, frames")
    args = parser.parse_args()
    from chordcli import live as settings

    update_s = settings.LIVE_UPDATE_S if args.update is None else args.update
    lookahead = settings.LIVE_LOOKAHEAD_FRAMES if args.lookahead is None else args.lookahead

    backend = load_backend(args.model)
    rate = backend.cqt_config.sample_rate_hz
    pairs = find_labelled_audio(args.data).pairs[: args.limit]
    live_scores, offline_scores = [], []
    own, against_offline, cpu, wall = [], [], [], []
    load = [os.getloadavg()[0]]
    for pair in pairs:
        full = load_audio(pair.est_path, sample_rate_hz=rate)
        samples = np.ascontiguousarray(full.samples[: int(args.seconds * rate)])
        clip = Audio(samples=samples, sample_rate_hz=rate)
        reference = crop(read_annotation(pair.ref_path).segments, clip.duration_s)
        offline = analyse_audio(clip, backend=backend).transcription
        offline_changes = [(s.start_s, s.label) for s in offline.segments]
        live, shown = live_run(backend, clip, update_s=update_s, lookahead=lookahead)
        cpu += live.cpu_s
        wall += live.wall_s
        for wall_s, chord in shown:
            if chord.start_s <= 0.0 or wall_s > clip.duration_s:  # the first chord, the flush
                continue
            own.append(wall_s - chord.start_s)
            near = [t for t, label in offline_changes if label == chord.label]
            near = [t for t in near if abs(t - chord.start_s) <= 1.5]
            if near:
                against_offline.append(wall_s - min(near, key=lambda t: abs(t - chord.start_s)))
        live_scores.append(score_song(reference, live.segments(), name=pair.name))
        offline_scores.append(score_song(reference, offline.segments, name=pair.name))
        load.append(os.getloadavg()[0])
        print(
            f"{pair.name}: majmin live {100 * live_scores[-1].scores['majmin']:.1f}, "
            f"offline {100 * offline_scores[-1].scores['majmin']:.1f}; {len(shown)} chords shown",
            flush=True,
        )
    live_total = aggregate_scores(live_scores).weighted["majmin"]
    offline_total = aggregate_scores(offline_scores).weighted["majmin"]
    print(
        f"\n{len(pairs)} clips of {args.seconds:g} s, model {backend.name}, update every "
        f"{update_s} s, look-ahead {lookahead} frames; 1-min load average "
        f"{min(load):.1f}..{max(load):.1f} on {os.cpu_count()} CPUs\n"
    )
    print("| | majmin | latency median | latency 90th pct | latency max | changes |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| offline | {100 * offline_total:.1f} | | | | |")
    for name, lat in (
        ("live, own change time", own),
        ("live, offline change time", against_offline),
    ):
        a = np.asarray(lat)
        print(
            f"| {name} | {100 * live_total:.1f} | {np.median(a):.2f} s | "
            f"{np.percentile(a, 90):.2f} s | {a.max():.2f} s | {len(a)} |"
        )
    c, w = np.asarray(cpu), np.asarray(wall)
    print(
        f"\nper update ({len(c)}): CPU time median {np.median(c):.3f} s, 90th pct "
        f"{np.percentile(c, 90):.3f} s; wall time median {np.median(w):.3f} s, 90th pct "
        f"{np.percentile(w, 90):.3f} s"
    )


if __name__ == "__main__":
    main()
