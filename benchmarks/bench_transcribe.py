"""Time `chordcli transcribe`: each stage and its peak memory, or whole processes (--whole).

The audio is synthesised (a loop of harmonic chord tones with a drum-like click on every beat,
44.1 kHz stereo WAV) under .cache/bench/ and reused on later runs. Every file is transcribed in a
fresh process so that its peak RSS is its own; the start-up (imports, model loading) is timed
separately and is not part of the stage times.

    python benchmarks/bench_transcribe.py [--model template] [--markdown]

``--whole`` times complete ``python -m chordcli`` processes instead, as a user runs them
(wall time from start to exit and the process's peak RSS, median of ``--repeats`` runs):
``--help``, a missing input, the bundled example, a 4-minute file with the default model and
with ``--model template`` in the same run, the 60-minute file and a batch of four 4-minute
files, each case in turn for every round; the load average before and after is printed with
the table, each process's CPU time (user + system) beside its wall time, and then every target
of issue #22 against its measured figure.

    python benchmarks/bench_transcribe.py --whole --repeats 3

``--beats`` times tempo estimation and beat tracking (``chordcli.beats.track_beats``) on the
60-minute file's onset envelope (median of ``--repeats``, at least 5).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"
RATE = 44100
LOOP = ["C:maj", "A:min", "F:maj", "G:7", "E:min", "A:min7", "D:min", "G:maj"]


def _loop_audio(seconds_per_chord: float = 2.0) -> np.ndarray:
    from theory.harte import parse_chord

    n = int(seconds_per_chord * RATE)
    t = np.arange(n) / RATE
    env = np.minimum(1.0, t / 0.02) * np.exp(-0.7 * t)
    rng = np.random.default_rng(0)
    parts = []
    for label in LOOP:
        chord = parse_chord(label)
        y = np.zeros(n)
        notes = [36 + chord.bass_pc] + [
            60 + (chord.root_pc + i) % 12 - (12 if (chord.root_pc + i) % 12 > 7 else 0)
            for i in sorted(chord.intervals)
        ]
        for midi in notes:
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            for h in range(1, 7):
                y += 0.6 ** (h - 1) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
        y *= env
        beat = int(0.5 * RATE)
        click = rng.normal(size=800) * np.exp(-np.arange(800) / 120.0) * 4.0
        for b in range(0, n, beat):
            y[b : b + 800] += click[: len(y[b : b + 800])]
        parts.append(y)
    loop = np.concatenate(parts)
    loop = 0.4 * loop / np.abs(loop).max()
    return np.stack([loop, 0.9 * loop], axis=1).astype(np.float32)


def make_audio(minutes: float) -> Path:
    import soundfile

    path = CACHE / f"loop-{minutes:g}min.wav"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    loop = _loop_audio()
    total = int(minutes * 60 * RATE)
    tmp = path.with_suffix(".tmp.wav")
    with soundfile.SoundFile(tmp, "w", samplerate=RATE, channels=2, subtype="PCM_16") as f:
        written = 0
        while written < total:
            block = loop[: total - written]
            f.write(block)
            written += len(block)
    tmp.rename(path)
    return path


def run_one(path: Path, model: str) -> dict:
    """Transcribe one file in this process; return stage times and peak RSS."""
    start = time.perf_counter()
    from chordcli.jsonio import write_json
    from chordcli.lab import write_lab
    from chordcli.pipeline import analyse_file
    from models.backend import load_backend

    backend = load_backend(model)
    startup_s = time.perf_counter() - start
    result = analyse_file(path, backend=backend)
    clock = time.perf_counter()
    out = CACHE / "out"
    out.mkdir(exist_ok=True)
    write_lab(result.transcription.segments, out / (path.stem + ".lab"), overwrite=True)
    write_json(result.transcription, out / (path.stem + ".json"), overwrite=True)
    write_s = time.perf_counter() - clock
    times = result.times
    return {
        "file": path.name,
        "duration_s": result.transcription.duration_s,
        "startup_s": startup_s,
        "load_s": times.load_s,
        "cqt_s": times.cqt_s,
        "model_s": times.model_s,
        "decode_s": times.decode_s,
        "beats_s": times.beats_s,
        "write_s": write_s,
        "total_s": times.total_s + write_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "segments": len(result.transcription.segments),
        "tempo_bpm": result.transcription.tempo_bpm,
    }


def run_process(args: list[str]) -> tuple[float, float, int, float]:
    """Run ``python -m chordcli ARGS``; return wall time (s), peak RSS (MB), exit status, CPU s.

    The CPU time is user + system of the process (and its threads).
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chordcli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=CACHE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall_s = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall_s, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def whole_processes(repeats: int) -> list[dict]:
    """Median wall time, CPU time and peak RSS of whole chordcli processes (module doc).

    The cases run in turn, ``repeats`` rounds, so that a change of load touches them all.
    """
    out = CACHE / "out"
    out.mkdir(parents=True, exist_ok=True)
    four, sixty = make_audio(4.0), make_audio(60.0)
    batch = []
    for i in range(4):
        link = CACHE / f"batch-{i}.wav"
        if not link.exists():
            os.link(four, link)
        batch.append(str(link))
    example = str(REPO / "examples" / "example.flac")
    cases = [
        ("chordcli --help", ["--help"], 0.0),
        ("missing input", ["transcribe", str(CACHE / "missing.wav"), "-o", "m.lab"], 0.0),
        ("bundled example (27 s)", ["transcribe", example, "-o", "out/ex.lab"], 26.7 / 60),
        ("4-min song", ["transcribe", str(four), "-o", "out/a.lab"], 4.0),
        (
            "4-min song, template",
            ["transcribe", str(four), "-o", "out/t.lab", "--model", "template"],
            4.0,
        ),
        ("60-min file", ["transcribe", str(sixty), "-o", "out/b.lab"], 60.0),
        ("batch of 4 x 4 min", ["transcribe", *batch, "-o", "out/"], 16.0),
    ]
    runs: dict[str, list] = {name: [] for name, _, _ in cases}
    for _ in range(repeats):
        for name, args, _ in cases:
            for f in out.iterdir():
                f.unlink()
            runs[name].append(run_process(args))
    return [
        {
            "case": name,
            "wall_s": statistics.median(r[0] for r in runs[name]),
            "peak_rss_mb": statistics.median(r[1] for r in runs[name]),
            "exit": runs[name][0][2],
            "cpu_s": statistics.median(r[3] for r in runs[name]),
            "audio_min": minutes,
        }
        for name, _, minutes in cases
    ]


