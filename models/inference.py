"""What every runtime of a ChordNet weights directory shares: its files, checks and windowing.

A weights directory (``models/weights/<name>-v<N>/`` or a ``chordcli train`` run folder) holds
:data:`CONFIG_FILE` and the Keras weights (:data:`WEIGHTS_FILE`); a shipped model also holds
the same network exported to ONNX (:data:`ONNX_FILE`, :mod:`models.export`). Two runtimes read
it: ONNX Runtime (:mod:`models.onnx_runtime`, the default for inference, no TensorFlow) and
Keras (:mod:`models.chordnet`, for training and export). This module imports neither, so both
share the configuration checks (:func:`read_inference_settings`) and the windowing of long songs
(:class:`WindowedBackend`) without pulling one runtime in through the other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.augment import pitch_shift_features
from models.base import ModelError, ModelOutput
from models.cqt import CQTConfig, CQTParameterError
from models.dataset import audio_sha256
from theory.decode import DecoderSettings
from theory.keys import N_KEYS
from theory.targets import BASS_NONE, N_TARGET
from theory.transpose import transpose_class, transpose_key, transpose_target
from theory.vocabulary import N_CLASSES, vocabulary_fingerprint

__all__ = [
    "CONFIG_FILE",
    "HEADS",
    "INFERENCE_BATCH_WINDOWS",
    "INFERENCE_HOP_FRAMES",
    "INFERENCE_WINDOW_FRAMES",
    "ONNX_FILE",
    "MAX_PITCH_VIEW",
    "WEIGHTS_FILE",
    "InferenceSettings",
    "WindowedBackend",
    "centred_views",
    "checked_file",
    "mapped_back",
    "mapped_back_indices",
    "read_inference_settings",
    "read_model_config",
    "sha256_file",
]

#: Name of the Keras weights file inside a weights directory or run folder.
WEIGHTS_FILE = "model.weights.h5"
#: Name of the ONNX export of the same network (probabilities of every head).
ONNX_FILE = "model.onnx"
#: Name of the configuration file beside the weights.
CONFIG_FILE = "config.json"
#: Output heads and their sizes, in the order the network produces them.
HEADS: dict[str, int] = {
    "chroma": N_TARGET,
    "change": 2,
    "bass": 13,
    "key": N_KEYS,
    "smooth_chroma": N_TARGET,
    "chord": N_CLASSES,
}
#: Inference windows: length, hop (centre-stitched) and windows per batch.
INFERENCE_WINDOW_FRAMES = 512
INFERENCE_HOP_FRAMES = 256
INFERENCE_BATCH_WINDOWS = 8
#: Largest shift, in semitones, of a pitch view (``inference.pitch_views`` in ``config.json``).
MAX_PITCH_VIEW = 6


def centred_views(n: int) -> tuple[int, ...]:
    """Return the pitch views of an odd count `n`: shifts ``-(n // 2) .. n // 2`` semitones.

    Raises
    ------
    ValueError
        If `n` is not odd or needs a shift beyond :data:`MAX_PITCH_VIEW`.
    """
    if n % 2 != 1 or not 1 <= n <= 2 * MAX_PITCH_VIEW + 1:
        raise ValueError(f"the number of pitch views must be odd, 1..{2 * MAX_PITCH_VIEW + 1}")
    return tuple(range(-(n // 2), n // 2 + 1))


#: Hex sha256 of a file's bytes (the dataset's file hash, used here for model files).
sha256_file = audio_sha256


def read_model_config(path: str | Path) -> dict[str, Any]:
    """Read and check a weights directory's ``config.json``.

    Parameters
    ----------
    path : str or Path
        The weights directory.

    Returns
    -------
    dict
        The parsed configuration.

    Raises
    ------
    ModelError
        If the file is missing, is not JSON, or lacks the ``cqt`` and ``chordnet`` sections.
    """
    file = Path(path) / CONFIG_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"cannot load model '{path}': no {CONFIG_FILE}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"cannot load model '{path}': {CONFIG_FILE} is unreadable ({exc})"
        ) from exc
    if not isinstance(data, dict) or "cqt" not in data or "chordnet" not in data:
        raise ModelError(
            f"cannot load model '{path}': {CONFIG_FILE} lacks the 'cqt' and 'chordnet' sections "
            "(hint: point at a folder written by 'chordcli train')"
        )
    return data


def checked_file(path: Path, name: str, expected_sha256: str | None, *, hint: str = "") -> Path:
    """Return ``path / name`` after checking that it exists and matches its recorded sha256.

    Raises
    ------
    ModelError
        If the file is missing or its sha256 differs from `expected_sha256` (when given).
    """
    file = path / name
    if not file.is_file():
        raise ModelError(f"cannot load model '{path}': {name} is missing{hint}")
    if expected_sha256 and sha256_file(file) != expected_sha256:
        raise ModelError(
            f"cannot load model '{path}': {name} does not match the sha256 in "
            f"{CONFIG_FILE} (hint: the file is damaged or was replaced)"
        )
    return file


@dataclass(frozen=True)
class InferenceSettings:
    """Runtime-independent settings of a weights directory (:func:`read_inference_settings`).

    Attributes
    ----------
    config : dict
        The whole ``config.json``.
    cqt_config : CQTConfig
        Features the network was trained on.
    decoder : DecoderSettings
        Decoder settings that go with the weights.
    window_frames, hop_frames : int
        Windowing of long inputs.
    pitch_views : tuple of int
        Semitone shifts of the features whose posteriors are averaged (``(0,)``: the
        features as they are; see :class:`WindowedBackend`).
    """

    config: dict[str, Any]
    cqt_config: CQTConfig
    decoder: DecoderSettings
    window_frames: int
    hop_frames: int
    pitch_views: tuple[int, ...] = (0,)

    @property
    def confidence_temperature(self) -> float:
        """Calibration temperature of the chord posteriors (``confidence.temperature``), 1 if none.

        See :func:`chordcli.alternatives.confidence_temperature`.
        """
        return float((self.config.get("confidence") or {}).get("temperature", 1.0))


def read_inference_settings(path: str | Path) -> InferenceSettings:
    """Read a weights directory's configuration and check what every runtime relies on.

    Raises
    ------
    ModelError
        If ``config.json`` is missing or damaged, names another chord vocabulary, or holds bad
        CQT, decoder or window settings.
    """
    path = Path(path)
    data = read_model_config(path)
    fingerprint = data.get("vocabulary")
    if fingerprint and fingerprint != vocabulary_fingerprint():
        raise ModelError(
            f"cannot load model '{path}': it was trained on another chord vocabulary "
            "(hint: retrain it with this version of chordcli)"
        )
    try:
        cqt_config = CQTConfig.from_dict(data["cqt"])
    except (CQTParameterError, ValueError, TypeError) as exc:
        raise ModelError(f"cannot load model '{path}': bad {CONFIG_FILE} ({exc})") from exc
    try:
        decoder = DecoderSettings.from_config(data.get("decoder"))
    except ValueError as exc:
        raise ModelError(
            f"cannot load model '{path}': bad 'decoder' section in {CONFIG_FILE} ({exc})"
        ) from exc
    inference = data.get("inference", {})
    window = int(inference.get("window_frames", INFERENCE_WINDOW_FRAMES))
    hop = int(inference.get("hop_frames", INFERENCE_HOP_FRAMES))
    if not 0 < hop <= window:
        raise ModelError(
            f"cannot load model '{path}': need 0 < hop_frames <= window_frames in "
            f"{CONFIG_FILE}, got {hop}, {window}"
        )
    views = inference.get("pitch_views", [0])
    if (
        not isinstance(views, list)
        or not views
        or not all(type(v) is int and abs(v) <= MAX_PITCH_VIEW for v in views)
        or len(set(views)) != len(views)
    ):
        raise ModelError(
            f"cannot load model '{path}': 'pitch_views' in {CONFIG_FILE} must be a list of "
            f"distinct whole semitone shifts between -{MAX_PITCH_VIEW} and {MAX_PITCH_VIEW}, "
            f"got {views!r}"
        )
    return InferenceSettings(data, cqt_config, decoder, window, hop, tuple(views))


#: Runs one batch: features (B, window, n_bins, n_channels) and mask (B, window) -> the
#: probabilities of every head of :data:`HEADS`, each (B, window, size).
BatchFunction = Callable[[np.ndarray, np.ndarray], Mapping[str, np.ndarray]]


class WindowedBackend:
    """A ChordNet runtime: CQT features of a whole song -> :class:`ModelOutput`.

    Songs of any length run as overlapping windows of ``window_frames`` frames (hop
    ``hop_frames``), ``batch_windows`` at a time; each frame is taken from the window whose
    centre region holds it. Subclasses give :meth:`run_batch`.

    Parameters
    ----------
    cqt_config : CQTConfig
        Features the network was trained on.
    name : str
        Display name (the weights directory name).
    n_bins, n_channels : int
        Input layout of the network.
    window_frames, hop_frames, batch_windows : int
        Windowing of long inputs.
    decoder : DecoderSettings, optional
        Decoder settings that go with these weights; the decoder's defaults if None.
    pitch_views : sequence of int, optional
        Semitone shifts whose posteriors are averaged (the default ``(0,)``: one pass).
    """

    #: Calibration temperature of the chord posteriors, set by the loaders from
    #: ``InferenceSettings.confidence_temperature``.
    confidence_temperature: float = 1.0

    def __init__(
        self,
        *,
        cqt_config: CQTConfig,
        name: str,
        n_bins: int,
        n_channels: int,
        window_frames: int = INFERENCE_WINDOW_FRAMES,
        hop_frames: int = INFERENCE_HOP_FRAMES,
        batch_windows: int = INFERENCE_BATCH_WINDOWS,
        decoder: DecoderSettings | None = None,
        pitch_views: Sequence[int] = (0,),
    ) -> None:
        if not 0 < hop_frames <= window_frames:
            raise ValueError(
                f"need 0 < hop_frames <= window_frames, got {hop_frames}, {window_frames}"
            )
        self.cqt_config = cqt_config
        self.name = name
        self.n_bins = int(n_bins)
        self.n_channels = int(n_channels)
        self.window_frames = int(window_frames)
        self.hop_frames = int(hop_frames)
        self.batch_windows = int(batch_windows)
        self.decoder = decoder if decoder is not None else DecoderSettings()
        self.pitch_views = tuple(int(v) for v in pitch_views)
        if not self.pitch_views:
            raise ValueError("need at least one pitch view")

    def run_batch(self, features: np.ndarray, mask: np.ndarray) -> Mapping[str, np.ndarray]:
        """Return the head probabilities of one batch of windows (see ``BatchFunction``)."""
        raise NotImplementedError

    def predict(self, features: np.ndarray) -> ModelOutput:
        """Return posteriors of one song.

        Parameters
        ----------
        features : ndarray, shape (n_frames, n_bins, n_channels)
            CQT of the whole song (:func:`models.cqt.cqt`), any number of frames >= 1.

        Returns
        -------
        ModelOutput
            Per-frame probabilities, float32.

        Raises
        ------
        ModelError
            If the features do not have the shape the model expects.
        """
        features = np.asarray(features, dtype=np.float32)
        if (
            features.ndim != 3
            or features.shape[1:] != (self.n_bins, self.n_channels)
            or not len(features)
        ):
            raise ModelError(
                f"model '{self.name}' expects features of shape (n_frames, {self.n_bins}, "
                f"{self.n_channels}), got {features.shape} (hint: compute them with models.cqt)"
            )
        if self.pitch_views == (0,):
            out = self._windowed(features)
        else:
            n = len(features)
            out = {name: np.zeros((n, size), np.float32) for name, size in HEADS.items()}
            bins_per_semitone = self.cqt_config.bins_per_octave // 12
            for k in self.pitch_views:
                shifted = pitch_shift_features(features, k, bins_per_semitone=bins_per_semitone)
                for name, probs in mapped_back(self._windowed(shifted), k).items():
                    out[name] += probs
            for name in out:
                out[name] /= len(self.pitch_views)
        return ModelOutput(
            chroma=out["chroma"],
            smooth_chroma=out["smooth_chroma"],
            chord=out["chord"],
            change=np.ascontiguousarray(out["change"][:, 1]),
            bass=out["bass"],
            key=out["key"],
            frames_per_second=self.cqt_config.frames_per_second,
        )

    def _windowed(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Return the head probabilities of every frame, the song run window by window."""
        n = features.shape[0]
        w, hop = self.window_frames, self.hop_frames
        n_windows = 1 if n <= w else 1 + math.ceil((n - w) / hop)
        starts = np.arange(n_windows) * hop
        margin = (w - hop) // 2
        out = {name: np.empty((n, size), dtype=np.float32) for name, size in HEADS.items()}
        for b0 in range(0, n_windows, self.batch_windows):
            batch_starts = starts[b0 : b0 + self.batch_windows]
            x = np.zeros((len(batch_starts), w, self.n_bins, self.n_channels), dtype=np.float32)
            mask = np.zeros((len(batch_starts), w), dtype=np.float32)
            for j, s in enumerate(batch_starts):
                seg = features[s : s + w]
                x[j, : len(seg)] = seg
                mask[j, : len(seg)] = 1.0
            probs = self.run_batch(x, mask)
            for j, s in enumerate(batch_starts):
                k = b0 + j
                lo = 0 if k == 0 else s + margin
                hi = n if k == n_windows - 1 else min(n, s + margin + hop)
                for name in HEADS:
                    out[name][lo:hi] = probs[name][j, lo - s : hi - s]
        return out


def mapped_back(probs: Mapping[str, np.ndarray], semitones: int) -> dict[str, np.ndarray]:
    """Map the head probabilities of features shifted by `semitones` back to the original pitch.

    Chord classes, chord tones, bass and key are transposed by ``-semitones`` (no chord, no
    bass and no key stay where they are); the change head has no pitch.
    """
    k = -int(semitones)
    chord = np.empty_like(probs["chord"])
    chord[:, transpose_class(np.arange(N_CLASSES), k)] = probs["chord"]
    key = np.empty_like(probs["key"])
    key[:, [transpose_key(i, k) for i in range(N_KEYS)]] = probs["key"]
    bass = probs["bass"].copy()
    bass[:, :BASS_NONE] = np.roll(probs["bass"][:, :BASS_NONE], k, axis=-1)
    return {
        "chroma": transpose_target(probs["chroma"], k),
        "change": probs["change"],
        "bass": bass,
        "key": key,
        "smooth_chroma": transpose_target(probs["smooth_chroma"], k),
        "chord": chord,
    }


def mapped_back_indices(semitones: int) -> dict[str, np.ndarray]:
    """Return, per head, the class indices that :func:`mapped_back` gathers.

    ``mapped_back(probs, semitones)[head]`` equals ``probs[head][..., idx[head]]`` for
    ``idx = mapped_back_indices(semitones)``: the same mapping as a gather, for graphs that
    map a shifted view back (the consistency loss of :mod:`models.train`).
    """
    identity = {name: np.arange(size, dtype=np.float64)[None] for name, size in HEADS.items()}
    return {
        name: np.rint(row[0]).astype(np.int32)
        for name, row in mapped_back(identity, semitones).items()
    }
