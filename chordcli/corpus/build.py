"""Plan, render and account for the corpus: jobs, the dev split, the manifest and class balance.

Layout under the output folder (the project's data-folder convention)::

    <out>/<split>/<source>/<id>.flac   stereo 44.1 kHz FLAC
    <out>/<split>/<source>/<id>.lab    Harte chord labels (written last: marks the file done)
    <out>/<split>/<source>/<id>.key    key segments, JAMS key names
    <out>/<split>/<source>/<id>.beats  beat times and positions in the bar
    <out>/<split>/<source>/<id>.json   manifest entry of the file
    <out>/manifest.jsonl, balance.md, balance.csv   rebuilt at the end of every run

A variant other than ``same`` (:data:`VARIANTS`) writes to ``<out>/<split>-<variant>/...``:
``cross`` re-arranges each song the second way (:func:`chordcli.corpus.cross.cross_arrangement`)
and renders it with a SoundFont no training file uses
(:func:`chordcli.corpus.render.cross_soundfonts`); ``degraded`` is the ``cross`` file
degraded like a recording (:mod:`chordcli.corpus.degrade`). Together they are "dev-cross".

Dev split rule: a POP909 or Billboard song is held out for dev when the first 8 hex digits of
``sha256("<source>:<id>")`` taken as an integer modulo 100 are below :data:`DEV_PERCENT`; of
the 12 rare-quality pieces of a quality, the one whose root is ``sha256("rare:<quality
index>")`` (same digits) modulo 12 is held out, so dev has every quality and training keeps 11
roots of each. The rule does not depend on the seed. Dev files are rendered with the dev
SoundFont only (:func:`chordcli.corpus.render.split_soundfonts`), training files never with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chordcli.atomic import atomic_path, write_text_atomic
from chordcli.corpus.arrangement import Arrangement
from chordcli.corpus.render import (
    SAMPLE_RATE_HZ,
    SoundFont,
    cross_soundfonts,
    draw_mix,
    render_arrangement,
    split_soundfonts,
    v2_soundfonts,
)
from chordcli.errors import ChordcliError
from chordcli.lab import format_lab, read_lab
from chordcli.segments import ChordSegment
from models.dataset import exit_with_parent
from theory.keys import key_to_jams
from theory.vocabulary import N_CLASS, QUALITIES, chord_class, class_quality, class_root

__all__ = [
    "DEFAULT_BILLBOARD_DIR",
    "DEFAULT_BILLBOARD_SONGS",
    "DEFAULT_OUT",
    "DEFAULT_POP909_DIR",
    "DEFAULT_SEED",
    "DEV_PERCENT",
    "LEAD_PARTS",
    "MAX_LEAD_DB",
    "SOURCES",
    "SPLITS",
    "VARIANTS",
    "Balance",
    "RenderJob",
    "RenderResult",
    "arrange_job",
    "balance_of",
    "check_lead_db",
    "corpus_balance",
    "draw_lead_db",
    "format_balance_csv",
    "format_balance_md",
    "plan_corpus",
    "planned_balance",
    "render_corpus",
    "render_job",
    "scale_lead",
    "song_split",
    "write_balance",
    "write_manifest",
]

#: Sources of the corpus, in rendering order.
SOURCES: tuple[str, ...] = ("pop909", "billboard", "rare")
#: Split choices of :func:`plan_corpus`.
SPLITS: tuple[str, ...] = ("train", "dev", "all")
#: How a file is played: the corpus arranger (``same``), the second arranger with a SoundFont
#: no training file uses (``cross``), that file degraded like a recording (``degraded``), or
#: the styles of real music with sung leads, power chords and a mixing chain (``v2``).
VARIANTS: tuple[str, ...] = ("same", "cross", "degraded", "v2")
#: Default output folder.
DEFAULT_OUT = Path(".cache/corpus")
#: Default POP909 folder (the shared data beside the checkout).
DEFAULT_POP909_DIR = Path("../shared/data/pop909")
#: Default Billboard folder.
DEFAULT_BILLBOARD_DIR = Path("../shared/data/billboard")
#: Default seed.
DEFAULT_SEED = 0
#: Billboard progressions rendered by default (the first ones by id).
DEFAULT_BILLBOARD_SONGS = 500
#: Percentage of songs held out for the dev split.
DEV_PERCENT = 10


def _hash_int(text: str) -> int:
    """Stable 32-bit integer of a text."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def song_split(source: str, song_id: str) -> str:
    """Return ``'dev'`` or ``'train'`` for a song by the fixed hash rule (see module docs).

    Parameters
    ----------
    source : str
        ``'pop909'``, ``'billboard'`` or ``'rare'``.
    song_id : str
        Song or piece id.

    Returns
    -------
    str
        The split.
    """
    if source == "rare":
        quality_index, root = int(song_id.split("-", 1)[0]), int(song_id.rsplit("-", 1)[1])
        return "dev" if root == _hash_int(f"rare:{quality_index}") % 12 else "train"
    return "dev" if _hash_int(f"{source}:{song_id}") % 100 < DEV_PERCENT else "train"


