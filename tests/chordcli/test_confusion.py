"""chordcli.confusion: hand-checked cells, per-quality table, CSV and PNG output."""

import csv
import io

import numpy as np
import pytest

from chordcli.confusion import (
    COLUMN_LABELS,
    N_COLUMNS,
    N_ROWS,
    ROW_LABELS,
    QualityConfusion,
    confusion_csv,
    quality_confusion,
    quality_table,
    quality_table_csv,
    save_confusion,
    sum_confusions,
)
from chordcli.errors import OutputExistsError
from chordcli.segments import ChordSegment


def segs(*items):
    return [ChordSegment(float(a), float(b), label) for a, b, label in items]


# reference / estimate, 10 s, every second accounted for by hand:
#   0-2  C 7sus4 read as C 9sus4                -> (7sus4, 9sus4)           2 s
#   2-4  C 7sus4 read as Bb/C (Bb:maj/9)         -> (7sus4, wrong root, same bass) 2 s
#   4-5  C maj7 read as D maj7                   -> (maj7, wrong root)      1 s
#   5-6  N read as E min                         -> (N, m)                  1 s
#   6-8  G maj/3 read as G maj (root position)   -> (maj, maj), bass wrong  2 s
#   8-9  A min read as N                         -> (m, N)                  1 s
#   9-10 X read as C maj                         -> not counted
REF = segs(
    (0, 4, "C:sus4(b7)"),
    (4, 5, "C:maj7"),
    (5, 6, "N"),
    (6, 8, "G:maj/3"),
    (8, 9, "A:min"),
    (9, 10, "X"),
)
EST = segs(
    (0, 2, "C:sus4(b7,9)"),
    (2, 4, "Bb:maj/9"),
    (4, 5, "D:maj7"),
    (5, 6, "E:min"),
    (6, 8, "G:maj"),
    (8, 9, "N"),
    (9, 10, "C:maj"),
)


@pytest.fixture(scope="module")
def conf():
    return quality_confusion(REF, EST)


def test_layout():
    assert (N_ROWS, N_COLUMNS) == (45, 47)
    assert ROW_LABELS[0] == "maj" and ROW_LABELS[-1] == "N"
    assert COLUMN_LABELS[-2:] == ("wrong root, same bass", "wrong root")


def test_cells_by_hand(conf):
    assert conf.cell("7sus4", "9sus4") == 2.0
    assert conf.cell("7sus4", "wrong root, same bass") == 2.0
    assert conf.cell("maj7", "wrong root") == 1.0
    assert conf.cell("maj7", "maj7") == 0.0  # a root error is not on the diagonal
    assert conf.cell("N", "m") == 1.0
    assert conf.cell("maj", "maj") == 2.0
    assert conf.cell("m", "N") == 1.0
    assert conf.total_s == 9.0  # the X second is left out
    assert np.count_nonzero(conf.seconds) == 6


def test_precision_recall_and_bass(conf):
    rows = {row.quality: row for row in quality_table(conf)}
    assert set(rows) == {"maj", "m", "maj7", "7sus4", "9sus4", "N"}
    maj = rows["maj"]
    # maj: 2 s of reference, all right in root and quality, none with the right bass;
    # estimated 2 s (G) + 2 s (Bb/C) of maj, half of it right
    assert (maj.reference_s, maj.estimated_s) == (2.0, 4.0)
    assert (maj.recall, maj.precision, maj.bass_accuracy) == (1.0, 0.5, 0.0)
    sus = rows["7sus4"]
    assert (sus.recall, sus.root_error) == (0.0, 0.5)
    assert sus.top_confusion == "9sus4" and sus.top_confusion_share == 0.5
    assert np.isnan(sus.precision)  # never estimated
    assert rows["N"].recall == 0.0 and rows["N"].top_confusion == "m"
    assert rows["9sus4"].precision == 0.0 and np.isnan(rows["9sus4"].recall)
    assert len(quality_table(conf, include_empty=True)) == N_ROWS


def test_normalised_rows_sum_to_one(conf):
    norm = conf.normalised()
    sums = norm.sum(axis=1)
    has_time = conf.reference_s > 0
    np.testing.assert_allclose(sums[has_time], 1.0)
    assert np.all(sums[~has_time] == 0)


def test_songs_add_up(conf):
    total = sum_confusions([conf, conf])
    np.testing.assert_allclose(total.seconds, 2 * conf.seconds)
    assert sum_confusions([]).total_s == 0.0
    assert (QualityConfusion.empty() + conf).cell("7sus4", "9sus4") == 2.0


def test_csv_values(conf):
    rows = list(csv.reader(io.StringIO(confusion_csv(conf))))
    assert rows[0] == ["reference", *COLUMN_LABELS]
    assert len(rows) == 1 + N_ROWS
    by_ref = {row[0]: row[1:] for row in rows[1:]}
    assert float(by_ref["7sus4"][COLUMN_LABELS.index("9sus4")]) == 2.0
    assert float(by_ref["7sus4"][COLUMN_LABELS.index("wrong root, same bass")]) == 2.0
    assert sum(float(x) for row in rows[1:] for x in row[1:]) == pytest.approx(9.0)
    table = list(csv.DictReader(io.StringIO(quality_table_csv(conf))))
    maj = next(r for r in table if r["quality"] == "maj")
    assert (maj["recall"], maj["precision"], maj["bass_accuracy"]) == ("1.0000", "0.5000", "0.0000")
    assert next(r for r in table if r["quality"] == "7sus4")["precision"] == ""


def test_save_writes_png_and_csvs_once(conf, tmp_path):
    png, matrix, table = save_confusion(conf, tmp_path / "conf.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matrix.name == "conf.csv" and table.name == "conf-qualities.csv"
    assert matrix.read_text() == confusion_csv(conf)
    assert table.read_text() == quality_table_csv(conf)
    before = png.read_bytes()
    with pytest.raises(OutputExistsError):
        save_confusion(QualityConfusion.empty(), tmp_path / "conf.png")
    assert png.read_bytes() == before
    save_confusion(conf, tmp_path / "conf.png", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "conf-qualities.csv",
        "conf.csv",
        "conf.png",
    ]
