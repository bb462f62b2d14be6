"""Training data: audio files with chord labels -> cached CQT features and frame targets.

Data folder convention (searched recursively)
---------------------------------------------
* ``<stem>.flac`` / ``.wav`` / ``.ogg`` / ``.opus`` / ``.mp3``: the audio;
* ``<stem>.lab``: Harte chord labels, ``start<TAB>end<TAB>label`` per line (required);
* ``<stem>.key``: optional, ``start<TAB>end<TAB>key`` per line, the key written as JAMS
  (``A:minor``) or anything :func:`theory.keys.parse_key` accepts;
* ``<stem>.beats``: optional, ``time<TAB>beat_in_bar`` (not used for training).

Features
--------
CQT features (:func:`models.cqt.cqt`) are computed once per audio file and feature
configuration and cached as float16 ``.npz`` under the cache folder, keyed by the sha256 of
the audio bytes and of the CQT configuration, so renamed or moved files hit the cache and an
edited file or another configuration misses it. Cache files are written atomically. As in
``chordcli transcribe``, the CQT is centred on the recording's own tuning
(:func:`models.tuning.estimate_tuning`), so the network is trained and scored on the features
it meets in use: a song played 40 cents sharp gives the features of the in-tune one.

Frame targets
-------------
At each CQT frame time (frame ``i`` at ``i / frames_per_second``) the chord sounding is looked up
in the LAB file and turned into (:class:`FrameTargets`): the 25-dim chord-tone + bass vector
(:func:`theory.targets.chord_target`), the bass class (12 = none), the vocabulary class
(:func:`theory.vocabulary.chord_class`), a change flag on the frame nearest each chord onset,
and the key class from the ``.key`` file. Frames that are unlabelled (``X``, gaps, past the last
segment) are masked: ``-1`` in the class targets and ``False`` in ``vector_mask``; the change
flag is also masked on the first labelled frame after them, since whether the chord changed there
is unknown. Songs without a ``.key`` file have every key target masked (-1) rather than trained
towards "no key".

Examples start at chord onsets (every frame where the label changes) and at every ``X``
segment, so that an unlabelled recording written as ``X`` segments of some seconds each (for a
pitch-shift consistency loss, ``docs/model.md``) gives examples over its whole length; they have
a fixed length; songs are split into training and validation by a stable hash of their name, never
by frame.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile

from models.base import ModelError
from models.cqt import DEFAULT_CQT, CQTConfig, CQTParameterError, cqt
from models.tuning import TuningError, estimate_tuning
from theory.harte import ChordLabelError, parse_chord
from theory.keys import parse_key
from theory.targets import N_TARGET, chord_target
from theory.vocabulary import N_CLASS, N_QUALITIES, chord_class, class_quality_indices

__all__ = [
    "AUDIO_SUFFIXES",
    "DEFAULT_CACHE_DIR",
    "LABEL_END_TOLERANCE_S",
    "DataProblem",
    "DatasetError",
    "FrameTargets",
    "Song",
    "SongFiles",
    "SongLabels",
    "audio_sha256",
    "cached_features",
    "cached_frame_count",
    "example_starts",
    "example_weights",
    "exit_with_parent",
    "frame_quality_weights",
    "inverted_frames",
    "quality_shares",
    "quality_weights",
    "segment_index",
    "find_songs",
    "frame_targets",
    "load_song",
    "load_song_labels",
    "load_songs",
    "load_songs_labels",
    "read_chord_lab",
    "read_key_file",
    "replace_atomically",
    "slice_example",
    "split_songs",
]

_S = TypeVar("_S", bound="SongLabels")

#: Audio file suffixes of the data folder convention.
AUDIO_SUFFIXES = (".flac", ".wav", ".ogg", ".opus", ".mp3")
#: Default feature cache folder (relative to the working directory; git-ignored).
DEFAULT_CACHE_DIR = Path(".cache") / "features"
#: How far, in seconds, the last chord label may end after the end of the audio.
LABEL_END_TOLERANCE_S = 1.0


class DatasetError(ModelError):
    """A data file that cannot be used for training; the message names the file."""


@dataclass(frozen=True)
class DataProblem:
    """A file skipped while loading a data folder, and why."""

    path: Path
    message: str


@dataclass(frozen=True)
class SongFiles:
    """The files of one song in a data folder."""

    audio: Path
    lab: Path | None
    key: Path | None = None
    beats: Path | None = None

    @property
    def name(self) -> str:
        """The audio path without its suffix (unique within a folder)."""
        return str(self.audio.with_suffix(""))


@dataclass(frozen=True, eq=False)
class FrameTargets:
    """Per-frame training targets of one song (or one example), all of length ``n_frames``.

    Attributes
    ----------
    vector : ndarray, shape (n_frames, 25), float32
        Chord-tone + bass vector (zero where masked).
    vector_mask : ndarray, shape (n_frames,), bool
        False for unlabelled frames (``X``, gaps).
    change : ndarray, shape (n_frames,), int32
        1 on the frame nearest each chord onset, 0 elsewhere, -1 masked (unlabelled frames
        and the first frame after them).
    bass : ndarray, shape (n_frames,), int32
        Bass pitch class 0..11, 12 no bass, -1 masked.
    key : ndarray, shape (n_frames,), int32
        Key class 0..24, -1 masked (no key annotation).
    chord : ndarray, shape (n_frames,), int32
        Vocabulary class 0..528, -1 masked.
    """

    vector: np.ndarray
    vector_mask: np.ndarray
    change: np.ndarray
    bass: np.ndarray
    key: np.ndarray
    chord: np.ndarray

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.chord.shape[0])

    def slice(self, start: int, stop: int, *, length: int | None = None) -> FrameTargets:
        """Return frames ``start:stop``, padded with masked frames to ``length`` if given."""
        n = stop - start if length is None else length
        take = slice(start, min(stop, self.n_frames))
        got = take.stop - take.start
        vector = np.zeros((n, N_TARGET), dtype=np.float32)
        vector[:got] = self.vector[take]
        vector_mask = np.zeros(n, dtype=bool)
        vector_mask[:got] = self.vector_mask[take]
        arrays = {}
        for name in ("change", "bass", "key", "chord"):
            arr = np.full(n, -1, dtype=np.int32)
            arr[:got] = getattr(self, name)[take]
            arrays[name] = arr
        return FrameTargets(vector=vector, vector_mask=vector_mask, **arrays)


@dataclass(frozen=True, eq=False)
class SongLabels:
    """A training song's frame targets without its features.

    Enough to split songs, place examples and weigh them (:func:`split_songs`,
    :func:`example_starts`, :func:`example_weights`, :func:`quality_shares`).

    Attributes
    ----------
    name : str
        Audio path without suffix.
    targets : FrameTargets
        Frame targets, one per feature frame.
    onsets : ndarray, shape (n_onsets,), int64
        Frames where a chord starts (the first frame included), sorted.
    """

    name: str
    targets: FrameTargets
    onsets: np.ndarray

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.targets.n_frames


@dataclass(frozen=True, eq=False)
class Song(SongLabels):
    """A loaded training song: :class:`SongLabels` and the features.

    Attributes
    ----------
    features : ndarray, shape (n_frames, n_bins, 2), float16
        Cached CQT features, as many frames as the targets.
    """

    features: np.ndarray


# ---------------------------------------------------------------------------------------
# Files.


def find_songs(data_dir: str | os.PathLike[str]) -> tuple[list[SongFiles], list[DataProblem]]:
    """Find the songs of a data folder (recursively).

    Parameters
    ----------
    data_dir : str or PathLike
        The folder.

    Returns
    -------
    songs : list of SongFiles
        Audio files that have a ``.lab`` beside them, sorted by path. Hidden files (names
        starting with ``.``, such as the temporary files of an interrupted render) are left
        out, as ``chordcli eval`` does.
    problems : list of DataProblem
        Audio files without labels.

    Raises
    ------
    DatasetError
        If the folder does not exist or holds no audio.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"cannot read data folder '{root}': not a directory")
    audio = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
    if not audio:
        raise DatasetError(
            f"no audio in '{root}' (hint: expected {', '.join(AUDIO_SUFFIXES)} files, each with "
            "a same-stem .lab)"
        )
    songs, problems = [], []
    for path in audio:
        lab = path.with_suffix(".lab")
        if not lab.is_file():
            problems.append(DataProblem(path, f"'{path}': no chord labels ({lab.name} missing)"))
            continue
        key = path.with_suffix(".key")
        beats = path.with_suffix(".beats")
        songs.append(
            SongFiles(
                audio=path,
                lab=lab,
                key=key if key.is_file() else None,
                beats=beats if beats.is_file() else None,
            )
        )
    return songs, problems