def acceptance(rows: list[dict]) -> list[tuple[str, str, str, bool]]:
    """Issue #22's targets against the measured rows: (what, measured, target, met)."""
    by = {r["case"]: r for r in rows}
    song, template = by["4-min song"], by["4-min song, template"]
    example, sixty = by["bundled example (27 s)"], by["60-min file"]
    batch, missing, help_ = by["batch of 4 x 4 min"], by["missing input"], by["chordcli --help"]
    per_min = batch["wall_s"] / batch["audio_min"]
    return [
        ("4-min song, wall time", f"{song['wall_s']:.2f} s", "<= 3.0 s", song["wall_s"] <= 3.0),
        (
            "4-min song / template",
            f"{song['wall_s'] / template['wall_s']:.2f} x",
            "<= 1.4 x",
            song["wall_s"] <= 1.4 * template["wall_s"],
        ),
        (
            "4-min song, peak RSS",
            f"{song['peak_rss_mb']:.0f} MB",
            "<= 400 MB",
            song["peak_rss_mb"] <= 400,
        ),
        ("bundled example", f"{example['wall_s']:.2f} s", "<= 2.0 s", example["wall_s"] <= 2.0),
        (
            "missing input / --help",
            f"{missing['wall_s'] / help_['wall_s']:.2f} x",
            "<= 3 x",
            missing["wall_s"] <= 3 * help_["wall_s"] and missing["exit"] != 0,
        ),
        ("60-min file, wall time", f"{sixty['wall_s']:.2f} s", "<= 15 s", sixty["wall_s"] <= 15),
        (
            "60-min file, peak RSS",
            f"{sixty['peak_rss_mb']:.0f} MB",
            "<= 800 MB",
            sixty["peak_rss_mb"] <= 800,
        ),
        ("batch, per audio minute", f"{per_min:.3f} s", "<= 0.25 s", per_min <= 0.25),
    ]