@dataclass(frozen=True)
class RenderJob:
    """One file to render.

    Attributes
    ----------
    source : str
        One of :data:`SOURCES`.
    song_id : str
        Song id (POP909 ``'001'``, Billboard ``'0003'``) or rare piece id.
    input : str
        Song folder, or ``'<quality>|<root_pc>'`` for a rare piece.
    split : str
        ``'train'`` or ``'dev'``.
    soundfont : SoundFont
        SoundFont to render with.
    seed : int
        Seed of every random choice of the file.
    stem : str
        Output path relative to the output folder, without extension.
    lead_db : tuple of float, optional
        Range (low, high) of a per-file gain in dB drawn for the lead parts (melody and
        bridge; see :func:`scale_lead`); None leaves the arrangement's mix as it is.
    variant : str
        One of :data:`VARIANTS`.
    soundfont_pool : tuple of SoundFont
        ``v2``: the SoundFonts each stem draws its own from (`soundfont` is the first).
    drum_kits : tuple of SoundFont
        ``v2``: sampled drum kits the drum stem may draw.
    """

    source: str
    song_id: str
    input: str
    split: str
    soundfont: SoundFont
    seed: int
    stem: str
    lead_db: tuple[float, float] | None = None
    variant: str = "same"
    soundfont_pool: tuple[SoundFont, ...] = ()
    drum_kits: tuple[SoundFont, ...] = ()


@dataclass(frozen=True)
class RenderResult:
    """Outcome of one job.

    Attributes
    ----------
    job : RenderJob
        The job.
    status : str
        ``'rendered'``, ``'skipped'`` (already done) or ``'failed'``.
    duration_s : float
        Audio length in seconds (0 if failed).
    render_s : float
        Wall-clock seconds spent (0 if skipped).
    error : str or None
        One-line error message of a failed job.
    """

    job: RenderJob
    status: str
    duration_s: float = 0.0
    render_s: float = 0.0
    error: str | None = None