def _read_lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise DatasetError(f"cannot read '{path}': not UTF-8 text") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows.append((number, stripped.split(None, 2)))
    return rows


def _interval(fields: list[str], path: Path, number: int) -> tuple[float, float, str]:
    if len(fields) != 3:
        raise DatasetError(f"'{path}' line {number}: expected 'start end label'")
    try:
        start, end = float(fields[0]), float(fields[1])
    except ValueError:
        raise DatasetError(f"'{path}' line {number}: times must be numbers") from None
    if not (np.isfinite(start) and np.isfinite(end) and end > start):
        raise DatasetError(f"'{path}' line {number}: the segment must end after it starts")
    return start, end, fields[2].strip()


def read_chord_lab(path: str | os.PathLike[str]) -> list[tuple[float, float, str]]:
    """Read a Harte chord LAB file as ``(start_s, end_s, label)`` tuples.

    Raises
    ------
    DatasetError
        If the file is unreadable, a line is malformed or a label is not valid Harte.
    """
    path = Path(path)
    segments = []
    for number, fields in _read_lines(path):
        start, end, label = _interval(fields, path, number)
        try:
            parse_chord(label)
        except ChordLabelError as exc:
            raise DatasetError(f"'{path}' line {number}: {exc}") from None
        segments.append((start, end, label))
    if not segments:
        raise DatasetError(f"'{path}' holds no chord segments")
    return segments


