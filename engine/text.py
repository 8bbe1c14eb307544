"""Text from data, made safe to show: control characters become visible escapes (`\\x1b`), never act.

Ingest and the store keep the original text; only what is shown goes through `visible`
(CLI output of data and the studio's widgets alike), so a passage or a model's answer can never
clear the screen, switch to the alternate screen, set the window title or ring the bell.
"""

from __future__ import annotations

# C0 controls (except tab and newline), DEL and C1 controls (0x9b is a one-byte CSI), plus the
# bidirectional overrides and isolates that reorder how a line reads ("Trojan Source").
_CONTROLS = [c for c in range(0x20) if chr(c) not in "\n\t"] + list(range(0x7F, 0xA0))
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TABLE = {c: f"\\x{c:02x}" for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in _BIDI}
_LINE_TABLE = _TABLE | {ord("\n"): " ", ord("\t"): " "}


def visible(text: object) -> str:
    """`text` as a string whose control characters (all but newline and tab) read like `\\x1b`.

    A Windows line end (CR LF) counts as a newline; a lone CR is shown, since it would let a line
    overwrite itself.
    """
    return str(text).replace("\r\n", "\n").translate(_TABLE)


def visible_line(text: object, limit: int | None = None) -> str:
    """`text` on one line: whitespace runs become one space, controls are made visible, cut to `limit`."""
    line = " ".join(str(text).replace("\r\n", "\n").translate(_LINE_TABLE).split())
    return line if limit is None else line[:limit]