def plan_corpus(
    *,
    soundfonts: Sequence[SoundFont],
    sources: Sequence[str] = SOURCES,
    split: str = "train",
    seed: int = DEFAULT_SEED,
    limit: int | None = None,
    song_ids: Iterable[str] | None = None,
    pop909_dir: str | Path = DEFAULT_POP909_DIR,
    billboard_dir: str | Path = DEFAULT_BILLBOARD_DIR,
    billboard_songs: int = DEFAULT_BILLBOARD_SONGS,
    lead_db: tuple[float, float] | None = None,
    variant: str = "same",
    every: int = 1,
) -> list[RenderJob]:
    """List the files of the corpus.

    Parameters
    ----------
    soundfonts : sequence of SoundFont
        Installed SoundFonts (see :func:`chordcli.corpus.render.find_soundfonts`).
    sources : sequence of str, optional
        Which of :data:`SOURCES` to include.
    split : str, optional
        ``'train'``, ``'dev'`` or ``'all'``.
    seed : int, optional
        Global seed; each file's seed derives from it and the file's id.
    limit : int, optional
        At most this many songs per source (before the split is applied), for quick runs.
    song_ids : iterable of str, optional
        Only songs and pieces with these ids (any source; applied before `limit`).
    pop909_dir, billboard_dir : str or Path, optional
        Data folders (only read for the sources asked for).
    billboard_songs : int, optional
        Number of Billboard progressions (the first ones by id).
    lead_db : tuple of float, optional
        Range of the per-file lead-part gain in dB (see :class:`RenderJob`); None keeps the
        arrangements' own mix.
    variant : str, optional
        One of :data:`VARIANTS`; ``cross`` and ``degraded`` files take a SoundFont of
        :func:`~chordcli.corpus.render.cross_soundfonts` (by a hash of the song id).
    every : int, optional
        Keep every `every`-th song of each source after the split (the 1st, the
        ``every + 1``-th, ...), a deterministic subset.

    Returns
    -------
    list of RenderJob
        Jobs in source order, then id order.

    Raises
    ------
    ChordcliError
        If a source is unknown, a data folder is missing, or no SoundFont is given.
    """
    from chordcli.corpus.billboard import billboard_song_dirs
    from chordcli.corpus.pop909 import pop909_song_dirs
    from chordcli.corpus.rare import rare_piece_id, rare_pieces

    if split not in SPLITS:
        raise ChordcliError(f"unknown split {split!r}", hint="one of " + ", ".join(SPLITS))
    if variant not in VARIANTS:
        raise ChordcliError(f"unknown variant {variant!r}", hint="one of " + ", ".join(VARIANTS))
    if lead_db is not None:
        check_lead_db(lead_db)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ChordcliError(f"unknown source {unknown[0]!r}", hint="one of " + ", ".join(SOURCES))
    train_fonts, dev_font = split_soundfonts(list(soundfonts))
    items: list[tuple[str, str, str]] = []
    for source in SOURCES:
        if source not in sources:
            continue
        if source == "rare":
            found = [(rare_piece_id(q, r), f"{q}|{r}") for q, r in rare_pieces()]
        else:
            folder = Path(pop909_dir if source == "pop909" else billboard_dir)
            if not folder.is_dir():
                raise ChordcliError(
                    f"{source} data folder '{folder}' not found",
                    hint=f"pass --{source} PATH",
                )
            dirs = pop909_song_dirs(folder) if source == "pop909" else billboard_song_dirs(folder)
            if source == "billboard":
                dirs = dirs[:billboard_songs]
            found = [(d.name, str(d)) for d in dirs]
        if song_ids is not None:
            wanted = set(song_ids)
            found = [item for item in found if item[0] in wanted]
        if limit is not None:
            found = found[:limit]
        items.extend((source, song_id, where) for song_id, where in found)
    jobs = []
    kept: dict[str, int] = {}
    for source, song_id, where in items:
        song_split_ = song_split(source, song_id)
        if split != "all" and song_split_ != split:
            continue
        kept[source] = kept.get(source, 0) + 1
        if (kept[source] - 1) % every:
            continue
        job_seed = _hash_int(f"{seed}:{source}:{song_id}")
        if variant != "same":
            fonts = cross_soundfonts(list(soundfonts))
            font = fonts[_hash_int(f"{seed}:cross-font:{source}:{song_id}") % len(fonts)]
        elif song_split_ == "dev":
            font = dev_font
        else:
            font = train_fonts[_hash_int(f"{seed}:font:{source}:{song_id}") % len(train_fonts)]
        folder = song_split_ if variant == "same" else f"{song_split_}-{variant}"
        pool: tuple[tuple[SoundFont, ...], tuple[SoundFont, ...]] = ((), ())
        if variant == "v2":
            pool = _v2_pool(soundfonts, song_split_)
            font = pool[0][0]
        jobs.append(
            RenderJob(
                source=source,
                song_id=song_id,
                input=where,
                split=song_split_,
                soundfont=font,
                seed=job_seed,
                stem=f"{folder}/{source}/{song_id}",
                lead_db=lead_db,
                variant=variant,
                soundfont_pool=pool[0],
                drum_kits=pool[1],
            )
        )
    return jobs


