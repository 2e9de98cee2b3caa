# SPDX-License-Identifier: Apache-2.0
"""Rates from a throttled job's samples (bench-client.py --samples): every window of WINDOW
seconds between two samples while the job was DOWNLOADING/UPLOADING, from the first byte until
the job stopped moving data (its end, or the bench's CANCEL).

Usage: python3 rate-windows.py SAMPLES LIMIT_BPS [--window S] [--stop-at T]
                               [--change-at T --new-limit BPS]
Prints key=value pairs on one line:
  windows=N worst=+x.xx (the window farthest from the limit, % of the limit) min=..% max=..%
  rate=B/s (first byte to the last transfer sample) seconds=S
  bd_windows/bd_worst: the same from SHOW's BytesDone (counted per part: coarse)
  with --change-at: before = worst window wholly before the change (vs LIMIT_BPS),
  after = worst window wholly after the change has shown (vs the new limit), applied=S: the
  start of the first 1-s window within +-2 % of the new limit, in seconds after the change
"""
import argparse

p = argparse.ArgumentParser()
p.add_argument("samples")
p.add_argument("limit", type=float)
p.add_argument("--window", type=float, default=10)
p.add_argument("--stop-at", type=float)
p.add_argument("--change-at", type=float)
p.add_argument("--new-limit", type=float)
a = p.parse_args()

rows = []
for line in open(a.samples):
    t, c, bd, state, _ = line.split()
    rows.append((float(t), int(c), None if bd == "-" else int(bd), state))

moving = ("DOWNLOADING", "UPLOADING")
end = None
for t, c, bd, state in rows:
    if state in moving and (a.stop_at is None or t <= a.stop_at):
        end = t
first = next((i for i, r in enumerate(rows) if r[1] > 0), None)
out = {}
if first is None or end is None:
    print("windows=0")
    raise SystemExit
# The sample just before the first byte is the start: the counter was 0 there.
start_i = max(first - 1, 0)
span = [r for r in rows[start_i:] if r[0] <= end]


def windows(lo, hi, length, key):
    """(start, rate) for every window [t_i, t_j] inside [lo, hi], t_j the first sample >= t_i + length."""
    idx = 1 if key == "c" else 2
    pts = [(r[0], r[idx]) for r in span if r[idx] is not None and lo <= r[0] <= hi]
    res = []
    j = 0
    for i in range(len(pts)):
        while j < len(pts) and pts[j][0] < pts[i][0] + length:
            j += 1
        if j >= len(pts):
            break
        res.append((pts[i][0], (pts[j][1] - pts[i][1]) / (pts[j][0] - pts[i][0])))
    return res


def worst(ws, limit):
    devs = [(r / limit - 1) * 100 for _, r in ws]
    if not devs:
        return None, None, None
    w = max(devs, key=abs)
    worst.at = ws[devs.index(w)][0]
    return w, min(devs), max(devs)


t0, tend = span[0][0], span[-1][0]
out["seconds"] = f"{tend - t0:.1f}"
out["rate"] = f"{(span[-1][1] - span[0][1]) / (tend - t0):.0f}" if tend > t0 else "0"
if a.change_at is None:
    ws = windows(t0, tend, a.window, "c")
    w, lo, hi = worst(ws, a.limit)
    out["windows"] = len(ws)
    if w is not None:
        out["worst"] = f"{w:+.2f}"
        out["worst_at"] = f"{worst.at:.1f}"
        out["min"] = f"{lo:+.2f}"
        out["max"] = f"{hi:+.2f}"
    bws = windows(t0, tend, a.window, "bd")
    bw, _, _ = worst(bws, a.limit)
    out["bd_windows"] = len(bws)
    if bw is not None:
        out["bd_worst"] = f"{bw:+.2f}"
else:
    before = windows(t0, a.change_at, a.window, "c")
    w, _, _ = worst(before, a.limit)
    out["before_windows"] = len(before)
    if w is not None:
        out["before"] = f"{w:+.2f}"
    applied = None
    for start, r in windows(a.change_at, tend, 1.0, "c"):
        if abs(r / a.new_limit - 1) <= 0.02:
            applied = start
            break
    if applied is not None:
        out["applied"] = f"{applied - a.change_at:.2f}"
        after = windows(applied, tend, a.window, "c")
        w, _, _ = worst(after, a.new_limit)
        out["after_windows"] = len(after)
        if w is not None:
            out["after"] = f"{w:+.2f}"
    first_s = windows(a.change_at, tend, 1.0, "c")
    if first_s:
        out["first_1s"] = f"{(first_s[0][1] / a.new_limit - 1) * 100:+.2f}"
print(" ".join(f"{k}={v}" for k, v in out.items()))
