#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# DROP SNAPSHOT racing BACKUP on two servers sharing one repository on a real S3 server (the Ceph
# RADOS Gateway of the `rgw` fixture). Server B starts from a copy of server A's data dir, so
# both have the same cluster id and B's backups reuse the data objects of A's snapshots (reuse
# is by file identity within a cluster). Each round A backs up `a<n>`, B loads rows and starts
# BACKUP `b<n>` (reusing a<n>'s objects), and A drops a<n> from two sessions at once, starting up
# to 0.5 s before or 1 s after B's backup, each repeating while the drop reports DATA KEPT.
# Every backup of B finishes, every object a remaining manifest names is in the bucket, and B's
# snapshots restore (on A and on B) with equal CHECKSUM TABLE. Finally DROP SNAPSHOT frees
# exactly the objects nothing references any more, counted with the AWS CLI.
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from rgw_test_util import Aws, read_rgw_env, repository_properties  # noqa: E402
from backup_test_util import check, columns_of, connect, finish, query, wait_for  # noqa: E402
from restore_test_util import fingerprint, insert_rows, run_restore  # noqa: E402

# Wide rows: every file is an object of its own. No grace period, short leases.
FLAGS = ["--set", "backup_pack_threshold=1K", "--set", "snapshot_gc_grace_period=0",
         "--set", "repository_lease_timeout=3", "--set", "snapshot_ttl_check_interval_seconds=0"]
ROUNDS = 6
ROOT = "bk/__tabletvault_repository_s3r/"


class Bucket:
    def __init__(self, aws, bucket):
        self.aws, self.bucket = aws, bucket

    def data_objects(self):
        return set(self.aws.keys(self.bucket, ROOT + "__data/"))

    def referenced(self):
        """The data objects the manifests in the bucket name (complete and partial ones)."""
        keys = [k for k in self.aws.keys(self.bucket, ROOT + "__ss_") if "/__manifest_" in k]
        return {"bk/" + f["key"] for k in keys for f in json.loads(self.aws.read(self.bucket, k))["files"]}

    def leases(self):
        return self.aws.keys(self.bucket, ROOT + "__lock/")


def drop_until_done(server, label, outcomes):
    """DROP SNAPSHOT label, again while it reports DATA KEPT (its intent stays, so the label is
    still accepted); records each result or error."""
    conn = connect(server)
    for _ in range(60):
        try:
            names, rows = columns_of(conn, f"DROP SNAPSHOT {label} ON s3r")
        except Exception as e:  # noqa: BLE001 - a concurrent drop finished it first, or a lease refusal
            outcomes.append(("error", str(e)))
            if "does not exist" in str(e):
                return
            time.sleep(0.2)
            continue
        row = dict(zip(names, rows[0]))
        outcomes.append(("ok", row["Status"]))
        if row["Status"] == "OK":
            return
        time.sleep(0.3)


def wait_leases_gone(bucket, timeout=20):
    deadline = time.time() + timeout
    while bucket.leases() and time.time() < deadline:
        time.sleep(0.2)
    return bucket.leases() == []


def restore_and_compare(conn, label, ts, alias, expected, what):
    _, row = run_restore(conn, f"RESTORE SNAPSHOT d.{label} FROM s3r ON (t AS {alias}) "
                               f"PROPERTIES (\"backup_timestamp\" = \"{ts}\")", "d", timeout=180)
    check(row["State"] == "FINISHED", f"{what}: RESTORE of {label} finished: {row['Status']}")
    got = fingerprint(conn, f"d.{alias}") if row["State"] == "FINISHED" else None
    check(got == expected, f"{what}: {label} restored with its backed-up checksum {expected}: {got}")


def timestamp_of(conn, label):
    rows = [r for r in query(conn, "SHOW SNAPSHOT ON s3r") if r[0] == label]
    return rows[0][1] if rows else None


