"""Training loop of ChordNet: data folder -> run folder with weights, config, history, checkpoint.

Library code: nothing is printed; progress goes to an ``on_event`` callback as
:class:`TrainEvent` values (the command line renders them with rich).

Run folder
----------
``model.weights.h5``
    Weights of the best epoch so far (lowest validation loss; training loss without a
    validation set). Rebuilt with :func:`models.chordnet.load_chordnet_backend`.
``config.json``
    CQT, ChordNet, training and augmentation configurations, vocabulary fingerprint,
    sha256 of the weights, git commit, best metrics: a weights directory ``chordcli`` can load.
``history.json``
    Metrics of every epoch.
``checkpoint.npz``
    Model weights, optimizer state, configurations and history after the last finished epoch,
    written to a temporary file and renamed, so a run killed at any moment (even ``kill -9``)
    resumes with ``resume=True`` losing at most the epoch in progress. Each epoch's example
    order and augmentation draw from a generator seeded by ``(seed, epoch)``, so a resumed
    epoch sees the same data as an uninterrupted run.

A step with a non-finite loss or gradient is skipped and counted (``skipped_steps``); an epoch
that diverges raises :class:`TrainError` before it writes anything.

TensorFlow is imported inside :func:`train`; importing this module stays light.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.augment import NO_AUGMENT, AugmentConfig, augment_example
from models.base import ModelError
from models.cqt import DEFAULT_CQT, CQTConfig
from models.dataset import (
    DEFAULT_CACHE_DIR,
    DataProblem,
    DatasetError,
    FrameTargets,
    Song,
    example_starts,
    example_weights,
    find_songs,
    frame_quality_weights,
    load_songs,
    quality_weights,
    replace_atomically,
    slice_example,
    split_songs,
)

if TYPE_CHECKING:
    from models.chordnet import ChordNetConfig

__all__ = [
    "CHECKPOINT_FILE",
    "DEFAULT_TRAIN",
    "HISTORY_FILE",
    "RUNS_DIR",
    "RunConfig",
    "TrainConfig",
    "TrainError",
    "TrainEvent",
    "TrainResult",
    "default_run_dir",
    "git_commit",
    "load_run_config",
    "train",
]

#: Parent of the run folders made when none is given (git-ignored).
RUNS_DIR = Path(".cache") / "runs"
CHECKPOINT_FILE = "checkpoint.npz"
HISTORY_FILE = "history.json"


class TrainError(ModelError):
    """A training run that cannot start or continue; the message names the folder or file."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Parameters
    ----------
    epochs : int
        Last epoch to run (a resumed run continues up to it).
    batch_size : int
        Examples per step.
    example_frames : int
        Frames per training example (256 at 10.77 frames/s is 23.8 s).
    steps_per_epoch : int or None
        Steps per epoch; None runs every example (every chord onset of every training song)
        once per epoch.
    learning_rate : float
        AdamW learning rate (the peak of the schedule).
    schedule : str
        ``"constant"``, or ``"cosine"``: a linear warm-up over `warmup_steps`, then a cosine
        decay to ``min_learning_rate_fraction * learning_rate`` at the last step of the last
        epoch. The schedule follows the optimizer's step count, so it continues on resume
        (extending ``epochs`` stretches the remaining decay).
    warmup_steps : int
        Warm-up steps of the cosine schedule.
    min_learning_rate_fraction : float
        Final learning rate of the cosine schedule, as a fraction of `learning_rate`.
    weight_decay : float
        AdamW decoupled weight decay.
    clip_norm : float
        Global gradient-norm clipping.
    balance : float
        Quality-balanced example sampling: 0 draws every example (chord onset) equally often,
        in a fresh permutation each epoch; above 0 each epoch draws its examples with
        replacement, with probabilities from :func:`models.dataset.example_weights` (frames of a
        chord quality weigh ``(n_commonest / n_quality) ** balance``), so rare qualities are
        seen more often.
    inversion_balance : float
        With `balance` above 0, frames of inverted chords (a bass other than the root) weigh
        ``(n_root_position / n_inverted) ** inversion_balance`` times their quality's weight
        in the drawing probabilities (:func:`models.dataset.example_weights`), so slash chords
        are heard more often. 0 leaves them as they are.
    unlabelled_share : float or None
        With `balance` above 0, the share of the draws that go to examples without a labelled
        frame (recordings labelled only ``X``, which teach through `consistency_weight` alone),
        in [0, 1); None weighs each such example like an example of the commonest quality.
    quality_weight : float
        Class-balanced loss: each labelled frame of quality ``q`` weighs
        ``(n_commonest / n_q) ** quality_weight`` (:func:`models.dataset.quality_weights`, counted
        over the training songs) in the chord, chord-tone and bass losses; the losses are
        weighted means, so their scale stays. 0 weighs every frame the same. Validation is
        never weighted.
    consistency_weight : float
        Weight of the pitch-shift consistency loss. Above 0 each step holds ``batch_size // 2``
        examples, each twice: as augmented, and again shifted by a further ``d`` semitones
        (``d`` drawn from ``±1..±consistency_shift``) with its own masks. Both views get the
        supervised losses, and the heads' probabilities of the second view, mapped back by
        ``-d`` (chord classes, chord tones, bass and key transposed; change as it is), are
        pulled towards the first's: the mean over in-song frames of the squared difference
        of the probability vectors, summed over each head's classes, averaged over the heads.
        It also applies where the labels are masked (``X``), so pseudo-labelled recordings
        teach steadiness under transposition beyond their confident parts. 0 turns it off.
    consistency_shift : int
        Largest extra shift ``|d|`` of a consistency pair, in semitones (1..6).
    consistency_threshold : float or None
        With a value in (0, 1), the chord head's consistency term is
        :func:`models.losses.confident_target_loss` instead of the squared difference: where
        one view's top class has at least this probability, it is a fixed target for the
        other view's cross-entropy. The squared difference is also met by two flat views, so
        it teaches hedging on audio the labels do not cover; this target only sharpens. A
        confident ``N`` sets no target (it would spread no-chord over unlabelled recordings).
        None (default) keeps the squared difference.
    unlabelled_no_chord : float or None
        Cap on the mean no-chord probability of the chord head over a batch's unlabelled frames
        (in-song frames whose chord target is masked): ``UNLABELLED_NO_CHORD_WEIGHT`` times the
        excess is added to the loss. The consistency loss is met trivially by calling ``N`` in
        both views, so without a cap unlabelled real recordings drift towards no-chord. None
        (default) adds nothing.
    unlabelled_chord_weight : float
        Weight of a per-frame "some chord" loss on the unlabelled frames, the mean of
        ``-log(1 - P(N))`` (:func:`_unlabelled_chord_loss`). Meant for unlabelled recordings
        whose stretches without harmonic content are labelled ``N``
        (``scripts/pseudo_label.py --unlabelled --gate``), so that what stays unlabelled
        holds harmonic content: unlike the mean cap it pushes each frame, not the batch
        average. 0 (default) adds nothing.
    init : str or None
        Weights directory (or bundled model name, e.g. ``chordnet-v1``) whose weights start
        the run instead of a random initialisation (fine-tuning). Its network and CQT settings
        must match the run's; the optimizer starts fresh.
    validation_fraction : float
        Share of songs held out for validation (split by song, see
        :func:`models.dataset.split_songs`).
    patience : int
        Stop after this many epochs without a better validation loss (0 never stops early).
    seed : int
        Seeds weight initialisation, the split, example order and augmentation.
    draw_seed : int or None
        Seeds the example order and augmentation instead of `seed` (None: `seed`). A
        fine-tuning stage that keeps `seed` (and so the validation split) needs its own
        `draw_seed`, otherwise epoch *k* draws the same examples as epoch *k* of the run it
        started from.
    """

    epochs: int = 100
    batch_size: int = 8
    example_frames: int = 256
    steps_per_epoch: int | None = None
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup_steps: int = 0
    min_learning_rate_fraction: float = 0.05
    weight_decay: float = 1e-4
    clip_norm: float = 1.0
    balance: float = 0.0
    inversion_balance: float = 0.0
    unlabelled_share: float | None = None
    quality_weight: float = 0.0
    consistency_weight: float = 0.0
    consistency_shift: int = 3
    consistency_threshold: float | None = None
    unlabelled_no_chord: float | None = None
    unlabelled_chord_weight: float = 0.0
    init: str | None = None
    validation_fraction: float = 0.1
    patience: int = 10
    seed: int = 0
    draw_seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "example_frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be at least 1, got {self.steps_per_epoch}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be 'constant' or 'cosine', got {self.schedule!r}")
        if self.warmup_steps < 0 or not 0.0 <= self.min_learning_rate_fraction <= 1.0:
            raise ValueError("warmup_steps must be >= 0 and min_learning_rate_fraction in [0, 1]")
        if min(self.balance, self.quality_weight, self.inversion_balance) < 0:
            raise ValueError("balance, inversion_balance and quality_weight must be >= 0")
        if self.unlabelled_share is not None and not 0.0 <= self.unlabelled_share < 1.0:
            raise ValueError(f"unlabelled_share must be in [0, 1), got {self.unlabelled_share}")
        if self.consistency_weight < 0:
            raise ValueError(f"consistency_weight must be >= 0, got {self.consistency_weight}")
        if not 1 <= self.consistency_shift <= 6:
            raise ValueError(f"consistency_shift must be in 1..6, got {self.consistency_shift}")
        if self.consistency_threshold is not None and not 0.0 < self.consistency_threshold < 1.0:
            raise ValueError(
                f"consistency_threshold must be in (0, 1), got {self.consistency_threshold}"
            )
        if self.unlabelled_no_chord is not None and not 0.0 <= self.unlabelled_no_chord <= 1.0:
            raise ValueError(
                f"unlabelled_no_chord must be in [0, 1], got {self.unlabelled_no_chord}"
            )
        if self.unlabelled_chord_weight < 0:
            raise ValueError(
                f"unlabelled_chord_weight must be >= 0, got {self.unlabelled_chord_weight}"
            )
        if self.consistency_weight > 0 and self.batch_size < 2:
            raise ValueError("a consistency loss needs batch_size >= 2 (pairs of views)")


#: Default optimisation settings (the CLI takes its defaults from here).
DEFAULT_TRAIN = TrainConfig()


def epoch_generator(config: TrainConfig, epoch: int) -> np.random.Generator:
    """Return the generator of an epoch's example order and augmentation.

    Seeded by ``(draw_seed, epoch)`` (``seed`` when ``draw_seed`` is None), so a resumed epoch
    draws exactly what an uninterrupted run would.
    """
    seed = config.seed if config.draw_seed is None else config.draw_seed
    return np.random.default_rng([seed, epoch])


def epoch_order(
    rng: np.random.Generator, n_examples: int, size: int, draw: np.ndarray | None
) -> np.ndarray:
    """Return the example indices of one epoch.

    `size` draws with probabilities `draw`, or (`draw` None) shuffled passes over all examples.
    """
    if draw is not None:
        return rng.choice(n_examples, size=size, p=draw)
    order = rng.permutation(n_examples)
    while len(order) < size:
        order = np.concatenate([order, rng.permutation(n_examples)])
    return order


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; stored in ``config.json`` and the checkpoint.

    ``chordnet`` None means :data:`models.chordnet.DEFAULT_CHORDNET`.
    """

    train: TrainConfig = DEFAULT_TRAIN
    chordnet: ChordNetConfig | None = None
    cqt: CQTConfig = DEFAULT_CQT
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def resolved_chordnet(self) -> ChordNetConfig:
        """Return the ChordNet configuration (imports TensorFlow)."""
        from models.chordnet import DEFAULT_CHORDNET

        return DEFAULT_CHORDNET if self.chordnet is None else self.chordnet

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with sections ``train``, ``chordnet``, ``cqt``, ``augment``."""
        return {
            "train": dataclasses.asdict(self.train),
            "chordnet": self.resolved_chordnet().to_dict(),
            "cqt": self.cqt.to_dict(),
            "augment": self.augment.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """Build from :meth:`to_dict` output; missing sections and keys take the defaults.

        Raises
        ------
        ValueError
            If a section or key is unknown or a value invalid.
        """
        unknown = sorted(set(data) - {"train", "chordnet", "cqt", "augment"})
        if unknown:
            raise ValueError(f"unknown section(s) {unknown} (known: train, chordnet, cqt, augment)")
        chordnet = None
        if "chordnet" in data:
            from models.chordnet import ChordNetConfig

            chordnet = ChordNetConfig.from_dict(data["chordnet"])
        train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
        bad = sorted(set(data.get("train", {})) - train_fields)
        if bad:
            raise ValueError(f"unknown train parameter(s) {bad} (known: {sorted(train_fields)})")
        aug_fields = {f.name for f in dataclasses.fields(AugmentConfig)}
        bad = sorted(set(data.get("augment", {})) - aug_fields)
        if bad:
            raise ValueError(f"unknown augment parameter(s) {bad} (known: {sorted(aug_fields)})")
        return cls(
            train=TrainConfig(**data.get("train", {})),
            chordnet=chordnet,
            cqt=CQTConfig.from_dict(data.get("cqt", {})),
            augment=AugmentConfig(**data.get("augment", {})),
        )


def load_run_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read a run configuration JSON file (sections as :meth:`RunConfig.to_dict`).

    A trained model's ``config.json`` is accepted too (its settings are reused).

    Raises
    ------
    TrainError
        If the file cannot be read or holds unknown or invalid settings.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the top level must be an object")
        if "weights_sha256" in data:  # a model's config.json: reuse its settings
            data = {k: v for k, v in data.items() if k in ("train", "chordnet", "cqt", "augment")}
        return RunConfig.from_dict(data)
    except FileNotFoundError:
        raise TrainError(f"cannot read config '{path}': file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as exc:
        raise TrainError(f"bad config '{path}': {exc}") from exc


@dataclass(frozen=True)
class TrainEvent:
    """Progress of a training run, passed to the ``on_event`` callback.

    Attributes
    ----------
    kind : str
        ``'problem'`` (a file skipped, see ``message``), ``'load'`` (a song's features loaded:
        ``step`` of ``steps``), ``'start'`` (data ready; ``info`` holds song, example and
        parameter counts and the first epoch), ``'step'`` (a training step: running ``metrics``),
        ``'epoch'`` (an epoch finished: ``metrics`` of training and ``val_*`` of validation,
        ``info['improved']``), ``'stop'`` (early stopping) or ``'done'``.
    epoch : int
        Epoch (1-based), 0 before training.
    step, steps : int
        Position within the epoch (or the loading phase).
    metrics : dict of str to float
        Losses and accuracies.
    message : str
        Human-readable note (problems, stopping reason).
    info : dict
        Extra values of ``'start'`` and ``'epoch'`` events.
    """

    kind: str
    epoch: int = 0
    step: int = 0
    steps: int = 0
    metrics: Mapping[str, float] = field(default_factory=dict)
    message: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """Return the event as one line of a training log (the command line prints these)."""
        m, info = self.metrics, self.info
        if self.kind == "step":
            return f"loss {m.get('loss', 0):.3f} chord acc {m.get('chord_acc', 0):.1%}"
        if self.kind == "start":
            return (
                f"{info['train_songs']} training and {info['validation_songs']} validation songs, "
                f"{info['examples']} examples, {info['steps_per_epoch']} steps per epoch, "
                f"{info['parameters']:,} parameters; epochs {info['first_epoch']}..{info['epochs']}"
            )
        if self.kind == "epoch":
            return _epoch_line(self.epoch, m, improved=bool(info.get("improved")))
        return self.message


#: Heads whose losses an epoch's log line shows.
_LOGGED_HEADS = ("chord", "chroma", "smooth_chroma", "bass", "key", "change")


def _epoch_line(epoch: int, m: Mapping[str, float], *, improved: bool) -> str:
    """Return the log line of a finished epoch: losses, accuracies, speed, ``*`` if best."""
    losses = " ".join(f"{h} {m[h]:.3f}" for h in _LOGGED_HEADS if h in m)
    line = f"epoch {epoch}: loss {m['loss']:.3f} ({losses})"
    line += f", chord acc {m.get('chord_acc', 0):.1%}"
    if "val_loss" in m:
        val = " ".join(
            f"{h} {m[f'val_{h}_acc']:.1%}"
            for h in ("chord", "bass", "key", "tones")
            if f"val_{h}_acc" in m
        )
        line += f"; validation loss {m['val_loss']:.3f}, accuracy {val}"
    line += f"; {m['frames_per_second']:.0f} frames/s"
    if m.get("skipped_steps"):
        line += f"; {m['skipped_steps']:.0f} steps skipped (loss not finite)"
    if improved:
        line += " *"
    return line


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    run_dir : Path
        The run folder.
    epochs_run : int
        Last finished epoch.
    best_epoch : int
        Epoch of the saved weights.
    best_metrics : dict of str to float
        Metrics of that epoch.
    stopped_early : bool
        Whether early stopping ended the run.
    problems : tuple of DataProblem
        Files skipped.
    history : tuple of dict
        Metrics of every epoch.
    """

    run_dir: Path
    epochs_run: int
    best_epoch: int
    best_metrics: Mapping[str, float]
    stopped_early: bool
    problems: tuple[DataProblem, ...]
    history: tuple[Mapping[str, float], ...]

    def summary(self) -> str:
        """Return one line: epochs run, best epoch and its accuracy, files skipped, where."""
        best = self.best_metrics
        accuracy = (
            f", chord accuracy {best['val_chord_acc']:.1%} (validation)"
            if "val_chord_acc" in best
            else ""
        )
        stop = " (early stop)" if self.stopped_early else ""
        n = len(self.problems)
        return (
            f"{self.epochs_run} epochs{stop}; best epoch {self.best_epoch}{accuracy}; "
            f"{n} {'file' if n == 1 else 'files'} skipped; model in {self.run_dir}"
        )


