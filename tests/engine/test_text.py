"""The one sanitiser: every control character but newline and tab is shown, never acted on."""

from __future__ import annotations

import pytest

from engine.text import visible, visible_line

HOSTILE = [
    "\x1b[2J",  # clear screen
    "\x1b[?1049h",  # alternate screen
    "\x1b]0;pwned\x07",  # OSC: window title
    "\x00",  # NUL
    "\x9b31m",  # one-byte CSI (C1)
    "\x7f",
    "\r",
    "\u202e",  # right-to-left override
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_no_control_character_survives(hostile: str) -> None:
    shown = visible(f"before{hostile}after")
    assert shown.startswith("before") and shown.endswith("after")
    assert all(ch in "\n\t" or (ch.isprintable() and ch != "\u202e") for ch in shown)


def test_escapes_read_like_python() -> None:
    assert visible("a\x1b[2Jb\x00") == "a\\x1b[2Jb\\x00"
    assert visible("x\u202ey") == "x\\u202ey"


def test_newline_tab_and_crlf_kept() -> None:
    assert visible("a\n\tb\r\nc") == "a\n\tb\nc"
    assert visible("plain text, ünïcödé ✓") == "plain text, ünïcödé ✓"


def test_visible_line_one_line_and_cut() -> None:
    assert visible_line("  a\n\n b\t c \x1b[1m", 20) == "a b c \\x1b[1m"
    assert visible_line("abcdef", 3) == "abc"
    assert "\n" not in visible_line("a\r\nb\x0bc")


def test_non_strings_are_shown_as_str() -> None:
    assert visible(3) == "3"
    assert visible(None) == "None"
