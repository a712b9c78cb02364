"""The check helper of voxbench's Python tests: one "ok - ..." or "not ok - ...: ..." line per
check (tests/run.sh counts them); exit_status() is 1 when any check failed."""
import sys

_failures = 0


def check(cond, what, detail=""):
    global _failures
    if cond:
        print(f"ok - {what}")
    else:
        _failures += 1
        print(f"not ok - {what}: {detail}")
    sys.stdout.flush()
    return bool(cond)


def exit_status():
    return 1 if _failures else 0