def read_key_file(path: str | os.PathLike[str]) -> list[tuple[float, float, int]]:
    """Read a ``.key`` file as ``(start_s, end_s, key_class)`` tuples.

    Raises
    ------
    DatasetError
        If the file is unreadable or a line is malformed.
    """
    path = Path(path)
    keys = []
    for number, fields in _read_lines(path):
        start, end, text = _interval(fields, path, number)
        try:
            keys.append((start, end, parse_key(text)))
        except ValueError as exc:
            raise DatasetError(f"'{path}' line {number}: {exc}") from None
    return keys


# ---------------------------------------------------------------------------------------
# Targets.


def segment_index(times_s: np.ndarray, starts_s: np.ndarray, ends_s: np.ndarray) -> np.ndarray:
    """Index of the segment holding each time, -1 where none does.

    The segments (``starts_s[i] <= t < ends_s[i]``) are in time order and do not overlap.
    """
    idx = np.searchsorted(starts_s, times_s, side="right") - 1
    inside = (idx >= 0) & (times_s < ends_s[np.clip(idx, 0, None)])
    return np.where(inside, idx, -1)


def frame_targets(
    segments: Sequence[tuple[float, float, str]],
    *,
    n_frames: int,
    frames_per_second: float,
    keys: Sequence[tuple[float, float, int]] | None = None,
) -> FrameTargets:
    """Compute per-frame targets from chord segments.

    Parameters
    ----------
    segments : sequence of (start_s, end_s, label)
        Chord segments in time order (Harte labels).
    n_frames : int
        Number of feature frames.
    frames_per_second : float
        Frame rate; frame ``i`` is at ``i / frames_per_second`` seconds.
    keys : sequence of (start_s, end_s, key_class), optional
        Key segments; None masks every key target.

    Returns
    -------
    FrameTargets
        Targets of length `n_frames` (see the module docstring for masking).
    """
    times = np.arange(n_frames) / frames_per_second
    starts = np.array([s[0] for s in segments], dtype=np.float64)
    ends = np.array([s[1] for s in segments], dtype=np.float64)
    labels = [s[2] for s in segments]
    idx = segment_index(times, starts, ends)

    seg_vector = np.zeros((len(labels) + 1, N_TARGET), dtype=np.float32)
    seg_valid = np.zeros(len(labels) + 1, dtype=bool)
    seg_bass = np.full(len(labels) + 1, -1, dtype=np.int32)
    seg_chord = np.full(len(labels) + 1, -1, dtype=np.int32)
    for i, label in enumerate(labels):
        target = chord_target(label)
        if target is None:
            continue
        seg_vector[i] = target
        seg_valid[i] = True
        seg_bass[i] = int(np.argmax(target[12:]))
        cls = chord_class(label)
        seg_chord[i] = -1 if cls is None else cls
    # idx == -1 picks the extra, masked row at the end.
    vector = seg_vector[idx]
    vector_mask = seg_valid[idx]
    bass = seg_bass[idx]
    chord = seg_chord[idx]

    # Whether the chord changes is unknown where there is no label (X, gaps, past the end)
    # and on the first frame after such a stretch: masked there (-1), not "no change".
    change = np.where(vector_mask, 0, -1).astype(np.int32)
    previous = None
    for (start, _end, label), prev_end in zip(segments, [None, *ends[:-1]], strict=True):
        gap = prev_end is not None and start - prev_end > 1e-3
        if label != previous or gap:
            frame = int(round(start * frames_per_second))
            if 0 < frame < n_frames and vector_mask[frame]:
                change[frame] = -1 if gap or previous == "X" else 1
        previous = label

    key = np.full(n_frames, -1, dtype=np.int32)
    if keys:
        k_starts = np.array([k[0] for k in keys])
        k_ends = np.array([k[1] for k in keys])
        k_idx = segment_index(times, k_starts, k_ends)
        k_classes = np.array([k[2] for k in keys] + [-1], dtype=np.int32)
        key = k_classes[k_idx]
    return FrameTargets(
        vector=vector, vector_mask=vector_mask, change=change, bass=bass, key=key, chord=chord
    )


def _onsets(
    segments: Sequence[tuple[float, float, str]], *, n_frames: int, frames_per_second: float
) -> np.ndarray:
    frames = {0}
    previous = None
    for start, _end, label in segments:
        if label != previous or label == "X":
            frame = int(round(start * frames_per_second))
            if 0 <= frame < n_frames:
                frames.add(frame)
        previous = label
    return np.array(sorted(frames), dtype=np.int64)


