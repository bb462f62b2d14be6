"""Chord transcription scores: mir_eval chord metrics per song and over a dataset, key accuracy.

A reference annotation (REF) and an estimate (EST) are compared the way
:func:`mir_eval.chord.evaluate` compares them, with mir_eval's own functions:

1. Gaps between segments are filled with ``N`` on both sides (LAB files may leave
   unannotated time; mir_eval would otherwise stretch the previous label over it); gaps and
   overlaps under 1 ms (float rounding in annotation files) are closed instead.
2. The estimate is cropped or padded with ``N`` to the span of the reference
   (:func:`mir_eval.util.adjust_intervals`).
3. Both are cut at the union of their boundaries
   (:func:`mir_eval.util.merge_labeled_intervals`); the pieces' durations are the weights.
   Steps 1-3 are :func:`chordcli.alignment.align_segments` (shared with the quality
   confusion of :mod:`chordcli.confusion`).
4. Every comparison of :data:`CHORD_METRICS` (``mir_eval.chord.root``, ``majmin``, ...) scores
   each piece 1, 0 or -1 (-1: the reference chord is outside that metric's vocabulary, or
   ``X``). The song score is the duration of correct pieces over the duration of comparable ones.
5. ``overseg``, ``underseg`` and ``seg`` compare the boundaries of chord-merged segments
   (:func:`mir_eval.chord.merge_chord_intervals`, :func:`mir_eval.chord.overseg`, ...).

Per-song results keep the comparable duration of every metric, so a dataset aggregates
two ways (:func:`aggregate_scores`):

* ``weighted``: duration-weighted over the dataset as MIREX reports it, total correct time
  over total comparable time (segmentation scores weighted by song duration);
* ``mean``: the mean of the per-song scores. A song with no comparable time for a metric
  (e.g. ``majmin`` on a song of only sus chords) has score NaN for it and is left out of
  that metric's mean.

Keys are scored with :func:`mir_eval.key.weighted_score` (1 same key, 0.5 a fifth above,
0.3 relative, 0.2 parallel, 0 otherwise) when both sides carry one. A reference key comes
from a ``<stem>.key`` file beside a LAB file (lines ``start end key``) or from the
``key_mode`` annotation of a JAMS file; when a song modulates, its *main key* (longest total
duration) is the reference. Estimated keys come from JSON/JAMS transcriptions (or from the
transcriber itself with :func:`evaluate_audio_folder`); LAB estimates carry no key.

REF and EST may be single files or directories (searched recursively) paired by file stem
(:func:`pair_paths`). Missing partners and unreadable files become :class:`EvalProblem`
entries of the report, never exceptions, so one bad file does not stop a dataset.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from chordcli.alignment import Alignment, align_segments
from chordcli.errors import ChordcliError, LabError
from chordcli.lab import read_lab
from chordcli.segments import ChordSegment, Transcription, time_problem
from theory import ChordLabelError, key_to_mir_eval, parse_chord, parse_key
from theory.keys import KEY_NONE, KeyError_

if TYPE_CHECKING:
    from chordcli.confusion import QualityConfusion

__all__ = [
    "ALL_METRICS",
    "AUDIO_SUFFIXES",
    "CHORD_METRICS",
    "EST_SUFFIXES",
    "KEY_SUFFIX",
    "REF_SUFFIXES",
    "SEGMENTATION_METRICS",
    "Alignment",
    "Annotation",
    "EvalError",
    "EvalProblem",
    "EvalReport",
    "FilePair",
    "Pairing",
    "SongScore",
    "aggregate_scores",
    "align_segments",
    "annotation_from_transcription",
    "evaluate_audio_folder",
    "evaluate_audio_pairs",
    "evaluate_pairs",
    "find_labelled_audio",
    "pair_paths",
    "read_annotation",
    "read_key_file",
    "report_to_csv",
    "report_to_dict",
    "score_song",
]

#: Frame-free chord comparisons of :mod:`mir_eval.chord`, in the order tables show them.
CHORD_METRICS: tuple[str, ...] = (
    "root",
    "majmin",
    "majmin_inv",
    "mirex",
    "thirds",
    "thirds_inv",
    "triads",
    "triads_inv",
    "sevenths",
    "sevenths_inv",
    "tetrads",
    "tetrads_inv",
)
#: Segmentation scores of :mod:`mir_eval.chord` (1 = boundaries agree).
SEGMENTATION_METRICS: tuple[str, ...] = ("overseg", "underseg", "seg")
#: All 15 metrics of a :class:`SongScore`.
ALL_METRICS: tuple[str, ...] = CHORD_METRICS + SEGMENTATION_METRICS

#: Reference annotation files, in order of preference when a stem has several.
REF_SUFFIXES: tuple[str, ...] = (".lab", ".jams")
#: Estimate files, in order of preference (the first two carry a key).
EST_SUFFIXES: tuple[str, ...] = (".json", ".jams", ".lab")
#: Key annotation beside a LAB file (data-folder convention).
KEY_SUFFIX = ".key"
#: Audio files of a labelled data folder.
AUDIO_SUFFIXES: tuple[str, ...] = (".flac", ".wav", ".ogg", ".opus", ".mp3")


class EvalError(ChordcliError):
    """Inputs that cannot be evaluated: a missing path, a file paired with a directory."""


@dataclass(frozen=True)
class EvalProblem:
    """A file that was not scored, and why.

    Attributes
    ----------
    path : str
        The file (or the stem, for a missing partner).
    message : str
        One line naming the problem.
    kind : {'missing', 'error'}
        ``'missing'``: no partner file (listed, not a failure); ``'error'``: the file could not
        be read or scored (a failure: the command exits 1).
    """

    path: str
    message: str
    kind: Literal["missing", "error"] = "error"


@dataclass(frozen=True)
class Annotation:
    """Chords and key of one annotation or transcription file.

    Attributes
    ----------
    segments : tuple of ChordSegment
        Chords in time order.
    key : int or None
        Key class of :mod:`theory.keys` (24 = no key), ``None`` when the file says nothing
        about the key.
    source : str or None
        The file read.
    """

    segments: tuple[ChordSegment, ...]
    key: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class FilePair:
    """A reference file and the estimate with the same stem."""

    name: str
    ref_path: Path
    est_path: Path


@dataclass(frozen=True)
class Pairing:
    """The result of :func:`pair_paths`: pairs in name order and files without a partner."""

    pairs: tuple[FilePair, ...]
    problems: tuple[EvalProblem, ...] = ()


@dataclass(frozen=True)
class SongScore:
    """Scores of one song.

    Attributes
    ----------
    name : str
        Song name (the file stem).
    duration_s : float
        Span of the reference annotation in seconds.
    scores : dict of str to float
        The 15 metrics of :data:`ALL_METRICS`, each in [0, 1]; NaN for a chord metric with no
        comparable time in this song.
    weights_s : dict of str to float
        Comparable duration in seconds behind each chord metric (the duration of the song
        for the segmentation metrics): the weight of the song in the dataset score.
    ref_key, est_key : int or None
        Key classes compared (``None`` where that side has no key information).
    key_score : float or None
        :func:`mir_eval.key.weighted_score` of the two keys; ``None`` unless the reference
        has a key (not 24) and the estimate has key information.
    ref_path, est_path : str or None
        Files compared.
    quality_s, quality_hit_s : ndarray, shape (45,), or None
        Reference seconds of each chord quality (index as :data:`theory.QUALITIES`, then
        ``N``) and the seconds of them whose estimate has the same root and quality
        (:func:`class_hits`).
    """

    name: str
    duration_s: float
    scores: dict[str, float]
    weights_s: dict[str, float]
    ref_key: int | None = None
    est_key: int | None = None
    key_score: float | None = None
    ref_path: str | None = None
    est_path: str | None = None
    quality_s: np.ndarray | None = None
    quality_hit_s: np.ndarray | None = None


@dataclass(frozen=True)
class EvalReport:
    """Scores of a dataset.

    Attributes
    ----------
    songs : tuple of SongScore
        Per-song scores in name order.
    weighted : dict of str to float
        Duration-weighted dataset scores (MIREX): total correct time over total comparable
        time per metric; NaN when nothing was comparable.
    mean : dict of str to float
        Mean of the per-song scores (songs with NaN for a metric left out).
    key_songs : int
        Number of songs whose key was scored.
    key_weighted : float or None
        Mean :func:`mir_eval.key.weighted_score` over those songs.
    key_accuracy : float or None
        Fraction of those songs whose key is exactly right.
    problems : tuple of EvalProblem
        Files not scored.
    model : str or None
        Model that produced the estimates, when known.
    confusion : QualityConfusion or None
        Quality confusion summed over the songs, when requested.
    class_recall : dict of str to float
        Recall of each chord quality (and ``N``) with reference time: the share of its time
        whose estimate has the same root and quality (bass ignored), over all songs.
    acc_class : float
        Class-wise recall: the mean of `class_recall` (``acc_class`` of Jiang et al. 2019);
        NaN when no song was scored.
    """

    songs: tuple[SongScore, ...]
    weighted: dict[str, float]
    mean: dict[str, float]
    key_songs: int = 0
    key_weighted: float | None = None
    key_accuracy: float | None = None
    problems: tuple[EvalProblem, ...] = field(default=())
    model: str | None = None
    confusion: QualityConfusion | None = None
    class_recall: dict[str, float] = field(default_factory=dict)
    acc_class: float = math.nan

    @property
    def duration_s(self) -> float:
        """Total reference duration of the scored songs, seconds."""
        return float(sum(s.duration_s for s in self.songs))

    @property
    def failed(self) -> bool:
        """Whether a file could not be read or scored (missing partners do not count)."""
        return any(p.kind == "error" for p in self.problems)


# --------------------------------------------------------------------------------------------
# Reading


def read_key_file(path: str | os.PathLike[str]) -> int:
    """Read a key annotation and return its main key.

    Parameters
    ----------
    path : str or os.PathLike
        Text file of lines ``start end key`` (seconds; the key as :func:`theory.parse_key`
        reads it: ``A:minor``, ``Gb:maj``, ``A minor``, ``N``). A file of a single line
        holding only a key is accepted too.

    Returns
    -------
    int
        Key class (0..24) covering the longest total duration; 24 if the file holds no key.

    Raises
    ------
    LabError
        If the file cannot be read or a line is malformed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabError(f"cannot read '{path}': {getattr(exc, 'strerror', None) or exc}") from None
    totals: dict[int, float] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            if len(fields) >= 3 and _is_number(fields[0]) and _is_number(fields[1]):
                key = parse_key(" ".join(fields[2:]))
                duration = float(fields[1]) - float(fields[0])
            else:
                key, duration = parse_key(" ".join(fields)), 1.0
        except KeyError_ as exc:
            raise LabError(
                f"'{path}' line {line_no}: {exc}", hint="key lines read 'start end key'"
            ) from None
        totals[key] = totals.get(key, 0.0) + max(duration, 0.0)
    return _main_key(totals)


