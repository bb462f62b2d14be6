"""Training: a tiny model overfits a tiny set, resume continues exactly, bad data is skipped."""

import dataclasses
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from _chordnet_synth import write_dataset

pytestmark = pytest.mark.tf

pytest.importorskip("keras")

from models.augment import NO_AUGMENT, pitch_shift_features  # noqa: E402
from models.backend import load_backend  # noqa: E402
from models.chordnet import WEIGHTS_FILE, ChordNetConfig  # noqa: E402
from models.dataset import find_songs, load_song  # noqa: E402
from models.inference import HEADS, mapped_back  # noqa: E402
from models.train import (  # noqa: E402
    CHECKPOINT_FILE,
    HISTORY_FILE,
    RunConfig,
    TrainConfig,
    TrainError,
    _consistency,
    _learning_rate,
    _load_checkpoint,
    _no_chord_excess,
    _pair_batch,
    _training_set,
    _unlabelled_chord_loss,
    epoch_generator,
    epoch_order,
    load_run_config,
    train,
)
from theory.transpose import transpose_class  # noqa: E402

TINY = ChordNetConfig(
    stem_filters=8,
    blocks=((8, 1), (8, 2)),
    norm_groups=4,
    dense_units=32,
    rnn_units=16,
    chunk_frames=32,
    smooth_units=16,
    dropout=0.0,
    stochastic_depth=0.0,
)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("synth"), n_songs=3, n_chords=12, seed=0)


def _config(epochs, **train):
    settings = dict(
        epochs=epochs,
        batch_size=4,
        example_frames=96,
        learning_rate=3e-3,
        validation_fraction=0.0,
        patience=0,
    )
    settings.update(train)
    return RunConfig(train=TrainConfig(**settings), chordnet=TINY, augment=NO_AUGMENT)


@pytest.mark.slow
def test_tiny_model_overfits_tiny_set(synth, tmp_path):
    result = train(synth, out_dir=tmp_path / "run", config=_config(6), cache_dir=tmp_path / "c")
    assert result.epochs_run == 6 and not result.problems
    backend = load_backend(tmp_path / "run")
    files, _ = find_songs(synth)
    hits = total = 0
    for f in files:
        song = load_song(f, cache_dir=tmp_path / "c")
        predicted = backend.predict(song.features.astype(np.float32)).chord.argmax(axis=1)
        valid = song.targets.chord >= 0
        hits += int((predicted[valid] == song.targets.chord[valid]).sum())
        total += int(valid.sum())
    assert hits / total >= 0.9, f"frame accuracy {hits / total:.3f}"


