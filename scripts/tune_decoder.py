"""Fit a model's decoder calibration on dev-cross; store it in the model's config.json.

    python scripts/tune_decoder.py MODEL_DIR --data DEV_CROSS/dev-cross \\
        --data DEV_CROSS/dev-degraded [--guard FIRST_CONFIG.json] [--hold-back] \\
        [--billboard ../shared/data/billboard] [--train-data DIR] [--write]

A network trained with quality-balanced sampling and class-balanced frame weights carries its
training share of each chord quality in its posteriors; decoded as they are, rare qualities
(``5``, ``sus2``, ``sus4``, ...) are called far more often than music uses them. The decoder
therefore (``theory.calibrate``, docs/decoding.md)

* divides the training share out (``prior_strength``; logit adjustment),
* multiplies in the share of each quality in real songs, from the Billboard annotations,
  duration-weighted (``reference_strength``, ``reference_floor``),
* offsets no-chord (``no_chord_bias``),
* shifts the prior per song by how many chord tones the network hears (``tone_weight``),
* weighs the bass head's probability of each class's root (``bass_weight``) and lets the bass
  choose the root among classes of the same pitch classes (``bass_root_min_prob``).

This script fits those settings on **dev-cross** (``chordcli data render --variant cross`` and
``--variant degraded``: other arrangements, SoundFonts and recording conditions than any
training file; never training timbres). The training shares come from MODEL_DIR's config
(``decoder.quality_share``), or are rebuilt from a training run's labels with
``--train-data`` (the run's examples and quality-balanced sampling weights). Every setting is
decoded frame by frame and scored against the frame targets (:func:`score_paths`): majmin,
majmin_inv, sevenths, exact-class accuracy, class-wise recall, inverted chords' root accuracy
and the share of time each quality and ``N`` are called. The search is coordinate-wise over
the grids (two passes, starting from the full swap of the training prior for the reference
prior: ``prior_strength`` 1, ``reference_strength`` 1); the criterion is the mean of majmin,
majmin_inv, sevenths and accuracy minus twice the share of time by which any quality or ``N``
is called more than max(1.25 x its reference share, 0.5 %) of the time. A negative
``bass_weight`` is in the grid: v1's chord head reads an inverted chord with its bass as the
root (C/E as E:min), and a negative weight leans against that reading. ``--guard CONFIG``
makes another decoder's majmin, sevenths and tetrads per source and on the four-tone-rich
songs floors of the criterion; ``--hold-back`` leaves the over-call penalty out of the search
and then lowers the prior of each quality still called over its cap (``quality_bias``);
``--real DIR`` then does the same for the rare qualities (under 2 % of the reference time) on
unlabelled real recordings, and with ``--real-no-chord`` for ``N`` too, counting only the
frames that the pipeline's no-harmonic-content gate leaves to the decoder; ``--gate-data``
scores the ``--data`` songs with that gate too, as the pipeline writes them (an ``N`` the
gate supplies then costs the decoder nothing). ``--write`` stores
the chosen settings and the selection record in ``config.json`` (atomically). Model outputs
are cached in ``--cache``/posteriors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from models.dataset import FEATURE_RECIPE, find_songs, load_songs, replace_atomically
from theory import QUALITIES
from theory.calibrate import DEFAULT_TONE_REFERENCE, calibrated_log_prior
from theory.decode import DecoderSettings, decode
from theory.targets import BASS_NONE
from theory.vocabulary import N_CLASS, N_CLASSES, N_QUALITIES, class_label, class_quality_indices

NAMES = tuple(q.name or "maj" for q in QUALITIES) + ("N",)
#: A quality or N may take this multiple of its reference share (or MIN_SHARE) of the time.
SHARE_FACTOR = 1.25
MIN_SHARE = 0.005
#: With --guard, no group of songs may lose more than this of these scores.
GUARDED = ("majmin", "sevenths", "tetrads")
GUARD_SLACK = 0.005
#: Share of chord time in four-or-more-tone chords that makes a song ``rich``.
RICH_SHARE = 0.4


@dataclass(frozen=True)
class Calibration:
    """One point of the search (the ``decoder`` settings it fits)."""

    prior_strength: float = 1.0
    reference_strength: float = 0.0
    rare_strength: float | None = None
    reference_floor: float = 1e-4
    no_chord_bias: float = 0.0
    tone_weight: float = 0.0
    tone_reference: float = DEFAULT_TONE_REFERENCE
    bass_weight: float = 0.0
    vector_weight: float = 0.0
    bass_root_min_prob: float | None = None
    quality_bias: tuple[float, ...] | None = None

    def settings(self, train_share: np.ndarray, reference: np.ndarray) -> DecoderSettings:
        prior = calibrated_log_prior(
            train_share,
            train_strength=self.prior_strength,
            reference_share=reference,
            reference_strength=self.reference_strength,
            rare_strength=self.rare_strength,
            no_chord_bias=self.no_chord_bias,
            floor=self.reference_floor,
            quality_bias=None if self.quality_bias is None else np.array(self.quality_bias),
        )
        return DecoderSettings(
            class_log_prior=prior,
            bass_weight=self.bass_weight,
            vector_weight=self.vector_weight,
            tone_weight=self.tone_weight,
            tone_reference=self.tone_reference,
            bass_root_min_prob=self.bass_root_min_prob,
        )


@dataclass
class SongOutput:
    """A song's model outputs and frame targets."""

    name: str
    source: str
    chord: np.ndarray
    smooth_chroma: np.ndarray
    change: np.ndarray
    bass: np.ndarray
    key: np.ndarray
    ref_chord: np.ndarray
    ref_bass: np.ndarray
    #: Frames the pipeline's no-harmonic-content gate lets the decoder name (None: all).
    tonal: np.ndarray | None = None


