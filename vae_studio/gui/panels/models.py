"""The Models panel: every model of the session, to show, rename, save and remove."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSettings, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.checkpoint import FILE_SUFFIX, save_checkpoint
from ...core.errors import VaeStudioError
from ...core.trained_model import TrainedModel
from .base import Panel

CHECKPOINT_FILTER = f"VAE Studio checkpoints (*{FILE_SUFFIX})"
_FOLDER_KEY = "files/checkpointFolder"

# Item data beside the name (DisplayRole, which is also what inline editing changes).
DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1
UNSAVED_ROLE = Qt.ItemDataRole.UserRole + 2


def checkpoint_folder() -> str:
    """The folder checkpoint dialogs start in: the last one used, else the user's documents."""
    folder = QSettings().value(_FOLDER_KEY, "", type=str)
    if folder and Path(folder).is_dir():
        return folder
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())


def remember_checkpoint_folder(path: str | os.PathLike[str]) -> None:
    """Remember the folder of a checkpoint just opened or saved, for the next dialog."""
    QSettings().setValue(_FOLDER_KEY, str(Path(path).parent))


def checkpoint_file_name(name: str) -> str:
    """A file name for a model's checkpoint: the model name without characters file systems reject."""
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "model"
    return stem + FILE_SUFFIX


