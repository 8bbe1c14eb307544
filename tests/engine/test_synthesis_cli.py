"""The synthesis commands end to end with the real bundled model: preview --keep, label, samples list/show."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_preview_keep_label_and_show(workspace, sdrl) -> None:
    root = workspace.root
    workspace.task_file.write_text(
        workspace.task_file.read_text().replace(
            "max_tokens = 256\nvote_max_tokens = 256", "max_tokens = 160\nvote_max_tokens = 96"
        )
    )
    preview = sdrl("preview", "-n", "1", "--seed", "3", "--keep", cwd=root)
    assert preview.returncode == 0, preview.stderr
    # the demo asks by few-shot text: the stream is a question, then "Answer:" (no JSON)
    assert "Answer:" in preview.stdout or "unparseable" in preview.stdout
    assert '{"input"' not in preview.stdout.replace(" ", "")
    listed = json.loads(sdrl("samples", "list", "--json", cwd=root).stdout)
    if (
        "kept 1" not in preview.stdout
    ):  # the tiny model's reply did not parse: shown, counted, nothing stored
        assert listed == []
        return
    assert len(listed) == 1 and listed[0]["origin"] == "manual" and listed[0]["status"] == "pending"
    label = sdrl("label", "--votes", "1", cwd=root)
    assert label.returncode == 0, label.stderr
    shown = sdrl("samples", "show", str(listed[0]["id"]), cwd=root)
    assert shown.returncode == 0 and "Question:" in shown.stdout and "Passage:" in shown.stdout
    assert "Votes (2; 0 = the generator's own)" in shown.stdout
    missing = sdrl("samples", "show", "999", cwd=root)
    assert missing.returncode == 2 and "no sample 999" in missing.stderr
