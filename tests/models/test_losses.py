"""Losses against values computed by hand (see the comments for the arithmetic)."""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.tf

losses = pytest.importorskip("models.losses")

# Two classes, logits (0, ln 3): softmax p = (0.25, 0.75).
LOGITS_2 = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]], dtype=np.float32)
FOCAL_LABEL1 = -(0.25**2) * math.log(0.75)  # 0.0179801
FOCAL_LABEL0 = -(0.75**2) * math.log(0.25)  # 0.7797906


@pytest.mark.parametrize(
    ("labels", "weights", "gamma", "expected"),
    [
        ([1, 0], None, 2.0, (FOCAL_LABEL1 + FOCAL_LABEL0) / 2),
        ([1, 0], [1.0, 0.0], 2.0, FOCAL_LABEL1),
        ([1, -1], None, 2.0, FOCAL_LABEL1),  # -1 = masked target
        ([1, 0], None, 0.0, -(math.log(0.75) + math.log(0.25)) / 2),  # gamma 0: cross-entropy
        ([-1, -1], None, 2.0, 0.0),  # nothing to learn from
    ],
)
def test_focal_loss_by_hand(labels, weights, gamma, expected):
    value = losses.focal_loss(
        LOGITS_2, np.array(labels, dtype=np.int32), weights=weights, gamma=gamma
    )
    assert float(value) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_focal_loss_label_smoothing_by_hand():
    # target (0.05, 0.95) with smoothing 0.1 over 2 classes
    value = losses.focal_loss(
        LOGITS_2[:1], np.array([1], dtype=np.int32), gamma=0.0, label_smoothing=0.1
    )
    expected = -(0.05 * math.log(0.25) + 0.95 * math.log(0.75))
    assert float(value) == pytest.approx(expected, rel=1e-5)


def _c_major_target():
    target = np.zeros(25, dtype=np.float32)
    target[[0, 4, 7]] = 1.0
    target[12 + 0] = 1.0  # bass C
    return target


# Zero logits: tones p = 0.5 each, bass softmax 1/13 each. Against C:maj (3 tones + bass C):
# TP = 3 * 0.5 + 1/13, FP = 9 * 0.5 + 12/13, FN = 3 * 0.5 + 12/13.
TP, FP, FN = 1.5 + 1 / 13, 4.5 + 12 / 13, 1.5 + 12 / 13


def test_tversky_by_hand():
    logits = np.zeros((1, 25), dtype=np.float32)
    target = _c_major_target()[None]
    ti = (TP + 1) / (TP + 0.5 * FP + 0.5 * FN + 1)  # 0.3964497
    assert float(losses.tversky_loss(logits, target)) == pytest.approx(1 - ti, rel=1e-5)
    ti_ab = (TP + 1) / (TP + 0.3 * FP + 0.7 * FN + 1)  # 0.4367666
    value = losses.tversky_loss(logits, target, alpha=0.3, beta=0.7)
    assert float(value) == pytest.approx(1 - ti_ab, rel=1e-5)


def test_focal_tversky_by_hand():
    logits = np.zeros((1, 25), dtype=np.float32)
    target = _c_major_target()[None]
    ti = (TP + 1) / (TP + 0.5 * FP + 0.5 * FN + 1)
    value = losses.focal_tversky_loss(logits, target, gamma=0.75)
    assert float(value) == pytest.approx((1 - ti) ** 0.75, rel=1e-5)  # 0.6847548


def test_tversky_masks_frames_and_rewards_the_right_answer():
    target = _c_major_target()
    good = np.where(target > 0, 12.0, -12.0).astype(np.float32)
    bad = -good
    logits = np.stack([good, bad])
    targets = np.stack([target, target])
    both = float(losses.tversky_loss(logits, targets))
    only_good = float(losses.tversky_loss(logits, targets, weights=[1.0, 0.0]))
    assert only_good < 1e-3 < both
    assert float(losses.tversky_loss(logits, targets, weights=[0.0, 0.0])) == 0.0


