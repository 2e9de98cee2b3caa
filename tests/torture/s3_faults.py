#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# BACKUP and RESTORE through a proxy that spoils 5% of the S3 requests to the Ceph RGW of the
# `rgw` fixture (503 SlowDown, resets mid-body, stalls past s3_request_timeout_seconds,
# truncated answers): both finish, the restored table equals the source, and SHOW BACKUP /
# SHOW RESTORE show the retries in TaskErrMsg while the job goes on. Then permanent failures end
# a job with the store's code and message: 403 on the data objects, the bucket deleted mid-job,
# and the job's access key removed mid-job (radosgw-admin).
#
# Usage: s3_faults.py <tabletvault binary> [--mib N] [--seed S]   (N MiB of table data; the
# default is small for CI, a multi-GiB run is by hand: --mib 3072)
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
sys.path.insert(0, here)
from tvserver import TvServer  # noqa: E402
from backup_test_util import backup_of, check, connect, finish, query, stream_load, wait_for  # noqa: E402
from restore_test_util import fingerprint, insert_rows, restore_of, wait_restore  # noqa: E402
from rgw_test_util import Aws, read_rgw_env  # noqa: E402
from s3_fault_proxy import FaultProxy  # noqa: E402

REQUEST_TIMEOUT_S = 2


def write_csv(path, mib, seed):
    """mib MiB of (k, v) rows, v incompressible text of about 1 KiB."""
    rng = random.Random(seed)
    rows = mib * 1024
    with open(path, "w") as f:
        for k in range(rows):
            f.write(f"{k}\t{rng.randbytes(500).hex()}\n")


def watch(conn, row_of, db, done_states, timeout):
    """Polls a job until it ends; yields its last row and every TaskErrMsg seen on the way."""
    seen = set()
    deadline = time.time() + timeout
    while time.time() < deadline:
        row = row_of(conn, db)
        if row["TaskErrMsg"]:
            seen.add(row["TaskErrMsg"])
        if row["State"] in done_states:
            return row, seen
        time.sleep(0.2)
    raise RuntimeError(f"the job did not end in {timeout} s: {row}")


