"""From audio to a :class:`~chordcli.segments.Transcription`: CQT, model, decoding, key, beats.

Stages of :func:`analyse_audio` (each timed, see :class:`StageTimes`):

0. **load**: a first read of the recording, block by block (for a file: decoding and
   resampling, :class:`chordcli.audio.AudioStream`), computes the onset envelope
   (:class:`chordcli.beats.OnsetFlux`) and the tuning (:class:`models.tuning.TuningFrames`,
   unless given);
1. **cqt**: :func:`models.cqt.cqt` over the whole recording with the model's own feature
   parameters (``backend.cqt_config``), computed in blocks and centred on the recording's
   tuning; a long file is read a second time for it, block by block, so that no stage holds
   the whole signal;
2. **model**: ``backend.predict`` gives per-frame posteriors (:class:`models.base.ModelOutput`);
3. **decode**: :func:`theory.decode.decode` turns them into chord segments (slash chords from
   the bass head); the key is the class with the highest mean key posterior;
4. **beats**: onset strength, tempo and beats (:mod:`chordcli.beats`); downbeats are the bar
   phase that puts most chord changes on beat one; ``beat_sync`` moves every chord change to
   the nearest beat;
5. labels are simplified to the requested vocabulary (:func:`theory.simplify.simplify_label`)
   and transposed by ``transpose - capo`` semitones (a capo on fret N shows the shapes played,
   N semitones below the sounding chords); the key follows. Every segment gets its ranked
   alternatives in that vocabulary and the calibrated probability of its label as confidence
   (:func:`chordcli.alternatives.with_alternatives`).

Frame ``i`` of the features is centred at ``i / frames_per_second`` seconds, so a segment of
frames ``[a, b)`` spans ``[(a - 1/2) / fps, (b - 1/2) / fps)``, clipped to the recording.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from chordcli.alternatives import confidence_temperature, with_alternatives
from chordcli.audio import Audio, AudioStream
from chordcli.beats import (
    DEFAULT_BEATS_PER_BAR,
    Beats,
    OnsetFlux,
    downbeats_from_changes,
    extend_to_span,
    snap_to_beats,
    track_beats,
)
from chordcli.gate import DEFAULT_TONAL_GATE, TonalGate, gate_segments, gated_frames
from chordcli.segments import ChordSegment, Transcription
from models.base import ChordBackend, ModelOutput
from models.cqt import CQTConfig
from theory.decode import DEFAULT_KEY_WEIGHT, DecoderSettings, decode
from theory.harte import NO_CHORD
from theory.keys import KEY_NONE
from theory.simplify import VOCABULARIES, simplify_label
from theory.transpose import transpose_key, transpose_label

__all__ = [
    "DEFAULT_VOCAB",
    "VOCABULARIES",
    "FrontEnd",
    "Analysis",
    "STAGES",
    "StageTimes",
    "analyse_audio",
    "analyse_file",
    "decode_segments",
    "estimate_key",
    "place_on_beats",
    "read_file",
    "relabel",
    "transcribe_audio",
    "transcribe_file",
]

#: Chord vocabulary used unless another is asked for.
DEFAULT_VOCAB: str = "full"


#: Stages of a transcription, in the order ``on_stage`` reports them.
STAGES = ("reading", "CQT", "beats", "network", "decoding")


@dataclass(frozen=True)
class StageTimes:
    """Wall-clock time of each stage of the pipeline, in seconds.

    Attributes
    ----------
    load_s, cqt_s, model_s, decode_s, beats_s : float
        The first read (decoding and resampling a file, onset envelope, tuning estimate),
        the CQT, the model, the decoder (with the vocabulary, transposition and ranked
        alternatives), and tempo and beat tracking.
    """

    load_s: float = 0.0
    cqt_s: float = 0.0
    model_s: float = 0.0
    decode_s: float = 0.0
    beats_s: float = 0.0

    @property
    def total_s(self) -> float:
        """Sum of all stages."""
        return self.load_s + self.cqt_s + self.model_s + self.decode_s + self.beats_s


@dataclass(frozen=True)
class Analysis:
    """A transcription with what produced it.

    Attributes
    ----------
    transcription : Transcription
        Chords, key, tempo, beats and downbeats.
    times : StageTimes
        Time spent in each stage.
    output : ModelOutput or None
        The model's posteriors (kept only when asked for).
    features : ndarray, shape (n_frames, n_bins, 2), or None
        The CQT (kept only when asked for, for figures).
    """

    transcription: Transcription
    times: StageTimes
    output: ModelOutput | None = None
    features: np.ndarray | None = None


def analyse_audio(
    audio: Audio | AudioStream | FrontEnd,
    *,
    backend: ChordBackend,
    vocab: str = DEFAULT_VOCAB,
    beat_sync: bool = False,
    transpose: int = 0,
    capo: int = 0,
    key_weight: float = DEFAULT_KEY_WEIGHT,
    vector_weight: float | None = None,
    tuning_cents: float | None = None,
    tonal_gate: TonalGate | None = DEFAULT_TONAL_GATE,
    keep: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> Analysis:
    """Transcribe decoded audio, timing each stage.

    Parameters
    ----------
    audio : Audio, AudioStream or FrontEnd
        The recording (any sample rate; the CQT converts it); a stream is read twice, block
        by block (:func:`analyse_file`). A :class:`FrontEnd` (:func:`read_file`) is a
        recording already read with this model's CQT settings: its stage times are kept
        and `tuning_cents` is not used again.
    backend : ChordBackend
        A loaded model (:func:`models.backend.load_backend`).
    vocab : {'full', 'sevenths', 'majmin'}
        Chord vocabulary of the labels (see :mod:`theory.simplify`).
    beat_sync : bool
        Move chord changes to the nearest beat.
    transpose, capo : int
        Semitones to transpose the chords and key by; capo fret (0..11): chords are shown
        ``capo`` semitones lower, as played.
    key_weight, vector_weight : float
        Weights of the key prior and the smoothed-vector score (:func:`theory.decode.decode`);
        a `vector_weight` of None takes ``backend.decoder``'s.
    tuning_cents : float, optional
        Tuning of the recording in cents from A = 440 Hz (-50 .. 50); the CQT is centred on
        it. None estimates it from the audio (:func:`models.tuning.estimate_tuning`).
    tonal_gate : TonalGate or None
        The no-harmonic-content gate (:mod:`chordcli.gate`): stretches without tonal peaks
        (noise, silence) are written as ``N``. None turns it off.
    keep : bool
        Keep the features and the model output in the result (for figures).
    on_stage : callable, optional
        Called with each stage's name (:data:`STAGES`) as it starts, for progress display.

    Returns
    -------
    Analysis
        The transcription, the stage times, and the features and posteriors if ``keep``.

    Raises
    ------
    ValueError
        If ``vocab`` is unknown or ``capo`` is out of range.
    """
    _check_options(vocab=vocab, capo=capo)
    if isinstance(audio, FrontEnd):
        front, clock = audio, _StageClock(on_stage, dict(audio.seconds))
    else:
        clock = _StageClock(on_stage)
        front = _front_end(audio, backend.cqt_config, tuning_cents=tuning_cents, clock=clock)
    del audio  # the samples are no longer needed: freed here unless the caller keeps them
    features = front.features
    non_harmonic = gated_frames(features, config=backend.cqt_config, gate=tonal_gate)
    skeleton = _beat_transcription(front, backend)
    with clock.stage("model_s", "network"):
        output = backend.predict(features)
    features = features if keep else None
    front = None  # nor are the features, unless kept
    with clock.stage("decode_s", "decoding"):
        segments = decode_segments(
            output,
            decoder=backend.decoder,
            key_weight=key_weight,
            vector_weight=vector_weight,
            duration_s=skeleton.duration_s,
        )
        segments = gate_segments(
            segments, non_harmonic, frames_per_second=backend.cqt_config.frames_per_second
        )
        key, key_confidence = estimate_key(output)
    with clock.stage("beats_s"):
        beats = _extend_beats(Beats(skeleton.tempo_bpm, skeleton.beats_s), segments)
        segments, downbeats = place_on_beats(segments, beats.beats_s, beat_sync=beat_sync)
    shift = int(transpose) - int(capo)
    with clock.stage("decode_s"):
        segments, key = relabel(segments, key, vocab=vocab, shift=shift)
        segments = _ranked(segments, output, backend, vocab=vocab, shift=shift)
    chords = {"segments": tuple(segments), "key": key, "key_confidence": key_confidence}
    transcription = replace(  # with a capo, the labels are the shapes played
        skeleton, beats_s=beats.beats_s, downbeats_s=downbeats, capo=int(capo), **chords
    )
    return Analysis(transcription, clock.times(), output if keep else None, features)


def _ranked(
    segments: list[ChordSegment],
    output: ModelOutput,
    backend: ChordBackend,
    *,
    vocab: str,
    shift: int,
) -> list[ChordSegment]:
    """Attach ranked alternatives and calibrated confidences (:mod:`chordcli.alternatives`)."""
    return with_alternatives(
        segments,
        output.chord,
        frames_per_second=float(output.frames_per_second),
        vocab=vocab,
        shift=shift,
        temperature=confidence_temperature(backend),
    )


def _extend_beats(beats: Beats, segments: list[ChordSegment]) -> Beats:
    """Extrapolate the beat grid over the sounding (non-N) chords (:func:`extend_to_span`)."""
    sounding = [s for s in segments if s.label != NO_CHORD]
    if not sounding:
        return beats
    return extend_to_span(beats, start_s=sounding[0].start_s, end_s=sounding[-1].end_s)


@dataclass(frozen=True)
class FrontEnd:
    """What the model-independent stages find in a recording (:func:`read_file`).

    Attributes
    ----------
    features : ndarray, shape (n_frames, n_bins, n_channels)
        The CQT, with the CQT settings of the model it was read for.
    tuning_cents : float
        The tuning the CQT is centred on (given or estimated).
    beats : Beats
        Tempo and beats.
    duration_s : float
        Length of the recording.
    source : str or None
        The file it was read from.
    seconds : dict
        Time of the stages so far (``load_s``, ``cqt_s``, ``beats_s``; :class:`StageTimes`).
    """

    features: np.ndarray
    tuning_cents: float
    beats: Beats
    duration_s: float
    source: str | None
    seconds: dict[str, float]


def read_file(
    path: str | os.PathLike[str],
    *,
    config: CQTConfig,
    tuning_cents: float | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> FrontEnd:
    """Read an audio file up to the network: onset envelope, tuning, CQT, beats.

    The model-independent half of :func:`analyse_file` (pass the result to
    :func:`analyse_audio`), so that a batch can read the next file while the network runs
    on this one (:func:`chordcli.batch.run_batch`).

    Parameters
    ----------
    path : path-like
        The audio file, read block by block (:class:`~chordcli.audio.AudioStream`).
    config : CQTConfig
        The model's feature settings (``backend.cqt_config``).
    tuning_cents : float, optional
        As in :func:`analyse_audio`.
    on_stage : callable, optional
        Called with the name of each stage (``reading``, ``CQT``, ``beats``) as it starts.

    Raises
    ------
    chordcli.errors.AudioError
        If the file cannot be read or used (the message names it).
    """
    if on_stage is not None:
        on_stage("reading")
    clock = _StageClock(on_stage)
    stream = AudioStream(path, sample_rate_hz=config.sample_rate_hz)
    return _front_end(stream, config, tuning_cents=tuning_cents, clock=clock)


def _front_end(
    audio: Audio | AudioStream,
    config: CQTConfig,
    *,
    tuning_cents: float | None,
    clock: _StageClock,
) -> FrontEnd:
    """Read the recording: onset envelope and tuning on a first read, the CQT on a second.

    Stage ``load_s`` is the first read (decoding and resampling a file, the onset envelope,
    the tuning estimate unless `tuning_cents` is given), ``cqt_s`` the CQT (which reads a long
    file a second time), ``beats_s`` tempo and beat tracking. Neither read holds more than a
    block of a file's samples (:class:`chordcli.audio.AudioStream`).
    """
    from models.cqt import SampleBlocks, cqt
    from models.tuning import TuningFrames

    rate = audio.sample_rate_hz
    with clock.stage("load_s"):
        onsets = OnsetFlux(sample_rate_hz=rate)
        frames = None
        if tuning_cents is None:
            frames = TuningFrames(n_samples=audio.expected_samples, sample_rate_hz=rate)
        for block in audio.blocks():
            onsets.push(block)
            if frames is not None:
                frames.push(block)
        n_samples = audio.n_samples
        if frames is not None:
            tuning_cents = frames.estimate(n_samples)
        if tuning_cents is None:  # the header's length put the frames elsewhere: read again
            frames = TuningFrames(n_samples=n_samples, sample_rate_hz=rate)
            for block in audio.blocks():
                frames.push(block)
            tuning_cents = frames.estimate(n_samples)
    with clock.stage("cqt_s", "CQT"):
        if isinstance(audio, Audio):
            samples = audio.samples
        else:  # read again, block by block
            samples = SampleBlocks(audio.blocks(), n_samples)
        features = cqt(samples, sample_rate_hz=rate, config=config, tuning_cents=tuning_cents)
    with clock.stage("beats_s", "beats"):
        beats = track_beats(onsets.envelope())
    source = str(audio.path) if audio.path is not None else None
    return FrontEnd(
        features, float(tuning_cents), beats, audio.duration_s, source, dict(clock.seconds)
    )


def _beat_transcription(front: FrontEnd, backend: ChordBackend) -> Transcription:
    """Return a transcription of the audio with its beats, tuning and provenance, no chords."""
    return Transcription(
        segments=(),
        duration_s=front.duration_s,
        tempo_bpm=front.beats.tempo_bpm,
        beats_s=front.beats.beats_s,
        beats_per_bar=DEFAULT_BEATS_PER_BAR,
        source=front.source,
        model=backend.name,
        tuning_cents=round(front.tuning_cents, 1),
    )


class _StageClock:
    """Adds up the wall-clock time of named stages (the fields of :class:`StageTimes`).

    `on_stage` hears the display name of a stage (:data:`STAGES`) as it starts.
    """

    def __init__(
        self,
        on_stage: Callable[[str], None] | None = None,
        seconds: dict[str, float] | None = None,
    ) -> None:
        self.seconds: dict[str, float] = seconds if seconds is not None else {}
        self.on_stage = on_stage

    @contextmanager
    def stage(self, name: str, shown: str | None = None) -> Iterator[None]:
        """Time the block and add it to stage `name`; report `shown` to ``on_stage``."""
        if shown is not None and self.on_stage is not None:
            self.on_stage(shown)
        start = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def times(self) -> StageTimes:
        """Return the stage times so far."""
        return StageTimes(**self.seconds)


def _check_options(*, vocab: str, capo: int) -> None:
    """Raise ValueError for an unknown vocabulary or a capo off the fretboard."""
    if vocab not in VOCABULARIES:
        raise ValueError(f"unknown vocabulary {vocab!r} (hint: one of {', '.join(VOCABULARIES)})")
    if not 0 <= capo <= 11:
        raise ValueError(f"capo must be a fret 0..11, got {capo}")


def analyse_file(
    path: str | os.PathLike[str],
    *,
    backend: ChordBackend,
    vocab: str = DEFAULT_VOCAB,
    beat_sync: bool = False,
    transpose: int = 0,
    capo: int = 0,
    key_weight: float = DEFAULT_KEY_WEIGHT,
    vector_weight: float | None = None,
    tuning_cents: float | None = None,
    keep: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> Analysis:
    """Read an audio file and transcribe it (see :func:`analyse_audio` for the parameters).

    The audio is read at the model's sample rate (``backend.cqt_config.sample_rate_hz``) as
    an :class:`~chordcli.audio.AudioStream`: block by block, twice for a long recording
    (onset envelope and tuning, then the CQT), so memory does not grow with its length.

    Returns
    -------
    Analysis
        As :func:`analyse_audio`; ``times.load_s`` includes decoding the file.

    Raises
    ------
    chordcli.errors.AudioError
        If the file cannot be read or used (the message names it).
    """
    return analyse_audio(
        # Not held here: analyse_audio frees the features once the network has run.
        read_file(path, config=backend.cqt_config, tuning_cents=tuning_cents, on_stage=on_stage),
        backend=backend,
        vocab=vocab,
        beat_sync=beat_sync,
        transpose=transpose,
        capo=capo,
        key_weight=key_weight,
        vector_weight=vector_weight,
        tuning_cents=tuning_cents,
        keep=keep,
        on_stage=on_stage,
    )


def transcribe_audio(
    audio: Audio,
    *,
    backend: ChordBackend,
    vocab: str = DEFAULT_VOCAB,
    beat_sync: bool = False,
    transpose: int = 0,
    capo: int = 0,
) -> Transcription:
    """Transcribe the chords of decoded audio.

    Parameters
    ----------
    audio : Audio
        The recording.
    backend : ChordBackend
        A loaded model.
    vocab : {'full', 'sevenths', 'majmin'}
        Chord vocabulary of the labels.
    beat_sync : bool
        Move chord changes to the nearest beat.
    transpose : int
        Semitones to transpose by.
    capo : int
        Capo fret; chords are shown as played with the capo.

    Returns
    -------
    Transcription
        Chord segments with confidences, key, tempo, beats and downbeats.
    """
    return analyse_audio(
        audio, backend=backend, vocab=vocab, beat_sync=beat_sync, transpose=transpose, capo=capo
    ).transcription


def transcribe_file(
    path: str | os.PathLike[str],
    *,
    backend: ChordBackend,
    vocab: str = DEFAULT_VOCAB,
    beat_sync: bool = False,
    transpose: int = 0,
    capo: int = 0,
) -> Transcription:
    """Transcribe the chords of an audio file (see :func:`transcribe_audio`).

    Raises
    ------
    chordcli.errors.AudioError
        If the file cannot be read or used (the message names it).
    """
    return analyse_file(
        path, backend=backend, vocab=vocab, beat_sync=beat_sync, transpose=transpose, capo=capo
    ).transcription


def decode_segments(
    output: ModelOutput,
    *,
    decoder: DecoderSettings,
    key_weight: float = DEFAULT_KEY_WEIGHT,
    vector_weight: float | None = None,
    duration_s: float,
) -> list[ChordSegment]:
    """Decode a model's posteriors into chord segments in seconds (:func:`theory.decode.decode`).

    `decoder` holds the model's settings (``backend.decoder``); a `vector_weight` that is not
    None replaces its own. Frame ``i`` is centred at ``i / fps``: a segment of frames
    ``[a, b)`` spans ``[(a - 1/2) / fps, (b - 1/2) / fps)``, clipped to ``[0, duration_s]``;
    the last segment ends at `duration_s`.
    """
    if vector_weight is not None:
        decoder = replace(decoder, vector_weight=vector_weight)
    decoding = decode(
        output.chord,
        smooth_chroma=output.smooth_chroma,
        change=output.change,
        bass=output.bass,
        key=output.key,
        key_weight=key_weight,
        **decoder.kwargs(),
    )
    fps = float(output.frames_per_second)
    segments = []
    for seg in decoding.segments:
        start_s = max(0.0, (seg.start_frame - 0.5) / fps)
        end_s = min(duration_s, (seg.end_frame - 0.5) / fps)
        if seg.end_frame == output.n_frames:
            end_s = duration_s
        if end_s > start_s:
            segments.append(ChordSegment(start_s, end_s, seg.label, seg.confidence))
    return segments


def estimate_key(output: ModelOutput) -> tuple[int, float]:
    """Return the key class with the highest mean key posterior and that mean (its confidence)."""
    key_mean = np.asarray(output.key, dtype=np.float32).mean(axis=0, dtype=np.float64)
    key = int(np.argmax(key_mean))
    return key, float(key_mean[key])


def place_on_beats(
    segments: list[ChordSegment], beats_s: tuple[float, ...], *, beat_sync: bool = False
) -> tuple[list[ChordSegment], tuple[float, ...]]:
    """Find the downbeats from the chord changes; with `beat_sync`, move changes to the beats.

    Returns
    -------
    segments : list of ChordSegment
        The segments, snapped to the nearest beats if `beat_sync`.
    downbeats_s : tuple of float
        The beats that start a bar (:func:`chordcli.beats.downbeats_from_changes`).
    """
    if beat_sync and beats_s:
        segments = _snap_segments(segments, beats_s)
    changes = [s.start_s for s in segments[1:]]
    downbeats = downbeats_from_changes(beats_s, changes, beats_per_bar=DEFAULT_BEATS_PER_BAR)
    return segments, downbeats


def relabel(
    segments: list[ChordSegment], key: int, *, vocab: str = DEFAULT_VOCAB, shift: int = 0
) -> tuple[list[ChordSegment], int]:
    """Simplify labels to `vocab` and transpose them and the key by `shift` semitones.

    Neighbours that end up with the same label merge.
    """
    if vocab != "full" or shift % 12 != 0:
        segments = [
            replace(s, label=transpose_label(simplify_label(s.label, vocab), shift))
            for s in segments
        ]
        segments = _merge_equal(segments)
    if key != KEY_NONE:
        key = transpose_key(key, shift)
    return segments, key


def _snap_segments(segments: list[ChordSegment], beats_s: tuple[float, ...]) -> list[ChordSegment]:
    """Move every chord change to the nearest beat; segments shorter than nothing vanish."""
    if len(segments) < 2:
        return segments
    bounds = np.array([s.start_s for s in segments[1:]])
    snapped = snap_to_beats(bounds, beats_s)
    starts = [segments[0].start_s, *snapped.tolist()]
    ends = [*snapped.tolist(), segments[-1].end_s]
    out: list[ChordSegment] = []
    for seg, start, end in zip(segments, starts, ends, strict=True):
        start = max(start, out[-1].end_s if out else start)
        if end > start:
            out.append(replace(seg, start_s=start, end_s=end))
    return _merge_equal(out)


def _merge_equal(segments: list[ChordSegment]) -> list[ChordSegment]:
    """Merge neighbours with the same label; the confidence is the duration-weighted mean."""
    out: list[ChordSegment] = []
    for seg in segments:
        if out and out[-1].label == seg.label and abs(out[-1].end_s - seg.start_s) < 1e-9:
            prev = out[-1]
            confidence = None
            if prev.confidence is not None and seg.confidence is not None:
                total = prev.duration_s + seg.duration_s
                confidence = (
                    prev.confidence * prev.duration_s + seg.confidence * seg.duration_s
                ) / total
            out[-1] = ChordSegment(prev.start_s, seg.end_s, prev.label, confidence)
        else:
            out.append(seg)
    return out
