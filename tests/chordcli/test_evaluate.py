"""chordcli.evaluate: hand-checked scores, aggregation, pairing, readers, problems."""

import math
from pathlib import Path

import numpy as np
import pytest

from chordcli.evaluate import (
    ALL_METRICS,
    CHORD_METRICS,
    Annotation,
    EvalError,
    FilePair,
    aggregate_scores,
    align_segments,
    evaluate_audio_folder,
    evaluate_pairs,
    find_labelled_audio,
    pair_paths,
    read_annotation,
    read_key_file,
    report_to_csv,
    report_to_dict,
    score_song,
)
from chordcli.lab import read_lab
from chordcli.segments import ChordSegment, Transcription
from theory import parse_key


def segs(*items):
    return [ChordSegment(float(a), float(b), label) for a, b, label in items]


def write_lab(path: Path, *items) -> Path:
    path.write_text("".join(f"{a}\t{b}\t{label}\n" for a, b, label in items))
    return path


# Hand-made pairs: (reference, estimate, expected scores); metrics not listed are checked
# against the "rest" value. Every figure is worked out by hand from mir_eval's rules.
CASES = {
    # one of two equal halves wrong: every chord metric 0.5; the estimate's single segment
    # covers both reference segments, so underseg = 1 - 2/4 and overseg = 1.
    "half wrong": (
        segs((0, 2, "C:maj"), (2, 4, "A:min")),
        segs((0, 2, "C:maj"), (2, 4, "C:maj")),
        {"rest": 0.5, "overseg": 1.0, "underseg": 0.5, "seg": 0.5},
    ),
    # a seventh read as its triad: right for root/majmin/triads/mirex (3 tones shared),
    # wrong for sevenths and tetrads
    "seventh as triad": (
        segs((0, 4, "C:7")),
        segs((0, 4, "C:maj")),
        {
            "rest": 1.0,
            "sevenths": 0.0,
            "sevenths_inv": 0.0,
            "tetrads": 0.0,
            "tetrads_inv": 0.0,
        },
    ),
    # first inversion read in root position: only the *_inv metrics see the bass
    "inversion": (
        segs((0, 4, "C:maj/3")),
        segs((0, 4, "C:maj")),
        {
            "rest": 1.0,
            "majmin_inv": 0.0,
            "thirds_inv": 0.0,
            "triads_inv": 0.0,
            "sevenths_inv": 0.0,
            "tetrads_inv": 0.0,
        },
    ),
    # N is a chord class: N read as N is right, C read as N is wrong
    "no chord": (
        segs((0, 1, "N"), (1, 4, "C:maj")),
        segs((0, 4, "N")),
        {"rest": 0.25, "overseg": 1.0, "underseg": 0.75, "seg": 0.75},
    ),
    # the estimate ends early: the missing 1 s counts as N (wrong)
    "short estimate": (
        segs((0, 4, "G:min")),
        segs((0, 3, "G:min")),
        {"rest": 0.75, "overseg": 0.75, "underseg": 1.0, "seg": 0.75},
    ),
    # estimate beyond the reference is cropped
    "long estimate": (
        segs((1, 3, "D:maj")),
        segs((0, 10, "D:maj")),
        {"rest": 1.0},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hand_made_pairs(name):
    ref, est, expected = CASES[name]
    song = score_song(ref, est, name=name)
    assert set(song.scores) == set(ALL_METRICS)
    for metric in ALL_METRICS:
        assert song.scores[metric] == pytest.approx(expected.get(metric, expected["rest"])), metric


def test_reference_x_is_not_scored():
    # X in the reference is left out: only the 2 s of C:maj count, and they are right
    song = score_song(segs((0, 2, "X"), (2, 4, "C:maj")), segs((0, 4, "C:maj")))
    for metric in CHORD_METRICS:
        assert song.scores[metric] == 1.0
        assert song.weights_s[metric] == 2.0
    assert song.duration_s == 4.0


def test_metric_outside_its_vocabulary_is_nan():
    # a sus4 chord is outside majmin and sevenths: no comparable time
    song = score_song(segs((0, 4, "C:sus4")), segs((0, 4, "C:maj")))
    assert math.isnan(song.scores["majmin"]) and song.weights_s["majmin"] == 0.0
    assert song.scores["root"] == 1.0
    assert song.scores["triads"] == 0.0


def test_gaps_count_as_no_chord():
    # 1 s of unannotated time between two C chords is N in the reference
    song = score_song(segs((0, 1, "C:maj"), (2, 3, "C:maj")), segs((0, 3, "C:maj")))
    assert song.scores["root"] == pytest.approx(2 / 3)
    alignment = align_segments(segs((0, 1, "C:maj"), (2, 3, "C:maj")), segs((0, 3, "C:maj")))
    assert alignment.ref_labels == ("C:maj", "N", "C:maj")
    np.testing.assert_allclose(alignment.durations_s, [1, 1, 1])


def test_empty_estimate_is_all_no_chord():
    song = score_song(segs((0, 2, "N"), (2, 4, "C:maj")), [])
    assert song.scores["root"] == 0.5


def test_empty_reference_raises():
    with pytest.raises(ValueError, match="no chord segments"):
        score_song([], segs((0, 1, "C:maj")))


def test_agrees_with_mir_eval_evaluate_on_a_real_annotation(shared_data):
    import mir_eval

    lab = shared_data / "billboard" / "billboard-2.0.1-lab" / "0022" / "full.lab"
    ref = read_lab(lab)
    ref_iv = np.array([[s.start_s, s.end_s] for s in ref])
    # the file has float-rounding gaps and overlaps (~1e-13 s); give mir_eval closed ones
    ref_iv[1:, 0] = ref_iv[:-1, 1]
    ref_labels = [s.label for s in ref]
    # a plausible estimate: 0.3 s late, chords reduced to their shorthand (no inversions)
    est = [
        ChordSegment(a + 0.3, b + 0.3, label.split("(")[0].split("/")[0])
        for (a, b), label in zip(ref_iv, ref_labels, strict=True)
    ]
    ours = score_song(ref, est).scores
    est_iv = np.array([[s.start_s, s.end_s] for s in est])
    theirs = mir_eval.chord.evaluate(ref_iv, ref_labels, est_iv, [s.label for s in est])
    for metric in ALL_METRICS:
        assert ours[metric] == pytest.approx(theirs[metric], abs=1e-9), metric
    assert 0.5 < ours["tetrads_inv"] < ours["majmin"] < 1.0  # a case that tells metrics apart


# ---------------------------------------------------------------------------------------------
# Aggregation


def test_weighted_and_mean_differ_on_songs_of_different_length():
    long_song = score_song(
        segs((0, 2, "C:maj"), (2, 4, "A:min")), segs((0, 4, "C:maj")), name="long"
    )  # root 0.5 over 4 s
    short_song = score_song(segs((0, 2, "F:maj")), segs((0, 2, "F:maj")), name="short")  # 1.0
    report = aggregate_scores([short_song, long_song])
    assert [s.name for s in report.songs] == ["long", "short"]
    assert report.weighted["root"] == pytest.approx((0.5 * 4 + 1.0 * 2) / 6)  # 2/3
    assert report.mean["root"] == pytest.approx(0.75)
    # segmentation is weighted by song duration: underseg 0.5 (4 s) and 1.0 (2 s)
    assert report.weighted["underseg"] == pytest.approx(4 / 6)
    assert report.duration_s == 6.0


def test_nan_songs_are_left_out_of_mean_and_weight():
    sus = score_song(segs((0, 4, "C:sus4")), segs((0, 4, "C:maj")), name="sus")
    triad = score_song(segs((0, 2, "C:maj")), segs((0, 2, "C:min")), name="triad")
    report = aggregate_scores([sus, triad])
    assert report.mean["majmin"] == 0.0
    assert report.weighted["majmin"] == 0.0
    assert report.mean["root"] == 1.0
    only_sus = aggregate_scores([sus])
    assert math.isnan(only_sus.weighted["majmin"]) and math.isnan(only_sus.mean["majmin"])
    assert report_to_dict(only_sus)["weighted"]["majmin"] is None


def test_class_wise_recall_is_the_mean_over_qualities():
    # maj: 8 s, 6 right; sus4: 2 s, none right; N: 1 s, right -> (0.75 + 0 + 1) / 3
    a = score_song(
        segs((0, 6, "C:maj"), (6, 8, "C:sus4"), (8, 9, "N")),
        segs((0, 6, "C:maj/3"), (6, 8, "C:maj"), (8, 9, "N")),
        name="a",
    )
    b = score_song(segs((0, 2, "G:maj")), segs((0, 2, "G:7")), name="b")
    report = aggregate_scores([a, b])
    assert report.class_recall == pytest.approx({"maj": 0.75, "sus4": 0.0, "N": 1.0})
    assert report.acc_class == pytest.approx(1.75 / 3)
    assert report_to_dict(report)["acc_class"] == pytest.approx(1.75 / 3, abs=1e-6)
    assert math.isnan(aggregate_scores([]).acc_class)


def test_key_scores():
    ref = segs((0, 2, "A:min"))
    same = score_song(ref, ref, name="a", ref_key=parse_key("A:minor"), est_key=parse_key("A:min"))
    relative = score_song(ref, ref, name="b", ref_key=parse_key("A minor"), est_key=parse_key("C"))
    fifth = score_song(ref, ref, name="c", ref_key=parse_key("C"), est_key=parse_key("G:maj"))
    no_est_key = score_song(ref, ref, name="d", ref_key=parse_key("C"), est_key=None)
    none_est = score_song(ref, ref, name="e", ref_key=parse_key("C"), est_key=parse_key("N"))
    assert (same.key_score, relative.key_score, fifth.key_score) == (1.0, 0.3, 0.5)
    assert no_est_key.key_score is None
    assert none_est.key_score == 0.0
    report = aggregate_scores([same, relative, fifth, no_est_key, none_est])
    assert report.key_songs == 4
    assert report.key_weighted == pytest.approx((1.0 + 0.3 + 0.5 + 0.0) / 4)
    assert report.key_accuracy == pytest.approx(0.25)


# ---------------------------------------------------------------------------------------------
# Readers


def test_read_key_file_takes_the_main_key(tmp_path):
    path = tmp_path / "song.key"
    path.write_text("0\t10\tA:minor\n10\t40\tC:major\n40\t45\tA:minor\n")
    assert read_key_file(path) == parse_key("C:maj")
    path.write_text("Gb:maj\n")
    assert read_key_file(path) == parse_key("Gb major")
    path.write_text("0 1 H:major\n")
    with pytest.raises(Exception, match="line 1"):
        read_key_file(path)


def test_read_annotation_lab_with_key(tmp_path):
    write_lab(tmp_path / "song.lab", (0, 2, "C:maj"), (2, 4, "A:min"))
    ann = read_annotation(tmp_path / "song.lab")
    assert ann.key is None and len(ann.segments) == 2
    (tmp_path / "song.key").write_text("0\t4\tA:minor\n")
    assert read_annotation(tmp_path / "song.lab").key == parse_key("A:min")


def test_read_annotation_jams(tmp_path):
    import jams

    jam = jams.JAMS()
    jam.file_metadata.duration = 4.0
    chords = jams.Annotation(namespace="chord")
    chords.append(time=0.0, duration=2.0, value="C:maj", confidence=0.9)
    chords.append(time=2.0, duration=2.0, value="A:min", confidence=None)
    keys = jams.Annotation(namespace="key_mode")
    keys.append(time=0.0, duration=4.0, value="A:minor")
    jam.annotations.extend([chords, keys])
    jam.save(str(tmp_path / "song.jams"))
    ann = read_annotation(tmp_path / "song.jams")
    assert [s.label for s in ann.segments] == ["C:maj", "A:min"]
    assert ann.segments[0].confidence == pytest.approx(0.9)
    assert ann.key == parse_key("A:minor")


def test_read_annotation_unknown_format(tmp_path):
    (tmp_path / "song.txt").write_text("0 1 C\n")
    with pytest.raises(EvalError, match="unknown annotation format"):
        read_annotation(tmp_path / "song.txt")


# ---------------------------------------------------------------------------------------------
# Pairing and problems


@pytest.fixture()
def folders(tmp_path):
    ref, est = tmp_path / "ref", tmp_path / "est"
    (ref / "sub").mkdir(parents=True)
    est.mkdir()
    write_lab(ref / "a.lab", (0, 2, "C:maj"), (2, 4, "A:min"))
    write_lab(ref / "sub" / "b.lab", (0, 2, "F:maj"))
    write_lab(ref / "c.lab", (0, 2, "G:maj"))  # no estimate
    (ref / "a.key").write_text("0\t4\tC:major\n")
    write_lab(est / "a.lab", (0, 4, "C:maj"))
    write_lab(est / "b.lab", (0, 2, "F:maj"))
    write_lab(est / "d.lab", (0, 2, "D:maj"))  # no reference
    return ref, est


def test_pair_directories_by_stem(folders):
    ref, est = folders
    pairing = pair_paths(ref, est)
    assert [(p.name, p.ref_path.name, p.est_path.name) for p in pairing.pairs] == [
        ("a", "a.lab", "a.lab"),
        ("b", "b.lab", "b.lab"),
    ]
    assert sorted((Path(p.path).name, p.kind) for p in pairing.problems) == [
        ("c.lab", "missing"),
        ("d.lab", "missing"),
    ]


def test_pair_prefers_key_bearing_estimates(folders, tmp_path):
    ref, est = folders
    (est / "a.json").write_text("{}")
    assert pair_paths(ref, est).pairs[0].est_path.name == "a.json"


def test_pair_two_files_and_usage_errors(folders, tmp_path):
    ref, est = folders
    pairing = pair_paths(ref / "a.lab", est / "b.lab")
    assert pairing.pairs == (FilePair("a", ref / "a.lab", est / "b.lab"),)
    with pytest.raises(EvalError, match="one is a directory"):
        pair_paths(ref, est / "a.lab")
    with pytest.raises(EvalError, match="file not found"):
        pair_paths(tmp_path / "nope", est)


def test_ambiguous_stem_is_an_error(folders):
    ref, est = folders
    (est / "x").mkdir()
    write_lab(est / "x" / "a.lab", (0, 1, "C:maj"))
    pairing = pair_paths(ref, est)
    assert [p.name for p in pairing.pairs] == ["b"]
    assert any(p.kind == "error" and "ambiguous" in p.message for p in pairing.problems)


def test_evaluate_pairs_lists_bad_files_and_goes_on(folders):
    ref, est = folders
    (est / "b.lab").write_text("0 2 F:maj\n1 oops\n")
    report = evaluate_pairs(pair_paths(ref, est))
    assert [s.name for s in report.songs] == ["a"]
    a = report.songs[0]
    assert a.scores["root"] == 0.5 and a.ref_key == parse_key("C") and a.est_key is None
    assert a.key_score is None  # a LAB estimate has no key
    errors = [p for p in report.problems if p.kind == "error"]
    assert len(errors) == 1 and "b.lab" in errors[0].path and "line 2" in errors[0].message
    assert report.failed
    assert {p.kind for p in report.problems} == {"missing", "error"}


def test_evaluate_pairs_all_good_is_not_failed(folders):
    ref, est = folders
    report = evaluate_pairs(pair_paths(ref, est), confusion=True)
    assert not report.failed and len(report.songs) == 2
    assert report.weighted["root"] == pytest.approx((2 + 2) / 6)
    assert report.confusion is not None and report.confusion.total_s == pytest.approx(6.0)


def test_report_serialisation(folders):
    ref, est = folders
    report = evaluate_pairs(pair_paths(ref, est))
    data = report_to_dict(report)
    assert data["songs_scored"] == 2
    assert data["weighted"]["root"] == pytest.approx(0.666667)
    assert data["songs"][0]["ref_key"] == "C:major"
    assert [p["kind"] for p in data["problems"]] == ["missing", "missing"]
    lines = report_to_csv(report).splitlines()
    assert lines[0].split(",")[:3] == ["song", "duration_s", "root"]
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b", "ALL (weighted)", "ALL (mean)"]
    assert lines[1].split(",")[2] == "0.500000"
    assert lines[-2].split(",")[2] == "0.666667"
    assert lines[-1].split(",")[2] == "0.750000"


# ---------------------------------------------------------------------------------------------
# Audio folders (the transcriber is a stand-in: scoring, not transcription, is tested here)


def test_evaluate_audio_folder_with_a_stand_in_transcriber(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for stem in ("one", "two", "three"):
        (data / f"{stem}.flac").write_bytes(b"")
    write_lab(data / "one.lab", (0, 2, "C:maj"), (2, 4, "A:min"))
    (data / "one.key").write_text("0\t4\tA:minor\n")
    write_lab(data / "two.lab", (0, 2, "G:7"))
    # three has no annotation

    def transcribe(path):
        if path.stem == "two":
            from chordcli.errors import AudioError

            raise AudioError(f"cannot read '{path}': broken")
        return Transcription(
            segments=tuple(segs((0, 4, "C:maj"))), duration_s=4.0, key=parse_key("C")
        )

    report = evaluate_audio_folder(data, transcribe=transcribe, model="stand-in", confusion=True)
    assert [s.name for s in report.songs] == ["one"]
    assert report.songs[0].scores["majmin"] == 0.5
    assert report.songs[0].key_score == 0.3  # C major for A minor: relative
    assert report.model == "stand-in"
    assert sorted((Path(p.path).name, p.kind) for p in report.problems) == [
        ("three.flac", "missing"),
        ("two.flac", "error"),
    ]
    assert report.confusion.total_s == pytest.approx(4.0)


def test_find_labelled_audio_with_separate_references(tmp_path):
    audio, refs = tmp_path / "audio", tmp_path / "refs"
    audio.mkdir()
    refs.mkdir()
    (audio / "x.wav").write_bytes(b"")
    (audio / "y.wav").write_bytes(b"")
    write_lab(refs / "x.lab", (0, 1, "C:maj"))
    pairing = find_labelled_audio(audio, references=refs)
    assert [(p.name, p.ref_path) for p in pairing.pairs] == [("x", refs / "x.lab")]
    assert [Path(p.path).name for p in pairing.problems] == ["y.wav"]
    with pytest.raises(EvalError, match="not a directory"):
        find_labelled_audio(tmp_path / "missing")


def test_annotation_is_frozen():
    ann = Annotation(segments=())
    with pytest.raises(AttributeError):
        ann.key = 3  # type: ignore[misc]


def test_json_estimate_carries_its_key(folders):
    from chordcli.jsonio import write_json

    ref, est = folders
    (est / "a.lab").unlink()
    transcription = Transcription(
        segments=tuple(segs((0, 2, "C:maj"), (2, 4, "A:min"))),
        duration_s=4.0,
        key=parse_key("G:maj"),
        model="stand-in",
    )
    write_json(transcription, est / "a.json")
    report = evaluate_pairs(pair_paths(ref, est))
    a = report.songs[0]
    assert a.est_path.endswith("a.json")
    assert a.scores["root"] == 1.0
    assert (a.est_key, a.key_score) == (parse_key("G"), 0.5)  # a fifth above C major
    assert (report.key_songs, report.key_weighted) == (1, 0.5)


@pytest.mark.parametrize("song", ["0022", "0003"])
def test_identity_and_transposition_invariance(shared_data, song):
    from theory import transpose_label

    ref = read_lab(shared_data / "billboard" / "billboard-2.0.1-lab" / song / "full.lab")
    same = score_song(ref, ref)
    for metric in ALL_METRICS:
        assert same.scores[metric] == pytest.approx(1.0) or math.isnan(same.scores[metric])
    # a wrong estimate scores the same after transposing both sides by 5 semitones
    est = [ChordSegment(s.start_s + 0.7, s.end_s + 0.7, s.label.split("/")[0]) for s in ref]
    up = [ChordSegment(s.start_s, s.end_s, transpose_label(s.label, 5)) for s in ref]
    est_up = [ChordSegment(s.start_s, s.end_s, transpose_label(s.label, 5)) for s in est]
    before, after = score_song(ref, est).scores, score_song(up, est_up).scores
    for metric in ALL_METRICS:
        assert after[metric] == pytest.approx(before[metric], nan_ok=True), metric