def read_annotation(path: str | os.PathLike[str]) -> Annotation:
    """Read chords (and key, where the format has one) from an annotation or transcription.

    Parameters
    ----------
    path : str or os.PathLike
        ``.lab`` (with an optional ``<stem>.key`` file beside it), ``.jams`` (the first
        ``chord`` annotation and the ``key_mode`` annotation) or ``.json`` (a chordcli
        transcription, read by :func:`chordcli.jsonio.read_json`).

    Returns
    -------
    Annotation
        Segments and key; ``key`` is None when the file has no key information.

    Raises
    ------
    ChordcliError
        If the file cannot be read, its format is unknown or it is malformed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".lab":
        segments = tuple(read_lab(path))
        key_path = path.with_suffix(KEY_SUFFIX)
        key = read_key_file(key_path) if key_path.is_file() else None
        return Annotation(segments=segments, key=key, source=str(path))
    if suffix == ".json":
        from chordcli.jsonio import read_json

        return annotation_from_transcription(read_json(path), source=str(path))
    if suffix == ".jams":
        return _read_jams(path)
    raise EvalError(
        f"cannot read '{path}': unknown annotation format '{path.suffix}'",
        hint="use .lab, .jams or .json",
    )


def annotation_from_transcription(
    transcription: Transcription, *, source: str | None = None
) -> Annotation:
    """Return the :class:`Annotation` of a transcription (its chords and its key)."""
    return Annotation(
        segments=tuple(transcription.segments),
        key=int(transcription.key),
        source=source if source is not None else transcription.source,
    )


def _read_jams(path: Path) -> Annotation:
    """Read the first chord annotation and the main key of a JAMS file."""
    import jams

    try:
        jam = jams.load(str(path), validate=False)
    except Exception as exc:  # jams raises many types for bad files
        raise EvalError(f"cannot read '{path}': not a JAMS file ({exc})") from None
    chords = jam.search(namespace="chord")
    if len(chords) == 0:
        chords = jam.search(namespace="chord_harte")
    if len(chords) == 0:
        raise EvalError(
            f"cannot read '{path}': no chord annotation", hint="expected namespace 'chord'"
        )
    segments = []
    for obs in sorted(chords[0].data, key=lambda o: o.time):
        label = str(obs.value).strip()
        try:
            parse_chord(label)
        except ChordLabelError as exc:
            raise EvalError(f"cannot read '{path}': {exc}") from None
        for what, value in (("time", obs.time), ("end", obs.time + obs.duration)):
            if (problem := time_problem(float(value))) is not None:
                raise EvalError(f"cannot read '{path}': chord {what} {value} {problem}")
        if obs.duration > 0:
            segments.append(
                ChordSegment(
                    start_s=float(obs.time),
                    end_s=float(obs.time + obs.duration),
                    label=label,
                    confidence=None if obs.confidence is None else float(obs.confidence),
                )
            )
    key: int | None = None
    keys = jam.search(namespace="key_mode")
    if len(keys) > 0:
        totals: dict[int, float] = {}
        for obs in keys[0].data:
            try:
                k = parse_key(str(obs.value))
            except KeyError_ as exc:
                raise EvalError(f"cannot read '{path}': {exc}") from None
            totals[k] = totals.get(k, 0.0) + max(float(obs.duration), 0.0)
        key = _main_key(totals)
    return Annotation(segments=tuple(segments), key=key, source=str(path))


def _main_key(totals: dict[int, float]) -> int:
    """Return the key with the longest total duration, preferring a real key on ties."""
    if not totals:
        return KEY_NONE
    return max(totals, key=lambda k: (totals[k], k != KEY_NONE, -k))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Pairing


def pair_paths(
    ref: str | os.PathLike[str],
    est: str | os.PathLike[str],
    *,
    ref_suffixes: Sequence[str] = REF_SUFFIXES,
    est_suffixes: Sequence[str] = EST_SUFFIXES,
) -> Pairing:
    """Pair reference and estimate files.

    Parameters
    ----------
    ref, est : str or os.PathLike
        Two files (paired whatever their names), or two directories searched recursively
        for files with the given suffixes and paired by file stem. When a stem has several
        files on one side (``song.lab`` and ``song.jams``) the first suffix in the
        preference list wins.
    ref_suffixes, est_suffixes : sequence of str
        Suffixes (lower case, with the dot) in order of preference.

    Returns
    -------
    Pairing
        Pairs sorted by name; a reference without an estimate, an estimate without a
        reference and a stem found in two directories of one side are listed as problems
        (kind ``'missing'`` for the first two, ``'error'`` for the ambiguous stem).

    Raises
    ------
    EvalError
        If a path does not exist, or one is a file and the other a directory.
    """
    ref, est = Path(ref), Path(est)
    for path in (ref, est):
        if not path.exists():
            raise EvalError(f"cannot read '{path}': file not found")
    if ref.is_dir() != est.is_dir():
        raise EvalError(
            f"cannot pair '{ref}' with '{est}': one is a directory and the other a file",
            hint="give two files or two directories",
        )
    if not ref.is_dir():
        return Pairing(pairs=(FilePair(name=ref.stem, ref_path=ref, est_path=est),))
    problems: list[EvalProblem] = []
    refs = _files_by_stem(ref, ref_suffixes, problems)
    ests = _files_by_stem(est, est_suffixes, problems)
    pairs = []
    for name in sorted(refs.keys() | ests.keys()):
        if name in refs and name in ests:
            pairs.append(FilePair(name=name, ref_path=refs[name], est_path=ests[name]))
        elif name in refs:
            problems.append(
                EvalProblem(str(refs[name]), f"no estimate named '{name}' in '{est}'", "missing")
            )
        else:
            problems.append(
                EvalProblem(str(ests[name]), f"no reference named '{name}' in '{ref}'", "missing")
            )
    return Pairing(pairs=tuple(pairs), problems=tuple(problems))


def _files_by_stem(
    folder: Path, suffixes: Sequence[str], problems: list[EvalProblem], *, unique: bool = False
) -> dict[str, Path]:
    """Map stems to the preferred file under `folder`; ambiguous stems go to `problems`.

    A stem is ambiguous when its files lie in different folders, or (with `unique`) when it
    has more than one file at all.
    """
    rank = {s: i for i, s in enumerate(suffixes)}
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in rank and path.is_file() and not path.name.startswith("."):
            found.setdefault(path.stem, []).append(path)
    chosen = {}
    for stem, paths in found.items():
        if len({p.parent for p in paths}) > 1 or (unique and len(paths) > 1):
            where = ", ".join(f"'{p}'" for p in paths)
            problems.append(
                EvalProblem(str(folder / stem), f"name '{stem}' is ambiguous: {where}", "error")
            )
            continue
        chosen[stem] = min(paths, key=lambda p: rank[p.suffix.lower()])
    return chosen


def find_labelled_audio(
    folder: str | os.PathLike[str],
    *,
    references: str | os.PathLike[str] | None = None,
    audio_suffixes: Sequence[str] = AUDIO_SUFFIXES,
) -> Pairing:
    """Find the audio files of a labelled data folder and their chord annotations.

    Parameters
    ----------
    folder : str or os.PathLike
        Data folder (searched recursively): audio files, each with a same-stem ``.lab``
        beside it (and optionally ``.key``).
    references : str or os.PathLike or None, optional
        Directory of reference annotations (``.lab`` or ``.jams``, searched recursively)
        to pair with the audio by stem instead of the LAB files beside the audio.
    audio_suffixes : sequence of str
        Audio suffixes, lower case with the dot.

    Returns
    -------
    Pairing
        Pairs named by stem, with ``ref_path`` the annotation and ``est_path`` the audio
        file; audio without an annotation is listed as a ``'missing'`` problem, a stem
        with audio files in two folders (or in two formats) as an ``'error'``.

    Raises
    ------
    EvalError
        If `folder` or `references` is not a directory.
    """
    folder = Path(folder)
    for path, what in ((folder, "audio folder"), (references, "reference folder")):
        if path is not None and not Path(path).is_dir():
            raise EvalError(f"{what} '{path}' is not a directory")
    problems: list[EvalProblem] = []
    audio = _files_by_stem(folder, audio_suffixes, problems, unique=True)
    refs = None if references is None else _files_by_stem(Path(references), REF_SUFFIXES, problems)
    pairs = []
    for stem, path in sorted(audio.items()):
        lab = path.with_suffix(".lab") if refs is None else refs.get(stem)
        if lab is not None and lab.is_file():
            pairs.append(FilePair(name=stem, ref_path=lab, est_path=path))
        else:
            problems.append(
                EvalProblem(str(path), f"no chord annotation for '{path.name}'", "missing")
            )
    return Pairing(pairs=tuple(pairs), problems=tuple(problems))


# --------------------------------------------------------------------------------------------
# Scoring


def score_song(
    reference: Sequence[ChordSegment],
    estimate: Sequence[ChordSegment],
    *,
    name: str = "",
    ref_key: int | None = None,
    est_key: int | None = None,
) -> SongScore:
    """Score an estimate against a reference with the 15 mir_eval chord metrics.

    Parameters
    ----------
    reference : sequence of ChordSegment
        Reference chords (Harte labels) in time order.
    estimate : sequence of ChordSegment
        Estimated chords in time order.
    name : str, optional
        Song name carried into the result.
    ref_key, est_key : int or None, optional
        Key classes (0..24) of both sides, ``None`` when unknown; the key is scored when the
        reference key is a real key and the estimate has one (24 counts as a wrong key).

    Returns
    -------
    SongScore
        Scores and the comparable duration behind each.

    Raises
    ------
    ValueError
        If the reference is empty or a label is rejected by mir_eval.
    """
    import mir_eval

    alignment = align_segments(reference, estimate)
    durations = alignment.durations_s
    ref_labels, est_labels = list(alignment.ref_labels), list(alignment.est_labels)
    scores: dict[str, float] = {}
    weights: dict[str, float] = {}
    for metric in CHORD_METRICS:
        try:
            comparison = np.asarray(
                getattr(mir_eval.chord, metric)(ref_labels, est_labels), dtype=np.float64
            )
        except mir_eval.chord.InvalidChordException as exc:
            raise ValueError(f"mir_eval rejects a label: {exc}") from None
        valid = comparison >= 0
        total = float(durations[valid].sum())
        weights[metric] = total
        scores[metric] = (
            float(durations[valid] @ comparison[valid]) / total if total > 0 else math.nan
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_merged = mir_eval.chord.merge_chord_intervals(
            alignment.ref_intervals, list(alignment.ref_segment_labels)
        )
        est_merged = mir_eval.chord.merge_chord_intervals(
            alignment.est_intervals, list(alignment.est_segment_labels)
        )
        scores["overseg"] = float(mir_eval.chord.overseg(ref_merged, est_merged))
        scores["underseg"] = float(mir_eval.chord.underseg(ref_merged, est_merged))
    scores["seg"] = min(scores["overseg"], scores["underseg"])
    duration = float(alignment.intervals[-1, 1] - alignment.intervals[0, 0])
    for metric in SEGMENTATION_METRICS:
        weights[metric] = duration
    key_score = None
    if ref_key is not None and ref_key != KEY_NONE and est_key is not None:
        key_score = float(
            mir_eval.key.weighted_score(key_to_mir_eval(ref_key), _mir_eval_key(est_key))
        )
    quality_s, quality_hit_s = class_hits((ref_labels, est_labels), durations)
    return SongScore(
        name=name,
        duration_s=duration,
        scores=scores,
        weights_s=weights,
        ref_key=ref_key,
        est_key=est_key,
        key_score=key_score,
        quality_s=quality_s,
        quality_hit_s=quality_hit_s,
    )


def class_hits(
    labels: tuple[Sequence[str], Sequence[str]], durations_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return reference seconds per chord quality and the seconds estimated right.

    Each label is mapped to its vocabulary class (:func:`theory.vocabulary.chord_class`, the
    nearest of the 44 qualities; slash basses are ignored); reference pieces labelled ``X``
    are left out, an estimate ``X`` counts as wrong.

    Parameters
    ----------
    labels : (reference labels, estimated labels)
        Labels of the aligned pieces (:class:`Alignment`).
    durations_s : ndarray
        Duration of each piece.

    Returns
    -------
    (ndarray, ndarray), each shape (45,)
        Reference seconds and correctly estimated seconds per quality (then ``N``).
    """
    from theory.vocabulary import N_QUALITIES, chord_class, class_quality_indices

    ref_s = np.zeros(N_QUALITIES + 1)
    hit_s = np.zeros(N_QUALITIES + 1)
    for ref, est, seconds in zip(*labels, durations_s, strict=True):
        ref_class = chord_class(ref)
        if ref_class is None:
            continue
        quality = int(class_quality_indices(np.array([ref_class]))[0])
        ref_s[quality] += seconds
        if chord_class(est) == ref_class:
            hit_s[quality] += seconds
    return ref_s, hit_s