def _v2_pool(
    soundfonts: Sequence[SoundFont], split: str
) -> tuple[tuple[SoundFont, ...], tuple[SoundFont, ...]]:
    """Return the SoundFonts and drum kits a ``v2`` file draws its stems' from.

    These are the training sets (:func:`~chordcli.corpus.render.v2_soundfonts`), or the dev
    SoundFont alone for a dev file.
    """
    if split == "dev":
        return (split_soundfonts(list(soundfonts))[1],), ()
    melodic, kits = v2_soundfonts(list(soundfonts))
    return tuple(melodic), tuple(kits)


LEAD_PARTS = ("melody", "bridge")
"""Names of the parts :func:`scale_lead` changes: the tune and its counter-melody."""

MAX_LEAD_DB = 12.0
"""Largest lead-part boost of :func:`check_lead_db`, in dB."""


def check_lead_db(lead_db: tuple[float, float]) -> None:
    """Check a lead-gain range: finite, low <= high <= :data:`MAX_LEAD_DB`.

    Raises
    ------
    ChordcliError
        If it is not such a range.
    """
    low, high = lead_db
    if not (np.isfinite(low) and np.isfinite(high)) or low > high or high > MAX_LEAD_DB:
        raise ChordcliError(
            f"bad lead gain range {low:g},{high:g} dB",
            hint=f"give LOW,HIGH with LOW <= HIGH <= {MAX_LEAD_DB:g}, e.g. -30,0",
        )


def scale_lead(arrangement: Arrangement, gain_db: float) -> Arrangement:
    """Return the arrangement with its lead parts' MIDI volume changed by `gain_db`.

    Parts named in :data:`LEAD_PARTS` get channel volume ``v * 10 ** (gain_db / 40)``
    (the MIDI volume controller acts as ``40 * log10(v / 127)`` dB), rounded and clipped to
    0..127; the other parts, the labels and the timing are unchanged. Training audio with the
    lead at varied levels lets a network practise hearing the accompaniment's harmony under a
    louder or quieter tune.
    """
    factor = 10.0 ** (gain_db / 40.0)
    parts = tuple(
        dataclasses.replace(p, volume=int(np.clip(round(p.volume * factor), 0, 127)))
        if p.name in LEAD_PARTS
        else p
        for p in arrangement.parts
    )
    return dataclasses.replace(arrangement, parts=parts)


def draw_lead_db(job: RenderJob) -> float | None:
    """Draw the job's lead-part gain in dB, uniform in ``job.lead_db`` (None without a range).

    It comes from its own generator (seeded from the job's seed), so the arrangement and the
    mix of a file do not change when a range is given.
    """
    if job.lead_db is None:
        return None
    low, high = job.lead_db
    return round(float(np.random.default_rng([job.seed, 2]).uniform(low, high)), 2)


def arrange_job(job: RenderJob) -> Arrangement:
    """Build the arrangement of a job (deterministic from its seed).

    Parameters
    ----------
    job : RenderJob
        The job.

    Returns
    -------
    Arrangement
        What to render.
    """
    arrangement = _arrange_source(job)
    if job.variant == "same":
        return arrangement
    if job.variant == "v2":
        from chordcli.corpus.styles import v2_arrangement

        return v2_arrangement(arrangement, rng=np.random.default_rng([job.seed, 5]))
    from chordcli.corpus.cross import cross_arrangement

    return cross_arrangement(arrangement, rng=np.random.default_rng([job.seed, 3]))


