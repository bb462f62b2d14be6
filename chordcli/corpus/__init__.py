"""Synthetic training corpus with exact chord labels.

Arrangements of POP909 songs (:mod:`chordcli.corpus.pop909`), Billboard progressions
(:mod:`chordcli.corpus.billboard`) and contexts for every chord quality
(:mod:`chordcli.corpus.rare`), played by a generated band (:mod:`chordcli.corpus.band`),
written as MIDI (:mod:`chordcli.corpus.arrangement`), rendered with FluidSynth
(:mod:`chordcli.corpus.render`) and organised into a corpus folder with a manifest and a
class-balance table (:mod:`chordcli.corpus.build`). ``chordcli data render`` runs it all.
"""