def _mir_eval_key(key: int) -> str:
    """Return the key as mir_eval.key reads it; no key is X (scores 0 against a real key)."""
    return "X" if key == KEY_NONE else key_to_mir_eval(key)


def aggregate_scores(
    songs: Iterable[SongScore],
    *,
    problems: Iterable[EvalProblem] = (),
    model: str | None = None,
    confusion: QualityConfusion | None = None,
) -> EvalReport:
    """Aggregate per-song scores over a dataset.

    Parameters
    ----------
    songs : iterable of SongScore
        Scored songs.
    problems : iterable of EvalProblem, optional
        Files not scored, carried into the report.
    model : str or None, optional
        Model name for the report.
    confusion : QualityConfusion or None, optional
        Quality confusion of the songs, carried into the report.

    Returns
    -------
    EvalReport
        Duration-weighted (MIREX) and mean-over-songs scores per metric, key scores.
    """
    songs = tuple(sorted(songs, key=lambda s: s.name))
    weighted: dict[str, float] = {}
    mean: dict[str, float] = {}
    for metric in ALL_METRICS:
        w = np.array([s.weights_s[metric] for s in songs], dtype=np.float64)
        x = np.array([s.scores[metric] for s in songs], dtype=np.float64)
        ok = np.isfinite(x) & (w > 0)
        weighted[metric] = float(w[ok] @ x[ok] / w[ok].sum()) if ok.any() else math.nan
        finite = np.isfinite(x)
        mean[metric] = float(x[finite].mean()) if finite.any() else math.nan
    key_scores = [s.key_score for s in songs if s.key_score is not None]
    class_recall = _class_recall(songs)
    return EvalReport(
        songs=songs,
        weighted=weighted,
        mean=mean,
        key_songs=len(key_scores),
        key_weighted=float(np.mean(key_scores)) if key_scores else None,
        key_accuracy=float(np.mean([k == 1.0 for k in key_scores])) if key_scores else None,
        problems=tuple(problems),
        model=model,
        confusion=confusion,
        class_recall=class_recall,
        acc_class=float(np.mean(list(class_recall.values()))) if class_recall else math.nan,
    )


