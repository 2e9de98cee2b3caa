#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Random kill -9 across BACKUP and RESTORE, with loads and DDL running beside them.
#
# Each round runs a throttled BACKUP of `t` or a RESTORE over `r` and kills the server at a
# random moment: after a random delay, or held in a random state (SNAPSHOTING ... UPLOAD_INFO,
# DOWNLOADING ... COMMITTING). A side thread keeps loading `side` and creating and dropping
# tables meanwhile. After the restart:
# - the job ends, FINISHED or CANCELLED; none is stuck;
# - a finished backup restores to a table equal to `t`; `r` is either exactly as it was before
#   the restore or exactly the snapshot, never a mix, and equals the snapshot once it finished;
# - nothing is left: no snapshot links or staging in the data dir, no files no table owns, no
#   temporary files in the repository.
# With --s3 the repository is a bucket of the rgw fixture's gateway (TV_RGW_ENV; exit 77
# without it), and each backup round adds a segment large enough for a multipart upload. The
# multipart uploads left open under the repository (ListMultipartUploads) are counted after
# each round; a last backup, not killed, sweeps what kill -9 orphaned (the grace period is 0
# here: one server), and then none may be left.
# The seed is printed first; `--seed S` replays a run.
#
# Usage: crash_torture.py <tabletvault binary> [--rounds N] [--seed S] [--s3]
import argparse
import json
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, connect, finish, query, wait_for  # noqa: E402
from backup_test_util import stream_load  # noqa: E402
from restore_test_util import (fingerprint, insert_rows, random_text, restore_of,  # noqa: E402
                               snapshot_leftovers, stray_tablet_files, wait_restore)
from rgw_test_util import Aws, read_rgw_env, repository_properties  # noqa: E402

FLAGS = ["--set", "backup_pack_threshold=16K", "--set", "backup_pack_size=64K"]
BACKUP_STATES = ["SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO"]
RESTORE_STATES = ["PENDING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING"]
# Throttled so that a job takes a few seconds: random delays then land inside it.
SPEED_KBPS = 400
# --s3: S3's smallest multipart threshold and part size, a segment of a bit more per backup
# round (two parts), and a rate at which that takes a few seconds too.
S3_FLAGS = ["--set", "multipart_threshold=5M", "--set", "multipart_part_size=5M",
            "--set", "snapshot_gc_grace_period=0"]
S3_SEGMENT_ROWS = 26000  # of 240 random characters: about 6 MiB
S3_SPEED_KBPS = 2500


class SideWork(threading.Thread):
    """Loads into `side` and CREATE / DROP TABLE in `d` until stopped; the server dying under it
    is expected, so every error only makes it reconnect."""

    def __init__(self, server, rng_seed):
        super().__init__(daemon=True)
        self.server, self.rng = server, random.Random(rng_seed)
        self.stopping = threading.Event()
        self.loads = 0

    def run(self):
        conn = None
        n = 0
        while not self.stopping.is_set():
            try:
                if conn is None:
                    conn = connect(self.server)
                    query(conn, "USE d")
                n += 1
                if n % 5 == 0:
                    query(conn, f"CREATE TABLE IF NOT EXISTS ddl_{n % 3} (k INT) DUPLICATE KEY(k) "
                                "DISTRIBUTED BY HASH(k) BUCKETS 1")
                    query(conn, f"DROP TABLE IF EXISTS ddl_{(n + 1) % 3}")
                else:
                    insert_rows(conn, "side", n * 100, 20, 50, seed=self.rng.randrange(1 << 30))
                    self.loads += 1
            except Exception:
                conn = None
                time.sleep(0.05)
            time.sleep(self.rng.uniform(0.0, 0.05))


