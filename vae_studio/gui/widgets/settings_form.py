"""A settings form built from a declarative description: one :class:`Field` per setting.

Each field says its key (for QSettings and for reading the value), its label, the kind of widget,
its range, default and tooltip, the group box it sits in, and when it is enabled. The form builds
the widgets and their group boxes, enables every row with its label, and saves and restores the
values, so a panel lists its settings once instead of writing builders, enabling code and
persistence by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

Values = Mapping[str, object]
ChoiceItems = tuple[tuple[str, str, bool], ...]  # (key, label, enabled)


@dataclass(frozen=True)
class Field:
    key: str  # QSettings key and the name values() uses
    name: str  # the widget's objectName (and the panel attribute that holds it)
    label: str  # "" for a row without a label
    kind: str  # "int", "float", "log" (decades, 1-2-5 steps), "choice", "info" (a label) or "custom"
    group: str
    tooltip: str = ""
    range: tuple[float, float] = (0, 0)
    default: object = None
    step: float | None = None
    decimals: int | None = None
    prefix: str = ""
    suffix: str = ""
    special: str = ""  # shown for the minimum (e.g. "all")
    choices: ChoiceItems | Callable[[], ChoiceItems] = ()
    factory: Callable[[], QWidget] | None = None  # kind "custom": the panel's own widget
    persist: bool = True
    while_busy: bool = False  # may change while the panel is busy (e.g. a training run)
    enabled_when: Callable[[Values], bool] | None = None  # besides idleness, from the other values


class LogSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (a learning rate): the arrows step 1, 2, 5, 10, 20, …
    and typed values such as ``3e-4`` are accepted."""

    def __init__(self, minimum: float, maximum: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # QDoubleSpinBox rounds every value to its decimals
        self.setRange(minimum, maximum)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt's name)
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt's name)
        value = self.value()
        for _ in range(abs(steps)):
            value = step_125(value, 1 if steps > 0 else -1)
        self.setValue(value)


def step_125(value: float, direction: int) -> float:
    """The next value of the 1-2-5 sequence above (direction 1) or below (-1) ``value``."""
    exponent = math.floor(math.log10(value))
    candidates = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if direction > 0:
        chosen = min(c for c in candidates if c > value * (1 + 1e-9))
    else:
        chosen = max(c for c in candidates if c < value * (1 - 1e-9))
    return float(f"{chosen:.3g}")


def _make_widget(field: Field) -> QWidget:
    if field.kind == "custom":
        assert field.factory is not None, field.key
        widget = field.factory()
    elif field.kind == "info":
        widget = QLabel()
        widget.setStyleSheet("color: palette(mid);")
    elif field.kind == "choice":
        widget = QComboBox()
        choices = field.choices() if callable(field.choices) else field.choices
        for key, label, enabled in choices:
            widget.addItem(label, key)
            widget.model().item(widget.count() - 1).setEnabled(enabled)
        if field.default is not None:
            widget.setCurrentIndex(max(widget.findData(field.default), 0))
    else:
        widget = {"int": QSpinBox, "float": QDoubleSpinBox}.get(field.kind, LogSpinBox)(*(
            field.range if field.kind == "log" else ()
        ))  # fmt: skip
        if field.kind != "log":
            widget.setRange(*field.range)
        if field.decimals is not None:
            widget.setDecimals(field.decimals)
        if field.step is not None:
            widget.setSingleStep(field.step)
        widget.setPrefix(field.prefix)
        widget.setSuffix(field.suffix)
        widget.setSpecialValueText(field.special)
        if isinstance(widget, QSpinBox) and field.range[1] >= 10_000:
            widget.setGroupSeparatorShown(True)
        if field.default is not None:
            widget.setValue(field.default)
    widget.setObjectName(field.name)
    widget.setToolTip(field.tooltip)
    return widget


class SettingsForm:
    """The widgets of a list of fields, in group boxes (see the module docstring)."""

    def __init__(self, fields: tuple[Field, ...], settings_group: str) -> None:
        self.fields = fields
        self.settings_group = settings_group
        self.widgets: dict[str, QWidget] = {field.key: _make_widget(field) for field in fields}
        self._forms: dict[str, QFormLayout] = {}
        self.groups: dict[str, QGroupBox] = {}
        for field in fields:
            form = self._forms.get(field.group)
            if form is None:
                box = QGroupBox(field.group)
                form = QFormLayout(box)
                form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
                self._forms[field.group], self.groups[field.group] = form, box
            widget = self.widgets[field.key]
            if field.label:
                form.addRow(field.label, widget)
                form.labelForField(widget).setToolTip(field.tooltip)
            else:
                form.addRow(widget)

    def form(self, group: str) -> QFormLayout:
        return self._forms[group]

    def value(self, key: str) -> object:
        """A field's value: a choice's key, a spin box's number, a label's text."""
        widget = self.widgets[key]
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            return widget.value()
        return widget.text() if isinstance(widget, QLabel) else None

    def values(self) -> dict[str, object]:
        return {field.key: self.value(field.key) for field in self.fields}

    def set_busy(self, busy: bool) -> None:
        """Enable each row with its label: while busy only ``while_busy`` fields, and each by its rule."""
        values = self.values()
        for field in self.fields:
            enabled = (field.while_busy or not busy) and (field.enabled_when is None or field.enabled_when(values))
            widget = self.widgets[field.key]
            widget.setEnabled(enabled)
            label = self._forms[field.group].labelForField(widget)
            if label is not None:
                label.setEnabled(enabled)

    def save(self) -> None:
        settings = QSettings()
        settings.beginGroup(self.settings_group)
        for field in self.fields:
            if field.persist:
                settings.setValue(field.key, self.value(field.key))
        settings.endGroup()

    def restore(self) -> None:
        """Saved values back into the widgets; a value that does not fit (an edited file, another version)
        or a choice that is disabled here keeps the default."""
        settings = QSettings()
        settings.beginGroup(self.settings_group)
        for field in self.fields:
            value = settings.value(field.key) if field.persist else None
            if value is None:
                continue
            widget = self.widgets[field.key]
            try:
                if isinstance(widget, QComboBox):
                    index = widget.findData(str(value))
                    if index >= 0 and widget.model().item(index).isEnabled():
                        widget.setCurrentIndex(index)
                elif isinstance(widget, QDoubleSpinBox):
                    widget.setValue(float(value))
                elif isinstance(widget, QSpinBox):
                    widget.setValue(int(value))
            except (TypeError, ValueError):
                continue
        settings.endGroup()
