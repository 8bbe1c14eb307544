"""The sdrl studio: a keyboard-first Textual TUI over the engine. The only package that imports Textual."""

SCREENS = ("task", "preview", "samples", "pipeline", "train", "eval")
"""Screen names in key order (1-6); each is a module in studio.screens. Importing this costs nothing."""
