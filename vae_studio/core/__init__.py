"""The Qt-free core: data, models, losses, training, checkpoints, latent maths, metrics, experiments.

Nothing under this package may import PySide6 or pyqtgraph (tests/core/test_qt_free.py
checks it), so everything the GUI shows can be scripted and tested without a screen.
"""