class Torture:
    def __init__(self, binary, work, seed, s3=None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.work = work
        self.data_dir = os.path.join(work, "data")
        self.location = os.path.join(work, "repo")
        self.log_path = os.path.join(work, "server.log")
        self.s3 = s3
        self.speed = SPEED_KBPS
        flags = FLAGS
        if s3 is not None:
            self.aws = Aws(s3)
            self.bucket = "tv-torture-" + uuid.uuid4().hex[:12]
            self.aws.run("s3api", "create-bucket", "--bucket", self.bucket)
            self.location = f"s3://{self.bucket}/torture"
            self.speed = S3_SPEED_KBPS
            flags = FLAGS + S3_FLAGS
        self.server = TvServer(binary, self.data_dir, self.log_path, flags)
        self.open_uploads_seen = []
        self.label_n = 0
        self.finished_labels = []
        self.prints = {}

    def start(self, pause_backup=None, pause_restore=None):
        for name, value in (("TV_TEST_PAUSE_BACKUP_IN", pause_backup), ("TV_TEST_PAUSE_RESTORE_IN", pause_restore)):
            if value:
                os.environ[name] = value
        try:
            self.server.start()
        finally:
            os.environ.pop("TV_TEST_PAUSE_BACKUP_IN", None)
            os.environ.pop("TV_TEST_PAUSE_RESTORE_IN", None)
        conn = connect(self.server)
        query(conn, "USE d")
        return conn

    def kill_during(self, conn, kind, what):
        """Kills the server at the moment `what` names; returns how it was killed."""
        mode, value = what
        if mode == "state":
            waiter = wait_for if kind == "backup" else wait_restore
            try:
                waiter(conn, "d", {value, "FINISHED", "CANCELLED"}, timeout=60)
            except Exception:
                pass
        else:
            time.sleep(value)
        self.server.stop(signal.SIGKILL)

    def check_clean(self, conn, what):
        left = snapshot_leftovers(self.data_dir)
        check(left == [], f"{what}: no snapshot links or staging are left: {left[:5]}")
        stray = stray_tablet_files(conn, self.data_dir)
        check(stray == [], f"{what}: every tablet file belongs to a table: {stray[:5]}")
        if self.s3 is not None:
            # Open uploads may remain here (one whose id kill -9 kept from the journal); the
            # next backup sweeps them, and the last one must leave none (see run()).
            left = self.open_uploads()
            self.open_uploads_seen.append(len(left))
            print(f"# {what}: {len(left)} multipart uploads open under the repository", flush=True)
            return
        temps = []
        for dirpath, _, names in os.walk(self.location):
            temps += [n for n in names if re.search(r"\.tvtmp-", n)]
        check(temps == [], f"{what}: no temporary files in the repository: {temps[:5]}")

    def open_uploads(self):
        """The multipart uploads open under the repository's root, by ListMultipartUploads."""
        prefix = "torture/__tabletvault_repository_repo/"
        out = self.aws.run("s3api", "list-multipart-uploads", "--bucket", self.bucket, "--prefix", prefix)
        return [u["Key"] for u in json.loads(out.stdout or b"{}").get("Uploads", [])]

    def add_segment(self, conn):
        """--s3: a segment over the multipart threshold, so the round's backup has a multipart upload."""
        path = os.path.join(self.work, "segment.tsv")
        rng = random.Random(self.rng.randrange(1 << 30))
        first = 100000 + self.label_n * S3_SEGMENT_ROWS
        with open(path, "w") as f:
            for i in range(S3_SEGMENT_ROWS):
                f.write(f"{first + i}\t{random_text(rng, 240)}\n")
        stream_load(self.server, "d", "t", path)
        os.remove(path)

    def backup_round(self, n, what):
        self.label_n += 1
        label = f"snap{self.label_n}"
        pause = what[1] if what[0] == "state" else None
        conn = self.start(pause_backup=pause)
        # New rows each round: an unchanged table would reuse every object and finish at once.
        insert_rows(conn, "t", 10000 + self.label_n * 400, 300, 240, seed=1000 + self.label_n)
        if self.s3 is not None:
            self.add_segment(conn)
        expected = fingerprint(conn, "d.t")
        side = SideWork(self.server, self.rng.randrange(1 << 30))
        side.start()
        query(conn, f"BACKUP DATABASE d SNAPSHOT {label} TO repo ON (TABLE t) "
                    f"PROPERTIES ('max_upload_speed_kbps' = '{self.speed}')")
        self.kill_during(conn, "backup", what)
        side.stopping.set()
        side.join()
        conn = self.start()
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=180)
        where = f"round {n} (seed {self.seed}): backup killed at {what}"
        check(row["SnapshotName"] == label and row["State"] in ("FINISHED", "CANCELLED"),
              f"{where}: the job ends: {row['State']} {row['Status']}")
        if row["State"] == "FINISHED":
            self.finished_labels.append(label)
            self.prints[label] = expected
            name = f"check_{self.label_n}"
            query(conn, f"RESTORE SNAPSHOT {label} FROM repo DATABASE d ON (TABLE t AS {name})")
            restored = wait_restore(conn, "d", timeout=180)
            check(restored["State"] == "FINISHED" and fingerprint(conn, f"d.{name}") == expected,
                  f"{where}: the snapshot restores equal to t: {restored['State']} {restored['Status']}")
            query(conn, f"DROP TABLE {name}")
        self.check_clean(conn, where)
        self.server.stop()
        return row["State"]

    def restore_round(self, n, what):
        conn = self.start()
        insert_rows(conn, "r", 500000 + n * 100, 20, 100, seed=n)  # r now differs from the snapshot
        before = fingerprint(conn, "d.r")
        self.server.stop()
        pause = what[1] if what[0] == "state" else None
        conn = self.start(pause_restore=pause)
        side = SideWork(self.server, self.rng.randrange(1 << 30))
        side.start()
        label = self.rng.choice(self.finished_labels)
        query(conn, f"RESTORE SNAPSHOT {label} FROM repo DATABASE d ON (TABLE t AS r) "
                    f"PROPERTIES ('max_download_speed_kbps' = '{self.speed}')")
        self.kill_during(conn, "restore", what)
        side.stopping.set()
        side.join()
        conn = self.start()
        row = wait_restore(conn, "d", timeout=180)
        now = fingerprint(conn, "d.r")
        where = f"round {n} (seed {self.seed}): restore killed at {what}"
        check(row["State"] in ("FINISHED", "CANCELLED"), f"{where}: the job ends: {row['State']} {row['Status']}")
        if row["State"] == "FINISHED":
            check(now == self.prints[label], f"{where}: the finished restore equals the snapshot {label}: {now}")
        else:
            check(now == before, f"{where}: the cancelled restore left r exactly as it was: {now} {before}")
        self.check_clean(conn, where)
        self.server.stop()
        return row["State"]

    def run(self, rounds):
        self.server.start()
        conn = connect(self.server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        # --s3: one bucket, so that a round's segment is one file over the multipart threshold.
        buckets = 1 if self.s3 is not None else 3
        query(conn, "CREATE TABLE t (k INT, v VARCHAR(256)) DUPLICATE KEY(k) "
                    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (5000), "
                    f"PARTITION p2 VALUES LESS THAN (2000000)) DISTRIBUTED BY HASH(k) BUCKETS {buckets}")
        for batch in range(6):
            insert_rows(conn, "t", batch * 1500, 250, 240, seed=batch)
        query(conn, "CREATE TABLE r (k INT, v VARCHAR(256)) DUPLICATE KEY(k) "
                    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (5000), "
                    "PARTITION p2 VALUES LESS THAN (2000000)) DISTRIBUTED BY HASH(k) BUCKETS 3")
        insert_rows(conn, "r", 0, 10, 10, seed=99)
        query(conn, "CREATE TABLE side (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        props = f" PROPERTIES ({repository_properties(self.s3)})" if self.s3 is not None else ""
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{self.location}"{props}')
        self.server.stop()

        outcomes = []
        for n in range(rounds):
            # Backups until one finished, so that restores have a snapshot; then either.
            kind = "backup" if not self.finished_labels or self.rng.random() < 0.5 else "restore"
            states = BACKUP_STATES if kind == "backup" else RESTORE_STATES
            what = (("state", self.rng.choice(states)) if self.rng.random() < 0.5
                    else ("delay", round(self.rng.uniform(0.0, 3.0), 2)))
            print(f"# round {n}: {kind}, killed at {what}", flush=True)
            state = self.backup_round(n, what) if kind == "backup" else self.restore_round(n, what)
            outcomes.append((kind, what, state))
            # A backup killed early may be cancelled; make sure restores get their snapshot.
            if n == rounds - 1 and not self.finished_labels:
                check(False, f"seed {self.seed}: no backup finished in {rounds} rounds")
        for kind, what, state in outcomes:
            print(f"# {kind:7} killed at {what}: {state}")
        if self.s3 is not None:
            self.last_backup_sweeps()
        check(self.server.sanitizer_reports() == [], "no sanitizer reports")

    def last_backup_sweeps(self):
        """A backup that runs to its end removes what the killed ones left open. Whatever the
        rounds left, one more orphan is planted among this server's data in the repository; one
        outside the repository, and one among another server's data (it may be uploading it
        still, for hours across a slow link), must stay."""
        print(f"# open multipart uploads after each round: {self.open_uploads_seen}", flush=True)
        cluster = open(os.path.join(self.data_dir, "cluster_id")).read().strip()
        planted = f"torture/__tabletvault_repository_repo/__data/{cluster}/planted-orphan"
        outside = "torture/not-the-repository/upload"
        others = "torture/__tabletvault_repository_repo/__data/another-cluster/1/1_0.dat"
        for key in (planted, outside, others):
            self.aws.run("s3api", "create-multipart-upload", "--bucket", self.bucket, "--key", key)
        conn = self.start()
        self.label_n += 1
        self.add_segment(conn)
        query(conn, f"BACKUP DATABASE d SNAPSHOT final{self.label_n} TO repo ON (TABLE t)")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=180)
        check(row["State"] == "FINISHED", f"seed {self.seed}: the last backup finishes: {row['State']} {row['Status']}")
        left = self.open_uploads()
        check(left == [others], f"seed {self.seed}: no multipart upload of this server is left open under the "
                                f"repository after the last backup, another server's is: {left[:5]}")
        swept = re.findall(r"removed (\d+) temporary files or multipart uploads", open(self.log_path).read())
        print(f"# multipart uploads the backups swept: {swept}", flush=True)
        out = self.aws.run("s3api", "list-multipart-uploads", "--bucket", self.bucket, "--prefix", outside)
        kept = [u["Key"] for u in json.loads(out.stdout or b"{}").get("Uploads", [])]
        check(kept == [outside], f"an upload outside the repository is left alone: {kept}")
        self.server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("TV_TORTURE_ROUNDS", "6")))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--s3", action="store_true", help="a repository on the rgw fixture's gateway")
    args = parser.parse_args()
    s3 = read_rgw_env() if args.s3 else None
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"# crash_torture seed {seed} rounds {args.rounds} (replay: --seed {seed})", flush=True)
    work = tempfile.mkdtemp(prefix="tv-torture-")
    torture = Torture(args.binary, work, seed, s3)
    try:
        torture.run(args.rounds)
    finally:
        torture.server.stop()
    finish(work, torture.log_path)


if __name__ == "__main__":
    main()
