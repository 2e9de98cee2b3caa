# SPDX-License-Identifier: Apache-2.0
"""The client side of one BACKUP or RESTORE job, for backup-bench.sh and restore-bench.sh.

Sends the statement, then polls SHOW BACKUP / SHOW RESTORE FROM <db> (every --poll-ms, default
10) until the job's row (a new JobId with the label) shows FINISHED or CANCELLED. Prints one line
to stdout:
    seconds bytes files [queries p50_ms p99_ms max_ms]
and the states as first seen to stderr ("states: PENDING at 0.01 s, ...").

  --clients N --interval MS   N more connections each run SHOW <kind> once every MS ms meanwhile
                              (staggered) and the line ends with their latency spread; with
                              STATEMENT "-" the clients run 3 s alone (the baseline)
  --samples FILE              write a sample every --sample-ms (default 100) while the job runs:
                              "t counter bytes_done state rate_limit", t in seconds since the
                              statement; counter from --counter, bytes_done etc. from SHOW (every
                              --show-ms, default 500; repeated in between)
  --counter ss:PORT           bytes the kernel received on TCP connections to 127.0.0.1:PORT (sum
                              over connections, a closed one keeps its last count): the bytes a
                              restore fetched from an S3 store on that port, as they arrive
  --stop-after S              after S seconds CANCEL the job if it still runs (a throttled run
                              needs no more); it then ends CANCELLED without error
  --change-at T --change-sql SQL   run SQL T seconds after the statement (a limit change);
                              its time goes to stderr as "changed at T"
  --nice N                    the client's CPU priority (negative: ahead of the server, so on a
                              busy 2-core machine the latencies are the server's answers, not
                              the client's own wait for a CPU)
In a network namespace, run the whole client under `ip netns exec`.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

import pymysql

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("kind", choices=["BACKUP", "RESTORE"])
p.add_argument("db")
p.add_argument("label")
p.add_argument("statement")
p.add_argument("--clients", type=int, default=0)
p.add_argument("--interval", type=float, default=50)
p.add_argument("--poll-ms", type=float, default=10)
p.add_argument("--samples")
p.add_argument("--sample-ms", type=float, default=100)
p.add_argument("--show-ms", type=float, default=500)
p.add_argument("--counter")
p.add_argument("--stop-after", type=float)
p.add_argument("--change-at", type=float)
p.add_argument("--change-sql")
p.add_argument("--nice", type=int, default=0)
a = p.parse_args()
if a.nice:
    # Before any thread starts: on Linux a nice value is per thread, and threads inherit it.
    os.setpriority(os.PRIO_PROCESS, 0, a.nice)


def connect():
    return pymysql.connect(host="127.0.0.1", port=a.port, user="root", password="", autocommit=True)


def last_job(cur):
    cur.execute(f"SHOW {a.kind} FROM {a.db}")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(names, rows[0])) if rows else None


def label_of(row):
    return row["SnapshotName"] if a.kind == "BACKUP" else row["Label"]


# ---- the counter: bytes received on connections to an S3 store on 127.0.0.1 ----------------------
seen = {}  # connection (local address) -> bytes_received last seen


def counter():
    if not a.counter:
        return 0
    port = a.counter.split(":", 1)[1]
    out = subprocess.run(["ss", "-tinH", "state", "established", "dst", f"127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    conn = None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            f = line.split()
            conn = f[-2] if len(f) >= 2 else None  # local address:port
            continue
        m = re.search(r"bytes_received:(\d+)", line)
        if conn and m:
            seen[conn] = max(seen.get(conn, 0), int(m.group(1)))
    return sum(seen.values())


conns = [connect() for _ in range(a.clients)]
done = threading.Event()
latencies = [[] for _ in range(a.clients)]


def poll(i):
    # One SHOW every `interval` per client, the clients staggered: a monitoring load, not a flood
    # (back to back, 32 Python threads on 2 cores measure the threads' queueing).
    interval = a.interval / 1000
    next_at = time.perf_counter() + i * interval / a.clients
    with conns[i].cursor() as cur:
        while not done.is_set():
            wait = next_at - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            t = time.perf_counter()
            last_job(cur)
            latencies[i].append(time.perf_counter() - t)
            next_at += interval


threads = [threading.Thread(target=poll, args=(i,)) for i in range(a.clients)]
conn = connect()
states = []  # (state, seconds since the statement when first seen)
samples = []
stopped_by_us = False
with conn.cursor() as cur:
    if a.statement == "-":  # no job: the clients alone for 3 s, as a baseline
        for t in threads:
            t.start()
        time.sleep(3)
        row = {"State": "FINISHED", "BytesTotal": 0, "FilesTotal": 0}
        seconds = 3.0
    else:
        before = last_job(cur)
        old_id = before["JobId"] if before else None
        base = counter()
        start = time.perf_counter()
        cur.execute(a.statement)
        for t in threads:
            t.start()
        sample_s, show_s = a.sample_ms / 1000, a.show_ms / 1000
        next_show = 0.0
        changed = False
        row = None
        mine = None  # the job's last row
        while True:
            seen_at = time.perf_counter() - start
            if seen_at >= next_show or a.samples is None:
                row = last_job(cur)
                if row and row["JobId"] != old_id and label_of(row) == a.label:
                    mine = row
                    if not states or states[-1][0] != row["State"]:
                        states.append((row["State"], seen_at))
                    if row["State"] in ("FINISHED", "CANCELLED"):
                        break
                next_show = seen_at + show_s
            if a.samples is not None:
                c = counter() - base
                t = time.perf_counter() - start
                if mine:
                    samples.append((t, c, mine.get("BytesDone"), mine["State"], mine.get("RateLimit")))
                else:
                    samples.append((t, c, None, "-", None))
            if a.change_at is not None and not changed and seen_at >= a.change_at:
                cur.execute(a.change_sql)
                changed = True
                print(f"changed at {time.perf_counter() - start:.3f}", file=sys.stderr)
            if a.stop_after is not None and seen_at >= a.stop_after and mine and not stopped_by_us:
                cur.execute(f"CANCEL {a.kind} FROM {a.db}")
                stopped_by_us = True
                print(f"cancelled by the bench at {time.perf_counter() - start:.3f}", file=sys.stderr)
            time.sleep(sample_s if a.samples is not None else a.poll_ms / 1000)
        row = mine
        seconds = time.perf_counter() - start
done.set()
for t in threads:
    t.join()
if a.samples is not None:
    with open(a.samples, "w") as f:
        for s in samples:
            f.write(" ".join("-" if v is None else str(v) for v in s) + "\n")
ok = row["State"] == "FINISHED" or (row["State"] == "CANCELLED" and stopped_by_us)
if not ok:
    sys.exit(f"{a.kind.lower()} {a.label} ended {row['State']}: {row.get('Status')}")
print("states: " + ", ".join(f"{s} at {t:.2f} s" for s, t in states), file=sys.stderr)
out = f"{seconds:.3f} {row['BytesTotal']} {row['FilesTotal']}"
if a.clients:
    lat = sorted(x for s in latencies for x in s)
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    out += f" {len(lat)} {pick(0.5):.2f} {pick(0.99):.2f} {lat[-1] * 1000:.2f}"
print(out)
