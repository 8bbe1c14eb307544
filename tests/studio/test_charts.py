"""Charts (issue 12 item 2): real plots with axes, fixed per-metric scales, a cursor step, a reset per run, two runs compared."""

from __future__ import annotations

from studio.widgets.charts import MetricChart, metric_scale, step_ticks, value_at
from studio.widgets.histogram import Histogram, integer_ticks
from tests.studio.sample_data import add_run

RUN, OTHER, EMPTY = "20260101-000000-abcd", "20260102-000000-beef", "20260103-000000-cafe"


def test_scales_are_fixed_per_metric_and_include_zero():
    # length 176 -> 192 must not look like empty -> full
    assert metric_scale("completion_length", [176, 192], max_length=256) == (0.0, 256.0)
    assert metric_scale("reward_mean", [0.2, 0.25]) == (0.0, 1.0)
    assert metric_scale("reward_mean", [0.2], max_reward=1.5) == (0.0, 1.5)
    assert metric_scale("zero_std_share", [0.4, 0.41]) == (0.0, 1.0)
    lo, hi = metric_scale("kl", [0.002, 0.004])
    assert lo == 0.0 and 0.004 < hi < 0.005
    lo, hi = metric_scale("loss", [-0.02, 0.01])
    assert lo < -0.02 and hi > 0.01


def test_cursor_values_and_ticks():
    points = [(1, 0.1), (3, 0.3), (5, 0.5)]
    assert value_at(points, 4) == 0.3 and value_at(points, 0) is None
    assert step_ticks(1, 4) == [1, 2, 3, 4] and step_ticks(1, 21) == [1, 6, 11, 16, 21]
    assert integer_ticks(7) == [0, 2, 4, 6, 7] and integer_ticks(1) == [0, 1]


async def test_train_charts_have_axes_one_point_no_block_and_reset_per_run(workspace, make_app):
    add_run(workspace, RUN, steps=1)
    add_run(workspace, EMPTY, steps=0)
    app = make_app(workspace, "train")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.attach(RUN)
        await pilot.pause()
        chart = screen.query_one("#chart-reward_mean", MetricChart)
        assert chart.size.height >= 8  # readable at 80x24, not squashed to a row
        picture = str(chart.render())
        assert "█" not in picture  # a single point is a marker, not a filled chart
        assert "┤" in picture and "1.00" in picture  # a y axis with values
        assert "reward" in chart.border_title and "0.25" in chart.border_title
        screen.attach(EMPTY)  # a new run starts empty: nothing of the previous one is kept
        await pilot.pause()
        assert chart.curves[0].points == [] and chart.border_title.endswith(": -")


async def test_cursor_step_and_compare_two_runs(workspace, make_app):
    add_run(workspace, RUN, steps=4)
    add_run(workspace, OTHER, steps=2)
    app = make_app(workspace, "train")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.attach(RUN)
        await pilot.press("comma")  # the cursor steps back from the newest step
        assert screen.cursor_step == 3
        chart = screen.query_one("#chart-completion_length", MetricChart)
        assert "@ step 3: 117" in chart.border_title
        assert "step 3" in str(screen.query_one("#curve-values").render())
        assert chart.scale[0] == 0.0
        table = screen.query_one("#runs")
        table.focus()
        table.move_cursor(row=[table.get_row_at(i)[0] for i in range(table.row_count)].index(OTHER))
        await pilot.press("C")
        assert screen.compare_id == OTHER
        assert [c.label for c in chart.curves] == [RUN, OTHER]
        assert len(chart.curves[1].points) == 2
        assert "117 vs" in chart.border_title
        await pilot.press("C")  # again: back to one run
        assert screen.compare_id is None and len(chart.curves) == 1


async def test_histograms_side_by_side_share_a_scale_and_draw_the_band(populated, make_app):
    app = make_app(populated, "pipeline")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        for _ in range(100):
            if screen.loaded:
                break
            await pilot.pause(0.05)
        before = screen.query_one("#hist-before", Histogram)
        after = screen.query_one("#hist-after", Histogram)
        assert before.region.y == after.region.y and before.region.x < after.region.x
        assert before.size.height >= 8
        assert before.peak == after.peak == max(after.counts)
        await pilot.press("minus", "minus")  # band 0.00 - 0.90 drawn on both
        assert before.band == after.band == (0.0, 0.9)
        picture = str(after.render())
        assert "┤" in picture and ".5" in picture  # axes with values
        assert (
            "before adaptation" in before.border_title and "after adaptation" in after.border_title
        )
