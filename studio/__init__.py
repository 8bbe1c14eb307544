"""The sdrl studio: a keyboard-first Textual TUI over the engine. The only package that imports Textual."""