def _arrange_source(job: RenderJob) -> Arrangement:
    rng = np.random.default_rng(job.seed)
    if job.source == "pop909":
        from chordcli.corpus.pop909 import arrange_pop909, load_pop909

        return arrange_pop909(load_pop909(job.input), rng=rng)
    if job.source == "billboard":
        from chordcli.corpus.billboard import arrange_billboard, read_salami

        return arrange_billboard(read_salami(Path(job.input) / "salami_chords.txt"), rng=rng)
    from chordcli.corpus.rare import arrange_rare

    quality, _, root = job.input.rpartition("|")
    return arrange_rare(quality, int(root), rng=rng)


def _cross_audio(job: RenderJob, out_dir: Path, arrangement: Arrangement) -> np.ndarray | None:
    """Return the finished ``cross`` render a ``degraded`` job starts from, if there is one.

    It is used only if its manifest entry matches the job's arrangement (same SoundFont,
    length and arrangement choices), so a render from older code is never mixed with new
    labels.
    """
    import soundfile

    if job.variant != "degraded":
        return None
    base = out_dir / f"{job.split}-cross" / job.source / job.song_id
    if not _is_done(out_dir, dataclasses.replace(job, stem=str(base.relative_to(out_dir)))):
        return None
    entry = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
    same = (
        entry.get("soundfont") == job.soundfont.name
        and entry.get("duration_s") == round(arrangement.duration_s, 6)
        and entry.get("info") == json.loads(json.dumps(arrangement.info))
        and entry.get("programs") == arrangement.programs()
    )
    if not same:
        return None
    audio, _ = soundfile.read(str(base.with_suffix(".flac")), dtype="float32", always_2d=True)
    return audio


def _is_done(out_dir: Path, job: RenderJob) -> bool:
    base = out_dir / job.stem
    return all(base.with_suffix(s).is_file() for s in (".flac", ".lab", ".json"))


