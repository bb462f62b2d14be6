"""Gather the real recordings of the label-free check (benchmarks/bench_real.py) into one folder.

    python scripts/collect_real.py --out /work/cache/real [--min-seconds 45]

The recordings come from these Debian packages only (other music packages are reserved for
evaluation): asc-music, boswars-data, drascula-music, fb-music-high, nexuiz-music,
planetblupi-music-ogg, singularity-music, ufoai-music, warzone2100-music. For each installed
package the script reads its file list (``dpkg -L``), keeps the audio files that
``soundfile`` can read and that last at least ``--min-seconds`` (game sound effects are
shorter), drops copies with the same bytes, and links each into ``OUT/<package>/``. Music
inside ``.pk3`` archives (zip files) is extracted there instead. Tracker modules (``.xm``) are
not audio files and are skipped. ``OUT/list.tsv`` lists package, file, seconds and source.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGES = (
    "asc-music",
    "boswars-data",
    "drascula-music",
    "fb-music-high",
    "nexuiz-music",
    "planetblupi-music-ogg",
    "singularity-music",
    "ufoai-music",
    "warzone2100-music",
)
AUDIO_SUFFIXES = (".ogg", ".mp3", ".flac", ".wav", ".opus")


def _seconds(path: Path) -> float:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError):
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-seconds", type=float, default=45.0)
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, float, str]] = []
    seen: set[str] = set()
    for package in PACKAGES:
        proc = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{package}: not installed, skipped", file=sys.stderr)
            continue
        folder = args.out / package
        folder.mkdir(parents=True, exist_ok=True)
        for line in sorted(proc.stdout.splitlines()):
            src = Path(line)
            if not src.is_file():
                continue
            if src.suffix.lower() == ".pk3":
                with zipfile.ZipFile(src) as archive:
                    for member in sorted(archive.namelist()):
                        if not member.lower().endswith(AUDIO_SUFFIXES):
                            continue
                        dest = folder / Path(member).name
                        if not dest.exists():
                            dest.write_bytes(archive.read(member))
                        digest = _digest(dest)
                        seconds = _seconds(dest)
                        if digest in seen or seconds < args.min_seconds:
                            dest.unlink()
                            continue
                        seen.add(digest)
                        rows.append((package, dest.name, seconds, f"{src}:{member}"))
                continue
            if src.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            seconds = _seconds(src)
            digest = _digest(src) if seconds >= args.min_seconds else ""
            if seconds < args.min_seconds or digest in seen:
                continue
            seen.add(digest)
            dest = folder / src.name
            if dest.is_symlink() or dest.exists():
                dest.unlink()
            dest.symlink_to(src.resolve())
            rows.append((package, dest.name, seconds, str(src)))
    lines = ["package\tfile\tseconds\tsource"]
    lines += [f"{p}\t{p}/{f}\t{s:.1f}\t{src}" for p, f, s, src in rows]
    (args.out / "list.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = sum(r[2] for r in rows)
    print(f"{len(rows)} recordings, {total / 60:.1f} min, listed in {args.out / 'list.tsv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