def default_run_dir() -> Path:
    """Return a new run folder name under :data:`RUNS_DIR`: ``chordnet-<YYYYmmdd-HHMMSS>``."""
    return RUNS_DIR / time.strftime("chordnet-%Y%m%d-%H%M%S")


def git_commit() -> str | None:
    """Return the commit of the source tree (``+dirty`` if modified), None outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


# ---------------------------------------------------------------------------------------
# Batches.


def _stack(
    examples: Sequence[tuple[np.ndarray, np.ndarray, FrameTargets]],
    group_weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    chords = [e[2].chord for e in examples]
    frame_weight = (
        np.ones((len(chords), len(chords[0])), dtype=np.float32)
        if group_weights is None
        else np.stack([frame_quality_weights(c, group_weights) for c in chords])
    )
    return {
        "frame_weight": frame_weight,
        "features": np.stack([e[0] for e in examples]),
        "mask": np.stack([e[1] for e in examples]),
        "vector": np.stack([e[2].vector for e in examples]),
        "vector_mask": np.stack([e[2].vector_mask for e in examples]).astype(np.float32),
        "change": np.stack([e[2].change for e in examples]),
        "bass": np.stack([e[2].bass for e in examples]),
        "key": np.stack([e[2].key for e in examples]),
        "chord": np.stack([e[2].chord for e in examples]),
    }


def _validation_batches(
    songs: Sequence[Song], *, length: int, batch_size: int
) -> Iterator[dict[str, np.ndarray]]:
    """Yield batches of consecutive windows tiling the validation songs (built lazily)."""
    windows = [(song, start) for song in songs for start in range(0, song.n_frames, length)]
    for i in range(0, len(windows), batch_size):
        yield _stack(
            [
                slice_example(s, start, length_frames=length)
                for s, start in windows[i : i + batch_size]
            ]
        )


# ---------------------------------------------------------------------------------------
# Checkpoints.


def _write_json(path: Path, data: Any) -> None:
    replace_atomically(
        path,
        lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8"),
        suffix=".json",
    )


def _save_checkpoint(path: Path, *, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, w in enumerate(model.get_weights()):
        arrays[f"model_{i:04d}"] = np.asarray(w)
    for i, v in enumerate(optimizer.variables):
        arrays[f"optimizer_{i:04d}"] = np.asarray(v.numpy())
    arrays["state"] = np.array(json.dumps(state))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    replace_atomically(path, write, suffix=".npz")


def _load_checkpoint(path: Path) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, Any]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            names = sorted(data.files)
            model = [data[n] for n in names if n.startswith("model_")]
            optimizer = [data[n] for n in names if n.startswith("optimizer_")]
            state = json.loads(str(data["state"]))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise TrainError(
            f"cannot resume from '{path}': the checkpoint is damaged ({exc}) "
            "(hint: start a new run with another --out)"
        ) from exc
    return model, optimizer, state


def _start_from(model: Any, init: str, config: RunConfig) -> None:
    """Copy the weights of the model `init` (a name or weights directory) into `model`."""
    from models.backend import load_backend

    try:  # the Keras runtime: a shipped model also has an ONNX file, which holds no weights
        source = load_backend(init, runtime="keras")
    except ModelError as exc:
        raise TrainError(f"cannot start from {init!r}: {exc}") from exc
    weights = getattr(source, "model", None)
    if weights is None:
        raise TrainError(f"cannot start from {init!r}: it has no network weights")
    if source.cqt_config.to_dict() != config.cqt.to_dict():
        raise TrainError(
            f"cannot start from {init!r}: its CQT settings differ from the run's "
            "(hint: use its config.json as --config)"
        )
    try:
        model.set_weights(weights.get_weights())
    except ValueError as exc:
        raise TrainError(
            f"cannot start from {init!r}: its network differs from the run's ({exc}) "
            "(hint: use its config.json as --config)"
        ) from exc


# ---------------------------------------------------------------------------------------
# The loop.


_ACC_KEYS = ("chord", "bass", "key", "change", "tones")


def _losses(logits: dict[str, Any], b: dict[str, Any], cfg: ChordNetConfig) -> dict[str, Any]:
    """Return the loss of every head and their weighted sum ``'loss'`` for a batch `b`."""
    from models.losses import focal_loss, focal_tversky_loss, tversky_loss

    fm = b["mask"]
    vm = b["vector_mask"] * fm
    fw = b["frame_weight"]
    out = {
        "chroma": tversky_loss(
            logits["chroma"],
            b["vector"],
            weights=vm * fw,
            alpha=cfg.tversky_alpha,
            beta=cfg.tversky_beta,
        ),
        "smooth_chroma": focal_tversky_loss(
            logits["smooth_chroma"],
            b["vector"],
            weights=vm * fw,
            alpha=cfg.tversky_alpha,
            beta=cfg.tversky_beta,
            gamma=cfg.focal_tversky_gamma,
        ),
    }
    for head in ("change", "bass", "key", "chord"):
        out[head] = focal_loss(
            logits[head],
            b[head],
            weights=fm * fw if head in ("bass", "chord") else fm,
            gamma=cfg.focal_gamma,
            label_smoothing=cfg.label_smoothing,
        )
    total = 0.0
    for head, weight in cfg.loss_weights:
        total = total + weight * out[head]
    out["loss"] = total
    return out


def _accuracy_counts(logits: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Return hits and counts of every classification head and of the chord tones, and frames."""
    from keras import ops

    fm = b["mask"]
    vm = b["vector_mask"] * fm
    counts = {}
    for head in ("chord", "bass", "key", "change"):
        valid = ops.cast(b[head] >= 0, "float32") * fm
        pred = ops.cast(ops.argmax(logits[head], axis=-1), "int32")
        hit = ops.cast(pred == ops.cast(b[head], "int32"), "float32")
        counts[f"{head}_hit"] = ops.sum(hit * valid)
        counts[f"{head}_n"] = ops.sum(valid)
    tones = ops.cast(logits["chroma"][..., :12] > 0.0, "float32")
    tone_hit = ops.cast(tones == b["vector"][..., :12], "float32")
    counts["tones_hit"] = ops.sum(tone_hit * vm[..., None])
    counts["tones_n"] = ops.sum(vm) * 12.0
    counts["frames"] = ops.sum(fm)
    return counts