# ---------------------------------------------------------------------------------------
# Audio and the feature cache.


def audio_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remembered_sha256(path: Path, cache_dir: Path) -> str:
    """Return the sha256 of `path`, remembered in the cache by path, size and modification time.

    Hashing a large corpus reads every byte (minutes for tens of GB); a later load of an
    unchanged file (same resolved path, size and mtime, the test ``make`` and ``rsync`` use)
    reads the remembered digest instead.
    """
    stat = path.stat()
    resolved = str(path.resolve())
    key = hashlib.sha256(resolved.encode()).hexdigest()
    memo = cache_dir / "digests" / key[:2] / f"{key}.json"
    stamp = {"path": resolved, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        if {k: data.get(k) for k in stamp} == stamp and len(data.get("sha256", "")) == 64:
            return str(data["sha256"])
    except (OSError, ValueError, AttributeError):
        pass  # no (usable) memo: hash the file
    digest = audio_sha256(path)
    text = json.dumps({**stamp, "sha256": digest})
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(memo, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError:
        pass  # a read-only cache still works, it just hashes again next time
    return digest


#: Part of every cache key: the way features are made besides the CQT settings ("tuned": the
#: CQT centred on the recording's estimated tuning). Entries made another way are not reused.
FEATURE_RECIPE = "tuned"


def _config_hash(config: CQTConfig) -> str:
    text = json.dumps({**config.to_dict(), "recipe": FEATURE_RECIPE}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Decode a file as float32 (n, 2) at its own rate (the CQT converts the rate)."""
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise DatasetError(f"cannot read '{path}': {exc} (hint: convert to WAV or FLAC)") from exc
    if samples.shape[0] == 0:
        raise DatasetError(f"cannot read '{path}': the file contains no audio frames")
    if samples.shape[1] == 1:
        samples = np.repeat(samples, 2, axis=1)
    elif samples.shape[1] > 2:  # the fold-down rule of chordcli.audio
        rest = samples[:, 2:].mean(axis=1, keepdims=True)
        samples = (samples[:, :2] + rest) / 2
    return samples, int(rate)


def _cache_file(path: Path, cqt_config: CQTConfig, cache_dir: Path) -> Path:
    """Return the cache entry of an audio file's features (which may not exist yet)."""
    try:
        digest = _remembered_sha256(path, cache_dir)
    except OSError as exc:
        raise DatasetError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    return cache_dir / digest[:2] / f"{digest}-{_config_hash(cqt_config)}.npz"


def _usable_entry(shape: tuple[int, ...], dtype: np.dtype, cqt_config: CQTConfig) -> bool:
    """Whether a cache entry's feature array (by shape and dtype) fits `cqt_config`."""
    return dtype == np.float16 and len(shape) == 3 and shape[1] == cqt_config.n_bins


def cached_frame_count(
    audio_path: str | os.PathLike[str],
    *,
    cqt_config: CQTConfig = DEFAULT_CQT,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
) -> tuple[int, float]:
    """Return the number of feature frames and the duration of an audio file.

    Reads only the array header and the duration of the cache entry, not the features; an
    audio file not in the cache yet (or a damaged entry) goes through :func:`cached_features`.

    Returns
    -------
    n_frames : int
        Frames of :func:`cached_features`'s array.
    duration_s : float
        Duration of the audio in seconds.

    Raises
    ------
    DatasetError
        If the audio cannot be read.
    """
    path = Path(audio_path)
    cache = _cache_file(path, cqt_config, Path(cache_dir))
    if cache.is_file():
        try:
            with zipfile.ZipFile(cache) as archive:
                with archive.open("features.npy") as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                with archive.open("duration_s.npy") as f:
                    duration_s = float(np.lib.format.read_array(f, allow_pickle=False))
            if _usable_entry(shape, dtype, cqt_config):
                return int(shape[0]), duration_s
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # damaged cache entry: cached_features recomputes and replaces it
    features, duration_s = cached_features(path, cqt_config=cqt_config, cache_dir=cache_dir)
    return int(features.shape[0]), duration_s


def cached_features(
    audio_path: str | os.PathLike[str],
    *,
    cqt_config: CQTConfig = DEFAULT_CQT,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
) -> tuple[np.ndarray, float]:
    """Return the CQT features of an audio file, computing and caching them on first use.

    The CQT is centred on the file's estimated tuning (:func:`models.tuning.estimate_tuning`),
    as in ``chordcli transcribe``; the cache entry also holds the estimate (``tuning_cents``).

    Parameters
    ----------
    audio_path : str or PathLike
        Audio file.
    cqt_config : CQTConfig, optional
        Feature parameters (part of the cache key).
    cache_dir : str or PathLike, optional
        Cache folder; created if missing.

    Returns
    -------
    features : ndarray, shape (n_frames, n_bins, 2), float16
        CQT features.
    duration_s : float
        Duration of the audio in seconds.

    Raises
    ------
    DatasetError
        If the audio cannot be read.
    """
    path = Path(audio_path)
    cache = _cache_file(path, cqt_config, Path(cache_dir))
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as data:
                features, duration_s = data["features"], float(data["duration_s"])
            if _usable_entry(features.shape, features.dtype, cqt_config):
                return features, duration_s
        except (OSError, ValueError, KeyError):
            pass  # damaged cache entry: recompute and replace it
    samples, rate = _read_audio(path)
    try:
        tuning_cents = estimate_tuning(samples, sample_rate_hz=rate)
        features = cqt(
            samples, sample_rate_hz=rate, config=cqt_config, tuning_cents=tuning_cents
        ).astype(np.float16)
    except (CQTParameterError, TuningError) as exc:
        raise DatasetError(f"cannot use '{path}': {exc}") from exc
    duration_s = samples.shape[0] / rate
    cache.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                features=features,
                duration_s=np.float64(duration_s),
                tuning_cents=np.float64(tuning_cents),
            )

    replace_atomically(cache, write, suffix=".npz")
    return features, duration_s


def replace_atomically(path: Path, write: Callable[[Path], None], *, suffix: str = "") -> None:
    """Create or replace `path` atomically: `write` fills a temporary file, which is renamed.

    The temporary file lies beside `path` (same file system) and gets the permissions of a
    newly created file; it is removed if `write` fails, so readers see either the old or the
    complete new file, also after a crash.

    Parameters
    ----------
    path : Path
        Destination.
    write : callable
        Called with the temporary path; must write the complete content there.
    suffix : str, optional
        Suffix of the temporary name (some writers insist on one, e.g. ``.weights.h5``).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_song(
    files: SongFiles,
    *,
    cqt_config: CQTConfig = DEFAULT_CQT,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
) -> Song:
    """Load one song: cached features and frame targets.

    Parameters
    ----------
    files : SongFiles
        The song's files (``lab`` required).
    cqt_config : CQTConfig, optional
        Feature parameters.
    cache_dir : str or PathLike, optional
        Feature cache folder.

    Returns
    -------
    Song
        The song.

    Raises
    ------
    DatasetError
        If labels are missing or malformed, the audio is unreadable, or the labels run past
        the end of the audio by more than :data:`LABEL_END_TOLERANCE_S`.
    """
    labels = _read_labels(files)
    features, duration_s = cached_features(files.audio, cqt_config=cqt_config, cache_dir=cache_dir)
    song = _song_labels(files, labels, features.shape[0], duration_s, cqt_config.frames_per_second)
    return Song(name=song.name, targets=song.targets, onsets=song.onsets, features=features)


def load_song_labels(
    files: SongFiles,
    *,
    cqt_config: CQTConfig = DEFAULT_CQT,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
) -> SongLabels:
    """Load one song's frame targets without holding its features in memory.

    The frame count comes from the cached features' array header (the features are computed
    and cached first if they are not in the cache), so the targets line up with
    :func:`load_song`'s exactly.

    Raises
    ------
    DatasetError
        As :func:`load_song`.
    """
    labels = _read_labels(files)
    n_frames, duration_s = cached_frame_count(
        files.audio, cqt_config=cqt_config, cache_dir=cache_dir
    )
    return _song_labels(files, labels, n_frames, duration_s, cqt_config.frames_per_second)


_Labels = tuple[list[tuple[float, float, str]], list[tuple[float, float, int]] | None]


def _read_labels(files: SongFiles) -> _Labels:
    """Read a song's chord segments and (optional) key segments."""
    if files.lab is None:
        raise DatasetError(f"'{files.audio}': no chord labels")
    keys = read_key_file(files.key) if files.key is not None else None
    return read_chord_lab(files.lab), keys


def _song_labels(
    files: SongFiles,
    labels: _Labels,
    n_frames: int,
    duration_s: float,
    frames_per_second: float,
) -> SongLabels:
    """Turn a song's segments into frame targets of `n_frames` frames."""
    segments, keys = labels
    label_end = max(end for _start, end, _label in segments)
    if label_end > duration_s + LABEL_END_TOLERANCE_S:
        raise DatasetError(
            f"'{files.lab}': labels run to {label_end:.2f} s, past the end of the audio "
            f"({duration_s:.2f} s) (hint: check that the labels belong to '{files.audio.name}')"
        )
    targets = frame_targets(
        segments, n_frames=n_frames, frames_per_second=frames_per_second, keys=keys
    )
    onsets = _onsets(segments, n_frames=n_frames, frames_per_second=frames_per_second)
    return SongLabels(name=files.name, targets=targets, onsets=onsets)


def load_songs(
    songs: Iterable[SongFiles],
    *,
    cqt_config: CQTConfig = DEFAULT_CQT,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
    on_problem: Callable[[DataProblem], None] | None = None,
    on_loaded: Callable[[SongFiles], None] | None = None,
    jobs: int = 1,
) -> list[Song]:
    """Load many songs, skipping (and reporting) the ones that cannot be used.

    Parameters
    ----------
    songs : iterable of SongFiles
        Songs to load.
    cqt_config : CQTConfig, optional
        Feature parameters.
    cache_dir : str or PathLike, optional
        Feature cache folder.
    on_problem : callable, optional
        Called with a :class:`DataProblem` for every song skipped.
    on_loaded : callable, optional
        Called after each song (loaded or skipped), for progress display.
    jobs : int, optional
        Processes that compute missing features first (the CQT is the slow part of a first
        load); 1 computes them one song at a time in this process.

    Returns
    -------
    list of Song
        The usable songs, in input order.
    """
    songs = list(songs)
    if jobs > 1:
        _fill_cache([f.audio for f in songs], cqt_config=cqt_config, cache_dir=cache_dir, jobs=jobs)
    return _load_each(
        songs,
        lambda files: load_song(files, cqt_config=cqt_config, cache_dir=cache_dir),
        on_problem=on_problem,
        on_loaded=on_loaded,
    )


def load_songs_labels(
    songs: Iterable[SongFiles],
    *,
    cqt_config: CQTConfig = DEFAULT_CQT,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
    on_problem: Callable[[DataProblem], None] | None = None,
) -> list[SongLabels]:
    """Load many songs' frame targets (:func:`load_song_labels`), skipping unusable songs.

    Splitting, example placement and quality statistics need only these, so a whole corpus
    fits in a few hundred MB instead of its features' GB.

    Returns
    -------
    list of SongLabels
        The usable songs, in input order.
    """
    return _load_each(
        songs,
        lambda files: load_song_labels(files, cqt_config=cqt_config, cache_dir=cache_dir),
        on_problem=on_problem,
    )


def _load_each(
    songs: Iterable[SongFiles],
    load: Callable[[SongFiles], _S],
    *,
    on_problem: Callable[[DataProblem], None] | None,
    on_loaded: Callable[[SongFiles], None] | None = None,
) -> list[_S]:
    """Load every song with `load`, reporting (and skipping) those it rejects."""
    loaded = []
    for files in songs:
        try:
            loaded.append(load(files))
        except DatasetError as exc:
            if on_problem is not None:
                on_problem(DataProblem(files.audio, str(exc)))
        if on_loaded is not None:
            on_loaded(files)
    return loaded


def _cache_one(path: Path, cqt_config: CQTConfig, cache_dir: str | os.PathLike[str]) -> None:
    try:
        cached_features(path, cqt_config=cqt_config, cache_dir=cache_dir)
    except DatasetError:
        pass  # reported when the song is loaded


def exit_with_parent() -> None:
    """Worker-process initializer: end the worker as soon as its parent process ends.

    A parent killed by a signal (SIGTERM, SIGKILL) cannot shut its process pool down, and the
    pool's workers would otherwise wait for work forever. A daemon thread waits on the
    parent's sentinel and exits the worker when it closes. Does nothing in a main process.
    """
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _fill_cache(
    paths: Sequence[Path],
    *,
    cqt_config: CQTConfig,
    cache_dir: str | os.PathLike[str],
    jobs: int,
) -> None:
    """Compute the features of `paths` in `jobs` worker processes (cached ones are skipped)."""
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no state shared with a TensorFlow parent
    with concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=exit_with_parent
    ) as pool:
        futures = [pool.submit(_cache_one, path, cqt_config, cache_dir) for path in paths]
        for future in futures:
            future.result()