def main():
    binary = sys.argv[1]
    rgw = read_rgw_env()
    aws = Aws(rgw)
    bucket_name = "tv-race-" + uuid.uuid4().hex[:12]
    aws.run("s3api", "create-bucket", "--bucket", bucket_name)
    bucket = Bucket(aws, bucket_name)
    work = tempfile.mkdtemp(prefix="tv-drop-race-")
    data_a, data_b = os.path.join(work, "a"), os.path.join(work, "b")
    log_a, log_b = os.path.join(work, "a.log"), os.path.join(work, "b.log")
    a = TvServer(binary, data_a, log_a, FLAGS)
    b = TvServer(binary, data_b, log_b, FLAGS)
    rng = random.Random(int(os.environ.get("TV_RACE_SEED", "18")))
    try:
        a.start()
        ca = connect(a)
        query(ca, "CREATE DATABASE d")
        query(ca, "USE d")
        query(ca, "CREATE TABLE t (k INT, v VARCHAR(512)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        query(ca, f'CREATE REPOSITORY s3r WITH BROKER ON LOCATION "s3://{bucket_name}/bk" '
                  f'PROPERTIES ({repository_properties(rgw)})')
        insert_rows(ca, "t", 0, 400, 300, seed=1)
        # B is a copy of A: the same cluster id, the same files, the same repository.
        a.stop()
        shutil.copytree(data_a, data_b, ignore=shutil.ignore_patterns("LOCK"))
        a.start()
        b.start()
        ca, cb = connect(a), connect(b)
        query(ca, "USE d")
        query(cb, "USE d")
        check(open(os.path.join(data_a, "cluster_id")).read() == open(os.path.join(data_b, "cluster_id")).read(),
              "A and B share a cluster id, so B's backups reuse A's objects")

        finished_b = {}  # label -> CHECKSUM TABLE of t on B when it was backed up
        for n in range(ROUNDS):
            query(ca, f"BACKUP SNAPSHOT d.a{n} TO s3r ON (t)")
            row = wait_for(ca, "d", {"FINISHED", "CANCELLED"}, timeout=180)
            check(row["State"] == "FINISHED", f"round {n}: A's backup a{n} finished: {row['Status']}")
            insert_rows(cb, "t", 10000 * (n + 1), 50, 300, seed=100 + n)
            expected = fingerprint(cb, "d.t")
            outcomes = []
            # The drops start up to 0.5 s before the backup (which then finds their lease) or up
            # to 1 s after it (they find its lease, or run before it reads the manifests).
            offset = rng.uniform(-0.5, 1.0)
            droppers = [threading.Thread(target=drop_until_done, args=(a, f"a{n}", outcomes)) for _ in range(2)]
            if offset < 0:
                for t in droppers:
                    t.start()
                time.sleep(-offset)
            query(cb, f"BACKUP SNAPSHOT d.b{n} TO s3r ON (t)")
            if offset >= 0:
                time.sleep(offset)
                for t in droppers:
                    t.start()
            row = wait_for(cb, "d", {"FINISHED", "CANCELLED"}, timeout=300)
            for t in droppers:
                t.join(timeout=120)
            print(f"# round {n} (drops at {offset:+.2f} s): B's backup {row['State']}; drops: {outcomes}")
            check(row["State"] == "FINISHED", f"round {n}: B's backup b{n} finished beside the drops: {row['Status']}")
            check(any(o == ("ok", "OK") for o in outcomes), f"round {n}: a drop of a{n} completed: {outcomes}")
            check(all(o[0] == "ok" or "does not exist" in o[1] or "being written" in o[1] for o in outcomes),
                  f"round {n}: every drop either ran or found a{n} already gone: {outcomes}")
            if row["State"] == "FINISHED":
                finished_b[f"b{n}"] = expected
            missing = sorted(bucket.referenced() - bucket.data_objects())
            check(missing == [], f"round {n}: every object a manifest names is in the bucket: {missing[:3]}")
        left = {r[0] for r in query(ca, "SHOW SNAPSHOT ON s3r")}
        check(left == set(finished_b), f"only B's snapshots are left: {sorted(left)}")

        # B's snapshots restore on A (the other server) and the last one on B as well.
        for label, expected in finished_b.items():
            restore_and_compare(ca, label, timestamp_of(ca, label), f"t_{label}", expected, "on A")
        last = f"b{ROUNDS - 1}"
        restore_and_compare(cb, last, timestamp_of(cb, last), "t_back", finished_b[last], "on B")

        # With no job running, DROP SNAPSHOT frees exactly what no remaining manifest names: b0 is
        # kept, the rows loaded after it are in the later snapshots only.
        check(wait_leases_gone(bucket), "no lease is left in the repository")
        before = bucket.data_objects()
        dropped = ", ".join(f"'b{n}'" for n in range(1, ROUNDS))
        names, rows = columns_of(ca, f"DROP SNAPSHOT ON s3r WHERE SNAPSHOT IN ({dropped})")
        result = dict(zip(names, rows[0]))
        after = bucket.data_objects()
        referenced = bucket.referenced()
        print(f"# final drop: {result}; data objects {len(before)} -> {len(after)}")
        check(result["Status"] == "OK" and int(result["SnapshotsDropped"]) == ROUNDS - 1,
              f"the final drop ran: {result}")
        check(len(after) < len(before) and int(result["ObjectsFreed"]) == len(before) - len(after),
              f"it freed {result['ObjectsFreed']} objects: {len(before)} -> {len(after)}")
        check(after == referenced, f"what is left is exactly what b0's manifest names: "
                                   f"{sorted(after - referenced)[:3]} {sorted(referenced - after)[:3]}")
        restore_and_compare(ca, "b0", timestamp_of(ca, "b0"), "t_final", finished_b["b0"], "after the final drop")
        with open(log_b) as f:
            waits = f.read().count("waiting for DROP SNAPSHOT to finish")
        print(f"# B's backups waited for a drop lease {waits} time(s)")

        for server, name in ((a, "A"), (b, "B")):
            check(server.stop() == 0, f"server {name} stops cleanly")
            check(server.sanitizer_reports() == [], f"server {name}: no sanitizer reports")
    finally:
        for server in (a, b):
            if server.process is not None:
                server.stop()
        aws.run("s3", "rb", f"s3://{bucket_name}", "--force", check_rc=False)
    finish(work, log_a)


if __name__ == "__main__":
    main()
