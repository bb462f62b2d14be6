"""Label-free check on real recordings: quality shares and pitch-shift consistency.

    python benchmarks/bench_real.py /work/cache/real [--per-package 4] [--excerpt-s 60] \\
        [--model chordnet-v1] [--decoder before=OLD_CONFIG.json] [--decoder after=model]

The recordings (``scripts/collect_real.py``: game and film soundtracks, band and electronic
music from nine Debian packages) have no chord labels, so two things are measured that need
none. A check, not a tuning target:

* **quality shares**: each chord quality's share of the transcribed time beside its share in
  the Billboard annotations of 890 real songs (duration-weighted; ``--billboard``), and the
  share of ``N`` on non-silent audio (100 ms windows whose RMS is within 40 dB of the
  excerpt's loud windows). A quality rare in real songs (under 2 % of Billboard's time) is
  over-called when it takes more than max(1.25 x its Billboard share, 0.5 %) of the time.
* **pitch-shift consistency**: each excerpt is resampled to play ``k`` semitones higher
  (``k = -3..3``; faster or slower by ``2 ** (k / 12)``), transcribed, and its labels are
  mapped back (transposed by ``-k``, times rescaled); the mir_eval ``majmin`` score of the
  mapped transcription against the excerpt's own transcription is the agreement. A system
  that hears harmony, not timbre, agrees with itself. Since ``N`` against ``N`` agrees, a
  system that calls ``N`` more often also agrees more easily; the agreement is therefore
  also given over the time where the excerpt's own transcription names a chord ("chords").

The excerpts: per package, ``--per-package`` recordings evenly spaced in the sorted list,
``--excerpt-s`` seconds from each one's middle. Each ``--decoder NAME=SOURCE`` decodes the same
network outputs with another decoder section: ``model`` (the model's own), or a JSON file (a
config.json or its ``decoder`` section). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chordcli.audio import Audio, load_audio  # noqa: E402
from chordcli.evaluate import score_song  # noqa: E402
from chordcli.segments import ChordSegment  # noqa: E402
from theory import QUALITIES  # noqa: E402
from theory.decode import DecoderSettings  # noqa: E402
from theory.transpose import transpose_label  # noqa: E402
from theory.vocabulary import N_QUALITIES, chord_class, class_quality_indices  # noqa: E402

NAMES = [q.name or "maj" for q in QUALITIES] + ["N"]
SHIFTS = (-3, -2, -1, 1, 2, 3)
RARE_SHARE = 0.02


class _SharedOutputs:
    """A backend whose network runs once per input; each instance decodes its own way."""

    cache: dict[str, object] = {}

    def __init__(self, backend, decoder: DecoderSettings) -> None:
        self._backend = backend
        self.name = backend.name
        self.cqt_config = backend.cqt_config
        self.decoder = decoder

    def predict(self, features: np.ndarray):
        key = hashlib.sha1(np.ascontiguousarray(features).tobytes()).hexdigest()
        if key not in self.cache:
            self.cache.clear()  # one input at a time is enough
            self.cache[key] = self._backend.predict(features)
        return self.cache[key]


def check_files(root: Path, per_package: int) -> list[str]:
    """The recordings of the check: per package, ``per_package`` evenly spaced in sorted order.

    Names are relative to `root`, as in its ``list.tsv`` (``package/file``).
    """
    rows = [line.split("\t") for line in (root / "list.tsv").read_text().splitlines()[1:]]
    by_package: dict[str, list[str]] = {}
    for package, file, *_ in rows:
        by_package.setdefault(package, []).append(file)
    out = []
    for _, files in sorted(by_package.items()):
        files = sorted(files)
        picks = np.linspace(0, len(files) - 1, min(per_package, len(files))).round().astype(int)
        out += [files[i] for i in sorted(set(picks.tolist()))]
    return out


def without_no_chord(segments: list[ChordSegment]) -> list[ChordSegment]:
    """The segments with ``N`` written as ``X``, which mir_eval leaves out of a score."""
    return [ChordSegment(s.start_s, s.end_s, "X") if s.label == "N" else s for s in segments]


def excerpts(root: Path, per_package: int, excerpt_s: float) -> list[tuple[str, Audio]]:
    """The excerpts of the check (see the module docstring), as (name, audio)."""
    out = []
    for name in check_files(root, per_package):
        audio = load_audio(root / name, sample_rate_hz=22050)
        n = int(excerpt_s * audio.sample_rate_hz)
        start = max(0, (audio.n_samples - n) // 2)
        samples = np.ascontiguousarray(audio.samples[start : start + n])
        out.append((name, Audio(samples, audio.sample_rate_hz, audio.path)))
    return out


def shifted(audio: Audio, k: int) -> tuple[Audio, float]:
    """The audio played ``k`` semitones higher (and faster); its time factor."""
    from scipy.signal import resample_poly

    speed = 2.0 ** (k / 12.0)
    ratio = Fraction(speed).limit_denominator(400)
    y = resample_poly(audio.samples, ratio.denominator, ratio.numerator, axis=0)
    return Audio(y.astype(np.float32), audio.sample_rate_hz), speed


def mapped_back(segments, k: int, speed: float) -> list[ChordSegment]:
    """Transpose labels by ``-k`` and stretch times by ``speed``."""
    return [
        ChordSegment(s.start_s * speed, s.end_s * speed, transpose_label(s.label, -k))
        for s in segments
    ]


def voiced_mask(audio: Audio, segments) -> np.ndarray:
    """Per segment: seconds that are not silent (see the module docstring)."""
    hop = audio.sample_rate_hz // 10
    mono = audio.samples.mean(axis=1)
    n = len(mono) // hop
    rms = np.sqrt(np.mean(mono[: n * hop].reshape(n, hop) ** 2, axis=1))
    loud = np.percentile(rms, 90) if n else 0.0
    voiced = rms > max(loud * 10 ** (-40 / 20), 10 ** (-70 / 20))
    out = []
    for s in segments:
        a, b = int(s.start_s * 10), int(np.ceil(s.end_s * 10))
        out.append(float(voiced[a:b].sum()) / 10)
    return np.array(out)


def quality_seconds(segments, voiced_s: np.ndarray) -> np.ndarray:
    """Seconds per quality (then N), N counted on non-silent audio only."""
    out = np.zeros(N_QUALITIES + 1)
    for s, voiced in zip(segments, voiced_s, strict=True):
        cls = chord_class(s.label)
        if cls is None:
            continue
        q = int(class_quality_indices(np.array([cls]))[0])
        out[q] += voiced if q == N_QUALITIES else s.end_s - s.start_s
    return out


def load_decoder(source: str, backend) -> DecoderSettings:
    if source == "model":
        return backend.decoder
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    return DecoderSettings.from_config(data.get("decoder", data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("real", type=Path, help="folder of scripts/collect_real.py")
    parser.add_argument("--per-package", type=int, default=4)
    parser.add_argument("--excerpt-s", type=float, default=60.0)
    parser.add_argument("--model", default="chordnet-v1")
    parser.add_argument("--decoder", action="append", default=[], metavar="NAME=SOURCE")
    parser.add_argument("--billboard", type=Path, default=REPO.parent / "shared/data/billboard")
    args = parser.parse_args(argv)

    from chordcli.corpus.billboard import billboard_quality_shares
    from chordcli.pipeline import analyse_audio
    from models.backend import load_backend

    backend = load_backend(args.model)
    decoders = dict(item.split("=", 1) for item in (args.decoder or ["model=model"]))
    systems = {
        name: _SharedOutputs(backend, load_decoder(s, backend)) for name, s in decoders.items()
    }
    reference, _ = billboard_quality_shares(args.billboard)
    clips = excerpts(args.real, args.per_package, args.excerpt_s)
    seconds = {name: np.zeros(N_QUALITIES + 1) for name in systems}
    agree = {name: {k: [] for k in SHIFTS} for name in systems}
    agree_chords = {name: [] for name in systems}
    packages = {name: {} for name in systems}
    total_s = 0.0
    for clip_name, audio in clips:
        total_s += audio.duration_s
        originals, chords_only = {}, {}
        for name, system in systems.items():
            segs = analyse_audio(audio, backend=system).transcription.segments
            originals[name] = segs
            chords_only[name] = without_no_chord(segs)
            seconds[name] += quality_seconds(segs, voiced_mask(audio, segs))
        for k in SHIFTS:
            moved, speed = shifted(audio, k)
            for name, system in systems.items():
                segs = analyse_audio(moved, backend=system).transcription.segments
                mapped = mapped_back(segs, k, speed)
                score = score_song(originals[name], mapped)
                value = score.scores["majmin"]
                weight = score.weights_s["majmin"]
                if weight > 0:
                    agree[name][k].append((value, weight))
                    packages[name].setdefault(clip_name.split("/")[0], []).append((value, weight))
                chords = score_song(chords_only[name], mapped)
                if chords.weights_s["majmin"] > 0:
                    agree_chords[name].append((chords.scores["majmin"], chords.weights_s["majmin"]))
        print(f"done {clip_name}", file=sys.stderr, flush=True)

    def mean(pairs) -> float:
        w = sum(p[1] for p in pairs)
        return 100 * sum(v * x for v, x in pairs) / w if w else float("nan")

    names = list(systems)
    print(f"{len(clips)} excerpts, {total_s / 60:.1f} min, model {args.model}\n")
    print("| quality | Billboard % | " + " | ".join(f"{n} %" for n in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    shares = {n: seconds[n] / max(seconds[n].sum(), 1e-9) for n in names}
    shown = [q for q in range(N_QUALITIES + 1) if reference[q] >= 0.005 or
             any(shares[n][q] >= 0.002 for n in names)]  # fmt: skip
    for q in shown:
        cells = []
        for n in names:
            share = shares[n][q]
            over = reference[q] < RARE_SHARE and share > max(1.25 * reference[q], 0.005)
            cells.append(f"{100 * share:.1f}{' (over)' if over else ''}")
        label = NAMES[q] + (" (non-silent)" if q == N_QUALITIES else "")
        print(f"| {label} | {100 * reference[q]:.1f} | " + " | ".join(cells) + " |")
    print("\n| shift k | " + " | ".join(f"{n} majmin agreement %" for n in names) + " |")
    print("|---:|" + "---:|" * len(names))
    for k in SHIFTS:
        print(f"| {k:+d} | " + " | ".join(f"{mean(agree[n][k]):.1f}" for n in names) + " |")
    print("| all | " + " | ".join(
        f"{mean([p for k in SHIFTS for p in agree[n][k]]):.1f}" for n in names) + " |")  # fmt: skip
    print("| all, chords |" + " | ".join(f"{mean(agree_chords[n]):.1f}" for n in names) + " |")
    print("\n| package | " + " | ".join(f"{n} agreement %" for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for package in sorted(packages[names[0]]):
        row = " | ".join(f"{mean(packages[n][package]):.1f}" for n in names)
        print(f"| {package} | {row} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
