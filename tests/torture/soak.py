#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A soak run (by hand, not in CI): one server for N minutes under repeated BACKUPs and RESTOREs,
# some cancelled at a random moment, DROP SNAPSHOT of old snapshots, loads into two tables, and
# 32 clients polling SHOW BACKUP / SHOW RESTORE / SHOW SNAPSHOT. The server's RSS and open file
# descriptors are sampled once a minute; the run fails when they are not flat between the first
# sample (taken after one warm-up backup and restore) and the last, when a SHOW client saw an
# error, when a job did not end, or when a finished restore differs from its snapshot.
#
# Use a release build for RSS figures (a sanitized build keeps freed memory in quarantine):
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo && ninja -C build-rel tabletvault
#   tests/torture/soak.py build-rel/tabletvault --minutes 30
import argparse
import os
import random
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, connect, finish, query, wait_for  # noqa: E402
from restore_test_util import (fingerprint, insert_rows, snapshot_leftovers, stray_tablet_files,  # noqa: E402
                               wait_restore)

SHOW_CLIENTS = 32
# Flat: descriptors may differ by a few (a pooled connection, a journal rotated), RSS by what
# allocator caches and the buffer pool's lazily touched pages can explain.
FD_SLACK = 8
RSS_SLACK_MIB = 48
RSS_SLACK_RATIO = 1.15


def expect(condition, what):
    """A check repeated every job: only its failures are printed."""
    if not condition:
        check(False, what)


def process_figures(pid):
    """(RSS in MiB, open descriptors) of a process."""
    rss_kib = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
    return rss_kib / 1024.0, len(os.listdir(f"/proc/{pid}/fd"))


class ShowClient(threading.Thread):
    """Polls the SHOW statements an operator's dashboard would; counts answers and errors."""

    def __init__(self, server, n, stopping):
        super().__init__(daemon=True)
        self.server, self.n, self.stopping = server, n, stopping
        self.answers, self.errors = 0, []

    def run(self):
        conn = connect(self.server)
        statements = ["SHOW BACKUP FROM d", "SHOW RESTORE FROM d"]
        i = self.n
        while not self.stopping.is_set():
            i += 1
            sql = "SHOW SNAPSHOT ON repo" if i % 20 == 0 else statements[i % 2]
            try:
                query(conn, sql)
                self.answers += 1
            except Exception as e:  # noqa: BLE001 (any failure is a finding)
                self.errors.append(f"{sql}: {e}")
                conn = connect(self.server)
            self.stopping.wait(0.05)
        conn.close()


class Loader(threading.Thread):
    """Small INSERTs into `side` all along (`t` changes only between backups, so that its
    fingerprint before a BACKUP is the snapshot's)."""

    def __init__(self, server, stopping, seed):
        super().__init__(daemon=True)
        self.server, self.stopping, self.rng = server, stopping, random.Random(seed)
        self.loads, self.errors = 0, []

    def run(self):
        conn = connect(self.server)
        query(conn, "USE d")
        n = 0
        while not self.stopping.is_set():
            n += 1
            try:
                insert_rows(conn, "side", 1_000_000 + n * 50, 50, 200, seed=self.rng.randrange(1 << 30))
                self.loads += 1
            except Exception as e:  # noqa: BLE001
                self.errors.append(str(e))
            self.stopping.wait(self.rng.uniform(0.05, 0.3))
        conn.close()