def split_songs(
    songs: Sequence[_S], *, validation_fraction: float, seed: int = 0
) -> tuple[list[_S], list[_S]]:
    """Split songs into training and validation sets by song, never by frame.

    A song goes to validation when a hash of its file name and `seed` falls below
    `validation_fraction`; the split is stable across runs and does not depend on which other
    songs are present. With two or more songs and a positive fraction, at least one song is
    held out and at least one kept for training. A song without a single frame labelled with
    a chord (an unlabelled recording: ``X`` throughout, or ``X`` and the ``N`` of
    ``scripts/pseudo_label.py --gate``) always stays in training when some other song can be
    held out: validation could only score its no-chord stretches.

    Parameters
    ----------
    songs : sequence of SongLabels (or Song)
        Songs.
    validation_fraction : float
        Share of songs held out, in [0, 1).
    seed : int, optional
        Changes the split.

    Returns
    -------
    train, validation : list
        The two sets, of the songs' type.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must lie in [0, 1), got {validation_fraction}")

    def score(song: SongLabels) -> float:
        text = f"{seed}:{Path(song.name).name}".encode()
        return int(hashlib.sha256(text).hexdigest()[:12], 16) / 16**12

    labelled = [bool(_chord_frames(s.targets.chord).any()) for s in songs]
    anything = any(labelled)  # with nothing labelled the hash decides for every song
    scores = [score(s) if c or not anything else 2.0 for s, c in zip(songs, labelled, strict=True)]
    val = [s for s, x in zip(songs, scores, strict=True) if x < validation_fraction]
    train = [s for s, x in zip(songs, scores, strict=True) if x >= validation_fraction]
    if validation_fraction > 0 and len(songs) >= 2:
        if not val:
            pick = int(np.argmin(scores))
            val, train = [songs[pick]], [s for i, s in enumerate(songs) if i != pick]
        elif not train:
            pick = int(np.argmax(scores))
            train, val = [songs[pick]], [s for i, s in enumerate(songs) if i != pick]
    return train, val


def example_starts(song: SongLabels, *, length_frames: int) -> np.ndarray:
    """Return the start frames of a song's training examples: its chord onsets.

    Onsets closer to the end than `length_frames` still start an example (padded and masked
    by :func:`slice_example`), except that at most one example starts in that tail.

    Returns
    -------
    ndarray, shape (n_examples,), int64
        Start frames.
    """
    onsets = song.onsets
    limit = max(song.n_frames - length_frames, 0)
    head = onsets[onsets <= limit]
    tail = onsets[onsets > limit]
    if len(tail) and (not len(head) or head[-1] < limit):
        head = np.append(head, limit if song.n_frames >= length_frames else tail[0])
    return head.astype(np.int64)


def quality_weights(songs: Sequence[SongLabels], *, power: float) -> np.ndarray:
    """Return the weight of each chord quality: ``(n_max / n_q) ** power``.

    ``n_q`` counts the labelled frames of quality ``q`` (44 qualities, any root, then ``N``)
    over `songs` and ``n_max`` is the largest count, so the commonest weighs 1; a quality
    without frames weighs 0.

    Raises
    ------
    ValueError
        If `power` is negative.
    """
    return _group_weights([class_quality_indices(s.targets.chord) for s in songs], power)


def _group_weights(groups: Sequence[np.ndarray], power: float) -> np.ndarray:
    """:func:`quality_weights` from the songs' per-frame quality indices."""
    if power < 0:
        raise ValueError(f"power must be >= 0, got {power}")
    counts = np.zeros(N_QUALITIES + 1, dtype=np.float64)
    for g in groups:
        counts += np.bincount(g[g >= 0], minlength=N_QUALITIES + 1)
    present = counts > 0
    weights = np.zeros_like(counts)
    if present.any():
        weights[present] = (counts.max() / counts[present]) ** power
    return weights


