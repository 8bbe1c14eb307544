"""Modal screens: the one error modal for every worker failure, confirmations, the sample editor and the revision diff."""

from __future__ import annotations

import difflib
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from studio.text import shown


def describe_error(error: BaseException) -> tuple[str, str]:
    """Title and hint for any exception; SdrlError carries its own, anything else shows its type."""
    from engine.errors import SdrlError

    if isinstance(error, SdrlError):
        return error.title, error.hint
    return (
        f"{type(error).__name__}: {error}",
        "this is a bug in sdrl; please report it with the steps that led here",
    )


class ErrorModal(ModalScreen[None]):
    """Shows a failure's title and hint. Every worker failure in the studio ends here."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__()
        self.error_title = title
        self.error_hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error"):
            yield Label("Error", classes="dialog-title")
            yield Static(shown(self.error_title), id="error-title")
            if self.error_hint:
                yield Static(f"[b]fix:[/b] {shown(self.error_hint)}", id="error-hint")
            yield Button("Close", id="close", variant="error")

    def on_button_pressed(self) -> None:
        self.dismiss()


class ConfirmModal(ModalScreen[bool]):
    """Yes/no for destructive actions; y confirms, n or escape cancels."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(shown(self.question), id="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class EditSampleModal(ModalScreen[tuple[str, str] | None]):
    """Edit a sample's question and answer; ctrl+s saves, escape cancels."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, answer: str) -> None:
        super().__init__()
        self.question = question
        self.answer = answer

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label("Edit sample  (ctrl+s save, esc cancel)", classes="dialog-title")
            yield TextArea(self.question, id="edit-question")
            yield Input(self.answer, id="edit-answer", placeholder="answer")

    def action_save(self) -> None:
        question = self.query_one("#edit-question", TextArea).text.strip()
        answer = self.query_one("#edit-answer", Input).value.strip()
        if not question:
            self.notify("the question cannot be empty", severity="error")
            return
        self.dismiss((question, answer))

    def action_cancel(self) -> None:
        self.dismiss(None)


def side_by_side(left: str, right: str) -> tuple[Text, Text]:
    """Two aligned columns: removed lines red on the left, added lines green on the right."""
    a, b = left.splitlines(), right.splitlines()
    out_a, out_b = Text(), Text()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for line in a[i1:i2]:
                out_a.append(line + "\n", "dim")
                out_b.append(line + "\n", "dim")
            continue
        old, new = a[i1:i2], b[j1:j2]
        for k in range(max(len(old), len(new))):
            out_a.append(
                (old[k] if k < len(old) else "") + "\n", "bold red" if k < len(old) else ""
            )
            out_b.append(
                (new[k] if k < len(new) else "") + "\n", "bold green" if k < len(new) else ""
            )
    return out_a, out_b


class DiffModal(ModalScreen[None]):
    """Side-by-side diff of two revisions of the task definition."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, left_title: str, left: str, right_title: str, right: str) -> None:
        super().__init__()
        self.titles = (left_title, right_title)
        self.texts = side_by_side(left, right)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="full"), Horizontal(id="diff"):
            for title, text in zip(self.titles, self.texts, strict=True):
                with VerticalScroll(classes="diff-side"):
                    yield Label(title, classes="dialog-title")
                    yield Static(text)


class TextModal(ModalScreen[None]):
    """A titled block of plain text lines (shown as data, never as markup), closed with escape."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.text_title = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.text_title, classes="dialog-title")
            yield Static(Text("\n".join(self.lines)), id="text-body")


class PickModal(ModalScreen[str | None]):
    """Choose one of a few named options from a list (type to jump, enter picks, escape cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, options: list[tuple[str, str]], current: str | None = None
    ) -> None:
        """`options` are (value, text shown) pairs."""
        super().__init__()
        self.title_text = title
        self.options = options
        self.current = current

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(
                *(Option(shown(text), id=value) for value, text in self.options), id="pick"
            )

    def on_mount(self) -> None:
        from textual.widgets import OptionList

        picker = self.query_one("#pick", OptionList)
        values = [value for value, _ in self.options]
        if self.current in values:
            picker.highlighted = values.index(self.current)
        picker.focus()

    def on_option_list_option_selected(self, event: Any) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
