"""Opens the installed app's window offscreen, waits until it has loaded its default data set
(MNIST from the wheel's bundled copy) and closes it; exits non-zero on a load error or after 300 s."""

import sys
import time

from PySide6.QtWidgets import QApplication

from vae_studio.gui.main_window import MainWindow

app = QApplication([sys.argv[0]])
window = MainWindow()
failures: list[str] = []
window.loader.failed.connect(failures.append)
window.show()
deadline = time.monotonic() + 300
while window.state.dataset is None and not failures and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.05)
dataset = window.state.dataset
window.close()
app.processEvents()
if dataset is None:
    sys.exit(f"the window did not load its data set: {failures or 'timed out after 300 s'}")
print(f"window loaded {dataset.name}: {len(dataset.train_images)} train / {len(dataset.test_images)} test images")