def _encodings() -> tuple[np.ndarray, np.ndarray]:
    """mir_eval root and semitone bitmap of every class (N: root -1, no semitones)."""
    import mir_eval

    roots = np.full(N_CLASSES, -1)
    bitmaps = np.zeros((N_CLASSES, 12), dtype=bool)
    for c in range(N_CLASS):
        root, bitmap, _ = mir_eval.chord.encode(class_label(c))
        roots[c], bitmaps[c] = root, bitmap.astype(bool)
    return roots, bitmaps


_ROOTS, _BITMAPS = _encodings()
_MAJ = np.zeros(12, bool)
_MAJ[[0, 4, 7]] = True
_MIN = np.zeros(12, bool)
_MIN[[0, 3, 7]] = True
_SEVENTHS = [_MAJ, _MIN] + [
    np.isin(np.arange(12), list(t)) for t in ((0, 4, 7, 11), (0, 4, 7, 10), (0, 3, 7, 10))
]


def score_paths(songs: list[SongOutput], paths: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Frame-level scores of decoded (class, bass pc) paths against the frame targets.

    majmin, sevenths and root follow ``mir_eval.chord`` (majmin: root and the first 8
    semitones, on reference frames that are maj, min or N; sevenths: root and all semitones,
    on maj, min, maj7, 7, min7 or N; tetrads: root and all semitones, on every frame);
    ``majmin_inv`` also needs the bass; ``accuracy`` is the
    exact class; ``acc_class`` the mean recall of the qualities (and N) with reference time;
    ``inv_root`` the root accuracy on frames whose reference bass is not its root; ``share``
    the share of time each quality and N are called (``ref_share``: in the references).
    A song with ``tonal`` frames is scored as the pipeline writes it: ``N`` (no bass) over the
    frames its no-harmonic-content gate finds.
    """
    keys = ("root", "majmin", "majmin_inv", "sevenths", "tetrads", "accuracy", "inv_root")
    tot = dict.fromkeys(keys, 0.0)
    den = dict.fromkeys(tot, 0.0)
    hits_q = np.zeros(N_QUALITIES + 1)
    ref_q = np.zeros(N_QUALITIES + 1)
    est_q = np.zeros(N_QUALITIES + 1)
    for song, (path, bass_pc) in zip(songs, paths, strict=True):
        if song.tonal is not None:
            path = np.where(song.tonal, path, N_CLASS)
            bass_pc = np.where(song.tonal, bass_pc, BASS_NONE)
        ok = song.ref_chord >= 0
        ref, est, rbass, ebass = song.ref_chord[ok], path[ok], song.ref_bass[ok], bass_pc[ok]
        eq_root = _ROOTS[ref] == _ROOTS[est]
        rb, eb = _BITMAPS[ref], _BITMAPS[est]
        is_n = ref == N_CLASS
        mm_valid = (rb[:, :8] == _MAJ[:8]).all(1) | (rb[:, :8] == _MIN[:8]).all(1) | is_n
        mm = eq_root & (rb[:, :8] == eb[:, :8]).all(1)
        sv_valid = is_n | np.any([(rb == t).all(1) for t in _SEVENTHS], axis=0)
        sv = eq_root & (rb == eb).all(1)
        bass_ok = (rbass == ebass) | is_n
        inverted = ~is_n & (rbass != _ROOTS[ref]) & (rbass != BASS_NONE)
        for key, hit, valid in (
            ("root", eq_root, np.ones_like(ok[ok])),
            ("majmin", mm, mm_valid),
            ("majmin_inv", mm & bass_ok, mm_valid),
            ("sevenths", sv, sv_valid),
            ("tetrads", sv, np.ones_like(ok[ok])),
            ("accuracy", ref == est, np.ones_like(ok[ok])),
            ("inv_root", eq_root, inverted),
        ):
            tot[key] += float((hit & valid).sum())
            den[key] += float(valid.sum())
        q_ref = class_quality_indices(ref)
        ref_q += np.bincount(q_ref, minlength=N_QUALITIES + 1)
        est_q += np.bincount(class_quality_indices(path), minlength=N_QUALITIES + 1)
        hits_q += np.bincount(q_ref, weights=ref == est, minlength=N_QUALITIES + 1)
    out = {k: tot[k] / den[k] if den[k] else float("nan") for k in tot}
    present = ref_q > 0
    out["acc_class"] = float((hits_q[present] / ref_q[present]).mean())
    out["recall"] = np.where(present, hits_q / np.maximum(ref_q, 1), np.nan)
    out["share"] = est_q / max(est_q.sum(), 1)
    out["ref_share"] = ref_q / max(ref_q.sum(), 1)
    return out


def share_excess(share: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """How far each quality's share exceeds max(1.25 x reference, 0.5 %) (0 if not)."""
    return np.maximum(share - np.maximum(SHARE_FACTOR * reference, MIN_SHARE), 0.0)


def decode_all(songs: list[SongOutput], settings: DecoderSettings) -> list:
    """Decode every song; return (class path, bass pitch class per frame) pairs."""
    paths = []
    for s in songs:
        decoding = decode(
            s.chord,
            smooth_chroma=s.smooth_chroma,
            change=s.change,
            bass=s.bass,
            key=s.key,
            **settings.kwargs(),
        )
        bass_pc = np.full(len(decoding.path), BASS_NONE)
        for seg in decoding.segments:
            root = _ROOTS[seg.chord_class]
            pc = seg.bass_pc if seg.bass_pc is not None else (root if root >= 0 else BASS_NONE)
            bass_pc[seg.start_frame : seg.end_frame] = pc
        paths.append((decoding.path, bass_pc))
    return paths


def load_outputs(
    model_dir: Path, data: list[Path], cache: Path, jobs: int, *, gate: bool = False
) -> list[SongOutput]:
    """Model outputs and frame targets of every song under the data folders (cached).

    With `gate`, each song's ``tonal`` frames too (the pipeline's no-harmonic-content gate).
    """
    from chordcli.gate import gated_frames
    from models.chordnet import load_chordnet_backend

    backend = load_chordnet_backend(model_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tag = str(config.get("weights_sha256", "model"))[:16] + "-" + FEATURE_RECIPE
    if backend.pitch_views != (0,):
        tag += "-views" + "_".join(str(v) for v in backend.pitch_views)
    out_dir = cache / "posteriors" / tag
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [f for d in data for f in find_songs(d)[0]]
    songs = load_songs(
        files, cqt_config=backend.cqt_config, cache_dir=cache / "features", jobs=jobs
    )
    outputs = []
    for song in songs:
        key = hashlib.sha256(str(Path(song.name).resolve()).encode()).hexdigest()[:20]
        path = out_dir / f"{key}.npz"
        if path.is_file():
            arrays = dict(np.load(path))
        else:
            o = backend.predict(song.features.astype(np.float32))
            arrays = {
                "chord": o.chord.astype(np.float16),
                "smooth_chroma": o.smooth_chroma.astype(np.float16),
                "change": o.change,
                "bass": o.bass.astype(np.float16),
                "key": o.key.astype(np.float16),
            }
            np.savez(path, **arrays)
        outputs.append(
            SongOutput(
                name=song.name,
                source=Path(song.name).parent.name,
                chord=arrays["chord"].astype(np.float32),
                smooth_chroma=arrays["smooth_chroma"].astype(np.float32),
                change=arrays["change"].astype(np.float32),
                bass=arrays["bass"].astype(np.float32),
                key=arrays["key"].astype(np.float32),
                ref_chord=song.targets.chord,
                ref_bass=song.targets.bass,
                tonal=~gated_frames(song.features, config=backend.cqt_config) if gate else None,
            )
        )
    return outputs


def training_shares(run: Path, data: Path, cache: Path) -> np.ndarray:
    """Rebuild a training run's quality shares from its labels (examples and weights)."""
    from models.dataset import (
        example_starts,
        example_weights,
        load_songs_labels,
        quality_shares,
        split_songs,
    )
    from models.train import load_run_config

    config = load_run_config(run / "config.json")
    tc = config.train
    files, _ = find_songs(data)
    songs = load_songs_labels(files, cqt_config=config.cqt, cache_dir=cache / "features")
    train_songs, _ = split_songs(songs, validation_fraction=tc.validation_fraction, seed=tc.seed)
    examples = [
        (i, int(start))
        for i, song in enumerate(train_songs)
        for start in example_starts(song, length_frames=tc.example_frames)
    ]
    weights = (
        example_weights(train_songs, examples, length_frames=tc.example_frames, power=tc.balance)
        if tc.balance > 0
        else None
    )
    share = quality_shares(train_songs, examples, length_frames=tc.example_frames, weights=weights)
    return np.maximum(share, 1e-6)  # a quality never seen must not get an infinite prior


def song_groups(songs: list[SongOutput]) -> dict[str, list[int]]:
    """Song indices per source, and ``rich``: songs with >= 40 % of their chord time in tetrads+.

    The ``rich`` group stands for music that lives on four-tone chords (jazz, soul, ballads):
    a prior fitted on mostly triadic pop must not take its sevenths away.
    """
    tones = np.array([len(q.intervals) for q in QUALITIES] + [0])
    groups: dict[str, list[int]] = {}
    for i, song in enumerate(songs):
        groups.setdefault(song.source, []).append(i)
        ref = song.ref_chord[(song.ref_chord >= 0) & (song.ref_chord != N_CLASS)]
        if ref.size and (tones[class_quality_indices(ref)] >= 4).mean() >= RICH_SHARE:
            groups.setdefault("rich", []).append(i)
    return groups


def group_scores(songs: list[SongOutput], paths: list, groups: dict[str, list[int]]) -> dict:
    """:func:`score_paths` of every group of songs."""
    return {
        name: score_paths([songs[i] for i in members], [paths[i] for i in members])
        for name, members in groups.items()
    }


def guard_shortfall(scores: dict[str, dict], floors: dict[str, dict]) -> float:
    """Total by which any group's guarded score falls below its floor minus the slack."""
    return sum(max(0.0, floors[g][k] - GUARD_SLACK - scores[g][k]) for g in floors for k in GUARDED)


def objective(scores: dict, excess_weight: float = 2.0) -> float:
    """Mean of majmin, majmin_inv, sevenths and accuracy, minus 2 x the total share excess.

    With a guard (``scores["shortfall"]``, see :func:`guard_shortfall`) minus 4 x the
    shortfall too: no group of songs may lose majmin, sevenths or tetrads to the fit.
    """
    excess = share_excess(scores["share"], scores["ref_share"]).sum()
    keys = ("majmin", "majmin_inv", "sevenths", "accuracy")
    mean = sum(scores[k] for k in keys) / len(keys)
    return mean - excess_weight * excess - 4.0 * scores.get("shortfall", 0.0)


def lower_over_called(cal: Calibration, evaluate, log, *, label: str, rounds: int):
    """Lower the log-prior of each quality called over its cap until none is; return the result.

    ``evaluate(cal)`` returns the share of time each quality (and N) is called, its cap
    (``inf`` for one that may not be lowered), a text for the log, and a result. Each round
    moves the log-prior of every over-called quality down by the log-ratio of its share to
    90 % of its cap; a quality never gains. Returns the last calibration and its result.
    """
    bias = np.zeros(N_QUALITIES + 1) if cal.quality_bias is None else np.array(cal.quality_bias)
    for round_ in range(rounds + 1):
        cal = replace(cal, quality_bias=tuple(round(float(b), 4) for b in bias))
        share, cap, text, result = evaluate(cal)
        over = np.flatnonzero(share > cap)
        log(
            f"{label}, round {round_}: {text}over-called "
            + (", ".join(f"{NAMES[q]} {100 * share[q]:.2f}" for q in over) or "none")
        )
        if over.size == 0 or round_ == rounds:
            return cal, result
        bias[over] -= np.log(share[over] / (0.9 * cap[over]))
    raise AssertionError("unreachable")


def hold_back(songs, train_share, reference, cal: Calibration, log, *, rounds: int = 8):
    """Lower the prior of each quality called over its cap on dev-cross; return it and its scores.

    The cap is max(1.25 x the quality's reference share, 0.5 %) (:func:`share_excess`); see
    :func:`lower_over_called`.
    """

    def evaluate(cal: Calibration):
        scores = score_paths(songs, decode_all(songs, cal.settings(train_share, reference)))
        cap = np.maximum(SHARE_FACTOR * scores["ref_share"], MIN_SHARE)
        text = (
            f"majmin {scores['majmin']:.4f} sevenths {scores['sevenths']:.4f} "
            f"acc {scores['accuracy']:.4f} "
        )
        return scores["share"], cap, text, scores

    return lower_over_called(cal, evaluate, log, label="hold back", rounds=rounds)


#: Qualities under this share of the reference time are "rare" (the real-music hold back).
RARE_SHARE = 0.02


def call_shares(
    songs: list[SongOutput], settings: DecoderSettings, *, tonal_only: bool = False
) -> np.ndarray:
    """Share of the frames each quality (and N, last) is called, labels or not.

    With `tonal_only`, of the tonal frames only (``SongOutput.tonal``): the pipeline writes
    ``N`` over the frames its no-harmonic-content gate finds (:mod:`chordcli.gate`) whatever
    the decoder says, so there the decoder's calls count where it names the chord.
    """
    counts = np.zeros(N_QUALITIES + 1)
    for song, (path, _bass) in zip(songs, decode_all(songs, settings), strict=True):
        named = path if song.tonal is None or not tonal_only else path[song.tonal]
        counts += np.bincount(class_quality_indices(named), minlength=N_QUALITIES + 1)
    return counts / max(counts.sum(), 1.0)


def hold_back_real(
    real,
    train_share,
    reference,
    cal: Calibration,
    log,
    *,
    rounds: int = 20,
    cap_no_chord: bool = False,
):
    """Lower the prior of each rare quality called over its cap on unlabelled real music.

    Rare: under :data:`RARE_SHARE` of the reference (Billboard) time; cap: max(1.25 x its
    reference share, 0.5 %), as :func:`hold_back` but on recordings without labels, where only
    the share of time called counts (:func:`call_shares`). ``N`` is left alone (real
    recordings have passages without harmony, which the pipeline's gate writes as ``N``);
    with `cap_no_chord` the shares are taken over the frames with harmonic content and ``N``
    gets the same cap there.
    """
    capped = reference < RARE_SHARE
    capped[-1] = cap_no_chord
    cap = np.where(capped, np.maximum(SHARE_FACTOR * reference, MIN_SHARE), np.inf)

    def evaluate(cal: Calibration):
        settings = cal.settings(train_share, reference)
        return call_shares(real, settings, tonal_only=cap_no_chord), cap, "", None

    return lower_over_called(cal, evaluate, log, label="real hold back", rounds=rounds)[0]


GRIDS = {
    "prior_strength": (0.5, 0.75, 1.0),
    "reference_strength": (0.25, 0.5, 0.75, 1.0),
    "rare_strength": (None, 1.0, 1.25, 1.5),
    "no_chord_bias": (-4.0, -3.0, -2.0, -1.0, 0.0),
    "tone_weight": (0.0, 1.0, 2.0, 3.0, 4.0),
    "bass_weight": (-0.5, 0.0, 0.5),
    "bass_root_min_prob": (None, 0.35),
}


def search(
    songs,
    train_share,
    reference,
    start: Calibration,
    log,
    *,
    passes: int = 2,
    floors=None,
    excess_weight: float = 2.0,
) -> list[tuple]:
    """Coordinate search over :data:`GRIDS`; return every (calibration, scores) evaluated.

    `floors` (group -> scores, see :func:`guard_shortfall`) guards groups of songs;
    `excess_weight` weighs the over-called share in :func:`objective`.
    """
    seen: dict[Calibration, dict] = {}
    groups = song_groups(songs)

    def evaluate(cal: Calibration) -> dict:
        if cal not in seen:
            paths = decode_all(songs, cal.settings(train_share, reference))
            seen[cal] = s = score_paths(songs, paths)
            if floors:
                s["shortfall"] = guard_shortfall(group_scores(songs, paths, groups), floors)
            log(
                f"{cal}: majmin {s['majmin']:.4f} sevenths {s['sevenths']:.4f} "
                f"acc {s['accuracy']:.4f} acc_class {s['acc_class']:.4f} "
                f"inv_root {s['inv_root']:.4f} N {s['share'][-1]:.4f} "
                f"excess {share_excess(s['share'], s['ref_share']).sum():.4f} "
                f"shortfall {s.get('shortfall', 0.0):.4f} -> {objective(s, excess_weight):.4f}"
            )
        return seen[cal]

    best = start
    for _ in range(passes):
        for name, grid in GRIDS.items():
            for value in grid:
                evaluate(replace(best, **{name: value}))
            best = max(
                (replace(best, **{name: v}) for v in grid),
                key=lambda c: objective(seen[c], excess_weight),
            )
    return [(best, seen[best])] + [(c, s) for c, s in seen.items() if c != best]


def report(songs: list[SongOutput], systems: dict[str, DecoderSettings]) -> None:
    """Print Markdown tables of every system per source and per quality (no search)."""
    keys = ("root", "majmin", "majmin_inv", "sevenths", "tetrads", "accuracy", "acc_class")
    keys += ("inv_root",)
    groups = {**song_groups(songs), "all": list(range(len(songs)))}
    scores = {}
    for name, settings in systems.items():
        paths = decode_all(songs, settings)
        for group, values in group_scores(songs, paths, groups).items():
            scores[name, group] = values
    print("| decoder | songs | n | " + " | ".join(keys) + " | N called % | over-called |")
    print("|---|---|---:|" + "---:|" * (len(keys) + 1) + "---|")
    for source, members in groups.items():
        n = len(members)
        for name in systems:
            s = scores[name, source]
            over = share_excess(s["share"], s["ref_share"])
            flagged = ", ".join(
                f"{NAMES[q]} {100 * s['share'][q]:.1f} (ref {100 * s['ref_share'][q]:.1f})"
                for q in np.flatnonzero(over > 0)
            )
            cells = " | ".join(f"{100 * s[k]:.1f}" for k in keys)
            print(
                f"| {name} | {source} | {n} | {cells} | {100 * s['share'][-1]:.1f} | "
                f"{flagged or '-'} |"
            )
    print(
        "\n| quality | ref % | "
        + " | ".join(f"{n} called % | {n} recall %" for n in systems)
        + " |"
    )
    print("|---|---:|" + "---:|---:|" * len(systems))
    first = scores[next(iter(systems)), "all"]
    for q in np.flatnonzero(first["ref_share"] > 0):
        cells = " | ".join(
            f"{100 * scores[n, 'all']['share'][q]:.1f} | {100 * scores[n, 'all']['recall'][q]:.1f}"
            for n in systems
        )
        print(f"| {NAMES[q]} | {100 * first['ref_share'][q]:.2f} | {cells} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="model or training run folder")
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument(
        "--billboard",
        type=Path,
        default=Path("../shared/data/billboard"),
        help="LAB files whose quality shares are the reference prior (real songs)",
    )
    parser.add_argument("--train-data", type=Path, help="rebuild the training shares from it")
    parser.add_argument("--cache", type=Path, default=Path(".cache"))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--passes", type=int, default=2, help="coordinate-search passes")
    parser.add_argument("--write", action="store_true", help="store the result in config.json")
    parser.add_argument(
        "--hold-back",
        action="store_true",
        help="search without the over-call penalty, then lower the prior of each quality "
        "called over its cap (max(1.25 x reference share, 0.5 %%)) until none is",
    )
    parser.add_argument(
        "--real",
        type=Path,
        metavar="DIR",
        help="with --hold-back, also lower the prior of each rare quality (under 2 %% of the "
        "reference time) that the decoder calls over its cap on these unlabelled real "
        "recordings (LAB files of X, as scripts/pseudo_label.py --unlabelled writes)",
    )
    parser.add_argument(
        "--real-no-chord",
        action="store_true",
        help="with --real, count the shares on the frames with harmonic content (those the "
        "pipeline's gate leaves to the decoder) and cap N there too",
    )
    parser.add_argument(
        "--gate-data",
        action="store_true",
        help="score the --data songs as the pipeline writes them: N over the frames its "
        "no-harmonic-content gate finds",
    )
    parser.add_argument(
        "--guard",
        type=Path,
        metavar="CONFIG",
        help="a config.json (or decoder section) whose majmin, sevenths and tetrads per source "
        "and on the four-tone-rich songs no fitted setting may lose (beyond 0.5 points)",
    )
    parser.add_argument(
        "--report",
        action="append",
        metavar="NAME=CONFIG",
        help="only score these decoder sections (a config.json, or 'model') per source and "
        "per quality; no search",
    )
    args = parser.parse_args(argv)
    if args.real is not None and not args.hold_back:
        parser.error("--real needs --hold-back")
    if args.real_no_chord and args.real is None:
        parser.error("--real-no-chord needs --real")

    from chordcli.corpus.billboard import billboard_quality_shares

    config_path = args.model / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    section = config.get("decoder") or {}
    if args.train_data is not None:
        train_share = training_shares(args.model, args.train_data, args.cache)
    elif "quality_share" in section:
        train_share = np.asarray(section["quality_share"], dtype=np.float64)
    else:
        sys.exit(f"'{config_path}' has no decoder.quality_share: pass --train-data")
    reference, hours = billboard_quality_shares(args.billboard)
    songs = load_outputs(args.model, args.data, args.cache, args.jobs, gate=args.gate_data)
    print(f"{len(songs)} songs, {sum(len(s.ref_chord) for s in songs)} frames")
    if args.report:
        systems = {}
        for item in args.report:
            name, _, source = item.partition("=")
            path = config_path if source in ("", "model") else Path(source)
            data = json.loads(path.read_text(encoding="utf-8"))
            systems[name] = DecoderSettings.from_config(data.get("decoder", data))
        report(songs, systems)
        return 0
    # start from the full swap of the training prior for the reference prior
    start = Calibration(
        prior_strength=1.0,
        reference_strength=1.0,
        bass_weight=float(section.get("bass_weight", 0.0)),
        vector_weight=float(section.get("vector_weight", 0.0)),
    )
    floors = None
    if args.guard is not None:
        data = json.loads(args.guard.read_text(encoding="utf-8"))
        guard = DecoderSettings.from_config(data.get("decoder", data))
        floors = group_scores(songs, decode_all(songs, guard), song_groups(songs))
        for name, values in floors.items():
            print(f"guard {name}: " + ", ".join(f"{k} {values[k]:.4f}" for k in GUARDED))

    def log(message: str) -> None:
        print(message, flush=True)

    results = search(
        songs,
        train_share,
        reference,
        start,
        log,
        passes=args.passes,
        floors=floors,
        excess_weight=0.0 if args.hold_back else 2.0,
    )
    best, scores = results[0]
    if args.hold_back:
        best, scores = hold_back(songs, train_share, reference, best, log)
        if args.real is not None:
            real = load_outputs(
                args.model, [args.real], args.cache, args.jobs, gate=args.real_no_chord
            )
            print(f"real: {len(real)} recordings, {sum(len(s.chord) for s in real)} frames")
            best = hold_back_real(
                real, train_share, reference, best, log, cap_no_chord=args.real_no_chord
            )
            del real
            scores = score_paths(songs, decode_all(songs, best.settings(train_share, reference)))
    print(f"chosen: {best}")
    print("quality      ref %  called %  recall")
    for q in np.flatnonzero((scores["ref_share"] > 0) | (scores["share"] > 0.002)):
        print(
            f"{NAMES[q]:10s} {100 * scores['ref_share'][q]:6.2f} {100 * scores['share'][q]:8.2f}"
            f"  {scores['recall'][q]:.3f}"
        )
    if not args.write:
        return 0
    section = dict(section)
    section.update(
        {
            "quality_share": [round(float(x), 8) for x in train_share],
            "prior_strength": best.prior_strength,
            "reference_share": [round(float(x), 8) for x in reference],
            "reference_strength": best.reference_strength,
            "rare_strength": best.rare_strength,
            "reference_floor": best.reference_floor,
            "no_chord_bias": best.no_chord_bias,
            "tone_weight": best.tone_weight,
            "tone_reference": best.tone_reference,
            "bass_weight": best.bass_weight,
            "vector_weight": best.vector_weight,
            "bass_root_min_prob": best.bass_root_min_prob,
            "quality_bias": None if best.quality_bias is None else list(best.quality_bias),
            "selection": {
                "data": [str(d) for d in args.data],
                "songs": len(songs),
                "reference": f"Billboard annotations, {hours:.1f} h, duration-weighted",
                "criterion": "mean of frame majmin, majmin_inv, sevenths and accuracy minus "
                f"2 x the share of time over max({SHARE_FACTOR} x reference share, "
                f"{MIN_SHARE:.1%})"
                + (
                    f" minus 4 x the {', '.join(GUARDED)} lost beyond {GUARD_SLACK:.1%} per "
                    f"source and on four-tone-rich songs against {args.guard}"
                    if floors
                    else ""
                )
                + (
                    "; the over-call penalty left out of the search, then the prior of each "
                    "quality called over its cap lowered until none is (quality_bias)"
                    if args.hold_back
                    else ""
                )
                + (
                    ", then each rare quality's"
                    + (" and N's" if args.real_no_chord else "")
                    + " until none is over its cap on the "
                    + ("frames with harmonic content of the " if args.real_no_chord else "")
                    + f"unlabelled real recordings of {args.real}"
                    if args.hold_back and args.real is not None
                    else ""
                ),
                "scores": {
                    k: round(float(scores[k]), 4)
                    for k in (
                        "majmin",
                        "majmin_inv",
                        "sevenths",
                        "tetrads",
                        "accuracy",
                        "acc_class",
                        "inv_root",
                    )
                },
            },
        }
    )
    config["decoder"] = section
    text = json.dumps(config, indent=2) + "\n"
    replace_atomically(
        config_path, lambda tmp: tmp.write_text(text, encoding="utf-8"), suffix=".json"
    )
    print(f"wrote the decoder section of {config_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
