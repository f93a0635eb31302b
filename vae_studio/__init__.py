"""VAE Studio: see how autoencoders and variational autoencoders work.

`vae_studio.core` is the Qt-free model/trainer package; `vae_studio.gui` is the
Qt desktop application built on top of it.
"""

__version__ = "0.1.0"
