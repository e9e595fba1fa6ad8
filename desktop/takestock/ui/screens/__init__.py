"""The app's screens, one module each; the main window shows one at a time."""
