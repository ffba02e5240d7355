"""The one rule for what asv shows when a commit cannot be measured.

A commit that lacks an API (an older era, a framework not selected) raises NotImplementedError,
which asv shows as n/a; anything else is a real breakage of that commit and shows as failed,
never hidden. setup_cache records problems per key (a framework, an ingest) in its cache, so one
framework's breakage does not stop the others; each benchmark's `setup` re-raises its own.
"""

from __future__ import annotations

from radibench import suite

NA, FAILED = "n/a", "failed"


def attempt(problems: dict, key: str, action, what: str = "ingest") -> bool:
    """Run `action()`; on failure record n/a or failed for `key` and return False."""
    try:
        action()
    except NotImplementedError as exc:
        problems[key] = (NA, str(exc))
    except Exception as exc:  # a real failure of this commit: shown as failed, never hidden
        problems[key] = (FAILED, f"{what} failed: {exc!r}")
    else:
        return True
    return False


def deselect(
    problems: dict, names, family=lambda name: name, env: str = suite.FRAMEWORKS_ENV
) -> None:
    """Mark n/a every name whose family is not in the list `env` names (RADIBENCH_FRAMEWORKS:
    frameworks; RADIBENCH_RECIPES: recipes)."""
    for name in names:
        if name not in problems and not suite.selected(family(name), env):
            problems[name] = (NA, f"not in {env}")


def check(cache: dict, key: str) -> None:
    """Raise what asv should show for a key this commit cannot measure."""
    kind, message = cache["problems"].get(key, (None, None))
    if kind == NA:
        raise NotImplementedError(message)
    if kind == FAILED:
        raise RuntimeError(message)


def record(problems: dict, key: str, run: dict) -> None:
    """A fresh-process run the commit could not do (n/a) or that failed, kept under `key`, so
    later rounds skip the key and asv shows why."""
    if "unavailable" in run:
        problems[key] = (NA, run["unavailable"])
    elif "failed" in run:
        problems[key] = (FAILED, run["failed"])


def measured(result: dict) -> dict:
    """A fresh-process run's result (radibench.measure.runner), or what asv should show."""
    if "unavailable" in result:
        raise NotImplementedError(result["unavailable"])
    if "failed" in result:
        raise RuntimeError(result["failed"])
    return result
