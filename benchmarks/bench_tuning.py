"""Cost of detuning on chord accuracy, with and without tuning estimation (docs/benchmarks.md).

Every labelled audio file of DATA (``<stem>.flac`` + ``<stem>.lab``, as ``chordcli eval
--audio``) is pitch-shifted by a random offset drawn uniformly from -MAX..+MAX cents (seeded,
one per song): the audio is resampled with soxr as if it had been recorded at
``rate * 2 ** (cents / 1200)`` (pitches rise by ``cents`` and the song gets shorter by the same
factor; the reference chord times are scaled with it). Each song is transcribed four times:

* ``in tune, auto``: the original audio, ``--tuning auto``;
* ``in tune, 0``: the original audio, ``--tuning 0`` (auto against none on in-tune audio);
* ``shifted, auto``: the shifted audio, ``--tuning auto`` (the default);
* ``shifted, 0``: the shifted audio, ``--tuning 0`` (what chordcli did before estimating it);

and scored with the mir_eval chord metrics (duration-weighted over the songs). The tuning
error is the estimate on the shifted audio minus the estimate on the original minus the shift.

    python benchmarks/bench_tuning.py /work/cache/corpus-dev/dev --limit 12
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from chordcli.audio import Audio, load_audio
from chordcli.evaluate import aggregate_scores, find_labelled_audio, read_annotation, score_song
from chordcli.pipeline import analyse_audio
from models.backend import DEFAULT_MODEL, load_backend

METRICS = ("root", "majmin", "sevenths")


def shift_audio(audio: Audio, cents: float) -> Audio:
    """Raise every pitch by `cents` (and shorten the audio by the same factor) with soxr."""
    import soxr

    ratio = 2.0 ** (cents / 1200.0)
    rate = audio.sample_rate_hz
    samples = soxr.resample(audio.samples, rate * ratio, rate, quality="HQ")
    return Audio(samples=np.ascontiguousarray(samples, dtype=np.float32), sample_rate_hz=rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="labelled audio folder")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--limit", type=int, default=None, help="first N songs by name")
    parser.add_argument("--max-cents", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    backend = load_backend(args.model)
    pairs = find_labelled_audio(args.data).pairs[: args.limit]
    rng = np.random.default_rng(args.seed)
    scores: dict[str, list] = {
        "in tune, auto": [],
        "in tune, 0": [],
        "shifted, auto": [],
        "shifted, 0": [],
    }
    errors = []
    minutes = 0.0
    clock = time.perf_counter()
    for pair in pairs:
        cents = float(rng.uniform(-args.max_cents, args.max_cents))
        audio = load_audio(pair.est_path, sample_rate_hz=backend.cqt_config.sample_rate_hz)
        minutes += audio.duration_s / 60
        reference = read_annotation(pair.ref_path).segments
        ratio = 2.0 ** (cents / 1200.0)
        shifted_ref = tuple(
            replace(s, start_s=s.start_s / ratio, end_s=s.end_s / ratio) for s in reference
        )
        shifted = shift_audio(audio, cents)
        runs = {
            "in tune, auto": (audio, None, reference),
            "in tune, 0": (audio, 0.0, reference),
            "shifted, auto": (shifted, None, shifted_ref),
            "shifted, 0": (shifted, 0.0, shifted_ref),
        }
        tunings = {}
        for name, (samples, tuning, ref) in runs.items():
            t = analyse_audio(samples, backend=backend, tuning_cents=tuning).transcription
            tunings[name] = t.tuning_cents
            scores[name].append(score_song(ref, t.segments, name=pair.name))
        error = tunings["shifted, auto"] - tunings["in tune, auto"] - cents
        errors.append((error + 50) % 100 - 50)
        majmin = [100 * scores[n][-1].scores["majmin"] for n in runs]
        print(
            f"{pair.name}: shift {cents:+5.1f} c, estimated {tunings['shifted, auto']:+5.1f} "
            f"(in tune {tunings['in tune, auto']:+5.1f}); majmin "
            + " / ".join(f"{m:.1f}" for m in majmin),
            flush=True,
        )
    elapsed = time.perf_counter() - clock
    errors_c = np.abs(np.asarray(errors))
    print(
        f"\n{len(pairs)} songs, {minutes:.1f} min of audio, model {backend.name}, shifts "
        f"uniform in +-{args.max_cents:g} cents (seed {args.seed}); {elapsed:.0f} s\n"
    )
    print("| audio | tuning | " + " | ".join(METRICS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in METRICS) + " |")
    for name, songs in scores.items():
        total = aggregate_scores(songs)
        audio_name, tuning = name.split(", ")
        cells = " | ".join(f"{100 * total.weighted[m]:.1f}" for m in METRICS)
        print(f"| {audio_name} | {tuning} | {cells} |")
    print(
        f"\nTuning error on the shifted audio: median {np.median(errors_c):.1f} cents, "
        f"max {errors_c.max():.1f} cents."
    )


if __name__ == "__main__":
    main()
