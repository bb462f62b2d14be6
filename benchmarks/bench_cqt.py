"""Benchmark the CQT front end against librosa on a 4-minute stereo 44.1 kHz recording.

Each pipeline reads the file with soundfile (float32) and computes the 252-bin variable-Q
magnitudes of both channels at 22.05 kHz with the parameters of ``models.cqt.DEFAULT_CQT``:

* ``models.cqt``: ``cqt(samples, sample_rate_hz=44100)`` (resamples inside, log-compressed);
* ``resample() + models.cqt``: ``models.cqt.resample`` (plain ``scipy.signal.resample_poly``)
  first, then ``cqt`` at 22.05 kHz, as when the audio loader resamples;
* ``librosa``: ``librosa.resample(res_type="soxr_hq")`` then ``librosa.vqt`` of the same bins
  (same fmin, bins, gamma, filter_scale, hop; ``res_type="soxr_hq"``) on the stereo array,
  then ``np.abs``.

Times: every pipeline runs once to warm up, then ``--repeats`` times, interleaved; the table
gives the median and minimum wall time and the median CPU time of load + transform. Memory and
first-call time: each pipeline also runs in two fresh subprocesses, one timing its first call
and one reporting, after a warm-up on two seconds of noise, the peak RSS (``VmHWM``) of load +
transform, its growth over the RSS before, and the ``tracemalloc`` peak.

Without ``--path`` a synthetic recording (harmonic chord tones, bass, melody, noise; fixed seed)
is written once to ``.cache/bench/``. With ``--write-docs`` the table replaces the section
between ``<!-- cqt-bench:start -->`` and ``<!-- cqt-bench:end -->`` in ``docs/benchmarks.md``.

    python benchmarks/bench_cqt.py --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
import soundfile

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from models.cqt import DEFAULT_CQT, cqt, resample  # noqa: E402

BENCH_DIR = REPO / ".cache" / "bench"
DOCS = REPO / "docs" / "benchmarks.md"
START, END = "<!-- cqt-bench:start -->", "<!-- cqt-bench:end -->"
PIPELINES = ("models.cqt", "resample() + models.cqt", "librosa")


# --- test signal -----------------------------------------------------------------------------


def synthesise(path: Path, *, duration_s: float, sample_rate_hz: int = 44100) -> None:
    """Write a stereo 16-bit WAV of chords, bass and melody over noise (fixed seed)."""
    rng = np.random.default_rng(20240601)
    n = int(duration_s * sample_rate_hz)
    out = np.zeros((n, 2), dtype=np.float32)
    progression = ((48, 52, 55), (45, 48, 52), (41, 45, 48), (43, 47, 50))  # C Am F G (MIDI)
    chord_s = 2.0

    def note(midi: int, start_s: float, length_s: float, gain: float, pan: float) -> None:
        i0 = int(start_s * sample_rate_hz)
        i1 = min(n, i0 + int(length_s * sample_rate_hz))
        t = np.arange(i1 - i0) / sample_rate_hz
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        wave = np.zeros_like(t)
        for h in range(1, 9):
            if h * f0 < 10000:
                wave += np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) / h**1.3
        wave *= gain * np.exp(-2.5 * t) * np.minimum(1.0, t / 0.01)
        out[i0:i1, 0] += (wave * (1 - pan)).astype(np.float32)
        out[i0:i1, 1] += (wave * pan).astype(np.float32)

    for i in range(int(duration_s / chord_s)):
        chord = progression[i % len(progression)]
        start = i * chord_s
        for midi in chord:
            note(midi, start, chord_s, 0.08, rng.uniform(0.3, 0.7))
        note(chord[0] - 12, start, chord_s / 2, 0.12, 0.5)
        note(chord[0] - 12, start + chord_s / 2, chord_s / 2, 0.1, 0.5)
        for beat in range(4):
            note(
                int(rng.choice(chord)) + 12 * int(rng.integers(1, 3)),
                start + beat / 2,
                0.5,
                0.05,
                0.6,
            )
    out += 0.003 * rng.standard_normal(out.shape).astype(np.float32)
    out /= 1.1 * np.abs(out).max()
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, out, sample_rate_hz, subtype="PCM_16")


# --- the pipelines ---------------------------------------------------------------------------


def run(pipeline: str, path: Path) -> np.ndarray:
    """Load `path` and transform it with one pipeline; return the magnitudes or features."""
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return transform(pipeline, samples, rate)


def transform(pipeline: str, samples: np.ndarray, rate: int) -> np.ndarray:
    """Transform float32 samples (n, 2) at `rate` with one pipeline."""
    config = DEFAULT_CQT
    if pipeline == "models.cqt":
        return cqt(samples, sample_rate_hz=rate, config=config)
    if pipeline == "resample() + models.cqt":
        resampled = resample(samples, orig_hz=rate, target_hz=config.sample_rate_hz)
        return cqt(resampled, sample_rate_hz=config.sample_rate_hz, config=config)
    if pipeline == "librosa":
        import librosa

        y = librosa.resample(
            samples.T, orig_sr=rate, target_sr=config.sample_rate_hz, res_type="soxr_hq"
        )
        return np.abs(
            librosa.vqt(
                y,
                sr=config.sample_rate_hz,
                hop_length=config.hop_length,
                fmin=config.fmin_hz,
                n_bins=config.n_bins,
                bins_per_octave=config.bins_per_octave,
                gamma=config.gamma_hz,
                filter_scale=config.filter_scale,
                res_type="soxr_hq",
            )
        )
    raise ValueError(f"unknown pipeline {pipeline!r}")


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(pipeline: str, path: Path, *, memory: bool) -> None:
    """Run one pipeline in this (fresh) process and print its figures as JSON.

    Without `memory`: the time of the first call. With `memory`: after a warm-up on two
    seconds of noise (lazy imports, JIT, filters), the peak RSS, its growth over the RSS
    before the run, and the tracemalloc peak of load + transform.
    """
    if pipeline == "librosa":
        import librosa  # noqa: F401  (imports are not part of the first call)
    if not memory:
        t0 = time.perf_counter()
        run(pipeline, path)
        print(json.dumps({"first_call_s": time.perf_counter() - t0}))
        return
    noise = np.random.default_rng(0).standard_normal((2 * 44100, 2)).astype(np.float32)
    transform(pipeline, 0.1 * noise, 44100)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
    rss_before = _status_mib("VmRSS")
    tracemalloc.start()
    run(pipeline, path)
    figures = {
        "rss_before_mib": rss_before,
        # VmHWM, not ru_maxrss: the latter keeps the parent's figure across fork + exec.
        "peak_rss_mib": _status_mib("VmHWM"),
        "traced_peak_mib": tracemalloc.get_traced_memory()[1] / 2**20,
    }
    print(json.dumps(figures))


def _subprocess(pipeline: str, path: Path, *, memory: bool) -> dict:
    command = [sys.executable, __file__, "--child", pipeline, "--path", str(path)]
    if memory:
        command.append("--memory")
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- report ----------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import librosa

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPU cores ({model}), Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, librosa {librosa.__version__}, "
        f"soundfile {soundfile.__version__}; OPENBLAS_NUM_THREADS {threads}; "
        f"load average {load:.1f} when the run started"
    )


def benchmark(path: Path, *, repeats: int) -> str:
    """Run everything and return the Markdown section."""
    info = soundfile.info(str(path))
    header = machine()
    for pipeline in PIPELINES:  # warm-up: kernels, librosa's filter construction and JIT
        run(pipeline, path)
    wall: dict[str, list[float]] = {p: [] for p in PIPELINES}
    cpu: dict[str, list[float]] = {p: [] for p in PIPELINES}
    load_s: list[float] = []
    for r in range(repeats):
        order = PIPELINES if r % 2 == 0 else PIPELINES[::-1]
        for pipeline in order:
            w0, c0 = time.perf_counter(), time.process_time()
            run(pipeline, path)
            wall[pipeline].append(time.perf_counter() - w0)
            cpu[pipeline].append(time.process_time() - c0)
        w0 = time.perf_counter()
        soundfile.read(path, dtype="float32", always_2d=True)
        load_s.append(time.perf_counter() - w0)
    cold = {p: _subprocess(p, path, memory=False) for p in PIPELINES}
    memory = {p: _subprocess(p, path, memory=True) for p in PIPELINES}

    reference = statistics.median(wall["librosa"])
    rows = []
    for pipeline in PIPELINES:
        median = statistics.median(wall[pipeline])
        mem = memory[pipeline]
        rows.append(
            f"| {pipeline} | {median:.3f} s | {min(wall[pipeline]):.3f} s "
            f"| {statistics.median(cpu[pipeline]):.3f} s | {reference / median:.2f}x "
            f"| {cold[pipeline]['first_call_s']:.2f} s | {mem['peak_rss_mib']:.0f} MiB "
            f"| {mem['peak_rss_mib'] - mem['rss_before_mib']:.0f} MiB "
            f"| {mem['traced_peak_mib']:.0f} MiB |"
        )
    load = statistics.median(load_s)
    ours = statistics.median(wall["models.cqt"])
    librosa_s = statistics.median(wall["librosa"])
    compute_ratio = (librosa_s - load) / (ours - load)
    duration = info.frames / info.samplerate
    command = "python benchmarks/bench_cqt.py --write-docs"
    if repeats != 7:
        command += f" --repeats {repeats}"
    return "\n".join(
        [
            "## CQT front end against librosa",
            "",
            f"Load + resample to 22.05 kHz + 252-bin variable-Q transform (36 bins per octave from "
            f"C1, hop 2048, gamma {DEFAULT_CQT.gamma_hz:g} Hz) of a {duration / 60:.0f}-minute "
            f"stereo {info.samplerate / 1000:g} kHz 16-bit WAV (synthetic chords, bass, melody "
            f"and noise, `.cache/bench/`), both channels. Median of {repeats} interleaved runs "
            "after one warm-up run each. *First call*: the first load + transform in a fresh "
            "process after `import models.cqt` or `import librosa`, so it includes what those "
            "import lazily, filter construction and librosa's JIT compilation. "
            "`librosa` is `librosa.resample(res_type='soxr_hq')` + `librosa.vqt` of the same "
            "bins on the stereo array; `resample() + models.cqt` resamples with plain "
            "`scipy.signal.resample_poly` first (what a loader that resamples does); "
            "`models.cqt` passes the 44.1 kHz samples and lets `cqt` resample (same features "
            "to float32 rounding).",
            "",
            f"    {command}",
            "",
            "| pipeline | median | min | CPU (median) | speed-up vs librosa | first call "
            "| peak RSS | RSS growth | traced peak |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Reading the file takes {load:.3f} s of each run (median); without it `models.cqt` "
            f"is {compute_ratio:.1f}x faster than librosa. Memory is measured after a warm-up "
            "on two seconds of noise in the same fresh process: *peak RSS* of load + transform, "
            "*RSS growth* over the RSS just before, and *traced peak*, the largest total of "
            "Python and numpy allocations (tracemalloc), which includes the decoded samples "
            f"({info.frames * 2 * 4 / 2**20:.0f} MiB as float32) and the result.",
            "",
            f"Machine: {header}.",
        ]
    )


def write_docs(section: str) -> None:
    """Replace the text between the markers in docs/benchmarks.md (append them if missing)."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, help="audio file (default: synthetic, written once)")
    parser.add_argument("--duration-s", type=float, default=240.0, help="synthetic length")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--child", choices=PIPELINES, help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        child(args.child, args.path, memory=args.memory)
        return
    path = args.path
    if path is None:
        path = BENCH_DIR / f"cqt_{args.duration_s:g}s_44100_stereo.wav"
        if not path.exists():
            print(f"writing {path}", file=sys.stderr)
            synthesise(path, duration_s=args.duration_s)
    section = benchmark(path, repeats=args.repeats)
    print(section)
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    main()