class Soak:
    def __init__(self, binary, work, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.data_dir = os.path.join(work, "data")
        self.location = os.path.join(work, "repo")
        self.log_path = os.path.join(work, "server.log")
        self.server = TvServer(binary, self.data_dir, self.log_path,
                               ["--set", "backup_pack_threshold=16K", "--set", "snapshot_gc_grace_period=0"])
        self.labels = []  # finished snapshots, oldest first, with their fingerprint
        self.counts = {"backup FINISHED": 0, "backup CANCELLED": 0, "restore FINISHED": 0,
                       "restore CANCELLED": 0, "snapshots dropped": 0}
        self.n = 0

    def set_up(self):
        conn = connect(self.server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE t (k INT, v VARCHAR(256)) DUPLICATE KEY(k) "
                    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (5000), "
                    "PARTITION p2 VALUES LESS THAN (100000000)) DISTRIBUTED BY HASH(k) BUCKETS 3")
        for batch in range(8):
            insert_rows(conn, "t", batch * 1000, 500, 240, seed=batch)
        query(conn, "CREATE TABLE side (k INT, v VARCHAR(256)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{self.location}"')
        return conn

    def maybe_cancel(self, conn, kind):
        """Cancels the running job after a random delay, a third of the time."""
        if self.rng.random() < 1 / 3:
            time.sleep(self.rng.uniform(0.0, 1.5))
            try:
                query(conn, f"CANCEL {kind} FROM d")
            except Exception:  # noqa: BLE001 (the job may have ended meanwhile)
                pass

    def backup(self, conn):
        self.n += 1
        label = f"soak{self.n}"
        insert_rows(conn, "t", 1_000_000 + self.n * 100, 100, 240, seed=self.n)
        expected = fingerprint(conn, "d.t")
        speed = self.rng.choice([0, 2000, 8000])
        props = f" PROPERTIES ('max_upload_speed_kbps' = '{speed}')" if speed else ""
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t){props}")
        self.maybe_cancel(conn, "BACKUP")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=600)
        expect(row["State"] in ("FINISHED", "CANCELLED"), f"backup {label} ends: {row['State']} {row['Status']}")
        self.counts[f"backup {row['State']}"] += 1
        if row["State"] == "FINISHED":
            self.labels.append((label, expected))

    def restore(self, conn):
        label, expected = self.rng.choice(self.labels)
        name = f"r{self.n}"
        speed = self.rng.choice([0, 4000, 16000])
        props = f" PROPERTIES ('max_download_speed_kbps' = '{speed}')" if speed else ""
        query(conn, f"RESTORE SNAPSHOT {label} FROM repo DATABASE d ON (TABLE t AS {name}){props}")
        self.maybe_cancel(conn, "RESTORE")
        row = wait_restore(conn, "d", timeout=600)
        expect(row["State"] in ("FINISHED", "CANCELLED"), f"restore of {label} ends: {row['State']} {row['Status']}")
        self.counts[f"restore {row['State']}"] += 1
        if row["State"] == "FINISHED":
            got = fingerprint(conn, f"d.{name}")
            expect(got == expected, f"restore of {label} as {name} equals the snapshot: {got} {expected}")
            query(conn, f"DROP TABLE {name}")
        else:
            tables = [r[0] for r in query(conn, "SHOW TABLES FROM d")]
            expect(name not in tables, f"the cancelled restore of {label} left no table {name}")

    def drop_old(self, conn):
        while len(self.labels) > 3:
            label, _ = self.labels.pop(0)
            query(conn, f"DROP SNAPSHOT ON repo WHERE SNAPSHOT = '{label}'")
            self.counts["snapshots dropped"] += 1

    def run(self, minutes):
        self.server.start()
        conn = self.set_up()
        self.backup(conn)
        while not self.labels:
            self.backup(conn)
        self.restore(conn)
        stopping = threading.Event()
        shows = [ShowClient(self.server, i, stopping) for i in range(SHOW_CLIENTS)]
        loader = Loader(self.server, stopping, self.rng.randrange(1 << 30))
        for t in shows + [loader]:
            t.start()
        time.sleep(2)  # every SHOW client connected
        pid = self.server.process.pid
        first = process_figures(pid)
        samples = [(0.0, *first)]
        print(f"# start: RSS {first[0]:.1f} MiB, {first[1]} descriptors", flush=True)
        started = time.time()
        next_sample = started + 60
        while time.time() - started < minutes * 60:
            self.backup(conn)
            self.restore(conn)
            self.drop_old(conn)
            if time.time() >= next_sample:
                rss, fds = process_figures(pid)
                samples.append(((time.time() - started) / 60, rss, fds))
                print(f"# {samples[-1][0]:5.1f} min: RSS {rss:.1f} MiB, {fds} descriptors, {self.counts}", flush=True)
                next_sample += 60
        # The last sample with the SHOW clients still connected, as the first was.
        last = process_figures(pid)
        stopping.set()
        for t in shows + [loader]:
            t.join(timeout=30)
        print(f"# end after {(time.time() - started) / 60:.1f} min: RSS {last[0]:.1f} MiB, {last[1]} descriptors",
              flush=True)
        print(f"# jobs: {self.counts}; SHOW answers {sum(s.answers for s in shows)}; loads {loader.loads}",
              flush=True)
        show_errors = [e for s in shows for e in s.errors]
        check(show_errors == [], f"the SHOW clients saw no error: {show_errors[:3]}")
        check(loader.errors == [], f"the loads saw no error: {loader.errors[:3]}")
        check(last[1] <= first[1] + FD_SLACK, f"descriptors are flat: {first[1]} at the start, {last[1]} at the end")
        check(last[0] <= first[0] * RSS_SLACK_RATIO + RSS_SLACK_MIB,
              f"RSS is flat: {first[0]:.1f} MiB at the start, {last[0]:.1f} MiB at the end")
        check(self.counts["backup FINISHED"] > 0 and self.counts["restore FINISHED"] > 0,
              f"backups and restores finished: {self.counts}")
        check(snapshot_leftovers(self.data_dir) == [], "no snapshot links or staging are left")
        check(stray_tablet_files(conn, self.data_dir) == [], "every tablet file belongs to a table")
        check(self.server.sanitizer_reports() == [], "no sanitizer reports")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"# soak seed {seed}, {args.minutes} min (replay: --seed {seed})", flush=True)
    work = tempfile.mkdtemp(prefix="tv-soak-")
    soak = Soak(args.binary, work, seed)
    try:
        soak.run(args.minutes)
    finally:
        soak.server.stop()
    finish(work, soak.log_path)


if __name__ == "__main__":
    main()
