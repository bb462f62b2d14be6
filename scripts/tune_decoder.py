"""Choose a trained run's decoder quality prior on its validation songs; store it in config.json.

    python scripts/tune_decoder.py RUN_DIR --data .cache/corpus-full/train \\
        [--strengths 0,0.2,0.4,0.6,0.8,1.0] [--bass-weights 0,0.5,1,1.5,2]
        [--vector-weights 0,0.25,0.5]

A network learns the share of each chord quality among its training frames as a prior, so
rare qualities (``sus2``, ``5``, ``mM7(9)``, ...) lose to ``maj`` and ``min`` when the audio is
ambiguous. :func:`theory.decode.quality_log_prior` divides that prior out, by
``share ** strength``. This script

1. rebuilds the run's view of its data (``chordcli train`` settings from RUN_DIR's
   ``config.json``) from the labels alone (:func:`models.dataset.load_songs_labels`): the
   same training/validation split, the same examples and the same quality-balanced sampling
   weights, and from them the share of every quality among the frames training saw
   (:func:`models.dataset.quality_shares`);
2. loads the features of the run's validation songs only (held out of training), runs the
   model on them and decodes them with every prior strength, every weight of the
   root-position term (``bass_weight`` of :func:`theory.decode.decode`) and every weight of
   the smoothed-vector template score (``vector_weight``) of the grid;
3. picks the setting with the best mean of frame accuracy and macro recall (the mean recall
   over qualities with at least ``--min-seconds`` of validation audio), prints the table and
   writes ``decoder = {quality_share, prior_strength, bass_weight, vector_weight, selection}``
   into
   RUN_DIR's ``config.json`` (atomically), which :func:`models.chordnet.load_chordnet_backend`
   reads.

The dev set is not used, so dev figures measured afterwards stay honest.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from models.chordnet import CONFIG_FILE, load_chordnet_backend
from models.dataset import (
    example_starts,
    example_weights,
    find_songs,
    load_songs,
    load_songs_labels,
    quality_shares,
    replace_atomically,
    split_songs,
)
from models.train import load_run_config
from theory import QUALITIES
from theory.decode import DecoderSettings, decode, quality_log_prior
from theory.vocabulary import N_QUALITIES, class_quality_indices

NAMES = tuple(q.name or "maj" for q in QUALITIES) + ("N",)


class Row(NamedTuple):
    """One decoder setting of the grid and its validation figures."""

    strength: float
    bass_weight: float
    vector_weight: float
    accuracy: float
    macro: float
    recall: np.ndarray


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="chordcli train run folder")
    parser.add_argument("--data", type=Path, required=True, help="the run's training data")
    parser.add_argument("--cache", type=Path, default=Path(".cache") / "features")
    parser.add_argument("--strengths", default="0,0.2,0.4,0.6,0.8,1.0")
    parser.add_argument("--bass-weights", default="0,0.5,1,1.5,2")
    parser.add_argument("--vector-weights", default="0,0.25,0.5")
    parser.add_argument("--min-seconds", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    strengths = [float(x) for x in args.strengths.split(",")]
    grid = [
        (s, float(b), float(v))
        for v in args.vector_weights.split(",")
        for s in strengths
        for b in args.bass_weights.split(",")
    ]

    config = load_run_config(args.run / CONFIG_FILE)
    tc = config.train
    files, _ = find_songs(args.data)
    # Labels (and frame counts from the cache's array headers) for the split and the shares;
    # features only for the validation songs.
    songs = load_songs_labels(files, cqt_config=config.cqt, cache_dir=args.cache)
    train_songs, val_labels = split_songs(
        songs, validation_fraction=tc.validation_fraction, seed=tc.seed
    )
    val_names = {s.name for s in val_labels}
    val_songs = load_songs(
        [f for f in files if f.name in val_names],
        cqt_config=config.cqt,
        cache_dir=args.cache,
        jobs=args.jobs,
    )
    if not val_songs:
        sys.exit(f"'{args.run}' has no validation songs to tune on")
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
    share = np.maximum(share, 1e-6)  # a quality never seen must not get an infinite prior
    print(
        f"{len(train_songs)} training songs ({len(examples)} examples, balance {tc.balance}), "
        f"{len(val_songs)} validation songs"
    )

    backend = load_chordnet_backend(args.run)
    outputs = [(backend.predict(s.features.astype(np.float32)), s.targets.chord) for s in val_songs]
    fps = outputs[0][0].frames_per_second
    valid = [ref >= 0 for _, ref in outputs]
    quality = [class_quality_indices(ref[v]) for (_, ref), v in zip(outputs, valid, strict=True)]
    reference = sum(np.bincount(q, minlength=N_QUALITIES + 1) for q in quality)
    counted = reference / fps >= args.min_seconds
    rows = []
    for strength, bass_weight, vector_weight in grid:
        settings = DecoderSettings(
            class_log_prior=quality_log_prior(share, strength),
            bass_weight=bass_weight,
            vector_weight=vector_weight,
        )
        hits = np.zeros(N_QUALITIES + 1)
        for (out, ref), v, q in zip(outputs, valid, quality, strict=True):
            path = decode(
                out.chord,
                smooth_chroma=out.smooth_chroma,
                change=out.change,
                bass=out.bass,
                key=out.key,
                **settings.kwargs(),
            ).path
            hits += np.bincount(q, weights=path[v] == ref[v], minlength=N_QUALITIES + 1)
        recall = hits / np.maximum(reference, 1)
        accuracy = float(hits.sum() / reference.sum())
        macro = float(recall[counted].mean())
        rows.append(Row(strength, bass_weight, vector_weight, accuracy, macro, recall))
        print(
            f"strength {strength:.2f}, bass weight {bass_weight:.2f}, "
            f"vector weight {vector_weight:.2f}: "
            f"accuracy {accuracy:.4f}, macro recall {macro:.4f}",
            flush=True,
        )
    best = max(rows, key=lambda r: (r.accuracy + r.macro) / 2)
    print(
        f"chosen: strength {best.strength:.2f}, bass weight {best.bass_weight:.2f}, "
        f"vector weight {best.vector_weight:.2f} (best mean of accuracy and macro recall)"
    )
    shown = [
        r
        for r in rows
        if (r.bass_weight, r.vector_weight) == (best.bass_weight, best.vector_weight)
    ]
    print(f"recall at bass weight {best.bass_weight:.2f}, vector weight {best.vector_weight:.2f}")
    print("quality        val s  " + " ".join(f"{r.strength:6.2f}" for r in shown))
    for q in np.flatnonzero(counted):
        cells = " ".join(f"{r.recall[q]:6.2f}" for r in shown)
        print(f"{NAMES[q]:12s} {reference[q] / fps:7.0f}  {cells}")

    path = args.run / CONFIG_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["decoder"] = {
        "quality_share": [round(float(x), 8) for x in share],
        "prior_strength": best.strength,
        "bass_weight": best.bass_weight,
        "vector_weight": best.vector_weight,
        "selection": {
            "validation_songs": len(val_songs),
            "validation_hours": round(sum(s.n_frames for s in val_songs) / fps / 3600, 2),
            "criterion": "mean of frame accuracy and macro recall "
            f"(qualities with >= {args.min_seconds:g} s)",
            "grid": [
                {
                    "strength": r.strength,
                    "bass_weight": r.bass_weight,
                    "vector_weight": r.vector_weight,
                    "accuracy": round(r.accuracy, 4),
                    "macro_recall": round(r.macro, 4),
                }
                for r in rows
            ],
        },
    }
    text = json.dumps(data, indent=2) + "\n"
    replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), suffix=".json")
    print(f"wrote the decoder section of {path}")
    return 0 if math.isfinite(best.accuracy) else 1


if __name__ == "__main__":
    sys.exit(main())
