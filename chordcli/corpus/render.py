"""Rendering: FluidSynth with a SoundFont, then EQ, stereo width and level in numpy/scipy.

FluidSynth runs as a subprocess (``fluidsynth -ni -F out.wav ...``) on the MIDI file of an
:class:`~chordcli.corpus.arrangement.Arrangement`, with reverb and chorus settings drawn per
file (the parts' pan, reverb and chorus sends are MIDI controllers). The stereo float output is
trimmed or padded to the arrangement's length, filtered (high-pass, low and high shelves),
widened or narrowed (mid/side), and brought to a drawn loudness without clipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from chordcli.corpus.arrangement import Arrangement, write_midi
from chordcli.errors import ChordcliError

__all__ = [
    "DEV_SOUNDFONTS",
    "CORPUS_SOUNDFONTS",
    "DRUM_SOUNDFONTS",
    "PARTIAL_SOUNDFONTS",
    "SAMPLE_RATE_HZ",
    "SOUNDFONT_DIRS",
    "MixSettings",
    "RenderError",
    "CROSS_SOUNDFONTS",
    "SoundFont",
    "cross_soundfonts",
    "draw_mix",
    "find_soundfonts",
    "postprocess",
    "render_arrangement",
    "select_soundfonts",
    "split_soundfonts",
    "v2_soundfonts",
]

#: Sample rate of rendered audio.
SAMPLE_RATE_HZ = 44100
#: Folders searched for SoundFonts (Debian's locations).
SOUNDFONT_DIRS: tuple[Path, ...] = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"))
#: SoundFonts held out for dev renders, in order of preference; the first one installed is used.
DEV_SOUNDFONTS: tuple[str, ...] = ("sf_GMbank.sf2", "FluidR3Mono_GM.sf3")
#: SoundFonts no training or dev-same file uses: only the ``cross`` and ``degraded`` variants
#: (dev-cross) render with them, beside the dev SoundFont (:func:`cross_soundfonts`).
CROSS_SOUNDFONTS: tuple[str, ...] = ("OPL-3_FM_128M.sf2",)
#: Single drum kits (avldrums.lv2-soundfont, preset 0 of bank 0 is the kit): the ``v2``
#: variant plays its drum parts with them; nothing else uses them.
DRUM_SOUNDFONTS: tuple[str, ...] = ("Black_Pearl_4_LV2.sf2", "Red_Zeppelin_4_LV2.sf2")
#: SoundFonts that are not a General MIDI set on their own (fluid-soundfont-gs holds only the
#: GS variation sounds); no render uses them.
PARTIAL_SOUNDFONTS: tuple[str, ...] = ("FluidR3_GS.sf2",)
#: The SoundFonts a render uses when none are named (``--soundfonts``): the General MIDI sets
#: of Debian's fluid-soundfont-gm, fluidr3mono-gm-soundfont, timgm6mb-soundfont,
#: csound-soundfont and opl3-soundfont, and the drum kits. Any other installed SoundFont (a
#: set reserved for evaluation, one of unknown content) is used only when named.
CORPUS_SOUNDFONTS: tuple[str, ...] = (
    "FluidR3_GM.sf2",
    "FluidR3Mono_GM.sf3",
    "TimGM6mb.sf2",
    "sf_GMbank.sf2",
    "OPL-3_FM_128M.sf2",
    *DRUM_SOUNDFONTS,
)
_POLYPHONY = 64


class RenderError(ChordcliError):
    """FluidSynth is missing or failed, or no SoundFont is installed."""


@dataclass(frozen=True)
class SoundFont:
    """An installed SoundFont.

    Attributes
    ----------
    name : str
        File name of the real file (links resolved), e.g. ``'TimGM6mb.sf2'``.
    path : Path
        Resolved path.
    """

    name: str
    path: Path


def find_soundfonts(dirs: tuple[Path, ...] | list[Path] = SOUNDFONT_DIRS) -> list[SoundFont]:
    """Find the installed SoundFonts (``.sf2``, ``.sf3``), each file once.

    Parameters
    ----------
    dirs : sequence of Path, optional
        Folders to search (not recursively).

    Returns
    -------
    list of SoundFont
        Sorted by name; aliases (``default-GM.sf2`` and other links) resolve to one entry.
    """
    found: dict[Path, SoundFont] = {}
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in (".sf2", ".sf3"):
                continue
            try:
                real = path.resolve(strict=True)
            except OSError:
                continue
            if real.is_file() and real not in found:
                found[real] = SoundFont(real.name, real)
    return sorted(found.values(), key=lambda s: s.name)


def select_soundfonts(
    installed: list[SoundFont], wanted: list[str] | None = None
) -> list[SoundFont]:
    """Pick SoundFonts by file name, stem or path.

    Parameters
    ----------
    installed : list of SoundFont
        Installed SoundFonts (:func:`find_soundfonts`).
    wanted : list of str, optional
        Names (``'TimGM6mb.sf2'`` or ``'TimGM6mb'``, any case) or paths of SoundFont files;
        ``None`` or empty keeps the installed :data:`CORPUS_SOUNDFONTS`.

    Returns
    -------
    list of SoundFont
        The selection, in the order asked.

    Raises
    ------
    RenderError
        If a name matches no installed SoundFont and is not a file, or none of
        :data:`CORPUS_SOUNDFONTS` is installed when none is named.
    """
    if not wanted:
        known = [s for s in installed if s.name in CORPUS_SOUNDFONTS]
        if not known:
            raise RenderError(
                "no General MIDI SoundFont the corpus knows found in "
                + ", ".join(str(d) for d in SOUNDFONT_DIRS),
                hint="apt-get install timgm6mb-soundfont, or name one with --soundfonts",
            )
        return known
    chosen: list[SoundFont] = []
    for item in wanted:
        path = Path(item)
        match = [s for s in installed if item.lower() in (s.name.lower(), s.path.stem.lower())]
        if match:
            chosen.append(match[0])
        elif path.is_file() and path.suffix.lower() in (".sf2", ".sf3"):
            real = path.resolve()
            chosen.append(SoundFont(real.name, real))
        else:
            names = ", ".join(s.name for s in installed) or "none installed"
            raise RenderError(f"unknown SoundFont {item!r}", hint=f"installed: {names}")
    return list(dict.fromkeys(chosen))


def split_soundfonts(soundfonts: list[SoundFont]) -> tuple[list[SoundFont], SoundFont]:
    """Split SoundFonts into the training set and the one held out for dev renders.

    The dev SoundFont is the first of :data:`DEV_SOUNDFONTS` that is installed; the others
    are for training, except :data:`CROSS_SOUNDFONTS` (kept for dev-cross) and the drum kits
    and partial sets (:data:`DRUM_SOUNDFONTS`, :data:`PARTIAL_SOUNDFONTS`). With a single
    SoundFont installed it serves both (as in CI).

    Parameters
    ----------
    soundfonts : list of SoundFont
        Installed SoundFonts.

    Returns
    -------
    train : list of SoundFont
        SoundFonts for training renders.
    dev : SoundFont
        The SoundFont for dev renders.

    Raises
    ------
    RenderError
        If the list is empty.
    """
    if not soundfonts:
        raise RenderError(
            "no SoundFont found in " + ", ".join(str(d) for d in SOUNDFONT_DIRS),
            hint="apt-get install timgm6mb-soundfont fluid-soundfont-gm",
        )
    by_name = {s.name: s for s in soundfonts}
    dev = next((by_name[n] for n in DEV_SOUNDFONTS if n in by_name), None)
    kept_out = CROSS_SOUNDFONTS + DRUM_SOUNDFONTS + PARTIAL_SOUNDFONTS
    usable = [s for s in soundfonts if s.name not in kept_out] or list(soundfonts)
    if dev is None:
        dev = usable[-1]
    train = [s for s in usable if s != dev] or [dev]
    return train, dev


def v2_soundfonts(soundfonts: list[SoundFont]) -> tuple[list[SoundFont], list[SoundFont]]:
    """Split SoundFonts for ``v2`` training renders: melodic sets and drum kits.

    Parameters
    ----------
    soundfonts : list of SoundFont
        The SoundFonts of the render (:func:`select_soundfonts`).

    Returns
    -------
    melodic : list of SoundFont
        The training SoundFonts of :func:`split_soundfonts`.
    drum_kits : list of SoundFont
        The given :data:`DRUM_SOUNDFONTS`.
    """
    train, _ = split_soundfonts(soundfonts)
    return train, [s for s in soundfonts if s.name in DRUM_SOUNDFONTS]


def cross_soundfonts(soundfonts: list[SoundFont]) -> list[SoundFont]:
    """Return the SoundFonts of dev-cross renders: those no training file uses.

    These are the installed :data:`CROSS_SOUNDFONTS` and the dev SoundFont of
    :func:`split_soundfonts` (which training never uses either), in that order.

    Raises
    ------
    RenderError
        If the list is empty.
    """
    _, dev = split_soundfonts(soundfonts)
    return [s for s in soundfonts if s.name in CROSS_SOUNDFONTS and s != dev] + [dev]


@dataclass(frozen=True)
class MixSettings:
    """Effects and mix of one render.

    Attributes
    ----------
    reverb_room, reverb_damp, reverb_width, reverb_level : float
        FluidSynth reverb (room size 0..1, damping 0..1, width 0..100, level 0..1).
    chorus_voices, chorus_level, chorus_speed_hz, chorus_depth_ms : float
        FluidSynth chorus.
    low_shelf_db, high_shelf_db : float
        EQ gains of a 200 Hz low shelf and a 4 kHz high shelf.
    width : float
        Side-signal gain (1 = unchanged stereo image).
    loudness_dbfs : float
        Target RMS level in dB full scale (lowered if the peak would exceed -0.1 dBFS).
    """

    reverb_room: float
    reverb_damp: float
    reverb_width: float
    reverb_level: float
    chorus_voices: int
    chorus_level: float
    chorus_speed_hz: float
    chorus_depth_ms: float
    low_shelf_db: float
    high_shelf_db: float
    width: float
    loudness_dbfs: float

    def to_dict(self) -> dict:
        """Return the settings as a JSON-ready dict (rounded)."""
        return {k: round(float(v), 3) for k, v in asdict(self).items()}


def draw_mix(rng: np.random.Generator) -> MixSettings:
    """Draw mix settings.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    MixSettings
        Uniformly drawn settings within musical ranges.
    """
    return MixSettings(
        reverb_room=float(rng.uniform(0.1, 0.9)),
        reverb_damp=float(rng.uniform(0.0, 0.6)),
        reverb_width=float(rng.uniform(0.5, 1.0)),
        reverb_level=float(rng.uniform(0.2, 0.9)),
        chorus_voices=int(rng.integers(2, 5)),
        chorus_level=float(rng.uniform(0.5, 2.5)),
        chorus_speed_hz=float(rng.uniform(0.2, 1.0)),
        chorus_depth_ms=float(rng.uniform(2.0, 10.0)),
        low_shelf_db=float(rng.uniform(-5.0, 5.0)),
        high_shelf_db=float(rng.uniform(-6.0, 4.0)),
        width=float(rng.uniform(0.6, 1.3)),
        loudness_dbfs=float(rng.uniform(-24.0, -14.0)),
    )


def _shelf_sos(freq_hz: float, gain_db: float, sample_rate_hz: int, *, high: bool) -> np.ndarray:
    """Second-order section of an RBJ shelving filter (slope 1)."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * freq_hz / sample_rate_hz
    cos, alpha = np.cos(w0), np.sin(w0) / 2 * np.sqrt(2)
    sq = 2 * np.sqrt(a) * alpha
    sign = -1 if high else 1
    b0 = a * ((a + 1) - sign * (a - 1) * cos + sq)
    b1 = sign * 2 * a * ((a - 1) - sign * (a + 1) * cos)
    b2 = a * ((a + 1) - sign * (a - 1) * cos - sq)
    a0 = (a + 1) + sign * (a - 1) * cos + sq
    a1 = -sign * 2 * ((a - 1) + sign * (a + 1) * cos)
    a2 = (a + 1) + sign * (a - 1) * cos - sq
    return np.array([[b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0]])