def _class_recall(songs: Sequence[SongScore]) -> dict[str, float]:
    """Recall of every quality (and N) with reference time, over the songs."""
    from theory import QUALITIES

    timed = [s for s in songs if s.quality_s is not None and s.quality_hit_s is not None]
    if not timed:
        return {}
    ref_s = np.sum([s.quality_s for s in timed], axis=0)
    hit_s = np.sum([s.quality_hit_s for s in timed], axis=0)
    names = [q.name or "maj" for q in QUALITIES] + ["N"]
    return {names[q]: float(hit_s[q] / ref_s[q]) for q in np.flatnonzero(ref_s > 0)}


def evaluate_pairs(
    pairing: Pairing,
    *,
    confusion: bool = False,
    on_song: Callable[[FilePair], None] | None = None,
) -> EvalReport:
    """Read and score every pair of files.

    Parameters
    ----------
    pairing : Pairing
        From :func:`pair_paths`; its problems are carried into the report.
    confusion : bool, optional
        Whether to tally the quality confusion (:mod:`chordcli.confusion`) too.
    on_song : callable, optional
        Called with each pair before it is scored (progress display).

    Returns
    -------
    EvalReport
        Scores of the pairs that could be read; files that could not be read or scored are
        listed in ``problems`` with kind ``'error'``.
    """

    def estimate(pair: FilePair) -> tuple[tuple[ChordSegment, ...], int | None]:
        est = read_annotation(pair.est_path)
        return est.segments, est.key

    return _evaluate(pairing, estimate, confusion=confusion, on_song=on_song, catch=())