#: Heads whose probabilities are chord-tone vectors (sigmoid tones, softmax bass); the others
#: are softmax over classes.
_VECTOR_HEADS = ("chroma", "smooth_chroma")


def consistency_tables(max_shift: int) -> dict[str, np.ndarray]:
    """Return per head the gather indices that map a view shifted by ``d`` back to ``d = 0``.

    Row ``d + max_shift`` of a head's table is :func:`models.inference.mapped_back_indices` of
    ``d``, for ``d`` in ``-max_shift..max_shift``.
    """
    from models.inference import HEADS, mapped_back_indices

    rows = [mapped_back_indices(d) for d in range(-max_shift, max_shift + 1)]
    return {head: np.stack([r[head] for r in rows]) for head in HEADS}


def _consistency(
    logits: dict[str, Any],
    shifts: Any,
    mask: Any,
    max_shift: int,
    threshold: float | None = None,
) -> Any:
    """Return the consistency loss of a batch of pairs (see ``TrainConfig.consistency_weight``).

    The batch holds ``n = len(shifts)`` first views, then their ``n`` partners, partner ``i``
    shifted ``shifts[i]`` semitones further than view ``i``. With `threshold` the chord head's
    term is :func:`models.losses.confident_target_loss` (``TrainConfig.consistency_threshold``).
    """
    import tensorflow as tf
    from keras import ops

    from models.losses import chroma_probabilities, confident_target_loss, consistency_loss
    from theory.vocabulary import N_CLASS

    n = tf.shape(shifts)[0]
    rows = shifts + max_shift
    total = 0.0
    tables = consistency_tables(max_shift)
    for head, table in tables.items():
        z = logits[head]
        probs = chroma_probabilities(z) if head in _VECTOR_HEADS else ops.softmax(z, axis=-1)
        index = tf.gather(tf.constant(table), rows)
        mapped = tf.gather(probs[n : 2 * n], index, axis=2, batch_dims=1)
        if head == "chord" and threshold is not None:
            total = total + confident_target_loss(
                probs[:n], mapped, mask[:n], threshold, ignore_class=N_CLASS
            )
        else:
            total = total + consistency_loss(probs[:n], mapped, mask[:n])
    return total / len(tables)