def print_whole(rows: list[dict], load_before: float, load_after: float) -> None:
    template = next(r for r in rows if r["case"].endswith("template"))["wall_s"]
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after\n")
    print("| case | wall time | CPU (user + sys) | peak RSS | exit | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        notes = []
        if r["audio_min"] >= 1:
            notes.append(f"{r['wall_s'] / r['audio_min']:.3f} s per audio minute")
        if r["case"] == "4-min song":
            notes.append(f"{r['wall_s'] / template:.2f} x template")
        print(
            f"| {r['case']} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | "
            f"{r['peak_rss_mb']:.0f} MB | {r['exit']} | {', '.join(notes)} |"
        )
    print("\n| target | measured | wanted | met |")
    print("| --- | --- | --- | --- |")
    for what, measured, wanted, met in acceptance(rows):
        print(f"| {what} | {measured} | {wanted} | {'yes' if met else 'NO'} |")
    if max(load_before, load_after) > 1.5:
        print(
            f"\nwarning: load average {max(load_before, load_after):.1f} > 1.5: other processes "
            "shared the CPU, so the wall times are upper bounds (see the CPU column)"
        )


def time_beats(repeats: int) -> None:
    """Median time of the onset envelope and of tempo + beat tracking of the 60-min file."""
    from chordcli.audio import AudioStream
    from chordcli.beats import OnsetFlux, track_beats

    stream = AudioStream(make_audio(60.0), sample_rate_hz=22050)
    flux = OnsetFlux(sample_rate_hz=22050)
    clock = time.perf_counter()
    for block in stream.blocks():
        flux.push(block)
    envelope = flux.envelope()
    read_s = time.perf_counter() - clock
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        beats = track_beats(envelope)
        times.append(time.perf_counter() - clock)
    print(
        f"60-min file: read + onset envelope {read_s:.2f} s; tempo + beat tracking median "
        f"{statistics.median(times):.3f} s (min {min(times):.3f} s, {repeats} runs), "
        f"{len(beats.beats_s)} beats; load average {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="template")
    parser.add_argument("--minutes", type=float, nargs="+", default=[4.0, 60.0])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--whole", action="store_true", help="time whole processes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--beats", action="store_true", help="time beat tracking (60 min)")
    args = parser.parse_args()
    if args.beats:
        time_beats(max(args.repeats, 5))
        return
    if args.whole:
        before = os.getloadavg()[0]
        rows = whole_processes(args.repeats)
        print_whole(rows, before, os.getloadavg()[0])
        return
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.model)))
        return
    rows = []
    for minutes in args.minutes:
        path = make_audio(minutes)
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(path), "--model", args.model],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.markdown:
        keys = ["load_s", "cqt_s", "model_s", "decode_s", "beats_s", "write_s", "total_s"]
        print("| audio | " + " | ".join(k[:-2] for k in keys) + " | peak RSS | start-up |")
        print("| --- " * (len(keys) + 3) + "|")
        for r in rows:
            cells = " | ".join(f"{r[k]:.2f} s" for k in keys)
            print(
                f"| {r['duration_s'] / 60:.0f} min, 44.1 kHz stereo | {cells} | "
                f"{r['peak_rss_mb']:.0f} MB | {r['startup_s']:.2f} s |"
            )
    else:
        for r in rows:
            print(json.dumps(r))


if __name__ == "__main__":
    main()
