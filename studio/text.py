"""Data shown in the studio: control characters made visible (engine.text) and markup escaped, so a
passage or a model's answer is shown as written and never styles, links or drives the terminal."""

from __future__ import annotations

from engine.text import visible, visible_line


def _escape(text: str) -> str:
    # every "[" escaped (Textual's own escape leaves an unclosed "[/" that breaks a tag after it);
    # a trailing backslash would escape the tag that follows, so a zero-width space parts them
    escaped = text.replace("[", "\\[")
    return escaped + "\u200b" if escaped.endswith("\\") else escaped


def shown(text: object) -> str:
    """`text` ready for a widget that reads markup: controls visible, brackets escaped."""
    return _escape(visible(text))


def shown_line(text: object, limit: int | None = None) -> str:
    """`text` on one line (cut to `limit`), ready for a widget that reads markup."""
    return _escape(visible_line(text, limit))
