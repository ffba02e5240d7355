"""Keeping an accelerator busy (benchmarks/regimes.py, Utilisation): the AU arithmetic on a
clock the test drives, the step times a user adds, what asv receives per process, the report's
words against the 90% target, and one real run in a fresh process."""

import pytest

from radibench.measure.protocol import emulated_training, steps_ms
from radibench.measure.runner import run_in_fresh_process
from radibench.prepare import recipes
from radibench.tools.asv_results import Value
from radibench.tools.report import markdown, summary


class Clock:
    """A clock that moves only when the loader delivers a batch or the step sleeps."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def loader(clock: Clock, seconds_per_batch: list[float]):
    for seconds in seconds_per_batch:
        clock.now += seconds  # the step waits this long for the batch
        yield seconds


def test_au_is_compute_time_over_wall_time():
    clock = Clock()
    waits = [0.010] * 4  # a loader 10 ms short of every 30 ms step
    au = emulated_training(loader(clock, waits), 0.030, 4, clock, clock.sleep)
    assert au == pytest.approx(0.75)


def test_a_loader_that_always_has_the_next_batch_ready_keeps_au_at_one():
    clock = Clock()
    assert emulated_training(loader(clock, [0.0] * 3), 0.1, 3, clock, clock.sleep) == 1.0


def test_a_slow_first_batch_counts_against_the_run():
    clock = Clock()
    waits = [0.3, 0.0, 0.0, 0.0]  # one refill of 300 ms over four 100 ms steps
    au = emulated_training(loader(clock, waits), 0.1, 4, clock, clock.sleep)
    assert au == pytest.approx(0.4 / 0.7)


def test_a_user_adds_step_times(monkeypatch):
    monkeypatch.setenv("RADIBENCH_STEP_MS", "250, 20")
    assert steps_ms() == (20, 100, 250, 500)
    for bad in ("0", "fast", "-5"):
        monkeypatch.setenv("RADIBENCH_STEP_MS", bad)
        with pytest.raises(ValueError, match="whole milliseconds"):
            steps_ms()


def test_asv_gets_one_wait_per_process_and_na_where_not_run():
    runs = [{"steps_ms": [20, 100], "utilisation": [0.5, au]} for au in (0.9, 0.8, 1.0)]
    cache = {
        "subjects": 4,
        "problems": {"monai_cache_threads-2-4": ("n/a", "ThreadDataLoader: num_workers=0")},
        "runs": {"monai_cache-0-4": runs},
    }
    wait = recipes.accelerator_wait(cache, "monai_cache", 0, 100)
    assert wait["number"] == 1 and wait["samples"] == pytest.approx([0.1, 0.2, 0.0])
    with pytest.raises(NotImplementedError, match="500 ms"):
        recipes.accelerator_wait(cache, "monai_cache", 0, 500)
    with pytest.raises(NotImplementedError, match="num_workers=0"):
        recipes.accelerator_wait(cache, "monai_cache_threads", 2, 100)


def row(recipe, workers, au, low, high):
    return {
        "recipe": recipe,
        "framework": recipe.split("_")[0],
        "workers": workers,
        "step_ms": 100,
        "utilisation": Value(au, low, high, 5),
        "peak_memory": Value(2**30, 0.9 * 2**30, 1.1 * 2**30, 5),
    }


def test_only_an_interval_above_the_target_keeps_the_accelerator_busy():
    util = [
        row("monai_cache_threads", 0, 0.97, 0.95, 0.99),  # clear of 90%
        row("radiobject_random", 2, 0.93, 0.85, 0.97),  # holds 90%: a tie with the target
        row("torchio_queue", 0, 0.40, 0.35, 0.45),  # below
    ]
    (verdict,) = summary.keeping_busy(util)
    assert [r["recipe"] for r in verdict["keep"]] == ["monai_cache_threads"]
    assert [r["recipe"] for r in verdict["maybe"]] == ["radiobject_random"]
    (sentence,) = markdown.busy_sentences([verdict])
    assert sentence.startswith("At a 100 ms step, these keep AU at 90% or more: ")
    assert (
        "monai_cache_threads (MONAI) at 0 workers (AU 0.970 (0.950–0.990), peak memory" in sentence
    )
    assert "no measurable difference from 90%: radiobject_random (RadiObject)" in sentence
    assert "torchio_queue" not in sentence and "(3 measured)" in sentence


def test_au_from_the_tracked_wait_swaps_the_interval_and_stays_within_one():
    au = summary.accelerator_utilisation(Value(0.05, -0.01, 0.08, 5))
    assert au.number == pytest.approx(0.95)
    assert (au.low, au.high) == (pytest.approx(0.92), 1.0)


def test_a_real_run_reports_au_per_step_time(quick):
    niftis = [str(s.train_nifti) for s in quick.subjects]
    run = run_in_fresh_process("monai_cache_threads", niftis, steps_ms=(20, 50), threads=1)
    assert run["steps_ms"] == [20, 50] and run["batches_per_step"] == 10
    assert all(0 < au <= 1 for au in run["utilisation"])
    na = run_in_fresh_process("monai_cache_threads", niftis, None, 2, steps_ms=(20,), threads=1)
    assert "num_workers=0" in na["unavailable"]