class _ModelDelegate(QStyledItemDelegate):
    """Draws each model on two lines: its name in bold (tagged when unsaved) over its description."""

    PADDING = 6

    def _lines(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, int, int]:
        name_font = QFont(option.font)
        name_font.setBold(True)
        text_font = QFont(option.font)
        return name_font, text_font, QFontMetrics(name_font).height(), QFontMetrics(text_font).height()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        _, _, name_h, text_h = self._lines(option)
        return QSize(200, name_h + text_h + 3 * self.PADDING)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the style draws background, selection and focus; the text is drawn below
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)

        name_font, text_font, name_h, text_h = self._lines(opt)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Normal
            if opt.state & QStyle.StateFlag.State_Enabled
            else QPalette.ColorGroup.Disabled
        )
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_color = opt.palette.color(group, text_role)
        dim_color = text_color if selected else opt.palette.color(group, QPalette.ColorRole.PlaceholderText)
        rect = opt.rect.adjusted(self.PADDING + 2, self.PADDING, -self.PADDING, -self.PADDING)

        painter.save()
        tag = "unsaved" if index.data(UNSAVED_ROLE) else ""
        tag_font = QFont(text_font)
        tag_font.setItalic(True)
        tag_width = QFontMetrics(tag_font).horizontalAdvance(tag) + self.PADDING if tag else 0
        name_rect = QRect(rect.left(), rect.top(), rect.width() - tag_width, name_h)
        painter.setFont(name_font)
        painter.setPen(text_color)
        name = QFontMetrics(name_font).elidedText(str(index.data()), Qt.TextElideMode.ElideRight, name_rect.width())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        if tag:
            painter.setFont(tag_font)
            painter.setPen(dim_color)
            tag_rect = QRect(rect.right() - tag_width + self.PADDING, rect.top(), tag_width, name_h)
            painter.drawText(tag_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, tag)
        description_rect = QRect(rect.left(), rect.top() + name_h + self.PADDING // 2, rect.width(), text_h)
        painter.setFont(text_font)
        painter.setPen(dim_color)
        description = QFontMetrics(text_font).elidedText(
            str(index.data(DESCRIPTION_ROLE)), Qt.TextElideMode.ElideRight, description_rect.width()
        )
        painter.drawText(description_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, description)
        painter.restore()

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        # The name editor covers the name line only, so the description stays readable while renaming.
        _, _, name_h, _ = self._lines(option)
        rect = option.rect
        editor.setGeometry(rect.left() + 2, rect.top() + 2, rect.width() - 4, name_h + 2 * self.PADDING)


class ModelsPanel(Panel):
    """Lists ``state.models``; selecting one makes it current. Locked while a model trains, because
    the training run's snapshots are shown as the current model's map."""

    name = "models"

    status_message = Signal(str)  # a short confirmation for the window's status bar

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._syncing = False

        self.list = QListWidget(self)
        self.list.setObjectName("modelsList")
        self.list.setItemDelegate(_ModelDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.list.setUniformItemSizes(True)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.list.itemChanged.connect(self._on_item_changed)

        self.empty_label = QLabel("No models yet.\nTrain one, or open a checkpoint (Ctrl+O).", self)
        self.empty_label.setObjectName("modelsEmptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)  # drawn in the disabled colour: a hint, not content

        self.rename_action = self._action(
            "Rename", "renameModel", "Rename the model (F2 or double-click)", self.rename_current, "F2"
        )
        self.save_action = self._action(
            "Save", "saveModel", "Save the model to its checkpoint file", lambda: self.save_model(self.state.current)
        )
        self.save_as_action = self._action(
            "Save As…",
            "saveModelAs",
            "Save the model to a new checkpoint file",
            lambda: self.save_model(self.state.current, choose_path=True),
        )
        self.remove_action = self._action(
            "Remove",
            "removeModel",
            "Remove the model from this session (its file stays on disk)",
            self.remove_current,
            QKeySequence.StandardKey.Delete,
        )

        self._lay_out()

        self.subscribe(self._sync, Event.MODELS, Event.CURRENT_MODEL, Event.TRAINING)
        self._sync()

    def _lay_out(self) -> None:
        """The list (or its empty message) over a row of tool buttons for the actions."""
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for action in (self.rename_action, self.save_action, self.save_as_action, self.remove_action):
            self.list.addAction(action)  # the list's context menu and its keyboard shortcuts
            # Tool buttons: narrower than push buttons, so the four fit the dock's default width.
            button = QToolButton(self)
            button.setDefaultAction(action)  # text, tip and enabled state follow the action
            button.setObjectName(action.objectName().replace("Action", "Button"))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addLayout(buttons)

    def _action(
        self,
        text: str,
        name: str,
        tip: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"{name}Action")
        action.setToolTip(tip)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            # Only while the list has focus: Delete must not remove a model while typing elsewhere.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # -- keeping the list in step with the state ------------------------------------
    def _sync(self) -> None:
        """Mirror ``state.models`` row for row; items are updated in place so an edit in progress survives."""
        self._syncing = True
        try:
            models = self.state.models
            while self.list.count() > len(models):
                self.list.takeItem(self.list.count() - 1)
            while self.list.count() < len(models):
                item = QListWidgetItem()
                item.setFlags(
                    Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable
                )
                self.list.addItem(item)
            for row, trained in enumerate(models):
                item = self.list.item(row)
                item.setText(trained.name)
                item.setData(DESCRIPTION_ROLE, trained.describe())
                item.setData(UNSAVED_ROLE, trained.unsaved)
                if trained.path is None:
                    where = "Not saved yet"
                else:
                    where = f"Saved in {trained.path}" + (" (changed since)" if trained.unsaved else "")
                item.setToolTip(f"{trained.name}\n{trained.describe()}\n{where}")
            current = self.state.current
            row = next((i for i, trained in enumerate(models) if trained is current), -1)
            self.list.setCurrentRow(row)
        finally:
            self._syncing = False
        has_models = bool(self.state.models)
        self.list.setVisible(has_models)
        self.empty_label.setVisible(not has_models)
        self.list.setEnabled(not self.state.training)
        self.list.setToolTip("The model list is locked while a model trains." if self.state.training else "")
        has_current = self.state.current is not None
        self.rename_action.setEnabled(has_current and not self.state.training)
        self.save_action.setEnabled(has_current)
        self.save_as_action.setEnabled(has_current)
        self.remove_action.setEnabled(has_current and not self.state.training)

    def _on_row_changed(self, row: int) -> None:
        if self._syncing or not 0 <= row < len(self.state.models):
            return
        if self.state.models[row] is not self.state.current:
            self.state.set_current(self.state.models[row])

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._syncing:
            return
        trained = self.state.models[self.list.row(item)]
        name = item.text().strip()
        if name and name != trained.name:
            self.state.rename_model(trained, name)
        else:
            self._sync()  # an empty or unchanged name: show the old one again

    # -- actions ------------------------------------------------------------------------
    def rename_current(self) -> None:
        """Start editing the current model's name in place (Enter commits, Escape cancels)."""
        item = self.list.currentItem()
        if item is not None:
            self.list.setFocus()
            self.list.editItem(item)

    def save_model(self, trained: TrainedModel | None, choose_path: bool = False) -> bool:
        """Save ``trained`` to its file, asking where for a new model or with ``choose_path``.

        Returns True when it was saved; False when the user cancelled or saving failed (after a message).
        """
        if trained is None:
            return False
        path = trained.path
        if choose_path or path is None:
            path = self.ask_save_path(trained)
            if path is None:
                return False
        try:
            save_checkpoint(trained, path)
        except VaeStudioError as exc:
            QMessageBox.warning(self, "Could not save the model", str(exc))
            return False
        remember_checkpoint_folder(path)
        self.state.models_changed()
        self.status_message.emit(f"Saved “{trained.name}” to {path}")
        return True

    def ask_save_path(self, trained: TrainedModel) -> Path | None:
        """The file to save ``trained`` to, from a dialog; None when cancelled."""
        start = trained.path or Path(checkpoint_folder()) / checkpoint_file_name(trained.name)
        name, _ = QFileDialog.getSaveFileName(self, f"Save “{trained.name}”", str(start), CHECKPOINT_FILTER)
        if not name:
            return None
        path = Path(name)
        # Not every platform's dialog adds the filter's suffix, and the app opens *.vae files.
        return path if path.suffix.lower() == FILE_SUFFIX else path.with_name(path.name + FILE_SUFFIX)

    def remove_current(self) -> None:
        """Remove the current model from the session (its file stays); asks first if it has unsaved changes."""
        trained = self.state.current
        if trained is None or self.state.training:
            return
        if trained.unsaved and not self.confirm_remove(trained):
            return
        self.state.remove_model(trained)
        self.status_message.emit(f"Removed “{trained.name}” from the session")

    def confirm_remove(self, trained: TrainedModel) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove model",
            f"“{trained.name}” has unsaved changes. Remove it anyway? Its changes will be lost.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard
