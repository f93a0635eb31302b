"""Dockable panels of the main window: one module each; they talk only through the shared AppState."""
