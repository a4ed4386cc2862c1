"""A replay bar: a slider over recorded frames with Play/Pause at a chosen speed.

Used by the docks that replay a recorded run (the Ising lattice's frames, the RBM's
checkpoints). It only picks an index: ``indexChanged(index)`` fires whenever the slider's value
changes, by hand or by playback, and the dock redraws everything for that index. Playback is a
``QTimer`` in the GUI thread firing ``speed`` times a second (frames or checkpoints per second,
:data:`MIN_SPEED` to :data:`MAX_SPEED`): replay only reads recorded arrays, so no worker is
needed. At the last index it stops, unless "loop" is checked; Play at the last index starts
again from the first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QSlider, QSpinBox, QWidget

MIN_SPEED, MAX_SPEED, DEFAULT_SPEED = 1, 60, 10


class ReplayBar(QWidget):
    """Slider, Play/Pause, speed (per second) and loop; emits the index shown."""

    indexChanged = Signal(int)

    def __init__(
        self, unit: str = "frames", slider_name: str = "replaySlider", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName=slider_name)
        self.play_button = QPushButton("Play", objectName="replayPlayButton")
        self.play_button.setEnabled(False)
        self.speed_box = QSpinBox(
            objectName="replaySpeedBox",
            minimum=MIN_SPEED,
            maximum=MAX_SPEED,
            value=DEFAULT_SPEED,
            suffix=f" {unit}/s",
        )
        self.speed_box.setToolTip(f"playback speed, {unit} per second")
        self.loop_box = QCheckBox("loop", objectName="replayLoopBox")
        self._count = 0
        self.timer = QTimer(self, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._advance)
        self.slider.valueChanged.connect(self.indexChanged)
        self.play_button.clicked.connect(self.toggle)
        self.speed_box.valueChanged.connect(self._set_interval)
        self._set_interval(self.speed_box.value())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.speed_box)
        layout.addWidget(self.loop_box)

    # ------------------------------------------------------------------ state
    @property
    def count(self) -> int:
        """How many indices the bar spans (0 when empty)."""
        return self._count

    @property
    def index(self) -> int:
        return self.slider.value()

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def set_count(self, count: int, index: int | None = None) -> None:
        """Span ``count`` indices and show ``index`` (default: keep it, within range).

        Emits ``indexChanged`` only if the value changes; an empty bar stops playing.
        """
        self._count = max(count, 0)
        if count <= 1:
            self.pause()
        self.slider.setRange(0, max(count - 1, 0))
        self.play_button.setEnabled(count > 1)
        if index is not None:
            self.slider.setValue(min(max(index, 0), max(count - 1, 0)))

    def set_index(self, index: int) -> None:
        self.slider.setValue(index)

    # ------------------------------------------------------------------ playback
    def play(self) -> None:
        """Start playing from the current index (from the first when at the last)."""
        if self._count <= 1:
            return
        if self.slider.value() == self.slider.maximum():
            self.slider.setValue(0)
        self.timer.start()
        self.play_button.setText("Pause")

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, per_second: int) -> None:
        self.speed_box.setValue(per_second)

    def _set_interval(self, per_second: int) -> None:
        self.timer.setInterval(max(1, round(1000 / per_second)))

    def _advance(self) -> None:
        value = self.slider.value()
        if value < self.slider.maximum():
            self.slider.setValue(value + 1)
        elif self.loop_box.isChecked():
            self.slider.setValue(0)
        else:
            self.pause()
