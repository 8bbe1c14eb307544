"""The virtual table reads only the pages on screen, however large the pool."""

from __future__ import annotations

from engine import queries
from engine.queries import SampleQuery
from studio.widgets.virtual_table import PAGE, VirtualTable
from tests.studio.sample_data import add_samples


async def test_only_visible_pages_are_fetched(workspace, make_app):
    add_samples(workspace, 5000, details=False)
    app = make_app(workspace, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(VirtualTable)
        fetched: list[tuple[int, int]] = []
        original = table.fetch

        def spy(offset: int, limit: int):
            fetched.append((offset, limit))
            return original(offset, limit)

        table.fetch = spy
        table.reload()
        await pilot.pause()
        assert table.total == 5000
        assert fetched == [(0, PAGE)]
        await pilot.press("end")
        await pilot.pause()
        assert table.current.id == 5000
        assert len(fetched) <= 3 and all(limit == PAGE for _, limit in fetched)
        assert "item 4999" in str(app.screen.query_one("#detail").render()) or table.cursor == 4999
        await pilot.press("pageup")
        assert table.cursor < 4999


def test_page_query_sorts_filters_and_pages(workspace):
    add_samples(workspace, 300, details=False)
    rid = workspace.store.latest_revision().id
    q = SampleQuery(sort="pass_rate", descending=True)
    first = queries.sample_page(workspace.store, rid, q, 0, 10)
    assert [r.pass_rate for r in first] == [1.0] * 10
    ids = [
        r.id
        for off in range(0, 300, 50)
        for r in queries.sample_page(workspace.store, rid, q, off, 50)
    ]
    assert sorted(ids) == list(range(1, 301))  # paging covers every row once
    queries.decide(workspace.store, [5, 6], "reject")
    assert queries.count_samples(workspace.store, rid, SampleQuery(status="rejected")) == 2
    queries.decide(workspace.store, [5], "edit", question="new?", answer="7")
    queries.decide(workspace.store, [5], "pin")
    row = queries.sample_row(workspace.store, 5)
    assert (row.status, row.question, row.label) == (
        "pinned",
        "new?",
        "7",
    )  # pinning keeps the edit
    queries.undo_decision(workspace.store, [5])
    assert queries.sample_row(workspace.store, 5).status == "rejected"
    assert (
        queries.count_samples(workspace.store, rid, SampleQuery(search="item 29")) == 11
    )  # 29, 290..299