def render_job(job: RenderJob, out_dir: str | Path) -> RenderResult:
    """Render one job and write its FLAC, LAB, key, beats and manifest entry.

    The LAB file is written last, each file atomically, so a file whose FLAC and LAB exist is
    complete. Expected errors are returned in the result, not raised (for worker processes).

    Parameters
    ----------
    job : RenderJob
        The job.
    out_dir : str or Path
        Corpus folder.

    Returns
    -------
    RenderResult
        ``'rendered'`` or ``'failed'``.
    """
    import soundfile

    started = time.perf_counter()
    base = Path(out_dir) / job.stem
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        arrangement = arrange_job(job)
        lead_gain_db = draw_lead_db(job)
        if lead_gain_db is not None:
            arrangement = scale_lead(arrangement, lead_gain_db)
        mix = draw_mix(np.random.default_rng(job.seed + 1))
        audio = _cross_audio(job, Path(out_dir), arrangement)
        v2_record = None
        if job.variant == "v2":
            from chordcli.corpus.mixing import render_v2

            audio, v2_record = render_v2(
                arrangement,
                soundfonts=list(job.soundfont_pool),
                drum_kits=list(job.drum_kits),
                seed=job.seed,
            )
        elif audio is None:
            audio = render_arrangement(
                arrangement, job.soundfont, mix=mix, sample_rate_hz=SAMPLE_RATE_HZ
            )
        degradation = None
        if job.variant == "degraded":
            from chordcli.corpus.cross import stretch_arrangement
            from chordcli.corpus.degrade import degrade, draw_degradation

            degradation = draw_degradation(np.random.default_rng([job.seed, 4]))
            audio = degrade(
                audio, sample_rate_hz=SAMPLE_RATE_HZ, settings=degradation, seed=job.seed
            )
            arrangement = stretch_arrangement(arrangement, degradation.speed)
        keys = "".join(
            f"{a:.6f}\t{b:.6f}\t{key_to_jams(k)}\n" for a, b, k in arrangement.keys if k != 24
        )
        beats = "".join(f"{b.time_s:.6f}\t{b.beat_in_bar}\n" for b in arrangement.beats)
        entry = {
            "path": f"{job.stem}.flac",
            "source": job.source,
            "song_id": job.song_id,
            "split": job.split,
            "soundfont": job.soundfont.name,
            "programs": arrangement.programs(),
            "tempo_bpm": arrangement.tempo_bpm,
            "key": key_to_jams(arrangement.key) if arrangement.key != 24 else None,
            "seed": job.seed,
            "duration_s": round(arrangement.duration_s, 6),
            "mix": mix.to_dict(),
            "info": arrangement.info,
        }
        if lead_gain_db is not None:
            entry["lead_db"] = lead_gain_db
        if job.variant != "same":
            entry["variant"] = job.variant
        if degradation is not None:
            entry["degradation"] = degradation.to_dict()
        if v2_record is not None:
            entry.update(mix=v2_record["synth"], stems=v2_record["stems"])
            entry["effects"] = v2_record["effects"]
        write_text_atomic(base.with_suffix(".key"), keys, overwrite=True)
        write_text_atomic(base.with_suffix(".beats"), beats, overwrite=True)
        with atomic_path(base.with_suffix(".flac"), overwrite=True) as tmp:
            soundfile.write(str(tmp), audio, SAMPLE_RATE_HZ, format="FLAC", subtype="PCM_16")
        write_text_atomic(
            base.with_suffix(".json"), json.dumps(entry, sort_keys=True) + "\n", overwrite=True
        )
        write_text_atomic(base.with_suffix(".lab"), format_lab(arrangement.chords), overwrite=True)
    except (ChordcliError, OSError, ValueError) as exc:
        return RenderResult(job, "failed", error=f"{job.stem}: {exc}")
    return RenderResult(
        job, "rendered", duration_s=arrangement.duration_s, render_s=time.perf_counter() - started
    )


def render_corpus(
    jobs: Sequence[RenderJob],
    out_dir: str | Path,
    *,
    workers: int = 1,
    overwrite: bool = False,
    on_start: Callable[[int], None] | None = None,
) -> Iterator[RenderResult]:
    """Render jobs, in parallel, skipping finished ones; yield results as they complete.

    Parameters
    ----------
    jobs : sequence of RenderJob
        Jobs from :func:`plan_corpus`.
    out_dir : str or Path
        Corpus folder.
    workers : int, optional
        Worker processes (1 renders in this process).
    overwrite : bool, optional
        Render finished files again.
    on_start : callable, optional
        Called once with the number of jobs that will be rendered (not skipped).

    Yields
    ------
    RenderResult
        Skipped jobs first, then rendered or failed ones in completion order.
    """
    out_dir = Path(out_dir)
    todo = []
    for job in jobs:
        if not overwrite and _is_done(out_dir, job):
            entry = json.loads((out_dir / f"{job.stem}.json").read_text(encoding="utf-8"))
            yield RenderResult(job, "skipped", duration_s=float(entry.get("duration_s", 0.0)))
        else:
            todo.append(job)
    if on_start is not None:
        on_start(len(todo))
    if workers <= 1:
        for job in todo:
            yield render_job(job, out_dir)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent) as pool:
        pending = set()
        queue = list(reversed(todo))
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                pending.add(pool.submit(render_job, queue.pop(), str(out_dir)))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


