#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A repository written by someone hostile (or by a newer version): snapshot objects that are
# well formed, with names whose XXH3-128 matches their bytes, but whose content must not be
# trusted. Each RESTORE is refused with a message that names the object, nothing is committed
# (no table, no file outside the data dir or left in it), and the server goes on.
#
# Usage: hostile_repository.py <tabletvault binary>
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, connect, error_of, finish, query, wait_for  # noqa: E402
from restore_test_util import (fingerprint, insert_rows, restore_of, snapshot_leftovers,  # noqa: E402
                               stray_tablet_files, table_names, wait_restore)


def xxh128(path):
    return subprocess.run(["xxhsum", "-H2", path], capture_output=True, text=True, check=True).stdout.split()[0]


class Snapshot:
    """The objects of one snapshot in a local repository, rewritten with matching names."""

    def __init__(self, location, label):
        self.dir = glob.glob(os.path.join(location, "__tabletvault_repository_r", f"__ss_{label}"))[0]
        self.saved = self.dir + ".saved"
        shutil.copytree(self.dir, self.saved)

    def path(self, prefix):
        return glob.glob(os.path.join(self.dir, prefix + "*"))[0]

    def read(self, prefix):
        return open(self.path(prefix), "rb").read()

    def rewrite(self, prefix, body):
        """Replaces the object with `body` under the name its hash gives; the info follows."""
        old = self.path(prefix)
        base = old.rsplit(".", 1)[0]
        tmp = base + ".new"
        with open(tmp, "wb") as f:
            f.write(body)
        new = f"{base}.{xxh128(tmp)}"
        os.remove(old)
        os.rename(tmp, new)
        if prefix != "__info_":
            info = json.loads(self.read("__info_"))
            field = {"__manifest_": "manifest_key", "__meta_": "meta_key"}[prefix]
            root = os.path.dirname(os.path.dirname(self.dir))
            info[field] = os.path.relpath(new, root)
            self.rewrite("__info_", json.dumps(info).encode())
        return os.path.relpath(new, os.path.dirname(os.path.dirname(self.dir)))

    def put_back(self):
        shutil.rmtree(self.dir)
        shutil.copytree(self.saved, self.dir)


def with_manifest_file(snapshot, change):
    manifest = json.loads(snapshot.read("__manifest_"))
    change(manifest["files"][0])
    return snapshot.rewrite("__manifest_", json.dumps(manifest).encode())


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-hostile-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    outside = os.path.join(work, "escaped")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path)
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE t (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        insert_rows(conn, "t", 0, 100, 40, seed=1)
        source = fingerprint(conn, "d.t")
        query(conn, f'CREATE REPOSITORY r WITH BROKER ON LOCATION "{location}"')
        query(conn, "BACKUP DATABASE d SNAPSHOT s TO r")
        check(wait_for(conn, "d", {"FINISHED", "CANCELLED"})["State"] == "FINISHED", "the backup finishes")
        snapshot = Snapshot(location, "s")
        depth = os.path.relpath(outside, os.path.join(data_dir, "storage", "data", "1"))

        cases = [
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(name=depth + "/x.dat")),
             "a file name that climbs out of the data dir"),
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(name=outside + "/abs.dat")),
             "an absolute file name"),
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(name="10007\u0000_0.dat")),
             "a file name holding NUL"),
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(size=1 << 62)),
             "an absurd file size"),
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(key="../../" + os.path.basename(work))),
             "an object key that climbs out of the repository"),
            ("__manifest_", lambda s: s.rewrite("__manifest_", b"[" * 10000 + b"]" * 10000),
             "a manifest nested 10,000 deep"),
            ("__meta_", lambda s: s.rewrite("__meta_", b'{"a":' * 10000 + b"1" + b"}" * 10000),
             "a meta object nested 10,000 deep"),
            ("__manifest_", lambda s: s.rewrite("__manifest_", json.dumps(
                dict(json.loads(s.read("__manifest_")), format_version=99)).encode()),
             "a manifest of a newer format version"),
            ("__info_", lambda s: s.rewrite("__info_", json.dumps(
                dict(json.loads(s.read("__info_")), tabletvault_format_version=99)).encode()),
             "an info object of a newer format version"),
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(encoding="zstd-from-the-future")),
             "a file encoding this version does not know"),
            ("__manifest_", lambda s: with_manifest_file(s, lambda f: f.update(name="x" * (64 << 20))),
             "a file name of 64 MiB"),
            ("__info_", lambda s: s.rewrite("__info_", json.dumps(
                dict(json.loads(s.read("__info_")), database="d" * (16 << 20))).encode()),
             "an info object with a database name of 16 MiB"),
        ]
        for n, (prefix, damage, what) in enumerate(cases):
            key = damage(snapshot)
            named = os.path.basename(snapshot.path(prefix))
            target = f"t_{n}"
            refused = error_of(conn, f"RESTORE SNAPSHOT s FROM r DATABASE d ON (TABLE t AS {target})")
            if refused is None:
                row = wait_restore(conn, "d", timeout=120)
                message = row["Status"]
                check(row["State"] == "CANCELLED", f"{what}: the restore is refused: {row['State']} {message[:300]}")
            else:
                message = refused[1]
            check(named in message or (key and key in message),
                  f"{what}: the message names the object {named}: {message[:300]}")
            check(target not in table_names(conn, "d"), f"{what}: nothing is committed")
            check(not os.path.exists(outside), f"{what}: nothing is written outside the data dir")
            check(snapshot_leftovers(data_dir) == [] and stray_tablet_files(conn, data_dir) == [],
                  f"{what}: nothing is left in the data dir")
            snapshot.put_back()

        query(conn, "RESTORE SNAPSHOT s FROM r DATABASE d ON (TABLE t AS t_ok)")
        row = wait_restore(conn, "d", timeout=120)
        check(row["State"] == "FINISHED" and fingerprint(conn, "d.t_ok") == source,
              f"the snapshot put back restores: {row['Status']}")
        check(server.sanitizer_reports() == [], "no sanitizer reports")
    finally:
        server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
