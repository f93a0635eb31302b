"""Help > Guide and Help > About: a short course on the ideas the app shows, and version facts."""

from __future__ import annotations

import platform

import numpy as np
import PySide6
import pyqtgraph as pg
import torch
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

from .. import __version__

# Qt's rich text understands a subset of HTML 4 and CSS 2 (no MathML), so formulas use Unicode.
GUIDE_HTML = """
<h2>Autoencoders and VAEs in ten minutes</h2>

<h3>The autoencoder (AE)</h3>
<p>An <b>encoder</b> network squeezes each image <i>x</i> into a few numbers <i>z</i>, its <b>code</b>;
a <b>decoder</b> network turns <i>z</i> back into an image. Both are trained together so that the decoded
image looks like the input: the <b>reconstruction loss</b> is small. Because <i>z</i> has far fewer numbers
than the image has pixels, the network must keep what matters and drop the rest.</p>

<h3>The latent space</h3>
<p>Every possible code <i>z</i> is a point in the <b>latent space</b>; with a latent size of 2 it is a plane
you can see whole. The <i>Latent map</i> in the middle of the window draws one dot per test image at the
place the encoder puts it, coloured by its class. Similar images land near each other although the model
was never told the classes.</p>

<h3>The variational autoencoder (VAE)</h3>
<p>A VAE's encoder does not give one point but a small cloud: a mean <b>μ</b> and a spread <b>σ</b> per latent
dimension, the distribution <i>q(z|x)</i>. Training decodes a random point from that cloud, so nearby
codes must decode to similar images. A second loss term keeps all the clouds close to the
<b>prior</b> <i>p(z)</i>, a standard normal distribution centred on the origin.</p>

<h3>The reparameterisation trick</h3>
<p>Drawing a random sample is not something gradients can flow through. The VAE writes the sample as
<b>z = μ + σ · ε</b> with <b>ε</b> drawn from a standard normal distribution: the randomness sits in
<i>ε</i>, while <i>μ</i> and <i>σ</i> stay ordinary outputs of the encoder that backpropagation can train.</p>

<h3>The KL term</h3>
<p>The second loss term is the Kullback–Leibler divergence from <i>q(z|x)</i> to the prior:
<b>KL = ½ Σ (μ² + σ² − log σ² − 1)</b>, summed over the latent dimensions. It is zero only when
μ = 0 and σ = 1, so it pulls the codes towards the origin and keeps their clouds wide.
The VAE minimises <b>reconstruction + β · KL</b> (the negative ELBO); β = 1 is the standard VAE,
a larger β trades sharper images for a tidier latent space. The <i>Loss curves</i> panel shows
both terms as training goes.</p>

<h3>Continuity and completeness</h3>
<p>Two properties make a latent space useful for generating images:</p>
<ul>
<li><b>Continuity</b>: points close together decode to similar images, so walking across the map
morphs one image smoothly into another.</li>
<li><b>Completeness</b>: every point in the region the prior covers decodes to something meaningful,
so sampling <i>z</i> from the prior gives plausible new images.</li>
</ul>
<p>A plain AE has neither: its codes may spread far apart with empty gaps whose decodings are
garbage. The VAE's sampling gives continuity and its KL term gives completeness. The AE vs VAE page
trains both with latent size 16 and shows it: the AE's prior samples decode to smudges, the VAE's to
digits. With latent size 2 the two come out close (the AE has no room to leave gaps).</p>

<h3>Using the map</h3>
<ul>
<li><b>Click</b> anywhere on the map to decode that exact latent point in the <i>Preview</i>;
<b>drag</b> with the left button to scrub through the space and watch the image change.</li>
<li>Click a <b>dot</b> to select that test image: the preview shows the original, its reconstruction
and its μ and σ; the crosses around it are samples from its <i>q(z|x)</i>. Hover a dot to see its image.</li>
<li><b>Decoded manifold</b> tiles the map with the images the decoder makes across it;
<b>σ ellipses</b> show how wide some posteriors are; the dashed circles are the prior's 1σ and 2σ.</li>
<li>With a latent size above 2 the map is a 2-D slice: choose two axes (the others held at 0, or at
the selected image's μ) or the plane of the encodings' two main directions (PCA).</li>
<li>Scroll to zoom; drag with the right or middle button (or Shift and the left button) to pan;
the small <b>A</b> button in the map's lower left corner shows everything again.</li>
</ul>

<h3>Trying it in a lab session</h3>
<ol>
<li>Train a VAE with latent size 2 on MNIST for a few epochs and watch the map organise itself.</li>
<li>Train an AE with the same settings and compare: where are the gaps, what does the decoder make
of them?</li>
<li>Raise β in the training panel: what happens to the KL term, the map and the images?</li>
<li>Save models with <b>Ctrl+S</b>; open them later with <b>Ctrl+O</b> or by dropping the
<code>.vae</code> file on the window.</li>
</ol>
"""


class GuideDialog(QDialog):
    """The concepts guide; not modal, so it can stay open beside the map during an exercise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guideDialog")
        self.setWindowTitle("VAE Studio Guide")
        self.resize(640, 720)
        browser = QTextBrowser(self)
        browser.setObjectName("guideText")
        browser.setOpenExternalLinks(True)
        browser.setHtml(GUIDE_HTML)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(browser)
        layout.addWidget(buttons)


def about_text() -> str:
    """The About box's rich text: what the app is and the versions a bug report needs."""
    return (
        f"<h3>VAE Studio {__version__}</h3>"
        "<p>See how autoencoders and variational autoencoders work: train a model, watch its latent "
        "space form, and decode any point of it.</p>"
        f"<p>Python {platform.python_version()} · PyTorch {torch.__version__} · "
        f"Qt {qVersion()} (PySide6 {PySide6.__version__}) · pyqtgraph {pg.__version__} · "
        f"NumPy {np.__version__}</p>"
        "<p>MIT licence.</p>"
    )


def show_about(parent: QWidget | None) -> None:
    QMessageBox.about(parent, "About VAE Studio", about_text())