@pytest.mark.slow
def test_resume_continues_from_the_checkpoint(synth, tmp_path):
    """A run killed after epoch 1 and resumed ends where an uninterrupted run ends."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    events = []

    def snapshot(event):
        events.append(event)
        if event.kind == "epoch" and event.epoch == 1:
            shutil.copytree(straight, killed)  # the state a kill -9 during epoch 2 leaves

    config = _config(2, example_frames=48, schedule="cosine", warmup_steps=1)
    train(synth, out_dir=straight, config=config, cache_dir=tmp_path / "c", on_event=snapshot)
    assert [e.epoch for e in events if e.kind == "epoch"] == [1, 2]
    assert not list(straight.glob(".tmp-*"))
    assert json.loads((killed / HISTORY_FILE).read_text())[0]["epoch"] == 1

    resumed_events = []
    result = train(
        synth,
        out_dir=killed,
        config=None,  # settings come from the checkpoint
        cache_dir=tmp_path / "c",
        resume=True,
        on_event=resumed_events.append,
    )
    start = next(e for e in resumed_events if e.kind == "start")
    assert start.info["first_epoch"] == 2
    assert [e.epoch for e in resumed_events if e.kind == "epoch"] == [2]
    assert result.epochs_run == 2 and len(result.history) == 2
    with np.load(straight / CHECKPOINT_FILE) as a, np.load(killed / CHECKPOINT_FILE) as b:
        weights = [n for n in a.files if n.startswith(("model_", "optimizer_"))]
        assert weights and sorted(weights) == sorted(n for n in b.files if n != "state")
        for name in weights:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-5, err_msg=name)
    # the run folder is a loadable model
    assert (killed / WEIGHTS_FILE).is_file() and load_run_config(killed / "config.json")

    # a finished run resumes without training, and a non-empty folder needs --resume
    again = train(synth, out_dir=killed, cache_dir=tmp_path / "c", resume=True)
    assert again.epochs_run == 2
    with pytest.raises(TrainError, match="not empty"):
        train(synth, out_dir=killed, config=config, cache_dir=tmp_path / "c")
    (killed / CHECKPOINT_FILE).write_bytes(b"damaged")
    with pytest.raises(TrainError, match="damaged"):
        train(synth, out_dir=killed, cache_dir=tmp_path / "c", resume=True)


@pytest.mark.slow
def test_init_starts_from_a_trained_model_with_balanced_draws_and_weights(synth, tmp_path):
    base = tmp_path / "base"
    train(synth, out_dir=base, config=_config(1), cache_dir=tmp_path / "c")
    # learning rate 0: the tuned run keeps exactly the weights it started from
    config = _config(
        1, learning_rate=0.0, weight_decay=0.0, balance=1.0, quality_weight=0.5, init=str(base)
    )
    events = []
    train(
        synth,
        out_dir=tmp_path / "tuned",
        config=config,
        cache_dir=tmp_path / "c",
        on_event=events.append,
    )
    a, b = load_backend(base), load_backend(tmp_path / "tuned")
    for x, y in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    stored = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert stored["train"]["init"] == str(base) and stored["train"]["balance"] == 1.0
    assert stored["train"]["quality_weight"] == 0.5
    assert any(e.kind == "epoch" for e in events)

    other = RunConfig(
        train=TrainConfig(epochs=1, batch_size=4, example_frames=48, init=str(base)),
        chordnet=dataclasses.replace(TINY, dense_units=24),
        augment=NO_AUGMENT,
    )
    with pytest.raises(TrainError, match="network differs"):
        train(synth, out_dir=tmp_path / "other", config=other, cache_dir=tmp_path / "c")
    missing = _config(1, init=str(tmp_path / "nowhere"))
    with pytest.raises(TrainError, match="cannot start from"):
        train(synth, out_dir=tmp_path / "missing", config=missing, cache_dir=tmp_path / "c")
    with pytest.raises(ValueError, match="balance"):
        TrainConfig(balance=-0.5)
    with pytest.raises(ValueError, match="quality_weight"):
        TrainConfig(quality_weight=-1.0)
    with pytest.raises(ValueError, match="unlabelled_share"):
        TrainConfig(unlabelled_share=1.5)
    with pytest.raises(ValueError, match="unlabelled_no_chord"):
        TrainConfig(unlabelled_no_chord=-0.1)
    with pytest.raises(ValueError, match="unlabelled_chord_weight"):
        TrainConfig(unlabelled_chord_weight=-1.0)


@pytest.mark.slow
def test_non_finite_steps_are_skipped_and_a_diverged_epoch_keeps_the_last_checkpoint(
    synth, tmp_path, monkeypatch
):
    import tensorflow as tf

    import models.losses

    poison = tf.Variable(1.0)  # multiplies the chroma loss: 1 leaves it alone, NaN poisons it
    real = models.losses.tversky_loss
    monkeypatch.setattr(models.losses, "tversky_loss", lambda *a, **k: real(*a, **k) * poison)
    run, starts = tmp_path / "run", []

    def control(event):
        if event.kind == "start":
            starts.append(event.info["steps_per_epoch"])
        if event.kind == "step" and event.epoch == 2:
            poison.assign(math.nan if event.step == 1 else 1.0)  # the second step only
        if event.kind == "epoch" and event.epoch == 2:
            poison.assign(math.nan)  # all of epoch 3
            snapshot["weights"] = (run / WEIGHTS_FILE).read_bytes()
            snapshot["checkpoint"] = (run / CHECKPOINT_FILE).read_bytes()

    snapshot = {}
    config = _config(3, example_frames=48)
    with pytest.raises(TrainError, match=r"diverged in epoch 3 \(\d+ of \d+ steps not finite\)"):
        train(synth, out_dir=run, config=config, cache_dir=tmp_path / "c", on_event=control)
    assert starts[0] >= 3
    history = json.loads((run / HISTORY_FILE).read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert "skipped_steps" not in history[0] and history[1]["skipped_steps"] == 1
    assert all(math.isfinite(history[1][k]) for k in ("loss", "chord", "chroma"))
    # the diverged epoch wrote nothing: weights and checkpoint are epoch 2's, and finite
    assert (run / WEIGHTS_FILE).read_bytes() == snapshot["weights"]
    assert (run / CHECKPOINT_FILE).read_bytes() == snapshot["checkpoint"]
    with np.load(run / CHECKPOINT_FILE) as saved:
        assert all(np.isfinite(saved[n]).all() for n in saved.files if n != "state")


def test_draw_seed_gives_a_stage_new_draws_and_keeps_them_reproducible():
    def order(config, epoch, draw=None):
        return epoch_order(epoch_generator(config, epoch), 50, 120, draw)

    same = order(TrainConfig(seed=1), 3)
    np.testing.assert_array_equal(same, order(TrainConfig(seed=1, draw_seed=1), 3))
    np.testing.assert_array_equal(same, order(TrainConfig(seed=1), 3))  # resume: same draws
    assert not np.array_equal(same, order(TrainConfig(seed=1, draw_seed=2), 3))
    assert not np.array_equal(same, order(TrainConfig(seed=1), 4))
    # without sampling weights: shuffled whole passes; with them: only drawable examples
    for start in (0, 50):
        assert sorted(same[start : start + 50]) == list(range(50))
    draw = np.zeros(50)
    draw[[3, 7]] = 0.5
    assert set(order(TrainConfig(seed=1, draw_seed=5), 1, draw)) == {3, 7}
    stored = RunConfig.from_dict({"train": {"seed": 1, "draw_seed": 9}}).train
    assert (stored.seed, stored.draw_seed) == (1, 9)
    assert RunConfig.from_dict({"train": {"seed": 1}}).train.draw_seed is None


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    tc = TrainConfig(
        epochs=4,
        learning_rate=2e-3,
        schedule="cosine",
        warmup_steps=10,
        min_learning_rate_fraction=0.1,
    )
    lr = _learning_rate(tc, steps_per_epoch=25)  # 100 steps in all
    values = [float(lr(step)) for step in range(0, 121)]
    assert values[0] == 0.0 and values[10] == pytest.approx(2e-3)
    assert all(a <= b for a, b in zip(values[:10], values[1:11], strict=True))
    assert all(a >= b for a, b in zip(values[10:100], values[11:101], strict=True))
    assert values[100] == pytest.approx(2e-4) and values[120] == pytest.approx(2e-4)
    assert _learning_rate(TrainConfig(learning_rate=5e-4), steps_per_epoch=7) == 5e-4
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear")


@pytest.mark.slow
def test_cli_trains_and_reports_bad_files(synth, tmp_path):
    from typer.testing import CliRunner

    from chordcli.cli import app

    data = tmp_path / "data"
    shutil.copytree(synth, data)
    (data / "broken.wav").write_bytes(b"not audio")
    (data / "broken.lab").write_text("0\t1\tC:maj\n")
    (data / "nolabels.flac").write_bytes((data / "song00.flac").read_bytes())
    (data / "late.flac").write_bytes((data / "song01.flac").read_bytes())
    (data / "late.lab").write_text("0\t500\tC:maj\n")
    config = tmp_path / "tiny.json"
    settings = _config(1, validation_fraction=0.3, example_frames=48).to_dict()
    config.write_text(json.dumps({k: settings[k] for k in ("chordnet", "train")}))
    run = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["train", str(data), "--out", str(run), "--config", str(config), "--seed", "3"]
        + ["--cache", str(tmp_path / "c"), "--jobs", "2"],
    )
    assert result.exit_code == 1, result.output  # files were skipped, the run went on
    assert result.stdout == ""
    for name in ("broken.wav", "nolabels.lab", "late.lab"):
        assert name in result.stderr
    assert "3 files skipped" in result.stderr and "epoch 1:" in result.stderr
    assert "epoch 1 step " in result.stderr  # progress lines when stderr is a log file
    assert "validation loss" in result.stderr
    stored = json.loads((run / "config.json").read_text())
    assert stored["train"]["seed"] == 3 and stored["chordnet"]["dense_units"] == 32
    assert stored["songs"] == {"train": 2, "validation": 1}
    assert stored["git_commit"] is None or len(stored["git_commit"]) >= 40


def _tune_decoder():
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import tune_decoder
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return tune_decoder


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--real", "r"], "--real needs --hold-back"),
        (["--hold-back", "--real-no-chord"], "--real-no-chord needs --real"),
    ],
)
def test_tune_decoder_refuses_real_music_options_it_would_ignore(tmp_path, capsys, extra, message):
    tune_decoder = _tune_decoder()
    with pytest.raises(SystemExit) as exit_info:
        tune_decoder.main([str(tmp_path), "--data", str(tmp_path), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_tune_decoder_writes_a_decoder_section_the_backend_loads(synth, tmp_path, capsys):
    from theory.calibrate import calibrated_log_prior

    tune_decoder = _tune_decoder()
    run, cache = tmp_path / "run", tmp_path / "c"
    train(synth, out_dir=run, config=_config(1, validation_fraction=0.34), cache_dir=cache)
    args = [str(run), "--data", str(synth), "--cache", str(cache), "--train-data", str(synth),
            "--billboard", str(synth), "--passes", "1"]  # fmt: skip
    assert tune_decoder.main(args) == 0
    assert "decoder" not in json.loads((run / "config.json").read_text())  # no --write
    assert (
        tune_decoder.main([*args, "--write", "--hold-back", "--guard", str(run / "config.json")])
        == 0
    )
    section = json.loads((run / "config.json").read_text())["decoder"]
    assert len(section["quality_bias"]) == 45 and max(section["quality_bias"]) <= 0.0
    assert len(section["quality_share"]) == 45 and len(section["reference_share"]) == 45
    assert sum(section["quality_share"]) == pytest.approx(1.0, abs=1e-3)  # unseen ones: 1e-6
    assert sum(section["reference_share"]) == pytest.approx(1.0)
    assert section["selection"]["songs"] == 3
    assert set(section["selection"]["scores"]) >= {"majmin", "sevenths", "acc_class"}
    for name, grid in tune_decoder.GRIDS.items():
        assert section[name] in grid
    decoder = load_backend(run).decoder
    assert decoder.bass_weight == section["bass_weight"]
    assert decoder.tone_weight == section["tone_weight"]
    assert decoder.bass_root_min_prob == section["bass_root_min_prob"]
    expected = calibrated_log_prior(
        np.array(section["quality_share"]),
        train_strength=section["prior_strength"],
        reference_share=np.array(section["reference_share"]),
        reference_strength=section["reference_strength"],
        no_chord_bias=section["no_chord_bias"],
        floor=section["reference_floor"],
        quality_bias=np.array(section["quality_bias"]),
    )
    np.testing.assert_allclose(decoder.class_log_prior, expected)
    assert "chosen: Calibration(" in capsys.readouterr().out


def _unlabelled_song(tune_decoder, leanings: list[tuple[slice, str, float]], *, tonal=None):
    """Network outputs of 400 unlabelled frames: C:maj at 0.5, raised to p over some slices."""
    from theory.vocabulary import N_CLASS, N_CLASSES, class_label

    label_class = {class_label(c): c for c in range(N_CLASS)} | {"N": N_CLASS}
    frames = 400
    chord = np.full((frames, N_CLASSES), 1e-4, dtype=np.float32)
    chord[:, label_class["C:maj"]] = 0.5
    for where, label, p in leanings:
        chord[where, label_class[label]] = p
    chord /= chord.sum(axis=1, keepdims=True)
    return tune_decoder.SongOutput(
        name="x", source="real", chord=chord,
        smooth_chroma=np.full((frames, 25), 0.04, np.float32),
        change=np.full(frames, 0.01, np.float32), bass=np.full((frames, 13), 1 / 13, np.float32),
        key=np.full((frames, 25), 1 / 25, np.float32), ref_chord=np.full(frames, -1),
        ref_bass=np.full(frames, -1), tonal=tonal,
    )  # fmt: skip


def test_with_the_gate_a_song_is_scored_as_the_pipeline_writes_it():
    import dataclasses

    from theory.vocabulary import N_CLASS

    tune_decoder = _tune_decoder()
    c_maj = 0  # C:maj, root C
    ref = np.full(400, c_maj)
    ref[:100] = N_CLASS  # silence before the song
    bass = np.where(ref == N_CLASS, 12, 0)
    song = dataclasses.replace(_unlabelled_song(tune_decoder, []), ref_chord=ref, ref_bass=bass)
    path = (np.full(400, c_maj), np.zeros(400, dtype=int))  # the decoder hears C throughout
    plain = tune_decoder.score_paths([song], [path])
    assert plain["majmin"] == pytest.approx(0.75) and plain["majmin_inv"] == pytest.approx(0.75)
    tonal = np.ones(400, dtype=bool)
    tonal[:100] = False  # the gate finds the silence
    gated = tune_decoder.score_paths([dataclasses.replace(song, tonal=tonal)], [path])
    assert gated["majmin"] == 1.0 and gated["majmin_inv"] == 1.0
    assert gated["share"][-1] == pytest.approx(0.25)  # N called a quarter of the time


def _reference(names, **shares) -> np.ndarray:
    reference = np.full(len(names), 1e-3)
    for name, share in shares.items():
        reference[names.index(name)] = share
    return reference / reference.sum()


def test_the_real_music_hold_back_lowers_only_rare_qualities_called_over_their_cap():
    tune_decoder = _tune_decoder()
    names = tune_decoder.NAMES
    # half the time the network leans to a power chord, a quarter to minor (common in real songs)
    song = _unlabelled_song(tune_decoder, [(slice(0, 200), "C:5", 0.6),
                                           (slice(200, 300), "C:min", 0.7)])  # fmt: skip
    reference = _reference(names, maj=0.6, m=0.1, N=0.05, **{"5": 0.01})
    train_share = np.full(len(names), 1.0 / len(names))
    start = tune_decoder.Calibration(prior_strength=0.0, reference_strength=0.0)
    before = tune_decoder.call_shares([song], start.settings(train_share, reference))
    assert before[names.index("5")] == pytest.approx(0.5, abs=0.02)
    cal = tune_decoder.hold_back_real([song], train_share, reference, start, lambda m: None)
    after = tune_decoder.call_shares([song], cal.settings(train_share, reference))
    cap = max(tune_decoder.SHARE_FACTOR * reference[names.index("5")], tune_decoder.MIN_SHARE)
    assert after[names.index("5")] <= cap
    bias = np.array(cal.quality_bias)
    assert bias[names.index("5")] < 0
    assert np.count_nonzero(bias) == 1  # min, over its cap too, is not rare: left alone


def test_the_real_music_hold_back_caps_no_chord_where_the_gate_hears_harmony():
    tune_decoder = _tune_decoder()
    names = tune_decoder.NAMES
    n = names.index("N")
    tonal = np.ones(400, dtype=bool)
    tonal[:100] = False  # the gate writes N here whatever the decoder says
    song = _unlabelled_song(
        tune_decoder, [(slice(0, 100), "N", 0.9), (slice(100, 200), "N", 0.6)], tonal=tonal
    )
    reference = _reference(names, maj=0.6, m=0.1, N=0.05)
    train_share = np.full(len(names), 1.0 / len(names))
    start = tune_decoder.Calibration(prior_strength=0.0, reference_strength=0.0)
    settings = start.settings(train_share, reference)
    shares = tune_decoder.call_shares([song], settings, tonal_only=True)
    assert shares[n] == pytest.approx(1 / 3, abs=0.02)
    # the gated frames are not counted: over all frames, or with no gate, N has half the time
    assert tune_decoder.call_shares([song], settings)[n] == pytest.approx(0.5, abs=0.02)
    ungated = dataclasses.replace(song, tonal=None)
    shares = tune_decoder.call_shares([ungated], settings, tonal_only=True)
    assert shares[n] == pytest.approx(0.5, abs=0.02)
    # without cap_no_chord N is left alone
    kept = tune_decoder.hold_back_real([song], train_share, reference, start, lambda m: None)
    assert kept.quality_bias is None or not np.any(kept.quality_bias)
    cal = tune_decoder.hold_back_real(
        [song], train_share, reference, start, lambda m: None, cap_no_chord=True
    )
    after = tune_decoder.call_shares([song], cal.settings(train_share, reference), tonal_only=True)
    assert after[n] <= tune_decoder.SHARE_FACTOR * reference[n]
    bias = np.array(cal.quality_bias)
    assert bias[n] < 0
    assert np.count_nonzero(bias) == 1


@pytest.mark.slow
def test_kill_9_during_cli_training_loses_at_most_one_epoch(synth, tmp_path):
    """SIGKILL a real 'chordcli train' after its first checkpoint: --resume loses at most one epoch.

    The resumed run starts at the epoch after the last checkpoint and completes.
    """
    import os
    import signal
    import subprocess
    import sys
    import time

    repo = Path(__file__).resolve().parents[2]
    config = tmp_path / "tiny.json"
    settings = _config(4, example_frames=48).to_dict()
    config.write_text(json.dumps({k: settings[k] for k in ("chordnet", "train")}))
    run = tmp_path / "run"
    command = [sys.executable, "-m", "chordcli", "train", str(synth), "--out", str(run)]
    cache = ["--cache", str(tmp_path / "c")]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    process = subprocess.Popen(
        [*command, "--config", str(config), *cache],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = run / CHECKPOINT_FILE
    deadline = time.monotonic() + 600
    try:
        while not checkpoint.is_file() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpoint.is_file(), "no checkpoint was written"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    done = _load_checkpoint(checkpoint)[2]["epoch"]  # epochs finished when it was killed
    assert 1 <= done < 4

    resumed = subprocess.run(
        [*command, "--resume", *cache], env=env, capture_output=True, text=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    first = int(re.search(r"epochs (\d+)\.\.4", resumed.stderr).group(1))
    assert first == done + 1  # only the epoch in progress was lost
    history = json.loads((run / HISTORY_FILE).read_text())
    assert [entry["epoch"] for entry in history] == [1, 2, 3, 4]
    assert (run / WEIGHTS_FILE).is_file() and load_run_config(run / "config.json")


@pytest.mark.slow
def test_init_from_a_shipped_model_takes_its_keras_weights_beside_its_onnx_file():
    from conftest import REPO

    from models.chordnet import build_chordnet
    from models.train import _start_from

    shipped = REPO / "models" / "weights" / "chordnet-v1"
    assert (shipped / "model.onnx").is_file()  # what load_backend would run by default
    config = load_run_config(shipped / "config.json")
    model = build_chordnet(config.chordnet, seed=3)
    _start_from(model, "chordnet-v1", config)
    source = load_backend(shipped, runtime="keras").model
    for x, y in zip(model.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_consistency_is_zero_for_a_partner_that_hears_the_shift_and_not_otherwise():
    rng = np.random.default_rng(3)
    n, frames = 3, 5
    first = {h: rng.normal(size=(n, frames, size)).astype(np.float32) for h, size in HEADS.items()}
    shifts = np.array([2, -1, 3], dtype=np.int32)
    # the partner that hears its audio d semitones higher: mapped back by d, it is the first
    partner = {h: np.empty_like(v) for h, v in first.items()}
    for i, d in enumerate(shifts):
        for h, v in mapped_back({h: first[h][i] for h in HEADS}, -int(d)).items():
            partner[h][i] = v
    mask = np.ones((2 * n, frames), dtype=np.float32)

    def loss(shift_values):
        logits = {h: np.concatenate([first[h], partner[h]]) for h in HEADS}
        return float(_consistency(logits, np.asarray(shift_values, np.int32), mask, 3))

    assert loss(shifts) == pytest.approx(0.0, abs=1e-6)
    assert loss(-shifts) > 0.01 and loss(shifts - np.sign(shifts)) > 0.01

    # with a threshold the chord head's term is a cross-entropy: a partner that hears the shift
    # still scores lower than one that does not, and a threshold above every frame's top class
    # leaves only the other heads' squared differences
    def thresholded(shift_values, threshold):
        logits = {h: np.concatenate([first[h], partner[h]]) for h in HEADS}
        shift_values = np.asarray(shift_values, np.int32)
        return float(_consistency(logits, shift_values, mask, 3, threshold))

    assert thresholded(shifts, 0.01) < thresholded(-shifts, 0.01)
    assert thresholded(shifts, 0.999) == pytest.approx(0.0, abs=1e-6)


def test_the_no_chord_cap_counts_only_unlabelled_in_song_frames():
    from theory.vocabulary import N_CLASS, N_CLASSES

    logits = np.zeros((1, 4, N_CLASSES), dtype=np.float32)
    logits[0, :, N_CLASS] = 20.0  # every frame is sure of N
    logits[0, 1] = 0.0
    logits[0, 1, 7] = 20.0  # frame 1 is sure of a chord
    mask = np.array([[1, 1, 1, 0]], dtype=np.float32)  # frame 3 is padding
    chord = np.array([[-1, -1, 5, -1]], dtype=np.int32)  # frame 2 is labelled

    def excess(cap, chord=chord):
        return float(_no_chord_excess(logits, {"mask": mask, "chord": chord}, cap))

    # the unlabelled in-song frames are 0 (N) and 1 (a chord): mean P(N) 0.5
    assert excess(0.2) == pytest.approx(0.3, abs=1e-4)
    assert excess(0.6) == 0.0
    assert excess(0.0, chord=np.full((1, 4), 5, np.int32)) == 0.0  # nothing unlabelled


def test_the_some_chord_loss_is_minus_log_one_minus_p_n_over_unlabelled_in_song_frames():
    from theory.vocabulary import N_CLASS, N_CLASSES

    logits = np.zeros((1, 5, N_CLASSES), dtype=np.float32)  # frame 0: every class alike
    logits[0, 1, N_CLASS] = 200.0  # frame 1 is sure of N: large but finite
    logits[0, 2, 7] = 20.0  # frame 2 is sure of a chord
    logits[0, 3:, N_CLASS] = 200.0  # frame 3 labelled, frame 4 padding: neither counts
    mask = np.array([[1, 1, 1, 1, 0]], dtype=np.float32)
    chord = np.array([[-1, -1, -1, N_CLASS, -1]], dtype=np.int32)

    def loss(chord=chord, mask=mask):
        return float(_unlabelled_chord_loss(logits, {"mask": mask, "chord": chord}))

    flat = -np.log(1.0 - 1.0 / N_CLASSES)
    sure_n = 200.0 - np.log(N_CLASS)  # -log(N_CLASS * e^0 / e^200), to float32 precision
    assert np.isfinite(loss())
    assert loss() == pytest.approx((flat + sure_n + 0.0) / 3, rel=1e-4)
    only_first = np.array([[1, 0, 0, 0, 0]], dtype=np.float32)
    assert loss(mask=only_first) == pytest.approx(flat, rel=1e-4)
    assert loss(chord=np.full((1, 5), 5, np.int32)) == 0.0  # nothing unlabelled


def test_a_pair_batch_holds_each_example_twice_the_partner_shifted_with_its_labels(synth, tmp_path):
    files, _ = find_songs(synth)
    songs = [load_song(f, cache_dir=tmp_path / "c") for f in files]
    config = _config(1, consistency_weight=1.0, consistency_shift=2)
    data = _training_set(songs, config.train)
    drawn = np.array([0, len(data.examples) - 1])
    b = _pair_batch(data, drawn, config, np.random.default_rng(0))
    assert b["features"].shape[0] == 4 and b["pair_shift"].shape == (2,)
    for i, d in enumerate(b["pair_shift"]):
        assert d != 0 and abs(d) <= 2
        np.testing.assert_array_equal(
            b["features"][2 + i], pitch_shift_features(b["features"][i], int(d))
        )
        chords, moved = b["chord"][i], b["chord"][2 + i]
        labelled = chords >= 0
        np.testing.assert_array_equal(moved[labelled], transpose_class(chords[labelled], int(d)))
        np.testing.assert_array_equal(b["mask"][i], b["mask"][2 + i])
    with pytest.raises(ValueError, match="consistency_shift"):
        TrainConfig(consistency_weight=1.0, consistency_shift=7)
    with pytest.raises(ValueError, match="consistency_threshold"):
        TrainConfig(consistency_weight=1.0, consistency_threshold=1.0)


@pytest.mark.slow
def test_training_with_the_consistency_loss_reports_it_and_lowers_it(synth, tmp_path):
    config = _config(3, consistency_weight=5.0, learning_rate=3e-3)
    result = train(synth, out_dir=tmp_path / "run", config=config, cache_dir=tmp_path / "c")
    history = [h["consistency"] for h in result.history]
    assert all(math.isfinite(v) and v >= 0 for v in history)
    assert history[-1] < history[0]


@pytest.mark.slow
def test_training_with_confident_consistency_targets_runs_and_reports_them(synth, tmp_path):
    config = _config(1, consistency_weight=1.0, consistency_threshold=0.05)
    result = train(synth, out_dir=tmp_path / "run", config=config, cache_dir=tmp_path / "c")
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"][
        "consistency_threshold"
    ] == pytest.approx(0.05)
    value = result.history[-1]["consistency"]
    assert math.isfinite(value) and value > 0  # the chord head's targets are hard: never 0
