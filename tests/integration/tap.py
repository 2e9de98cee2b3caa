# SPDX-License-Identifier: Apache-2.0
# TAP-like checks for the Python integration tests: one "ok - " / "not ok - " line per check,
# and the failures kept for the test's exit status.
FAILURES = []


def check(condition, what):
    print(("ok - " if condition else "not ok - ") + what, flush=True)
    if not condition:
        FAILURES.append(what)
    return condition
