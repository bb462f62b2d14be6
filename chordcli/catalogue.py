"""Transcribe a catalogue of recordings on a Ray cluster (``transcribe --engine ray``).

:func:`transcribe_catalogue` lists the audio files of the inputs (directories are searched
recursively), skips those whose output already exists (so a run that stopped can be started
again), and transcribes the rest with Ray Data: ``map_batches`` over the file list with
:class:`TranscribeWorker`, a callable class that loads the model once per actor, in an actor
pool sized by the cluster's CPUs. Every worker writes its outputs itself (atomically), so
nothing but a small summary per file travels back. A file that fails (unreadable, too short)
is recorded with its error and the others go on. The run ends with an index,
``index.jsonl`` in the output directory: one JSON object per input file with ``path``,
``output``, ``status`` (``done``, ``skipped`` or ``failed``), ``duration_s``, ``key``,
``tempo_bpm``, ``chords`` (number of chord segments) and ``error``; a skipped file keeps what
the index of the earlier run said about it.

Ray is an optional dependency (``pip install 'chordcli[ray]'``); docs/scale.md shows how to run
on a cluster. Outputs are the files the local engine writes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from chordcli.batch import TranscribeOptions
from chordcli.errors import AudioError, ChordcliError, UsageError
from chordcli.formats import OutputFormat

__all__ = [
    "INDEX_NAME",
    "CatalogueEntry",
    "RayUnavailableError",
    "TranscribeWorker",
    "check_catalogue_call",
    "list_audio",
    "plan_catalogue",
    "transcribe_catalogue",
]

#: Name of the run's index in the output directory.
INDEX_NAME = "index.jsonl"


class RayUnavailableError(ChordcliError):
    """Ray is not installed or the cluster cannot be reached."""


@dataclass(frozen=True)
class CatalogueEntry:
    """What happened to one input file (a line of the index).

    Attributes
    ----------
    path, output : str
        The audio file and its output file.
    status : {'done', 'skipped', 'failed'}
        Transcribed now, skipped (its output existed), or failed.
    duration_s, tempo_bpm : float or None
        Length and tempo of the recording (None unless known).
    key : str or None
        Key in JAMS form (``A:minor``), None unless known.
    chords : int or None
        Number of chord segments, None unless known.
    error : str or None
        The error of a failed file.
    """

    path: str
    output: str
    status: str
    duration_s: float | None = None
    key: str | None = None
    tempo_bpm: float | None = None
    chords: int | None = None
    error: str | None = None


_FIELDS = tuple(f.name for f in fields(CatalogueEntry))


def check_catalogue_call(
    output: str | os.PathLike[str] | None, *, format: OutputFormat, plot: object = None
) -> Path:
    """Check a ``--engine ray`` call before anything is listed or loaded; return the directory.

    Raises
    ------
    UsageError
        If `output` is not an existing directory, the format is HTML (a page embeds its
        recording: use the local engine) or a figure is asked for.
    """
    if output is None or not Path(output).is_dir():
        raise UsageError("--engine ray needs -o DIR, an existing directory", param_hint="'-o'")
    if format is OutputFormat.HTML:
        raise UsageError("--engine ray writes no HTML pages", param_hint="'--format'")
    if plot is not None:
        raise UsageError("--engine ray draws no figures", param_hint="'--plot'")
    return Path(output)


def list_audio(inputs: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, Path]]:
    """Return (audio file, directory it was found in) for files and directories of audio.

    Files are taken as given; directories are searched recursively for ``.flac``, ``.wav``,
    ``.ogg``, ``.opus`` and ``.mp3`` files (sorted). A file found twice is listed once.

    Raises
    ------
    AudioError
        If an input does not exist.
    """
    from chordcli.evaluate import AUDIO_SUFFIXES

    found: list[tuple[Path, Path]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files = sorted(
                p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
            found += [(p, item) for p in files]
        elif item.is_file():
            found.append((item, item.parent))
        else:
            raise AudioError(f"cannot read '{item}': file not found")
    seen: set[Path] = set()
    unique = []
    for path, root in found:  # a file given twice (alone and in its directory) runs once
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append((path, root))
    return unique


def plan_catalogue(
    inputs: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *, suffix: str
) -> list[tuple[Path, Path]]:
    """Pair every audio file of the inputs with its output file under `out_dir`.

    A file found in a directory keeps its place below it (``in/a/b.wav`` ->
    ``out/a/b<suffix>``); files given one by one go to ``out/<stem><suffix>``.

    Raises
    ------
    ChordcliError
        If an input is missing or two inputs would write the same output.
    """
    out = Path(out_dir)
    plan: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}
    for path, root in list_audio(inputs):
        target = out / path.relative_to(root).with_suffix(suffix)
        if target in seen:
            raise ChordcliError(
                f"'{path}' and '{seen[target]}' would both write '{target}'",
                hint="give them in separate runs or rename one",
            )
        seen[target] = path
        plan.append((path, target))
    return plan


class TranscribeWorker:
    """Ray Data callable class: loads the model once, transcribes batches of files.

    Parameters
    ----------
    model : str or None
        Model name or directory (:func:`models.backend.load_backend`).
    fmt : str
        Output format name.
    options : TranscribeOptions
        How each file is transcribed.
    overwrite : bool
        Replace existing outputs.
    alternatives : bool
        A lead sheet lists each chord's ranked alternatives.
    """

    def __init__(
        self,
        model: str | None,
        fmt: str,
        options: TranscribeOptions,
        overwrite: bool,
        alternatives: bool = False,
    ) -> None:
        from models.backend import load_backend

        self.backend = load_backend(model, views=options.views)
        self.fmt = fmt
        self.options = options
        self.overwrite = overwrite
        self.alternatives = alternatives

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """Transcribe the files of a batch (columns ``path`` and ``output``)."""
        rows = [
            self.transcribe(str(p), str(o))
            for p, o in zip(batch["path"], batch["output"], strict=True)
        ]
        return {name: [getattr(r, name) for r in rows] for name in _FIELDS}

    def transcribe(self, path: str, output: str) -> CatalogueEntry:
        """Transcribe one file and write its output; an error becomes a failed entry."""
        from chordcli.pipeline import analyse_file
        from chordcli.writers import write_transcription
        from theory.keys import key_to_jams

        try:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            t = analyse_file(path, backend=self.backend, **self.options.kwargs()).transcription
            write_transcription(
                t,
                output,
                format=self.fmt,
                overwrite=self.overwrite,
                alternatives=self.alternatives,
            )
        except (ChordcliError, OSError) as exc:
            return CatalogueEntry(path, output, "failed", error=str(exc))
        return CatalogueEntry(
            path,
            output,
            "done",
            duration_s=round(t.duration_s, 3),
            key=key_to_jams(t.key),
            tempo_bpm=None if t.tempo_bpm is None else round(t.tempo_bpm, 2),
            chords=len(t.segments),
        )


def transcribe_catalogue(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    format: OutputFormat | str = OutputFormat.LAB,
    model: str | None = None,
    options: TranscribeOptions | None = None,
    overwrite: bool = False,
    alternatives: bool = False,
    address: str | None = None,
    max_workers: int | None = None,
) -> list[CatalogueEntry]:
    """Transcribe every audio file of `inputs` into `out_dir` with Ray Data.

    Parameters
    ----------
    inputs : sequence of path
        Audio files and directories of audio files.
    out_dir : path
        Existing output directory; receives one output per file and :data:`INDEX_NAME`.
    format : OutputFormat or str
        Output format (``lab``, ``json``, ``jams`` ...; not ``html``).
    model : str or None
        Model name or directory; None the bundled model.
    options : TranscribeOptions, optional
        Vocabulary, beat sync, transposition, capo, tuning; the defaults if None.
    overwrite : bool
        Transcribe files whose output exists (else they are skipped: the run resumes).
    alternatives : bool
        A lead sheet lists each chord's ranked alternatives below the chart.
    address : str or None
        Ray cluster address (``ray://host:10001`` or ``auto``); None starts or joins a local
        instance (or the cluster of a submitted job). Ignored if Ray is already initialised.
    max_workers : int or None
        Largest actor pool; default the cluster's CPU count.

    Returns
    -------
    list of CatalogueEntry
        One entry per input file, in input order (also written to the index).

    Raises
    ------
    RayUnavailableError
        If Ray is not installed or the cluster cannot be reached.
    ChordcliError
        If an input is missing, the output directory does not exist, or two inputs collide.
    """
    from chordcli.atomic import write_text_atomic

    out = Path(out_dir)
    if not out.is_dir():
        raise ChordcliError(f"output directory '{out}' does not exist")
    fmt = OutputFormat(format)
    plan = plan_catalogue(inputs, out, suffix=fmt.suffix)
    entries: dict[str, CatalogueEntry] = {}
    previous = _read_index(out / INDEX_NAME)
    todo = []
    for path, target in plan:
        if target.exists() and not overwrite:
            known = previous.get(str(path), {})
            entries[str(path)] = CatalogueEntry(
                **{**known, "path": str(path), "output": str(target), "status": "skipped"}
            )
        else:
            todo.append({"path": str(path), "output": str(target)})
    if todo:
        worker = {
            "model": model,
            "fmt": fmt.value,
            "options": options or TranscribeOptions(),
            "overwrite": overwrite,
            "alternatives": alternatives,
        }
        for row in _run_on_ray(todo, worker, address=address, max_workers=max_workers):
            entries[row["path"]] = CatalogueEntry(**row)
    result = [entries[str(path)] for path, _ in plan]
    index = "".join(json.dumps(asdict(e)) + "\n" for e in result)
    write_text_atomic(out / INDEX_NAME, index, overwrite=True)
    return result


def _run_on_ray(
    todo: list[dict[str, str]],
    worker: dict[str, Any],
    *,
    address: str | None,
    max_workers: int | None,
) -> list[dict[str, Any]]:
    """Map the files through an actor pool of :class:`TranscribeWorker`; return result rows."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailableError(
            "the Ray engine needs Ray", hint="pip install 'chordcli[ray]'"
        ) from None
    if not ray.is_initialized():
        _quiet_ray()
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RayUnavailableError(
                f"cannot reach the Ray cluster at {address!r}: {first}"
            ) from None
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    size = max(1, min(len(todo), max_workers or cpus, cpus))
    # One block per file, so that every actor of the pool gets work at once.
    dataset = ray.data.from_items(todo, override_num_blocks=len(todo)).map_batches(
        TranscribeWorker,
        fn_constructor_kwargs=worker,
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=1,
    )
    return [{k: _plain(v) for k, v in row.items()} for row in dataset.iter_rows()]


def _quiet_ray() -> None:
    """Keep Ray Data's progress log and start-up notices off standard error (warnings stay)."""
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    """Entries of an earlier run's index by path (empty if there is none or it is unreadable)."""
    entries: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return entries
    for line in lines:
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            entries[item["path"]] = {k: v for k, v in item.items() if k in _FIELDS}
    return entries


def _plain(value: Any) -> Any:
    """Numpy scalars of a Ray row as Python values (None stays None)."""
    return value.item() if hasattr(value, "item") else value
