"""Debug time with an injected clock: gaps, the idle cap, corrections, abandoned and new tasks."""
import pytest

from realcost_agent.agent.tasks import TaskTracker, parse_duration


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def advance(self, seconds):
        self.t += seconds


def test_gaps_between_turn_end_and_followup_or_done_are_debug_time():
    clock = Clock()
    tr = TaskTracker(measure_debug=True, idle_cap_seconds=600, clock=clock)
    task, followup = tr.prompt()
    assert (task.id, followup) == (1, False)
    clock.advance(12)  # agent works 12 s
    tr.turn_finished()
    clock.advance(90)  # developer reads, tests, writes a follow-up: 90 s
    task2, followup = tr.prompt()
    assert task2 is task and followup
    clock.advance(30)
    tr.turn_finished()
    clock.advance(45)  # then marks it done after 45 s
    tr.end("done")
    assert task.agent_seconds == 42
    assert task.debug_seconds == 135
    assert task.followups == 1 and task.status == "done"


def test_idle_cap_bills_at_most_the_cap_per_gap():
    clock = Clock()
    tr = TaskTracker(measure_debug=True, idle_cap_seconds=600, clock=clock)
    task, _ = tr.prompt()
    tr.turn_finished()
    clock.advance(3600)  # lunch
    tr.prompt()
    tr.turn_finished()
    clock.advance(100)
    tr.end("done")
    assert task.debug_seconds == 700


def test_corrections_are_kept_apart_from_measured():
    clock = Clock()
    tr = TaskTracker(measure_debug=True, clock=clock)
    task, _ = tr.prompt()
    tr.turn_finished()
    clock.advance(60)
    tr.end("done")
    tr.correct(180)  # /debug +3m
    assert (task.debug_seconds, task.correction_seconds, task.debug_total_seconds) == (60, 180, 240)
    tr.correct(300, absolute=True)  # /debug 5m sets the total
    assert (task.debug_seconds, task.debug_total_seconds) == (60, 300)
    assert task.real_cost(35.0) == pytest.approx(35.0 * 300 / 3600)


def test_new_task_after_done_and_abandoned():
    clock = Clock()
    tr = TaskTracker(measure_debug=True, clock=clock)
    t1, _ = tr.prompt()
    tr.turn_finished()
    clock.advance(20)
    tr.end("abandoned")
    clock.advance(500)  # time after the task ended is nobody's debug time
    t2, followup = tr.prompt()
    assert t2.id == 2 and not followup
    assert t1.status == "abandoned" and t1.debug_seconds == 20
    assert t2.debug_seconds == 0


def test_headless_measures_no_debug_time():
    clock = Clock()
    tr = TaskTracker(measure_debug=False, clock=clock)
    task, _ = tr.prompt()
    tr.turn_finished()
    clock.advance(300)
    tr.prompt()
    tr.end("done")
    assert task.debug_seconds == 0


def test_end_twice_or_without_task_is_a_no_op():
    tr = TaskTracker(measure_debug=True, clock=Clock())
    assert tr.end("done") is None
    tr.prompt()
    assert tr.end("done") is not None
    assert tr.end("done") is None


@pytest.mark.parametrize("text,expected", [
    ("+3m", (180, False)), ("5m", (300, True)), ("-90s", (-90, False)), ("1.5h", (5400, True)),
    ("2", (120, True)), ("+10min", (600, False)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "+", "3x"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
