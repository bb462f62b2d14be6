"""Music theory for chordcli: pure numpy, no TensorFlow.

Harte chord labels (:mod:`theory.harte`), the 529-class vocabulary (:mod:`theory.vocabulary`),
25-dim chord-tone + bass targets (:mod:`theory.targets`), keys (:mod:`theory.keys`) and
transposition (:mod:`theory.transpose`).
"""

from theory.harte import (
    NO_CHORD,
    UNKNOWN_CHORD,
    Chord,
    ChordLabelError,
    format_harte,
    is_valid_label,
    parse_chord,
)
from theory.keys import (
    KEY_NONE,
    N_KEYS,
    chord_symbol,
    key_name,
    key_to_jams,
    key_to_mir_eval,
    parse_key,
)
from theory.pitch import pc_name, pitch_class
from theory.targets import N_TARGET, chord_target, score_vectors
from theory.transpose import transpose_class, transpose_key, transpose_label, transpose_target
from theory.vocabulary import (
    N_CLASS,
    N_CLASSES,
    N_QUALITIES,
    QUALITIES,
    chord_class,
    class_label,
    class_name,
    vocabulary_fingerprint,
)

__all__ = [
    "KEY_NONE",
    "NO_CHORD",
    "N_CLASS",
    "N_CLASSES",
    "N_KEYS",
    "N_QUALITIES",
    "N_TARGET",
    "QUALITIES",
    "UNKNOWN_CHORD",
    "Chord",
    "ChordLabelError",
    "chord_class",
    "chord_symbol",
    "chord_target",
    "class_label",
    "class_name",
    "format_harte",
    "is_valid_label",
    "key_name",
    "key_to_jams",
    "key_to_mir_eval",
    "parse_chord",
    "parse_key",
    "pc_name",
    "pitch_class",
    "score_vectors",
    "transpose_class",
    "transpose_key",
    "transpose_label",
    "transpose_target",
    "vocabulary_fingerprint",
]
