#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Repository secrets stay secret, against the Ceph RADOS Gateway of the `rgw` fixture: after a
# CREATE REPOSITORY with the gateway's keys and a BACKUP to it, and a CREATE REPOSITORY refused
# for a distinctive wrong secret key and session token, neither secret appears in SHOW
# REPOSITORIES, SHOW CREATE REPOSITORY, SHOW BACKUP, any error message, the server log, any
# object of the repository (info, meta, manifest, data) or any file of the data directory but
# the catalog's journal and image, which hold them by design and are readable by the server's
# user only (mode 0600).
import os
import stat
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from rgw_test_util import Aws, read_rgw_env, repository_properties  # noqa: E402
from backup_test_util import check, connect, error_of, finish, query, wait_for  # noqa: E402

WRONG_SECRET = "TvWrongSecret-4f9c2e71-do-not-echo"
WRONG_TOKEN = "TvSessionToken-8a1d77b3-do-not-echo"


def rows_text(conn, sql):
    return "\n".join("\t".join(str(c) for c in row) for row in query(conn, sql))


def main():
    binary = sys.argv[1]
    rgw = read_rgw_env()
    secret = rgw["secret_key"]
    check(len(secret) >= 16, "the gateway's secret key is long enough for a search to mean something")
    bucket = "tv-secrets-" + uuid.uuid4().hex[:12]
    aws = Aws(rgw)
    aws.run("s3api", "create-bucket", "--bucket", bucket)
    work = tempfile.mkdtemp(prefix="tv-secrets-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, ["--set", "log_level=debug"])
    seen = []  # every text a client was shown
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "CREATE TABLE d.t (k INT, v VARCHAR(32)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, "INSERT INTO d.t VALUES " + ", ".join(f"({i}, 'v{i}')" for i in range(200)))
        props = repository_properties(rgw)
        query(conn, f'CREATE REPOSITORY s3r WITH BROKER ON LOCATION "s3://{bucket}/bk" PROPERTIES ({props})')

        wrong = props.replace(secret, WRONG_SECRET) + f', "aws.s3.session_token" = "{WRONG_TOKEN}"'
        err = error_of(conn, f'CREATE REPOSITORY bad WITH BROKER ON LOCATION "s3://{bucket}/bad" PROPERTIES ({wrong})')
        check(err is not None, f"a wrong secret key is refused: {err}")
        seen.append(str(err))

        query(conn, "BACKUP DATABASE d SNAPSHOT snap TO s3r")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"})
        check(row["State"] == "FINISHED", f"the backup finished: {row}")
        # A backup that fails at the store (a label that is taken) shows an error too.
        seen.append(str(error_of(conn, "BACKUP DATABASE d SNAPSHOT snap TO s3r")))
        seen.append(rows_text(conn, "SHOW REPOSITORIES"))
        seen.append(rows_text(conn, "SHOW BACKUP FROM d"))
        seen.append(rows_text(conn, "SHOW SNAPSHOT ON s3r"))
        seen.append(rows_text(conn, "ADMIN SHOW FRONTEND CONFIG"))
        shown = "\n".join(seen)
        check(f"s3://{bucket}/bk" in shown, "SHOW REPOSITORIES shows the repository")
        for value, name in ((secret, "the secret key"), (WRONG_SECRET, "the wrong secret key"),
                            (WRONG_TOKEN, "the session token")):
            check(value not in shown, f"{name} is in no SHOW and no error message")

        keys = aws.keys(bucket, "")
        check(any("__info_" in k for k in keys) and any("__meta_" in k for k in keys),
              f"the repository holds the snapshot's info and meta ({len(keys)} objects)")
        leaked = [k for k in keys if secret.encode() in aws.read_bytes(bucket, k)]
        check(not leaked, f"no object of the repository holds the secret key: {leaked}")

        server.stop()
        log = open(log_path, errors="replace").read()
        check("CREATE REPOSITORY" in log or "s3r" in log, "the debug log says something about the repository")
        for value, name in ((secret, "the secret key"), (WRONG_SECRET, "the wrong secret key"),
                            (WRONG_TOKEN, "the session token")):
            check(value not in log, f"{name} is not in the server log")
        holders = []
        for root, _, files in os.walk(data_dir):
            for f in files:
                path = os.path.join(root, f)
                with open(path, "rb") as fh:
                    if secret.encode() in fh.read():
                        holders.append(path)
        private = all(stat.S_IMODE(os.stat(p).st_mode) & 0o077 == 0 for p in holders)
        check(all("/meta/" in p for p in holders) and private,
              f"in the data directory only the catalog's journal and image hold the key, mode 0600: {holders}")
    finally:
        if server.process is not None:
            server.stop(timeout=10)
    finish(work, log_path)


if __name__ == "__main__":
    main()