def evaluate_audio_folder(
    folder: str | os.PathLike[str],
    *,
    transcribe: Callable[[Path], Transcription],
    references: str | os.PathLike[str] | None = None,
    model: str | None = None,
    confusion: bool = False,
    on_song: Callable[[FilePair], None] | None = None,
    catch: tuple[type[BaseException], ...] = (),
) -> EvalReport:
    """Transcribe every labelled audio file of a data folder and score it.

    Parameters
    ----------
    folder : str or os.PathLike
        Data folder (see :func:`find_labelled_audio`).
    transcribe : callable
        Turns an audio path into a :class:`~chordcli.segments.Transcription`, e.g.
        ``functools.partial(chordcli.pipeline.transcribe_file, backend=backend)``.
    references : str or os.PathLike or None, optional
        Directory of reference annotations paired with the audio by stem; by default the
        ``.lab`` file beside each audio file.
    model : str or None, optional
        Model name for the report.
    confusion : bool, optional
        Whether to tally the quality confusion too.
    on_song : callable, optional
        Called with each pair before it is transcribed (progress display).
    catch : tuple of exception types, optional
        Errors of one file, besides :class:`~chordcli.errors.ChordcliError`, that are recorded
        as problems instead of stopping the run (e.g. ``models.backend.ModelError``).

    Returns
    -------
    EvalReport
        Scores with the transcriber's key as the estimated key.

    Raises
    ------
    EvalError
        If `folder` (or `references`) is not a directory.
    """
    pairing = find_labelled_audio(folder, references=references)
    return evaluate_audio_pairs(
        pairing,
        transcribe=transcribe,
        model=model,
        confusion=confusion,
        on_song=on_song,
        catch=catch,
    )