def postprocess(audio: np.ndarray, *, sample_rate_hz: int, mix: MixSettings) -> np.ndarray:
    """Apply EQ, stereo width and level.

    Parameters
    ----------
    audio : ndarray, shape (n_samples, 2)
        Stereo audio.
    sample_rate_hz : int
        Its sample rate.
    mix : MixSettings
        EQ gains, width and target loudness.

    Returns
    -------
    ndarray, shape (n_samples, 2), float32
        The processed audio, peak at most 0.99.
    """
    from scipy.signal import butter, sosfilt

    sos = np.vstack(
        [
            butter(2, 25.0, btype="highpass", fs=sample_rate_hz, output="sos"),
            _shelf_sos(200.0, mix.low_shelf_db, sample_rate_hz, high=False),
            _shelf_sos(4000.0, mix.high_shelf_db, sample_rate_hz, high=True),
        ]
    ).astype(np.float32)
    # channels first and float32: several times faster than filtering along axis 0 in float64
    # (the tiny offset keeps the filter states out of slow denormal numbers in silences;
    # the high-pass removes it)
    # (few full-length temporaries: allocating them costs more than the arithmetic)
    channels = np.array(np.asarray(audio, dtype=np.float32).T, order="C")
    channels += np.float32(1e-12)
    filtered = sosfilt(sos, channels)
    del channels
    left, right = filtered
    mid = left + right
    side = left - right
    mid *= np.float32(0.5)
    side *= np.float32(0.5 * mix.width)
    np.add(mid, side, out=left)
    np.subtract(mid, side, out=right)
    del mid, side
    if filtered.size:
        flat = filtered.reshape(-1)
        rms = float(np.sqrt(np.dot(flat, flat) / flat.size))
        peak = float(max(flat.max(), -flat.min()))
        if rms > 0 and peak > 0:
            filtered *= np.float32(min(10 ** (mix.loudness_dbfs / 20) / rms, 0.99 / peak))
    return filtered.T.copy()


