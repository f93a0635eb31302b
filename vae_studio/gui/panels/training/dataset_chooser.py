"""The training panel's data set chooser: built-in sets, folders opened by the user, and what the loader is loading (a mixin)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from ....core.data import DATASET_CHOICES
from ....core.vocabulary import parse_spec, spec_label
from ...work.dataset_loader import folder_spec
from .form import OPEN_FOLDER


class DatasetChooser:
    """The training panel's data set chooser, kept in step with the loader and the state."""

    # -- data set chooser ------------------------------------------------------------
    def _on_dataset_chosen(self, index: int) -> None:
        if self._syncing_combo:
            return
        spec = self.datasetCombo.itemData(index)
        if spec == OPEN_FOLDER:
            folder = QFileDialog.getExistingDirectory(self, "Open a folder of images or IDX files")
            if not folder:
                self._sync_dataset_combo()
                return
            spec = folder_spec(folder)
            self._select_spec(spec)
        current = self.state.dataset
        if current is not None and current.name == spec:
            return
        self.loader.load(spec)

    def _on_loading(self, spec: str) -> None:
        self._loading_spec = spec
        self.datasetInfo.setText(f"Loading {spec_label(spec)}…")
        self._update_controls()

    def _on_load_failed(self, _message: str) -> None:
        """The main window shows the loader's message; the chooser goes back to the data set in use."""
        failed, self._loading_spec = self._loading_spec, None
        # A custom entry that failed to load is dropped rather than left as a trap in the list.
        index = self.datasetCombo.findData(failed)
        if failed is not None and failed not in DATASET_CHOICES and index >= 0:
            self._syncing_combo = True
            self.datasetCombo.removeItem(index)
            self._syncing_combo = False
        self._sync_dataset_combo()
        self._update_controls()

    def _on_dataset(self) -> None:
        dataset = self.state.dataset
        if dataset is not None and dataset.name == self._loading_spec:
            self._loading_spec = None
        self._sync_dataset_combo()
        self._update_controls()

    def _select_spec(self, spec: str) -> None:
        """Show ``spec`` in the chooser, adding an entry for a folder (before the separator)."""
        index = self.datasetCombo.findData(spec)
        self._syncing_combo = True
        if index < 0:
            index = self.datasetCombo.count() - 2
            self.datasetCombo.insertItem(index, spec_label(spec), spec)
            self.datasetCombo.setItemData(index, parse_spec(spec)[1], Qt.ItemDataRole.ToolTipRole)
        self.datasetCombo.setCurrentIndex(index)
        self._syncing_combo = False

    def _sync_dataset_combo(self) -> None:
        """The chooser follows the data set in use (including one loaded for a model or from the File menu)."""
        dataset = self.state.dataset
        if dataset is not None:
            self._select_spec(dataset.name)
            shape = "×".join(map(str, dataset.image_shape))
            classes = f" · {dataset.num_classes} classes" if dataset.labelled else " · unlabelled"
            self.datasetInfo.setText(
                f"{len(dataset.train_images):,} training · {len(dataset.test_images):,} test images\n{shape}{classes}"
            )
        elif self._loading_spec is None:
            self.datasetInfo.setText("No data set loaded.")