def write_manifest(jobs: Sequence[RenderJob], out_dir: str | Path) -> Path:
    """Gather the manifest entries of the finished jobs into ``manifest.jsonl``.

    Parameters
    ----------
    jobs : sequence of RenderJob
        Jobs of the run (entries of other finished files in the folder are kept too).
    out_dir : str or Path
        Corpus folder.

    Returns
    -------
    Path
        The manifest (rewritten atomically: it is an index of the folder).
    """
    out_dir = Path(out_dir)
    stems = {job.stem for job in jobs}
    stems.update(str(p.relative_to(out_dir).with_suffix("")) for p in out_dir.glob("*/*/*.json"))
    lines = []
    for stem in sorted(stems):
        entry_path = out_dir / f"{stem}.json"
        if entry_path.is_file() and (out_dir / f"{stem}.lab").is_file():
            lines.append(entry_path.read_text(encoding="utf-8").strip() + "\n")
    return write_text_atomic(out_dir / "manifest.jsonl", "".join(lines), overwrite=True)


@dataclass(frozen=True)
class Balance:
    """Minutes of audio per chord quality and per root, by split.

    Attributes
    ----------
    splits : tuple of str
        Row groups (``'train'``, ``'dev'``, ``'all'``).
    quality_minutes : ndarray, shape (n_splits, 44)
        Minutes labelled with each quality of :data:`theory.vocabulary.QUALITIES`.
    root_minutes : ndarray, shape (n_splits, 12)
        Minutes labelled with each chord root (C = 0).
    no_chord_minutes : ndarray, shape (n_splits,)
        Minutes labelled ``N``.
    total_minutes : ndarray, shape (n_splits,)
        All audio.
    n_files : ndarray, shape (n_splits,)
        Files counted.
    """

    splits: tuple[str, ...]
    quality_minutes: np.ndarray
    root_minutes: np.ndarray
    no_chord_minutes: np.ndarray
    total_minutes: np.ndarray
    n_files: np.ndarray


def balance_of(labelled: Iterable[tuple[str, Sequence[ChordSegment]]]) -> Balance:
    """Count minutes per quality and per root of labelled files.

    Parameters
    ----------
    labelled : iterable of (str, sequence of ChordSegment)
        ``(split, segments)`` of each file, split ``'train'`` or ``'dev'``.

    Returns
    -------
    Balance
        Rows ``train``, ``dev`` and ``all``.
    """
    splits = ("train", "dev", "all")
    quality = np.zeros((3, len(QUALITIES)))
    roots = np.zeros((3, 12))
    no_chord = np.zeros(3)
    total = np.zeros(3)
    files = np.zeros(3, dtype=int)
    for split, segments in labelled:
        rows = (splits.index(split), 2)
        for row in rows:
            files[row] += 1
        for seg in segments:
            minutes = seg.duration_s / 60
            cls = chord_class(seg.label)
            for row in rows:
                total[row] += minutes
                if cls == N_CLASS:
                    no_chord[row] += minutes
                elif cls is not None:
                    quality[row, QUALITIES.index(class_quality(cls))] += minutes
                    roots[row, class_root(cls)] += minutes
    return Balance(splits, quality, roots, no_chord, total, files)


def corpus_balance(out_dir: str | Path) -> Balance:
    """Count minutes per quality and per root over the finished files of a corpus folder.

    Parameters
    ----------
    out_dir : str or Path
        Corpus folder (``<split>/<source>/<id>.lab`` files with a FLAC beside them).

    Returns
    -------
    Balance
        Rows ``train``, ``dev`` and ``all``.
    """
    out_dir = Path(out_dir)
    labs = [
        lab
        for lab in sorted(out_dir.glob("*/*/*.lab"))
        if lab.parent.parent.name in _BALANCE_FOLDERS and lab.with_suffix(".flac").is_file()
    ]
    return balance_of((_BALANCE_FOLDERS[lab.parent.parent.name], read_lab(lab)) for lab in labs)


# folders counted by corpus_balance, and their split
_BALANCE_FOLDERS = {"train": "train", "dev": "dev", "train-v2": "train", "dev-v2": "dev"}