def evaluate_audio_pairs(
    pairing: Pairing,
    *,
    transcribe: Callable[[Path], Transcription],
    model: str | None = None,
    confusion: bool = False,
    on_song: Callable[[FilePair], None] | None = None,
    catch: tuple[type[BaseException], ...] = (),
) -> EvalReport:
    """Transcribe the audio of each pair (``est_path``) and score it against ``ref_path``.

    Parameters
    ----------
    pairing : Pairing
        Usually from :func:`find_labelled_audio`, possibly a subset of its pairs.
    transcribe, model, confusion, on_song, catch
        As for :func:`evaluate_audio_folder`.

    Returns
    -------
    EvalReport
        Scores with the transcriber's key as the estimated key.
    """

    def estimate(pair: FilePair) -> tuple[tuple[ChordSegment, ...], int | None]:
        transcription = transcribe(pair.est_path)
        return tuple(transcription.segments), int(transcription.key)

    return _evaluate(
        pairing, estimate, confusion=confusion, on_song=on_song, catch=tuple(catch), model=model
    )


def _evaluate(
    pairing: Pairing,
    estimate: Callable[[FilePair], tuple[tuple[ChordSegment, ...], int | None]],
    *,
    confusion: bool,
    on_song: Callable[[FilePair], None] | None,
    catch: tuple[type[BaseException], ...],
    model: str | None = None,
) -> EvalReport:
    """Score every pair, getting each estimate from `estimate`; errors become problems."""
    catch = (ChordcliError, *catch)
    songs: list[SongScore] = []
    problems = list(pairing.problems)
    tally = None
    if confusion:
        from chordcli.confusion import QualityConfusion, quality_confusion

        tally = QualityConfusion.empty()
    for pair in pairing.pairs:
        if on_song is not None:
            on_song(pair)
        try:
            ref = read_annotation(pair.ref_path)
        except ChordcliError as exc:
            problems.append(EvalProblem(str(pair.ref_path), str(exc)))
            continue
        if not ref.segments:
            problems.append(
                EvalProblem(str(pair.ref_path), f"'{pair.ref_path}' has no chord segments")
            )
            continue
        try:
            est_segments, est_key = estimate(pair)
        except catch as exc:
            problems.append(EvalProblem(str(pair.est_path), str(exc)))
            continue
        try:
            song = score_song(
                ref.segments, est_segments, name=pair.name, ref_key=ref.key, est_key=est_key
            )
            if tally is not None:
                tally = tally + quality_confusion(ref.segments, est_segments)
        except ValueError as exc:
            problems.append(
                EvalProblem(str(pair.est_path), f"cannot score '{pair.est_path}': {exc}")
            )
            continue
        songs.append(replace(song, ref_path=str(pair.ref_path), est_path=str(pair.est_path)))
    return aggregate_scores(songs, problems=problems, model=model, confusion=tally)


