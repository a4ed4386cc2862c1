"""The main window: docks, menus, opening and saving sessions, and the one shutdown path.

The layout (``QMainWindow.saveState``) and geometry are stored in the session's ``/ui`` group
when it is saved and restored when it is opened. Closing the window asks about unsaved work,
then stops and joins every job before the window goes away, so nothing is left running and the
runs that were live are closed with their samples.

Safety: the session holds its file's lock (a locked file is neither opened nor saved onto, with
a clear message), live runs record into recordings beside it, File > Recover… (and opening a
session, and the start of the application) offers the recordings killed programs left, and
File > Autosave… sets the autosave interval (QSettings ``autosaveMinutes``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTime
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QWidget

from lab.core import timers
from lab.core.jobs import JobManager
from lab.core.kinds import complete_recorded, run_kind, view_of
from lab.geometry.controller import GeometryController
from lab.ising.controller import LiveIsingController
from lab.rbm.controller import RBMTrainingController
from lab.reproduce.controller import ReproduceController
from lab.rg.controller import RGController
from lab.scan.controller import ScanController
from lab.session.autosave import SETTINGS_KEY, Autosaver, minutes_setting
from lab.session.session import Session, SessionFileError, SessionLockedError
from lab.sweep.controller import SweepController
from widgets.common.dock import FeatureDock
from widgets.geometry.dock import GeometryDock
from widgets.ising.dock import IsingDock
from widgets.rbm.dock import RBMDock
from widgets.reproduce.dock import ReproduceDock
from widgets.rg.dock import RGDock
from widgets.scan.dock import ScanDock
from widgets.shell import dialogs, guide
from widgets.shell.log_dock import LogDock
from widgets.shell.session_browser import SessionBrowserDock
from widgets.sweep.dock import SweepDock

MAX_RECENT = 8
FILE_FILTER = "Monge Lab sessions (*.h5 *.hdf5);;All files (*)"


class MainWindow(QMainWindow):
    """Monge Lab's window: Ising lattice, temperature scan, RBM trainer, RG comparator, session
    and log docks."""

    def __init__(self, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.session = session if session is not None else Session(self)
        self.jobs = JobManager(self)
        self.live = LiveIsingController(self.session, self.jobs, self)
        self.scan = ScanController(self.session, self.jobs, self)
        self.rbm = RBMTrainingController(self.session, self.jobs, self)
        self.rg = RGController(self.session, self.jobs, self)
        self.geometry = GeometryController(self.session, self.jobs, self.rbm, self)
        self.reproduce = ReproduceController(self.session, self.jobs, self)
        self.sweep = SweepController(self.session, self.jobs, self)
        self.setDockNestingEnabled(True)

        self.ising_dock = IsingDock(self.live, self)
        self.scan_dock = ScanDock(self.scan, self)
        self.rbm_dock = RBMDock(self.rbm, self)
        self.rg_dock = RGDock(self.rg, self)
        self.geometry_dock = GeometryDock(self.geometry, self)
        self.reproduce_dock = ReproduceDock(self.reproduce, self)
        self.sweep_dock = SweepDock(self.sweep, self)
        self.browser_dock = SessionBrowserDock(self.session, self)
        self.log_dock = LogDock(self.session, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.ising_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.browser_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.log_dock)
        self.tabifyDockWidget(self.ising_dock, self.scan_dock)
        self.tabifyDockWidget(self.ising_dock, self.rbm_dock)
        self.tabifyDockWidget(self.ising_dock, self.rg_dock)
        self.tabifyDockWidget(self.ising_dock, self.geometry_dock)
        self.tabifyDockWidget(self.ising_dock, self.reproduce_dock)
        self.tabifyDockWidget(self.ising_dock, self.sweep_dock)
        self.ising_dock.raise_()
        self.resize(1500, 950)
        self.resizeDocks([self.browser_dock], [430], Qt.Orientation.Horizontal)
        self.resizeDocks([self.browser_dock, self.log_dock], [600, 300], Qt.Orientation.Vertical)
        self._default_state = self.saveState()

        self._build_menus()
        self.browser_dock.runSelected.connect(self.show_run)
        self.session.pathChanged.connect(lambda _: self._update_title())
        self.session.dirtyChanged.connect(lambda _: self._update_title())
        self.session.logAppended.connect(lambda line: self.statusBar().showMessage(line, 8000))
        self.autosaver = Autosaver(self.session, self._autosave_now, self)
        self.autosaver.saved.connect(
            lambda _: self.statusBar().showMessage(
                f"autosaved at {QTime.currentTime().toString('hh:mm')}"
            )
        )
        self.autosaver.failed.connect(lambda text: self.statusBar().showMessage(text))
        self.autosaver.set_minutes(minutes_setting(self._settings().value(SETTINGS_KEY, 0)))
        self._update_title()

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "&New", self.new_session, QKeySequence.StandardKey.New)
        self._add_action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = QMenu("Open &Recent", self)
        file_menu.addMenu(self.recent_menu)
        self._add_action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._add_action(file_menu, "Save &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        self._add_action(file_menu, "Re&cover…", lambda: self.offer_recovery(on_demand=True))
        self._add_action(file_menu, "Auto&save…", self.choose_autosave)
        file_menu.addSeparator()
        self._add_action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self._rebuild_recent()

        view_menu = self.menuBar().addMenu("&View")
        for dock in (*self.feature_docks, self.browser_dock, self.log_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        self._add_action(view_menu, "Restore &default layout", self.restore_default_layout)

        help_menu = self.menuBar().addMenu("&Help")
        self._add_action(
            help_menu,
            "&User guide",
            lambda: self._open_dialog(guide.user_guide_dialog(self)),
            QKeySequence.StandardKey.HelpContents,
        )
        self._add_action(
            help_menu,
            "The &session file",
            lambda: self._open_dialog(guide.session_format_dialog(self)),
        )
        help_menu.addSeparator()
        self._add_action(
            help_menu,
            "&About Monge Lab",
            lambda: self._open_dialog(guide.about_box(self.session.path, self)),
        )

    def _open_dialog(self, dialog: QWidget) -> None:
        """Show a Help window (modeless; it deletes itself when closed)."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def _add_action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _update_title(self) -> None:
        name = self.session.path.name if self.session.path else "untitled"
        self.setWindowTitle(f"{name}{' *' if self.session.dirty else ''} — Monge Lab")

    # ------------------------------------------------------------------ layout
    def restore_default_layout(self) -> None:
        for dock in (*self.feature_docks, self.browser_dock, self.log_dock):
            dock.setVisible(True)
        self.restoreState(self._default_state)

    def _store_layout(self) -> None:
        self.session.set_ui("window_state", bytes(self.saveState().data()))
        self.session.set_ui("window_geometry", bytes(self.saveGeometry().data()))

    def _restore_layout(self) -> None:
        ui = self.session.record.ui
        if "window_geometry" in ui:
            self.restoreGeometry(QByteArray(bytes(ui["window_geometry"])))
        if "window_state" in ui:
            self.restoreState(QByteArray(bytes(ui["window_state"])))

    # ------------------------------------------------------------------ files
    def _busy(self) -> bool:
        if self.jobs.active():
            dialogs.show_error(
                self,
                "A job is running",
                "Stop the running simulation or scan before replacing the session.",
            )
            return True
        return False

    def _settle_unsaved(self) -> bool:
        """Ask what to do with unsaved changes; False when the user cancels."""
        if not self.session.dirty:
            return True
        answer = dialogs.ask_save_changes(self)
        if answer == "cancel":
            return False
        if answer == "save":
            return self.save()
        return True

    def new_session(self) -> None:
        if self._busy() or not self._settle_unsaved():
            return
        self.session.clear()
        self.restore_default_layout()

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", FILE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a session file; a bad file gives one clear message and changes nothing."""
        if self._busy() or not self._settle_unsaved():
            return False
        try:
            self.session.load(path)
        except SessionLockedError as exc:
            dialogs.show_locked(self, "Session in use", str(exc))
            return False
        except SessionFileError as exc:
            dialogs.show_error(self, "Cannot open session", str(exc))
            return False
        self._restore_layout()
        self._remember_recent(Path(path))
        self.statusBar().showMessage(f"opened {path}", 5000)
        self.offer_recovery(on_demand=False)
        return True

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.h5", FILE_FILTER)
        if not path:
            return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        self._store_layout()
        try:
            self.session.save(path)
        except SessionLockedError as exc:
            dialogs.show_locked(self, "Session in use", str(exc))
            return False
        except (SessionFileError, OSError, ValueError) as exc:
            dialogs.show_error(self, "Cannot save session", str(exc))
            return False
        self._remember_recent(path)
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    # ------------------------------------------------------------------ safety
    def offer_recovery(self, on_demand: bool) -> list[str]:
        """Offer the recordings left by killed programs (the session's and those of sessions
        never saved); returns the ids of the runs recovered. ``on_demand``: say so when there is
        nothing to recover (at start and on open, stay silent)."""
        items = self.session.recoverable()
        if not items:
            if on_demand:
                dialogs.show_info(self, "Recover", "There are no recorded runs to recover.")
            return []
        choice, chosen = dialogs.ask_recovery(self, items)
        if choice == "discard":
            self.session.discard_recordings(chosen)
        if choice != "recover" or not chosen:
            return []
        try:
            ids = self.session.recover(chosen, finish=complete_recorded)
        except (SessionFileError, OSError) as exc:  # the save after recovering failed
            dialogs.show_error(self, "Cannot save session", str(exc))
            return []
        self.statusBar().showMessage(f"recovered {len(ids)} run(s)", 8000)
        if self.session.unrecovered:
            lines = [f"{item.path.name}: {why}" for item, why in self.session.unrecovered]
            dialogs.show_error(
                self,
                "Some recordings were not recovered",
                "These recordings could not be read or completed; they are kept where they are:"
                "\n\n" + "\n".join(lines),
            )
        return ids

    def choose_autosave(self) -> None:
        minutes = dialogs.ask_autosave_minutes(
            self, minutes_setting(self._settings().value(SETTINGS_KEY, 0))
        )
        if minutes is not None:
            self.autosaver.set_minutes(minutes)
            self._settings().setValue(SETTINGS_KEY, minutes)

    def _autosave_now(self) -> Path:
        self._store_layout()
        return self.session.save()

    # ------------------------------------------------------------------ recent files
    @staticmethod
    def _settings() -> QSettings:
        return QSettings("MongeLab", "MongeLab")

    def recent_files(self) -> list[str]:
        value = self._settings().value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember_recent(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        files = [entry] + [f for f in self.recent_files() if f != entry]
        self._settings().setValue("recentFiles", files[:MAX_RECENT])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for path in files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(files))

    # ------------------------------------------------------------------ runs
    @property
    def feature_docks(self) -> list[FeatureDock]:
        """The docks of the features, in tab order."""
        return [
            self.ising_dock,
            self.scan_dock,
            self.rbm_dock,
            self.rg_dock,
            self.geometry_dock,
            self.reproduce_dock,
            self.sweep_dock,
        ]

    def show_run(self, run_id: str) -> None:
        """Show run ``run_id`` in the dock its kind names (lab.core.kinds), if any."""
        run = self.session.run(run_id)
        wanted = run_kind(run.kind).dock
        for dock in self.feature_docks:
            if wanted and dock.objectName() == wanted:
                dock.show_run(view_of(run))
                dock.raise_()
                return

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        """Stop every timer and job and deliver their last results to the session."""
        timers.stop_all()
        self.autosaver.timer.stop()
        self.jobs.shutdown()  # joins the workers, then delivers their last events here

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 — Qt naming
        if self.session.dirty or self.jobs.active():
            answer = dialogs.ask_save_changes(self)
            if answer == "cancel":
                event.ignore()
                return
            self.shutdown()
            if answer == "save" and not self.save():
                event.ignore()
                return
        else:
            self.shutdown()
        self.session.close()  # deletes saved or discarded recordings, releases the locks
        event.accept()