def _chord_frames(chord: np.ndarray) -> np.ndarray:
    """Frames whose class is a chord: neither masked (negative) nor ``N``, bool."""
    chord = np.asarray(chord)
    return (chord >= 0) & (chord < N_CLASS)


def inverted_frames(targets: FrameTargets) -> np.ndarray:
    """Frames labelled with a chord whose bass is not its root (an inversion), bool."""
    chord = np.asarray(targets.chord)
    bass = np.asarray(targets.bass)
    is_chord = _chord_frames(chord)
    root = np.where(is_chord, chord // N_QUALITIES, -1)
    return is_chord & (bass >= 0) & (bass < 12) & (bass != root)


def frame_quality_weights(chord: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-frame weights from vocabulary classes (-1 masked frames weigh 1), float32."""
    g = class_quality_indices(np.asarray(chord))
    return np.where(g >= 0, weights[np.maximum(g, 0)], 1.0).astype(np.float32)


def example_weights(
    songs: Sequence[SongLabels],
    examples: Sequence[tuple[int, int]],
    *,
    length_frames: int,
    power: float,
    inversion_power: float = 0.0,
    unlabelled_share: float | None = None,
) -> np.ndarray:
    """Return sampling weights that favour examples holding rare chord qualities.

    Each labelled frame of the songs belongs to one of 45 groups: the 44 qualities (any
    root, since pitch-shift augmentation moves roots anyway) and ``N``. A frame of group
    ``g`` weighs ``(n_max / n_g) ** power``, where ``n_g`` counts the group's frames over
    all `songs` and ``n_max`` is the largest count, so the commonest group weighs 1. An
    example weighs the mean of its labelled frames (1 if it has none). ``power`` 0 gives
    every example the same weight; 1 would sample every group equally often if examples
    held one group each.

    Parameters
    ----------
    songs : sequence of SongLabels (or Song)
        The training songs.
    examples : sequence of (song_index, start_frame)
        The examples (see :func:`example_starts`).
    length_frames : int
        Frames per example.
    power : float
        Balancing exponent, >= 0.
    inversion_power : float, optional
        Inverted chords (a bass other than the root, :func:`inverted_frames`) weigh
        ``(n_root_position / n_inverted) ** inversion_power`` times their quality's weight,
        counted over all `songs`; 0 (the default) leaves them as they are.
    unlabelled_share : float, optional
        The share of the weight that the examples without a labelled frame (unlabelled
        recordings) get together, in [0, 1), spread evenly over them; the other examples keep
        their proportions. None (the default) weighs each of them 1, as above. Ignored when
        every example or none is unlabelled.

    Returns
    -------
    ndarray, shape (n_examples,), float64
        Weights that sum to 1.
    """
    if inversion_power < 0:
        raise ValueError(f"inversion_power must be >= 0, got {inversion_power}")
    if unlabelled_share is not None and not 0.0 <= unlabelled_share < 1.0:
        raise ValueError(f"unlabelled_share must be in [0, 1), got {unlabelled_share}")
    groups = [class_quality_indices(song.targets.chord) for song in songs]
    group_weight = _group_weights(groups, power)
    inverted = [inverted_frames(song.targets) for song in songs]
    n_inverted = sum(int(i.sum()) for i in inverted)
    n_chords = sum(int(((g >= 0) & (g < N_QUALITIES)).sum()) for g in groups)
    boost = 1.0
    if inversion_power > 0 and 0 < n_inverted < n_chords:
        boost = ((n_chords - n_inverted) / n_inverted) ** inversion_power
    sums: list[tuple[np.ndarray, np.ndarray]] = []
    for g, inv in zip(groups, inverted, strict=True):
        w = np.where(g >= 0, group_weight[np.maximum(g, 0)], 0.0)
        w = np.where(inv, w * boost, w)
        sums.append(
            (np.concatenate([[0.0], np.cumsum(w)]), np.concatenate([[0], np.cumsum(g >= 0)]))
        )
    weights = np.ones(len(examples), dtype=np.float64)
    labelled = np.zeros(len(examples), dtype=bool)
    for i, (song_index, start) in enumerate(examples):
        total, count = sums[song_index]
        stop = min(start + length_frames, len(total) - 1)
        n = count[stop] - count[start]
        if n > 0:
            weights[i] = (total[stop] - total[start]) / n
            labelled[i] = True
    if not len(weights):
        return weights
    if unlabelled_share is not None and 0 < labelled.sum() < len(weights):
        weights[labelled] *= (1.0 - unlabelled_share) / weights[labelled].sum()
        weights[~labelled] = unlabelled_share / (~labelled).sum()
    return weights / weights.sum()


def quality_shares(
    songs: Sequence[SongLabels],
    examples: Sequence[tuple[int, int]],
    *,
    length_frames: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Return the share of each chord quality among the labelled frames training sees.

    Parameters
    ----------
    songs : sequence of SongLabels (or Song)
        The training songs.
    examples : sequence of (song_index, start_frame)
        The examples.
    length_frames : int
        Frames per example.
    weights : ndarray, shape (n_examples,), optional
        How often each example is drawn (:func:`example_weights`); None draws all equally.

    Returns
    -------
    ndarray, shape (45,), float64
        Shares of the 44 qualities (index as :data:`theory.QUALITIES`) and ``N``; they sum to
        1 (all zero without labelled frames).
    """
    n_groups = N_QUALITIES + 1
    w = np.ones(len(examples)) if weights is None else np.asarray(weights, dtype=np.float64)
    by_song: dict[int, list[tuple[int, float]]] = {}
    for (song_index, start), weight in zip(examples, w, strict=True):
        by_song.setdefault(song_index, []).append((start, weight))
    totals = np.zeros(n_groups, dtype=np.float64)
    for song_index, items in by_song.items():
        g = class_quality_indices(songs[song_index].targets.chord)
        onehot = np.zeros((len(g) + 1, n_groups), dtype=np.float64)
        onehot[1:][g >= 0, g[g >= 0]] = 1.0
        cum = np.cumsum(onehot, axis=0)
        starts = np.array([start for start, _ in items])
        stops = np.minimum(starts + length_frames, len(g))
        counts = cum[stops] - cum[np.minimum(starts, len(g))]
        totals += np.array([weight for _, weight in items]) @ counts
    return totals / totals.sum() if totals.sum() > 0 else totals


def slice_example(
    song: Song, start: int, *, length_frames: int
) -> tuple[np.ndarray, np.ndarray, FrameTargets]:
    """Cut a fixed-length example from a song.

    Returns
    -------
    features : ndarray, shape (length_frames, n_bins, 2), float32
        Features, zero past the end of the song.
    mask : ndarray, shape (length_frames,), float32
        1 for frames inside the song.
    targets : FrameTargets
        Targets of length `length_frames`, masked past the end.
    """
    stop = min(start + length_frames, song.n_frames)
    features = np.zeros((length_frames, *song.features.shape[1:]), dtype=np.float32)
    features[: stop - start] = song.features[start:stop]
    mask = np.zeros(length_frames, dtype=np.float32)
    mask[: stop - start] = 1.0
    return features, mask, song.targets.slice(start, stop, length=length_frames)