#: Weight of the excess of unlabelled frames' mean no-chord probability over its cap.
UNLABELLED_NO_CHORD_WEIGHT = 10.0


def _unlabelled_frames(b: dict[str, Any]) -> Any:
    """Return 1 on a batch's in-song frames (``mask``) whose chord target is masked, else 0."""
    from keras import ops

    return b["mask"] * ops.cast(b["chord"] < 0, "float32")


def _no_chord_excess(chord_logits: Any, b: dict[str, Any], cap: float) -> Any:
    """Return how far the mean no-chord probability of the unlabelled frames exceeds `cap`.

    Unlabelled frames are in-song frames (``mask``) whose chord target is masked (negative); a
    batch without any gives 0.
    """
    from keras import ops

    from theory.vocabulary import N_CLASS

    p_n = ops.softmax(ops.cast(chord_logits, "float32"), axis=-1)[..., N_CLASS]
    unlabelled = _unlabelled_frames(b)
    mean = ops.sum(p_n * unlabelled) / ops.maximum(ops.sum(unlabelled), 1.0)
    return ops.relu(mean - cap)


def _unlabelled_chord_loss(chord_logits: Any, b: dict[str, Any]) -> Any:
    """Return the mean of ``-log(1 - P(N))`` over the unlabelled in-song frames.

    Unlabelled frames are as in :func:`_no_chord_excess`; ``1 - P(N)`` is the probability of
    some chord, computed from the logits without forming it (a sure ``N`` gives a large,
    finite loss). A batch without unlabelled frames gives 0.
    """
    from keras import ops

    from theory.vocabulary import N_CLASS, N_CLASSES

    assert N_CLASS == N_CLASSES - 1  # N is the last class
    logits = ops.cast(chord_logits, "float32")
    per_frame = ops.logsumexp(logits, axis=-1) - ops.logsumexp(logits[..., :N_CLASS], axis=-1)
    unlabelled = _unlabelled_frames(b)
    return ops.sum(per_frame * unlabelled) / ops.maximum(ops.sum(unlabelled), 1.0)