def data_faults(proxy, since):
    """The faults injected since index `since` into requests for data objects: TaskErrMsg counts
    the retries of a job's file transfers; those of its metadata requests (listings, info, meta,
    manifest) are retried alike but not counted there yet."""
    return [f for f in proxy.faulted[since:] if "/__data/" in f[2]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--mib", type=int, default=int(os.environ.get("TV_FAULTS_MIB", "48")))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rgw = read_rgw_env()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"# s3_faults seed {seed}, {args.mib} MiB (replay: --seed {seed})", flush=True)
    host, port = rgw["endpoint"].split("//")[1].split(":")
    proxy = FaultProxy((host, int(port)), rate=0.05, seed=seed, stall_s=REQUEST_TIMEOUT_S + 2)
    aws = Aws(rgw)
    bucket = "tv-faults-" + uuid.uuid4().hex[:12]
    aws.run("s3api", "create-bucket", "--bucket", bucket)

    work = tempfile.mkdtemp(prefix="tv-s3faults-")
    log_path = os.path.join(work, "server.log")
    server = TvServer(args.binary, os.path.join(work, "data"), log_path,
                      ["--set", f"s3_request_timeout_seconds={REQUEST_TIMEOUT_S}",
                       "--set", "multipart_threshold=5M", "--set", "multipart_part_size=5M"])
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE t (k BIGINT, v VARCHAR(1100)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        csv = os.path.join(work, "t.csv")
        write_csv(csv, args.mib, seed)
        stream_load(server, "d", "t", csv)
        os.remove(csv)
        source = fingerprint(conn, "d.t")
        props = ", ".join(f'"{k}" = "{v}"' for k, v in {
            "aws.s3.access_key": rgw["access_key"], "aws.s3.secret_key": rgw["secret_key"],
            "aws.s3.endpoint": f"http://127.0.0.1:{proxy.port}", "aws.s3.region": rgw["region"]}.items())
        # The repository is created with the proxy answering truly; faults start with the jobs.
        proxy.enabled = False
        query(conn, f'CREATE REPOSITORY r WITH BROKER ON LOCATION "s3://{bucket}/bk" PROPERTIES ({props})')
        proxy.enabled = True

        faulted_before = len(proxy.faulted)
        query(conn, "BACKUP DATABASE d SNAPSHOT snap TO r")
        row, seen = watch(conn, backup_of, "d", {"FINISHED", "CANCELLED"}, 1800)
        check(row["State"] == "FINISHED", f"the backup finishes through the faults: {row['State']} {row['Status']}")
        injected = dict(proxy.injected)
        check(sum(injected.values()) > 0, f"faults were injected: {injected} of {proxy.requests} requests")
        check(any("retried; last:" in s for s in seen) or not data_faults(proxy, faulted_before),
              f"SHOW BACKUP showed its data requests' retries (if one was faulted) in TaskErrMsg while it ran: {sorted(seen)[:3]}; "
              f"faulted: {proxy.faulted[faulted_before:]}")

        faulted_before = len(proxy.faulted)
        query(conn, "RESTORE SNAPSHOT snap FROM r DATABASE d ON (TABLE t AS t2)")
        row, seen = watch(conn, restore_of, "d", {"FINISHED", "CANCELLED"}, 1800)
        check(row["State"] == "FINISHED", f"the restore finishes through the faults: {row['State']} {row['Status']}")
        check(fingerprint(conn, "d.t2") == source, "the restored table equals the source")
        check(any("retried; last:" in s for s in seen) or not data_faults(proxy, faulted_before),
              f"SHOW RESTORE showed its data requests' retries (if one was faulted) in TaskErrMsg while it ran: {sorted(seen)[:3]}; "
              f"faulted: {proxy.faulted[faulted_before:]}")
        print(f"# faults injected: {proxy.injected} in {proxy.requests} requests", flush=True)

        # Permanent failures end the job with the store's answer.
        proxy.enabled = False
        insert_rows(conn, "t", 10**9, 200, 300, seed=1)
        proxy.forbid("/__data/")
        query(conn, "BACKUP DATABASE d SNAPSHOT denied TO r")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=300)
        check(row["State"] == "CANCELLED" and "403" in row["Status"] and "AccessDenied" in row["Status"],
              f"403 on the data objects cancels the backup with the store's code: {row['Status']}")
        proxy.forbidden.clear()

        # The bucket deleted while the job uploads (throttled, so it is still uploading).
        insert_rows(conn, "t", 2 * 10**9, 200, 300, seed=2)
        victim = "tv-faults-gone-" + uuid.uuid4().hex[:8]
        aws.run("s3api", "create-bucket", "--bucket", victim)
        query(conn, f'CREATE REPOSITORY gone WITH BROKER ON LOCATION "s3://{victim}/bk" PROPERTIES ({props})')
        query(conn, "BACKUP DATABASE d SNAPSHOT doomed TO gone PROPERTIES ('max_upload_speed_kbps' = '2048')")
        wait_for(conn, "d", {"UPLOADING", "FINISHED", "CANCELLED"}, timeout=120)
        aws.run("s3", "rb", f"s3://{victim}", "--force")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=300)
        check(row["State"] == "CANCELLED" and "NoSuchBucket" in row["Status"],
              f"a bucket deleted mid-job cancels the backup with NoSuchBucket: {row['Status']}")

        # The job's access key removed while it uploads.
        conf = os.path.join(os.path.dirname(os.environ["TV_RGW_ENV"]), "ceph.conf")
        uid, access, secret = "tv-revoked-" + uuid.uuid4().hex[:6], "TVREVOKED" + uuid.uuid4().hex[:11].upper(), \
            uuid.uuid4().hex + uuid.uuid4().hex[:8]
        subprocess.run(["radosgw-admin", "-c", conf, "user", "create", f"--uid={uid}", f"--display-name={uid}",
                        f"--access-key={access}", f"--secret={secret}"], check=True, capture_output=True, timeout=60)
        own = Aws(dict(rgw, access_key=access, secret_key=secret))
        own_bucket = "tv-faults-own-" + uuid.uuid4().hex[:8]
        own.run("s3api", "create-bucket", "--bucket", own_bucket)
        props_own = props.replace(rgw["access_key"], access).replace(rgw["secret_key"], secret)
        query(conn, f'CREATE REPOSITORY revoked WITH BROKER ON LOCATION "s3://{own_bucket}/bk" '
                    f"PROPERTIES ({props_own})")
        query(conn, "BACKUP DATABASE d SNAPSHOT revoked TO revoked PROPERTIES ('max_upload_speed_kbps' = '2048')")
        wait_for(conn, "d", {"UPLOADING", "FINISHED", "CANCELLED"}, timeout=120)
        subprocess.run(["radosgw-admin", "-c", conf, "key", "rm", f"--uid={uid}", f"--access-key={access}"],
                       check=True, capture_output=True, timeout=60)
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=300)
        check(row["State"] == "CANCELLED" and "InvalidAccessKeyId" in row["Status"],
              f"an access key removed mid-job cancels the backup with InvalidAccessKeyId: {row['Status']}")
        check(server.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
        proxy.close()
    finish(work, log_path)


if __name__ == "__main__":
    main()
