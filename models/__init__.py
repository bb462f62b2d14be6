"""The learned part of chordcli: CQT front end, ChordNet, losses, datasets, training, weights.

Importing this package never imports TensorFlow; modules that need it import it inside functions.
"""