def _make_steps(
    model: Any, optimizer: Any, cfg: ChordNetConfig, tc: TrainConfig = DEFAULT_TRAIN
) -> tuple[Any, Any]:
    import tensorflow as tf

    def losses_and_counts(logits: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {**_losses(logits, b, cfg), **_accuracy_counts(logits, b)}

    def training_values(logits: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        values = losses_and_counts(logits, b)
        if tc.consistency_weight > 0:
            c = _consistency(
                logits,
                b["pair_shift"],
                b["mask"],
                tc.consistency_shift,
                tc.consistency_threshold,
            )
            values["consistency"] = c
            values["loss"] = values["loss"] + tc.consistency_weight * c
        if tc.unlabelled_no_chord is not None:
            excess = _no_chord_excess(logits["chord"], b, tc.unlabelled_no_chord)
            values["no_chord_excess"] = excess
            values["loss"] = values["loss"] + UNLABELLED_NO_CHORD_WEIGHT * excess
        if tc.unlabelled_chord_weight > 0:
            some_chord = _unlabelled_chord_loss(logits["chord"], b)
            values["unlabelled_chord"] = some_chord
            values["loss"] = values["loss"] + tc.unlabelled_chord_weight * some_chord
        return values

    spec = {
        "features": tf.TensorSpec((None, None, cfg.n_bins, cfg.n_channels), tf.float32),
        "mask": tf.TensorSpec((None, None), tf.float32),
        "frame_weight": tf.TensorSpec((None, None), tf.float32),
        "vector": tf.TensorSpec((None, None, 25), tf.float32),
        "vector_mask": tf.TensorSpec((None, None), tf.float32),
        "change": tf.TensorSpec((None, None), tf.int32),
        "bass": tf.TensorSpec((None, None), tf.int32),
        "key": tf.TensorSpec((None, None), tf.int32),
        "chord": tf.TensorSpec((None, None), tf.int32),
    }
    train_spec = dict(spec)
    if tc.consistency_weight > 0:
        train_spec["pair_shift"] = tf.TensorSpec((None,), tf.int32)
    variables = model.trainable_variables

    @tf.function(input_signature=[train_spec])
    def train_step(b: dict[str, Any]) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            logits = model({"features": b["features"], "mask": b["mask"]}, training=True)
            values = training_values(logits, b)
        grads = tape.gradient(values["loss"], variables)
        finite = tf.logical_and(
            tf.math.is_finite(values["loss"]), tf.math.is_finite(tf.linalg.global_norm(grads))
        )

        def apply() -> Any:
            optimizer.apply_gradients(zip(grads, variables, strict=True))
            return tf.constant(0.0)

        # A non-finite loss or gradient would turn every weight into NaN (clipping by the
        # global norm spreads it); such a step is skipped and counted instead.
        values["skipped"] = tf.cond(finite, apply, lambda: tf.constant(1.0))
        return values

    @tf.function(input_signature=[spec])
    def eval_step(b: dict[str, Any]) -> dict[str, Any]:
        logits = model({"features": b["features"], "mask": b["mask"]}, training=False)
        return losses_and_counts(logits, b)

    return train_step, eval_step


def _learning_rate(tc: TrainConfig, steps_per_epoch: int) -> Any:
    """Return the optimizer's learning rate: a float or a Keras schedule (see TrainConfig)."""
    if tc.schedule == "constant":
        return tc.learning_rate
    import keras

    total = max(1, tc.epochs * steps_per_epoch)
    warmup = min(tc.warmup_steps, total - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=tc.learning_rate if warmup == 0 else 0.0,
        decay_steps=total - warmup,
        alpha=tc.min_learning_rate_fraction,
        warmup_target=tc.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


class _Meter:
    """Accumulates frame-weighted losses and accuracy counts over steps."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}

    def add(self, values: Mapping[str, Any]) -> None:
        if float(values.get("skipped", 0.0)):
            self.sums["skipped"] = self.sums.get("skipped", 0.0) + 1.0
            return
        frames = float(values["frames"])
        for key, value in values.items():
            if key == "skipped":
                continue
            v = float(value)
            if key.endswith("_hit") or key.endswith("_n") or key == "frames":
                self.sums[key] = self.sums.get(key, 0.0) + v
            else:
                self.sums[key] = self.sums.get(key, 0.0) + v * frames
                self.sums[f"{key}#w"] = self.sums.get(f"{key}#w", 0.0) + frames

    def result(self, prefix: str = "") -> dict[str, float]:
        out = {}
        for key, value in self.sums.items():
            if key.endswith(("#w", "_hit", "_n")) or key in ("frames", "skipped"):
                continue
            out[prefix + key] = value / max(self.sums[f"{key}#w"], 1e-9)
        for head in _ACC_KEYS:
            n = self.sums.get(f"{head}_n", 0.0)
            if n:
                out[f"{prefix}{head}_acc"] = self.sums[f"{head}_hit"] / n
        if "skipped" in self.sums:
            out[f"{prefix}skipped_steps"] = self.sums["skipped"]
        return out


def train(
    data_dir: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    config: RunConfig | None = None,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
    resume: bool = False,
    on_event: Callable[[TrainEvent], None] | None = None,
    jobs: int = 1,
) -> TrainResult:
    """Train ChordNet on a data folder.

    Parameters
    ----------
    data_dir : str or PathLike
        Data folder (audio + same-stem ``.lab``, optional ``.key``; see :mod:`models.dataset`).
    out_dir : str or PathLike
        Run folder (e.g. :func:`default_run_dir`); created if missing. It must be empty (or
        absent) unless `resume`.
    config : RunConfig or None, optional
        Settings; None uses the defaults. When resuming, the run's stored settings are used and
        only ``config.train.epochs`` is taken from here (to extend a run).
    cache_dir : str or PathLike, optional
        Feature cache folder.
    resume : bool, optional
        Continue from the run folder's checkpoint (a fresh start if it has none).
    on_event : callable, optional
        Receives :class:`TrainEvent` progress reports.
    jobs : int, optional
        Processes computing features that are not cached yet (see
        :func:`models.dataset.load_songs`).

    Returns
    -------
    TrainResult
        Where the run is and how it went.

    Raises
    ------
    TrainError
        If the run folder holds another run and `resume` is False, the checkpoint is
        damaged, or an epoch diverges (validation loss not finite, or more than half of its
        steps skipped for a non-finite loss or gradient); a diverged epoch writes nothing.
    DatasetError
        If the data folder is missing or holds no usable song. Single bad files are skipped
        and reported as ``'problem'`` events.
    """
    emit = on_event or (lambda event: None)
    out = Path(out_dir)
    config, checkpoint = _open_run(out, config, resume=resume)
    tc = config.train
    songs, all_problems = _load_training_songs(
        data_dir, config=config, cache_dir=cache_dir, jobs=jobs, emit=emit
    )
    data = _training_set(songs, tc)
    model, optimizer, net_cfg = _build_model(config, data.steps, fresh=checkpoint is None)
    progress = _restore(model, optimizer, checkpoint, out / CHECKPOINT_FILE)
    out.mkdir(parents=True, exist_ok=True)

    train_step, eval_step = _make_steps(model, optimizer, net_cfg, tc)
    emit(_start_event(progress, data, model, tc, n_songs=len(songs), n_skipped=len(all_problems)))
    run = _Run(out, str(data_dir), config, model, optimizer, commit=git_commit())
    epoch, stopped = _run_epochs(run, progress, data, (train_step, eval_step), emit)
    emit(TrainEvent("done", epoch=epoch, metrics=progress.best["metrics"]))
    return TrainResult(
        run_dir=out,
        epochs_run=max(epoch, progress.start_epoch - 1),
        best_epoch=int(progress.best["epoch"]),
        best_metrics=dict(progress.best["metrics"]),
        stopped_early=stopped,
        problems=tuple(all_problems),
        history=tuple(progress.history),
    )


# ---------------------------------------------------------------------------------------
# The parts of a run.

#: A checkpoint as :func:`_load_checkpoint` reads it: model weights, optimizer state, state.
_Checkpoint = tuple[list[np.ndarray], list[np.ndarray], dict[str, Any]]


def _open_run(
    out: Path, config: RunConfig | None, *, resume: bool
) -> tuple[RunConfig, _Checkpoint | None]:
    """Return the run's settings and its checkpoint if it resumes; refuse a folder in use.

    A resumed run takes its stored settings, with ``train.epochs`` from `config` if given.
    """
    checkpoint_path = out / CHECKPOINT_FILE
    if resume and checkpoint_path.is_file():
        checkpoint = _load_checkpoint(checkpoint_path)
        stored = RunConfig.from_dict(checkpoint[2]["config"])
        epochs = (config or RunConfig(train=stored.train)).train.epochs
        config = dataclasses.replace(stored, train=dataclasses.replace(stored.train, epochs=epochs))
        return config, checkpoint
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if resume:
            raise TrainError(
                f"cannot resume '{out}': it holds no {CHECKPOINT_FILE} "
                "(hint: start a new run with another --out)"
            )
        hint = (
            "pass --resume to continue it" if checkpoint_path.is_file() else "use an empty folder"
        )
        raise TrainError(f"run folder '{out}' is not empty (hint: {hint}, or another --out)")
    return config or RunConfig(), None


def _load_training_songs(
    data_dir: str | os.PathLike[str],
    *,
    config: RunConfig,
    cache_dir: str | os.PathLike[str],
    jobs: int,
    emit: Callable[[TrainEvent], None],
) -> tuple[list[Song], list[DataProblem]]:
    """Load the data folder's songs with their features; report each skipped file as it goes."""
    files, problems = find_songs(data_dir)
    all_problems = list(problems)
    for problem in problems:
        emit(TrainEvent("problem", message=problem.message))

    def on_problem(problem: DataProblem) -> None:
        all_problems.append(problem)
        emit(TrainEvent("problem", message=problem.message))

    counter = iter(range(1, len(files) + 1))
    songs = load_songs(
        files,
        cqt_config=config.cqt,
        cache_dir=cache_dir,
        on_problem=on_problem,
        on_loaded=lambda f: emit(TrainEvent("load", step=next(counter), steps=len(files))),
        jobs=jobs,
    )
    if not songs:
        raise DatasetError(
            f"no usable songs in '{data_dir}' ({len(all_problems)} skipped) "
            "(hint: every audio file needs a same-stem .lab)"
        )
    return songs, all_problems


@dataclass(frozen=True)
class _TrainingSet:
    """The songs split for training and validation, and how an epoch draws its examples."""

    train_songs: list[Song]
    val_songs: list[Song]
    #: (song index, start frame) of every training example.
    examples: list[tuple[int, int]]
    steps: int
    #: Drawing probability of each example (quality-balanced sampling), or None.
    draw: np.ndarray | None
    #: Loss weight of each chord quality (class-balanced loss), or None.
    group_weights: np.ndarray | None


def _training_set(songs: list[Song], tc: TrainConfig) -> _TrainingSet:
    """Split the songs by song and list the training examples (one per chord onset)."""
    train_songs, val_songs = split_songs(
        songs, validation_fraction=tc.validation_fraction, seed=tc.seed
    )
    examples = [
        (i, int(start))
        for i, song in enumerate(train_songs)
        for start in example_starts(song, length_frames=tc.example_frames)
    ]
    steps = tc.steps_per_epoch or max(1, math.ceil(len(examples) / tc.batch_size))
    draw = (
        example_weights(
            train_songs,
            examples,
            length_frames=tc.example_frames,
            power=tc.balance,
            inversion_power=tc.inversion_balance,
            unlabelled_share=tc.unlabelled_share,
        )
        if tc.balance > 0
        else None
    )
    group_weights = (
        quality_weights(train_songs, power=tc.quality_weight) if tc.quality_weight > 0 else None
    )
    return _TrainingSet(train_songs, val_songs, examples, steps, draw, group_weights)


def _build_model(config: RunConfig, steps: int, *, fresh: bool) -> tuple[Any, Any, ChordNetConfig]:
    """Build the network and its optimizer; a fresh run starts from ``train.init`` if given."""
    import keras

    from models.chordnet import build_chordnet

    tc = config.train
    net_cfg = config.resolved_chordnet()
    if net_cfg.n_bins != config.cqt.n_bins:
        raise TrainError(
            f"ChordNet expects {net_cfg.n_bins} bins but the CQT gives {config.cqt.n_bins} "
            "(hint: make chordnet n_octaves x bins_per_octave match the cqt section)"
        )
    model = build_chordnet(net_cfg, seed=tc.seed)
    optimizer = keras.optimizers.AdamW(
        learning_rate=_learning_rate(tc, steps),
        weight_decay=tc.weight_decay,
        global_clipnorm=tc.clip_norm,
    )
    optimizer.build(model.trainable_variables)
    if tc.init is not None and fresh:
        _start_from(model, tc.init, config)
    return model, optimizer, net_cfg


@dataclass
class _Progress:
    """Where a run stands: its history, its best epoch, the epochs since it last improved."""

    history: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, Any] = field(
        default_factory=lambda: {"epoch": 0, "score": math.inf, "metrics": {}}
    )
    bad_epochs: int = 0
    start_epoch: int = 1

    def stopped(self, tc: TrainConfig) -> bool:
        """Whether early stopping ends the run."""
        return bool(tc.patience) and self.bad_epochs >= tc.patience


def _restore(
    model: Any, optimizer: Any, checkpoint: _Checkpoint | None, checkpoint_path: Path
) -> _Progress:
    """Load a checkpoint's weights and optimizer state; return its progress (fresh if None)."""
    if checkpoint is None:
        return _Progress()
    model_weights, optimizer_weights, state = checkpoint
    model.set_weights(model_weights)
    if len(optimizer_weights) != len(optimizer.variables):
        raise TrainError(f"cannot resume from '{checkpoint_path}': optimizer state mismatch")
    for var, value in zip(optimizer.variables, optimizer_weights, strict=True):
        var.assign(value)
    return _Progress(
        history=list(state["history"]),
        best=state["best"],
        bad_epochs=int(state["bad_epochs"]),
        start_epoch=int(state["epoch"]) + 1,
    )


def _run_epochs(
    run: _Run,
    progress: _Progress,
    data: _TrainingSet,
    steps: tuple[Any, Any],
    emit: Callable[[TrainEvent], None],
) -> tuple[int, bool]:
    """Run the epochs left up to ``train.epochs`` or early stopping; return the last and if stopped.

    `steps` are the compiled training and validation steps of :func:`_make_steps`.
    """
    tc = run.config.train
    stopped = progress.stopped(tc)  # a finished run resumed
    last_epoch = tc.epochs if not stopped else progress.start_epoch - 1
    epoch = progress.start_epoch - 1
    for epoch in range(progress.start_epoch, last_epoch + 1):
        metrics, score = _run_epoch(epoch, data, run.config, *steps, emit)
        _check_converging(metrics, score, steps=data.steps, out=run.out, epoch=epoch)
        improved = _end_epoch(run, progress, data, epoch=epoch, metrics=metrics, score=score)
        stopped = progress.stopped(tc)
        emit(TrainEvent("epoch", epoch=epoch, metrics=metrics, info={"improved": improved}))
        if stopped:
            best_epoch = progress.best["epoch"]
            message = f"no improvement for {tc.patience} epochs; best epoch {best_epoch}"
            emit(TrainEvent("stop", epoch=epoch, message=message))
            break
    return epoch, stopped


def _start_event(
    progress: _Progress,
    data: _TrainingSet,
    model: Any,
    tc: TrainConfig,
    *,
    n_songs: int,
    n_skipped: int,
) -> TrainEvent:
    """Return the ``'start'`` event: the data, the network's size and the epochs to run."""
    from models.chordnet import count_parameters

    return TrainEvent(
        "start",
        epoch=progress.start_epoch,
        info={
            "songs": n_songs,
            "train_songs": len(data.train_songs),
            "validation_songs": len(data.val_songs),
            "examples": len(data.examples),
            "steps_per_epoch": data.steps,
            "parameters": count_parameters(model),
            "first_epoch": progress.start_epoch,
            "epochs": tc.epochs,
            "skipped": n_skipped,
        },
    )


def _run_epoch(
    epoch: int,
    data: _TrainingSet,
    config: RunConfig,
    train_step: Any,
    eval_step: Any,
    emit: Callable[[TrainEvent], None],
) -> tuple[dict[str, float], float]:
    """Train one epoch and validate; return its metrics and the score that picks the best."""
    tc = config.train
    rng = epoch_generator(tc, epoch)
    order = epoch_order(rng, len(data.examples), data.steps * tc.batch_size, data.draw)
    meter = _Meter()
    t0 = time.perf_counter()
    for step in range(data.steps):
        drawn = order[step * tc.batch_size : (step + 1) * tc.batch_size]
        if tc.consistency_weight > 0:
            b = _pair_batch(data, drawn[: tc.batch_size // 2], config, rng)
        else:
            b = _batch(data, drawn, config, rng)
        meter.add(train_step(b))
        emit(
            TrainEvent("step", epoch=epoch, step=step + 1, steps=data.steps, metrics=meter.result())
        )
    elapsed = time.perf_counter() - t0
    metrics = meter.result()
    metrics["frames_per_second"] = meter.sums.get("frames", 0.0) / max(elapsed, 1e-9)
    if not data.val_songs:
        return metrics, metrics.get("loss", math.nan)
    val_meter = _Meter()
    for b in _validation_batches(
        data.val_songs, length=tc.example_frames, batch_size=tc.batch_size
    ):
        val_meter.add(eval_step(b))
    metrics.update(val_meter.result("val_"))
    return metrics, metrics["val_loss"]


def _drawn_example(
    data: _TrainingSet, j: int, length_frames: int
) -> tuple[np.ndarray, np.ndarray, FrameTargets]:
    """Features, mask and targets of training example `j` (see :func:`slice_example`)."""
    song_index, start = data.examples[j]
    return slice_example(data.train_songs[song_index], start, length_frames=length_frames)


def _batch(
    data: _TrainingSet, drawn: np.ndarray, config: RunConfig, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Return a batch of the drawn examples, each augmented (unless augmentation is off)."""
    batch = []
    for j in drawn:
        features, mask, targets = _drawn_example(data, j, config.train.example_frames)
        if config.augment != NO_AUGMENT:
            features, targets, _ = augment_example(
                features, targets, rng=rng, config=config.augment
            )
        batch.append((features, mask, targets))
    return _stack(batch, data.group_weights)


def _pair_batch(
    data: _TrainingSet, drawn: np.ndarray, config: RunConfig, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Return a batch of consistency pairs: the drawn examples augmented, then their partners.

    A partner is the same example augmented again (its own masks and EQ) at a pitch ``d``
    semitones above the first view's, ``d`` drawn from ``±1..±consistency_shift``; its targets
    are transposed with it, so both views also get the supervised losses.
    """
    tc = config.train
    partner_augment = dataclasses.replace(config.augment, pitch_shift=True)
    shifts = [d for d in range(-tc.consistency_shift, tc.consistency_shift + 1) if d]
    firsts, partners, pair_shift = [], [], []
    for j in drawn:
        features, mask, targets = _drawn_example(data, j, tc.example_frames)
        a, a_targets, k = augment_example(features, targets, rng=rng, config=config.augment)
        d = int(rng.choice(shifts))
        p, p_targets, _ = augment_example(
            features, targets, rng=rng, config=partner_augment, semitones=k + d
        )
        firsts.append((a, mask, a_targets))
        partners.append((p, mask, p_targets))
        pair_shift.append(d)
    b = _stack(firsts + partners, data.group_weights)
    b["pair_shift"] = np.asarray(pair_shift, dtype=np.int32)
    return b


def _check_converging(
    metrics: Mapping[str, float], score: float, *, steps: int, out: Path, epoch: int
) -> None:
    """Raise TrainError if the epoch diverged: score not finite or most steps skipped."""
    skipped = int(metrics.get("skipped_steps", 0))
    if not math.isfinite(score) or 2 * skipped > steps:
        reason = f"{skipped} of {steps} steps" if skipped else "loss"
        raise TrainError(
            f"training in '{out}' diverged in epoch {epoch} ({reason} not finite); the "
            f"weights and checkpoint of the epochs before are kept (try a lower learning rate)"
        )


@dataclass(frozen=True)
class _Run:
    """What an epoch's end writes to: the run folder, its settings, network and optimizer."""

    out: Path
    data_dir: str
    config: RunConfig
    model: Any
    optimizer: Any
    commit: str | None


def _end_epoch(
    run: _Run,
    progress: _Progress,
    data: _TrainingSet,
    *,
    epoch: int,
    metrics: dict[str, float],
    score: float,
) -> bool:
    """Record the epoch (weights if best, history, checkpoint); return whether it improved."""
    from models.chordnet import save_chordnet

    tc = run.config.train
    metrics["epoch"] = epoch
    progress.history.append(metrics)
    improved = score < progress.best["score"]
    if improved:
        progress.best = {"epoch": epoch, "score": score, "metrics": metrics}
        progress.bad_epochs = 0
        save_chordnet(
            run.model,
            run.out,
            cqt_config=run.config.cqt,
            extra={
                "train": dataclasses.asdict(tc),
                "augment": run.config.augment.to_dict(),
                "git_commit": run.commit,
                "data_dir": run.data_dir,
                "songs": {"train": len(data.train_songs), "validation": len(data.val_songs)},
                "best_epoch": epoch,
                "metrics": metrics,
            },
        )
    else:
        progress.bad_epochs += 1
    # the checkpoint first: a run killed before history.json is written still resumes
    _save_checkpoint(
        run.out / CHECKPOINT_FILE,
        model=run.model,
        optimizer=run.optimizer,
        state={
            "epoch": epoch,
            "history": progress.history,
            "best": progress.best,
            "bad_epochs": progress.bad_epochs,
            "config": run.config.to_dict(),
            "git_commit": run.commit,
        },
    )
    _write_json(run.out / HISTORY_FILE, progress.history)
    return improved