def render_arrangement(
    arrangement: Arrangement,
    soundfont: SoundFont | str | os.PathLike[str],
    *,
    mix: MixSettings,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    raw: bool = False,
) -> np.ndarray:
    """Render an arrangement to stereo audio with FluidSynth and post-process it.

    Parameters
    ----------
    arrangement : Arrangement
        What to play.
    soundfont : SoundFont or path
        The SoundFont.
    mix : MixSettings
        Effects and mix.
    sample_rate_hz : int, optional
        Output sample rate.
    raw : bool, optional
        Return FluidSynth's output without :func:`postprocess` (for stems mixed later).

    Returns
    -------
    ndarray, shape (round(duration_s * sample_rate_hz), 2), float32
        The audio; sample ``i`` is at time ``i / sample_rate_hz`` of the MIDI file.

    Raises
    ------
    RenderError
        If FluidSynth is not installed or fails.
    """
    import soundfile

    path = Path(soundfont.path if isinstance(soundfont, SoundFont) else soundfont)
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise RenderError("fluidsynth not found", hint="apt-get install fluidsynth")
    # the float WAV is large and short-lived: keep it in memory-backed /dev/shm when there is one
    scratch = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="chordcli-render-", dir=scratch) as tmp:
        midi_path = write_midi(arrangement, Path(tmp) / "in.mid")
        wav_path = Path(tmp) / "out.wav"
        settings = {
            "synth.polyphony": _POLYPHONY,
            "synth.cpu-cores": 1,
            # load only the samples of the programs used (decoding a whole .sf3 costs seconds)
            "synth.dynamic-sample-loading": 1,
            "synth.reverb.room-size": round(mix.reverb_room, 3),
            "synth.reverb.damp": round(mix.reverb_damp, 3),
            "synth.reverb.width": round(mix.reverb_width * 100, 1),
            "synth.reverb.level": round(mix.reverb_level, 3),
            "synth.chorus.nr": mix.chorus_voices,
            "synth.chorus.level": round(mix.chorus_level, 3),
            "synth.chorus.speed": round(mix.chorus_speed_hz, 3),
            "synth.chorus.depth": round(mix.chorus_depth_ms, 3),
        }
        command = [exe, "-ni", "-q", "-g", "0.3", "-r", str(sample_rate_hz), "-R", "1", "-C", "1"]
        for name, value in settings.items():
            command += ["-o", f"{name}={value}"]
        command += ["-F", str(wav_path), "-T", "wav", "-O", "float", str(path), str(midi_path)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not wav_path.is_file():
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise RenderError(
                f"fluidsynth failed on '{path.name}': "
                + (detail[-1] if detail else f"exit {proc.returncode}"),
                hint="check the SoundFont with 'fluidsynth -ni SOUNDFONT'",
            )
        audio, _ = soundfile.read(str(wav_path), dtype="float32", always_2d=True)
    n = round(arrangement.duration_s * sample_rate_hz)
    if audio.shape[1] == 1:
        audio = np.repeat(audio, 2, axis=1)
    if len(audio) < n:
        audio = np.concatenate([audio, np.zeros((n - len(audio), 2), np.float32)])
    if raw:
        return audio[:n, :2]
    return postprocess(audio[:n, :2], sample_rate_hz=sample_rate_hz, mix=mix)
