"""Render a ``v2`` file as stems and mix them with a per-song effects chain (``pedalboard``).

The parts of a :mod:`chordcli.corpus.styles` arrangement are rendered by FluidSynth in up to
four stems, each with a SoundFont drawn from the job's pool: ``drums`` (a General MIDI kit, or
a sampled kit of :data:`~chordcli.corpus.render.DRUM_SOUNDFONTS` when one is installed),
``guitar`` (the power-chord guitar), ``lead`` (the melody) and ``band`` (everything else).
One draw per song (:func:`draw_chain`, seeded by the job) sets:

* the guitar's amp and pedals: pre-emphasis high-pass, ``Distortion`` (drive 12-35 dB), a
  cabinet low-pass (3-7 kHz), a mid scoop, and a chorus, phaser or delay half of the time;
* the lead's chain: high-pass, ``Compressor``, a slap or echo ``Delay``, and its level over
  the accompaniment (+2..+9 dB RMS: sung leads are loud in a mix);
* the bus: a room (``Reverb``), low and high shelves and a presence peak, bus compression,
  saturation (``Distortion`` 3-12 dB) on 40 % of songs, stereo width (mid/side gain), band
  limits (``HighpassFilter``, ``LowpassFilter``), a loudness target and a ``Limiter``.

The effect settings go to the manifest entry (``effects``) beside the SoundFont of each stem.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from chordcli.corpus.arrangement import Arrangement
from chordcli.corpus.render import SAMPLE_RATE_HZ, SoundFont, draw_mix, render_arrangement

__all__ = [
    "STEMS",
    "MixChain",
    "apply_chain",
    "draw_chain",
    "render_v2",
    "song_chain",
    "stem_of",
]

#: Stems of a ``v2`` render, in mixing order.
STEMS: tuple[str, ...] = ("band", "drums", "guitar", "lead")


def stem_of(part_name: str) -> str:
    """Return the stem a part is rendered in (by the part's name)."""
    return {"drums": "drums", "power": "guitar", "melody": "lead"}.get(part_name, "band")


@dataclass(frozen=True)
class MixChain:
    """Effect settings of one ``v2`` song (see the module docstring); levels in dB."""

    guitar_drive_db: float
    guitar_cab_hz: float
    guitar_scoop_db: float
    guitar_pedal: str | None
    guitar_db: float
    drums_db: float
    lead_db: float
    lead_threshold_db: float
    lead_delay_s: float
    lead_delay_mix: float
    room_size: float
    room_wet: float
    low_shelf_db: float
    high_shelf_db: float
    presence_db: float
    bus_threshold_db: float
    bus_ratio: float
    saturation_db: float | None
    width: float
    highpass_hz: float
    lowpass_hz: float
    loudness_dbfs: float
    limiter_db: float

    def to_dict(self) -> dict:
        """Return the settings as a JSON-ready dict (rounded)."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def draw_chain(rng: np.random.Generator) -> MixChain:
    """Draw the effect settings of one song."""
    log_uniform = lambda low, high: float(np.exp(rng.uniform(np.log(low), np.log(high))))  # noqa: E731
    pedals = (None, None, None, "chorus", "phaser", "delay")
    return MixChain(
        guitar_drive_db=float(rng.uniform(12, 35)),
        guitar_cab_hz=log_uniform(3000, 7000),
        guitar_scoop_db=float(rng.uniform(-8, 0)),
        guitar_pedal=pedals[int(rng.integers(len(pedals)))],
        guitar_db=float(rng.uniform(-4, 2)),
        drums_db=float(rng.uniform(-6, 1)),
        lead_db=float(rng.uniform(2, 9)),
        lead_threshold_db=float(rng.uniform(-28, -12)),
        lead_delay_s=float(rng.choice([0.09, 0.12, 0.25, 0.375, 0.5])),
        lead_delay_mix=float(rng.uniform(0, 0.25)),
        room_size=float(rng.uniform(0.1, 0.9)),
        room_wet=float(rng.uniform(0.03, 0.3)),
        low_shelf_db=float(rng.uniform(-4, 5)),
        high_shelf_db=float(rng.uniform(-6, 4)),
        presence_db=float(rng.uniform(-3, 4)),
        bus_threshold_db=float(rng.uniform(-24, -8)),
        bus_ratio=float(rng.uniform(1.5, 6)),
        saturation_db=float(rng.uniform(3, 12)) if rng.random() < 0.4 else None,
        width=float(rng.uniform(0.5, 1.4)),
        highpass_hz=log_uniform(20, 150),
        lowpass_hz=log_uniform(6000, 19000),
        loudness_dbfs=float(rng.uniform(-20, -10)),
        limiter_db=float(rng.uniform(-6, -0.5)),
    )


def song_chain(seed: int) -> MixChain:
    """Return the effect settings :func:`render_v2` draws for a job's seed (no audio)."""
    rng = np.random.default_rng([seed, 6])
    draw_mix(rng)
    return draw_chain(rng)


def _stem_board(stem: str, chain: MixChain):
    """Return the ``pedalboard.Pedalboard`` of one stem (the guitar amp, the lead's chain)."""
    import pedalboard as pb

    if stem == "guitar":
        pedal = {
            "chorus": pb.Chorus(rate_hz=0.8, depth=0.25, mix=0.4),
            "phaser": pb.Phaser(rate_hz=0.5, depth=0.5, mix=0.4),
            "delay": pb.Delay(delay_seconds=0.3, feedback=0.3, mix=0.2),
        }.get(chain.guitar_pedal or "")
        effects = [
            pb.HighpassFilter(cutoff_frequency_hz=120.0),
            pb.Distortion(drive_db=chain.guitar_drive_db),
            pb.LowpassFilter(cutoff_frequency_hz=chain.guitar_cab_hz),
            pb.PeakFilter(cutoff_frequency_hz=700.0, gain_db=chain.guitar_scoop_db, q=0.8),
        ]
        return pb.Pedalboard(effects + ([pedal] if pedal is not None else []))
    if stem == "lead":
        return pb.Pedalboard([
            pb.HighpassFilter(cutoff_frequency_hz=110.0),
            pb.Compressor(threshold_db=chain.lead_threshold_db, ratio=3.0),
            pb.Delay(delay_seconds=chain.lead_delay_s, feedback=0.25, mix=chain.lead_delay_mix),
        ])  # fmt: skip
    return pb.Pedalboard([])


def _bus_board(chain: MixChain):
    """Return the ``pedalboard.Pedalboard`` of the mix bus before width, level and limiter."""
    import pedalboard as pb

    effects = [
        pb.Reverb(room_size=chain.room_size, wet_level=chain.room_wet, dry_level=1.0),
        pb.LowShelfFilter(cutoff_frequency_hz=150.0, gain_db=chain.low_shelf_db),
        pb.HighShelfFilter(cutoff_frequency_hz=5000.0, gain_db=chain.high_shelf_db),
        pb.PeakFilter(cutoff_frequency_hz=3000.0, gain_db=chain.presence_db, q=0.9),
        pb.Compressor(threshold_db=chain.bus_threshold_db, ratio=chain.bus_ratio),
    ]
    if chain.saturation_db is not None:
        effects.append(pb.Distortion(drive_db=chain.saturation_db))
    effects += [
        pb.HighpassFilter(cutoff_frequency_hz=chain.highpass_hz),
        pb.LowpassFilter(cutoff_frequency_hz=chain.lowpass_hz),
    ]
    return pb.Pedalboard(effects)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def apply_chain(
    stems: dict[str, np.ndarray], *, chain: MixChain, sample_rate_hz: int = SAMPLE_RATE_HZ
) -> np.ndarray:
    """Mix stems through their chains and the bus.

    Parameters
    ----------
    stems : dict of str to ndarray, shape (n_samples, 2)
        FluidSynth output per stem of :data:`STEMS` (any subset, equal lengths).
    chain : MixChain
        The song's settings.
    sample_rate_hz : int, optional
        Sample rate.

    Returns
    -------
    ndarray, shape (n_samples, 2), float32
        The mix at the chain's loudness, limited, peak at most 0.99.
    """
    import pedalboard as pb

    band_rms = _rms(stems["band"]) if "band" in stems else 0.0
    offsets = {"drums": chain.drums_db, "guitar": chain.guitar_db, "lead": chain.lead_db}
    mix = None
    for name in STEMS:
        if name not in stems:
            continue
        x = np.ascontiguousarray(stems[name].T, dtype=np.float32)
        x = _stem_board(name, chain)(x, float(sample_rate_hz))
        rms = _rms(x)
        if name != "band" and band_rms > 0 and rms > 0:
            x *= np.float32(band_rms / rms * 10 ** (offsets[name] / 20))
        mix = x if mix is None else mix + x
    assert mix is not None
    y = _bus_board(chain)(mix, float(sample_rate_hz))
    mid, side = (y[0] + y[1]) / 2, (y[0] - y[1]) / 2 * np.float32(chain.width)
    y = np.stack([mid + side, mid - side])
    rms = _rms(y)
    if rms > 0:
        y *= np.float32(10 ** (chain.loudness_dbfs / 20) / rms)
    y = pb.Pedalboard([pb.Limiter(threshold_db=chain.limiter_db)])(y, float(sample_rate_hz))
    y *= np.float32(10 ** (chain.limiter_db / 20))  # the limiter makes up its threshold
    peak = float(np.abs(y).max()) if y.size else 0.0
    if peak > 0.99:
        y *= np.float32(0.99 / peak)
    return np.ascontiguousarray(y.T, dtype=np.float32)


def render_v2(
    arrangement: Arrangement,
    *,
    soundfonts: list[SoundFont],
    drum_kits: list[SoundFont],
    seed: int,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
) -> tuple[np.ndarray, dict]:
    """Render a ``v2`` arrangement as stems with their own SoundFonts and mix them.

    Parameters
    ----------
    arrangement : Arrangement
        A :func:`chordcli.corpus.styles.v2_arrangement`.
    soundfonts : list of SoundFont
        General MIDI SoundFonts to draw each stem's from.
    drum_kits : list of SoundFont
        Sampled drum kits the drum stem may take instead (preset 0 of bank 0 is the kit).
    seed : int
        The job's seed (SoundFonts, FluidSynth settings and effects derive from it).
    sample_rate_hz : int, optional
        Sample rate.

    Returns
    -------
    audio : ndarray, shape (n_samples, 2), float32
        The mix.
    record : dict
        ``{'stems': {stem: SoundFont name}, 'synth': FluidSynth settings, 'effects': chain}``.
    """
    import dataclasses

    rng = np.random.default_rng([seed, 6])
    synth = draw_mix(rng)
    chain = draw_chain(rng)  # the same draws as song_chain(seed)
    stems, fonts = {}, {}
    for name in STEMS:
        parts = [p for p in arrangement.parts if stem_of(p.name) == name]
        if not parts:
            continue
        pool = list(soundfonts) + (list(drum_kits) if name == "drums" else [])
        font = pool[int(rng.integers(len(pool)))]
        if font in drum_kits:  # a single kit: the drum part plays it on a melodic channel
            parts = [dataclasses.replace(p, is_drum=False, program=0) for p in parts]
        sub = dataclasses.replace(arrangement, parts=tuple(parts))
        stems[name] = render_arrangement(
            sub, font, mix=synth, sample_rate_hz=sample_rate_hz, raw=True
        )
        fonts[name] = font.name
    if "band" not in stems:
        n = round(arrangement.duration_s * sample_rate_hz)
        stems["band"] = np.zeros((n, 2), np.float32)
    audio = apply_chain(stems, chain=chain, sample_rate_hz=sample_rate_hz)
    return audio, {"stems": fonts, "synth": synth.to_dict(), "effects": chain.to_dict()}