# --------------------------------------------------------------------------------------------
# Machine-readable output


def _json_number(value: float | None) -> float | None:
    """Return a float for JSON: NaN becomes None (null), others are rounded to 6 decimals."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 6)


def report_to_dict(report: EvalReport) -> dict:
    """Return the report as plain JSON-ready data (NaN as None).

    Returns
    -------
    dict
        ``{"model", "songs_scored", "duration_s", "weighted": {metric: score},
        "mean": {...}, "key": {"songs", "weighted", "accuracy"}, "acc_class",
        "class_recall": {quality: recall}, "songs": [{"name", "ref", "est", "duration_s",
        "scores", "ref_key", "est_key", "key_score"}], "problems": [{"path", "kind",
        "message"}]}``, keys as JAMS strings;
        with a confusion, ``"qualities"``: the rows of
        :func:`chordcli.confusion.quality_table` as dicts.
    """
    from theory import key_to_jams

    def key_text(key: int | None) -> str | None:
        return None if key is None else key_to_jams(key)

    data = {
        "model": report.model,
        "songs_scored": len(report.songs),
        "duration_s": _json_number(report.duration_s),
        "weighted": {m: _json_number(report.weighted[m]) for m in ALL_METRICS},
        "mean": {m: _json_number(report.mean[m]) for m in ALL_METRICS},
        "key": {
            "songs": report.key_songs,
            "weighted": _json_number(report.key_weighted),
            "accuracy": _json_number(report.key_accuracy),
        },
        "acc_class": _json_number(report.acc_class),
        "class_recall": {q: _json_number(r) for q, r in report.class_recall.items()},
        "songs": [
            {
                "name": s.name,
                "ref": s.ref_path,
                "est": s.est_path,
                "duration_s": _json_number(s.duration_s),
                "scores": {m: _json_number(s.scores[m]) for m in ALL_METRICS},
                "ref_key": key_text(s.ref_key),
                "est_key": key_text(s.est_key),
                "key_score": _json_number(s.key_score),
            }
            for s in report.songs
        ],
        "problems": [
            {"path": p.path, "kind": p.kind, "message": p.message} for p in report.problems
        ],
    }
    if report.confusion is not None:
        from chordcli.confusion import quality_table

        data["qualities"] = [
            {
                name: _json_number(value) if isinstance(value, float) else value
                for name, value in asdict(row).items()
            }
            for row in quality_table(report.confusion)
        ]
    return data


def report_to_csv(report: EvalReport) -> str:
    """Return the report as CSV text: one row per song, then the two dataset rows.

    Columns are ``song, duration_s, <15 metrics>, key_score``; the last two rows are named
    ``ALL (weighted)`` and ``ALL (mean)``. Missing values are empty cells.
    """
    import csv
    import io

    def cell(value: float | None) -> str:
        number = _json_number(value)
        return "" if number is None else f"{number:.6f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["song", "duration_s", *ALL_METRICS, "key_score"])
    for s in report.songs:
        writer.writerow(
            [
                s.name,
                cell(s.duration_s),
                *(cell(s.scores[m]) for m in ALL_METRICS),
                cell(s.key_score),
            ]
        )
    total = cell(report.duration_s)
    writer.writerow(
        [
            "ALL (weighted)",
            total,
            *(cell(report.weighted[m]) for m in ALL_METRICS),
            cell(report.key_weighted),
        ]
    )
    writer.writerow(
        [
            "ALL (mean)",
            total,
            *(cell(report.mean[m]) for m in ALL_METRICS),
            cell(report.key_weighted),
        ]
    )
    return out.getvalue()
