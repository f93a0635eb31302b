"""The panels of the main window: one module or package each, on the protocol of base.py; they talk only through the shared AppState."""