def _planned_labels(job: RenderJob) -> tuple[str, tuple[ChordSegment, ...]]:
    return job.split, arrange_job(job).chords


def planned_balance(jobs: Sequence[RenderJob], *, workers: int = 1) -> Balance:
    """Class balance that rendering `jobs` will give, from their arrangements (no audio).

    Parameters
    ----------
    jobs : sequence of RenderJob
        Jobs from :func:`plan_corpus`.
    workers : int, optional
        Worker processes.

    Returns
    -------
    Balance
        Rows ``train``, ``dev`` and ``all``; equal to :func:`corpus_balance` of the rendered
        folder (labels are deterministic from the job seeds).
    """
    if workers <= 1:
        return balance_of(_planned_labels(job) for job in jobs)
    with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent) as pool:
        return balance_of(pool.map(_planned_labels, jobs, chunksize=8))


def format_balance_csv(balance: Balance) -> str:
    """Format a balance as CSV: ``kind,name,<split minutes...>`` rows.

    Parameters
    ----------
    balance : Balance
        The balance.

    Returns
    -------
    str
        CSV text with a header row; minutes with two decimals.
    """
    from theory.pitch import pc_name

    lines = ["kind,name," + ",".join(f"{s}_minutes" for s in balance.splits)]

    def row(kind: str, name: str, values: np.ndarray) -> None:
        lines.append(f'{kind},"{name}",' + ",".join(f"{v:.2f}" for v in values))

    for i, q in enumerate(QUALITIES):
        row("quality", q.harte, balance.quality_minutes[:, i])
    for pc in range(12):
        row("root", pc_name(pc), balance.root_minutes[:, pc])
    row("no_chord", "N", balance.no_chord_minutes)
    row("total", "all", balance.total_minutes)
    row("files", "count", balance.n_files)
    return "\n".join(lines) + "\n"


def format_balance_md(balance: Balance) -> str:
    """Format a balance as Markdown tables (qualities, then roots).

    Parameters
    ----------
    balance : Balance
        The balance.

    Returns
    -------
    str
        Markdown text.
    """
    from theory.pitch import pc_name

    head = "| | " + " | ".join(f"{s} (min)" for s in balance.splits) + " |"
    rule = "|---|" + "---:|" * len(balance.splits)

    def cells(values: np.ndarray) -> str:
        return " | ".join(f"{v:.1f}" for v in values)

    out = ["# Corpus class balance", ""]
    files = ", ".join(f"{s} {n}" for s, n in zip(balance.splits, balance.n_files, strict=True))
    hours = ", ".join(
        f"{s} {m / 60:.1f} h" for s, m in zip(balance.splits, balance.total_minutes, strict=True)
    )
    out.append(f"Files: {files}; audio: {hours}.")
    out += ["", "## Minutes per quality", "", head.replace("| |", "| quality |", 1), rule]
    for i, q in enumerate(QUALITIES):
        out.append(f"| `{q.harte}` | {cells(balance.quality_minutes[:, i])} |")
    out.append(f"| `N` | {cells(balance.no_chord_minutes)} |")
    out += ["", "## Minutes per root", "", head.replace("| |", "| root |", 1), rule]
    for pc in range(12):
        out.append(f"| {pc_name(pc)} | {cells(balance.root_minutes[:, pc])} |")
    return "\n".join(out) + "\n"


def write_balance(balance: Balance, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``balance.md`` and ``balance.csv`` into the corpus folder (rewritten each run).

    Parameters
    ----------
    balance : Balance
        The balance.
    out_dir : str or Path
        Corpus folder.

    Returns
    -------
    (Path, Path)
        The Markdown and CSV files.
    """
    out_dir = Path(out_dir)
    return (
        write_text_atomic(out_dir / "balance.md", format_balance_md(balance), overwrite=True),
        write_text_atomic(out_dir / "balance.csv", format_balance_csv(balance), overwrite=True),
    )
