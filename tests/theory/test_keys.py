import pytest

from theory import KEY_NONE, chord_symbol, key_name, key_to_jams, key_to_mir_eval, parse_key
from theory.keys import KeyError_, key_flats, key_is_minor, key_tonic, spell_pc


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("C:maj", 0),
        ("Gb:maj", 6),
        ("F#:maj", 6),
        ("A:min", 21),
        ("A:minor", 21),
        ("A minor", 21),
        ("Eb major", 3),
        ("D", 2),
        ("Am", 21),
        ("c#:min", 13),
        ("N", KEY_NONE),
        ("X", KEY_NONE),
    ],
)
def test_parse_key(text, index):
    assert parse_key(text) == index


@pytest.mark.parametrize("text", ["H:maj", "C:dorianx", "C major minor", "Cmaj7"])
def test_parse_key_invalid(text):
    with pytest.raises(KeyError_, match="invalid key"):
        parse_key(text)


def test_every_pop909_key_parses(shared_data):
    seen = set()
    for path in shared_data.glob("pop909/*/key_audio.txt"):
        for line in path.read_text().splitlines():
            if line.strip():
                seen.add(parse_key(line.split()[2]))
    assert KEY_NONE not in seen
    assert len(seen) == 24


def test_conversions_agree_with_mir_eval_and_jams():
    mir_eval = pytest.importorskip("mir_eval")
    jams = pytest.importorskip("jams")
    import re

    pattern = re.compile(jams.schema.namespace("key_mode")["properties"]["value"]["pattern"])
    for index in range(25):
        mir_eval.key.validate_key(key_to_mir_eval(index))
        assert pattern.match(key_to_jams(index))
        assert parse_key(key_to_jams(index)) == index
        assert parse_key(key_to_mir_eval(index)) == index
        if index != KEY_NONE:
            tonic, mode = mir_eval.key.split_key_string(key_to_mir_eval(index))
            assert tonic == key_tonic(index)
            assert mode == ("minor" if key_is_minor(index) else "major")


def test_names():
    assert key_name(parse_key("Db:maj")) == "Db major"
    assert key_name(parse_key("C#:maj")) == "Db major"
    assert key_name(parse_key("G#:min")) == "G# minor"
    assert key_name(KEY_NONE) == "none"
    assert key_to_jams(parse_key("A:min")) == "A:minor"
    assert key_to_mir_eval(parse_key("A:min")) == "A minor"


@pytest.mark.parametrize(
    ("label", "key", "symbol"),
    [
        ("C#:min7", "E:maj", "C#m7"),
        ("Db:min7", "E:maj", "C#m7"),
        ("C#:min7", "Ab:maj", "Dbm7"),
        ("Bb:maj7/3", "F:maj", "Bbmaj7/D"),
        ("A#:maj", "F:maj", "Bb"),
        ("F#:maj/3", "D:maj", "F#/A#"),
        ("Gb:maj", "F#:maj", "F#"),
        ("D#:min", "B:maj", "D#m"),
        ("Eb:min", "Ab:maj", "Ebm"),
        ("Eb:min", "Gb:maj", "D#m"),
        ("G:7(b9)", "C:min", "G7(b9)"),
        ("N", "C:maj", "N.C."),
        ("X", "C:maj", "X"),
    ],
)
def test_key_aware_spelling(label, key, symbol):
    assert chord_symbol(label, key=parse_key(key)) == symbol


def test_flat_and_sharp_keys():
    assert key_flats(parse_key("F:maj")) and key_flats(parse_key("D:min"))
    assert not key_flats(parse_key("E:maj")) and not key_flats(parse_key("C#:min"))
    assert spell_pc(6, key=parse_key("D:maj")) == "F#"
    assert spell_pc(6, key=parse_key("Db:maj")) == "Gb"


@pytest.mark.parametrize(
    ("label", "key", "symbol"),
    [
        ("G:maj/7", "A:min", "G/F#"),  # leading tone of G, not Gb
        ("A:min/b3", "C:maj", "Am/C"),
        ("Db:maj/5", "Db:maj", "Db/Ab"),
        ("C:7/b7", "C:maj", "C7/Bb"),
        ("E:maj/3", "E:maj", "E/G#"),
        ("D:maj/b7", "D:maj", "D/C"),
    ],
)
def test_slash_bass_is_spelled_by_interval(label, key, symbol):
    assert chord_symbol(label, key=parse_key(key)) == symbol


def test_every_key_spells_its_own_scale_with_one_kind_of_accidental():
    from theory.keys import key_tonic_name

    major_steps, minor_steps = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
    for index in range(24):
        steps = minor_steps if index >= 12 else major_steps
        names = [spell_pc(index % 12 + s, key=index) for s in steps]
        assert names[0] == key_tonic_name(index)
        flats = any(n.endswith("b") for n in names)
        sharps = any(n.endswith("#") for n in names)
        assert not (flats and sharps), (index, names)
        assert len({n[0] for n in names}) == 7, (index, names)
