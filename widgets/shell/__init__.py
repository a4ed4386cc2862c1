"""The application shell: app, main window, session browser, log, dialogs."""