@pytest.mark.parametrize("gamma", [0.5, 0.75, 1.0, 2.0])
def test_gradients_stay_finite_for_saturated_right_answers(gamma):
    # Logits of +-40 saturate float32 sigmoids and softmaxes, so TI == 1 and p_t == 1
    # exactly; a (1 - x) ** gamma with gamma < 1 has an infinite derivative there, which
    # once turned a whole training run's weights into NaN. The second frame is masked.
    tf = pytest.importorskip("tensorflow")
    target = _c_major_target()
    saturated = tf.Variable(np.stack([np.where(target > 0, 40.0, -40.0)] * 2).astype(np.float32))
    classes = tf.Variable(np.array([[40.0, -40.0, -40.0]] * 2, dtype=np.float32))
    with tf.GradientTape(persistent=True) as tape:
        ft = losses.focal_tversky_loss(
            saturated, np.stack([target, target]), weights=[1.0, 0.0], gamma=gamma
        )
        fl = losses.focal_loss(classes, np.array([0, 0], dtype=np.int32), gamma=gamma)
    for value, var in ((ft, saturated), (fl, classes)):
        grad = tape.gradient(value, var).numpy()
        assert np.isfinite(grad).all()
        assert 0.0 <= float(value) <= 1.01 * losses.FOCAL_FLOOR**gamma


def test_confident_targets_teach_only_where_a_view_is_sure_and_never_flatten_it():
    import tensorflow as tf

    # frame 0: view a sure of class 0 (0.9), view b hedges; frame 1: both unsure; frame 2: padding
    a = np.array([[[0.9, 0.05, 0.05], [0.4, 0.3, 0.3], [0.9, 0.05, 0.05]]], dtype=np.float32)
    b = np.array([[[0.5, 0.25, 0.25], [0.3, 0.4, 0.3], [0.05, 0.9, 0.05]]], dtype=np.float32)
    weights = np.array([[1.0, 1.0, 0.0]], dtype=np.float32)
    value = float(losses.confident_target_loss(a, b, weights, 0.8))
    # only frame 0 teaches, one way (a's class 0 for b): -ln 0.5, halved, over 2 in-song frames
    assert value == pytest.approx(0.5 * -math.log(0.5) / 2, rel=1e-5)
    assert float(losses.confident_target_loss(a, b, weights, 0.95)) == 0.0
    # two flat views: the squared difference is 0 and so is this loss, but a sure view against
    # a flat one pulls the flat one towards its class, never the sure one towards flat
    pa, pb = tf.Variable(a), tf.Variable(b)
    with tf.GradientTape() as tape:
        loss = losses.confident_target_loss(pa, pb, weights, 0.8)
    grad_a, grad_b = tape.gradient(loss, [pa, pb])
    assert grad_a is None or not np.any(grad_a.numpy())
    assert grad_b.numpy()[0, 0, 0] < 0  # raising b's class-0 probability lowers the loss
    assert not np.any(grad_b.numpy()[0, 1:])


def test_an_ignored_class_sets_no_confident_target_but_can_still_be_taught_against():
    # frame 0: view a sure of class 2 (ignored), b hedges; frame 1: b sure of class 0, a says 2
    a = np.array([[[0.05, 0.05, 0.9], [0.1, 0.1, 0.8]]], dtype=np.float32)
    b = np.array([[[0.3, 0.3, 0.4], [0.9, 0.05, 0.05]]], dtype=np.float32)
    weights = np.ones((1, 2), dtype=np.float32)
    plain = float(losses.confident_target_loss(a, b, weights, 0.75))
    ignored = float(losses.confident_target_loss(a, b, weights, 0.75, ignore_class=2))
    # without ignoring: a teaches b class 2 on both frames, b teaches a class 0 on frame 1
    expected_plain = 0.5 * (-math.log(0.4) - math.log(0.05) - math.log(0.1)) / 2
    assert plain == pytest.approx(expected_plain, rel=1e-5)
    # ignoring class 2: only b's confident class 0 on frame 1 remains, pulling a away from 2
    assert ignored == pytest.approx(0.5 * -math.log(0.1) / 2, rel=1e-5)
