#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Full disks on real small filesystems (tmpfs mounts; exit 77 where mounting is not permitted).
#
# - RESTORE into a data dir that fills up midway: the job ends CANCELLED naming "No space left
#   on device" and the file; a new table is absent, a table restored over is exactly as it was;
#   the staging files are removed and the space is given back; the server still serves, and a
#   smaller restore then works.
# - The data dir filled to the last byte (the job journal and the catalog cannot be written):
#   statements fail with the reason, nothing is half-written, and once space is freed the
#   server restarts with its catalog and jobs as they were.
# - BACKUP to a file:// repository whose filesystem fills: CANCELLED naming the reason, SHOW
#   SNAPSHOT does not list it, no temporary files are left in the repository (space given back),
#   and the data dir is untouched.
#
# Usage: full_disk.py <tabletvault binary>
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, connect, error_of, finish, query, stream_load, wait_for  # noqa: E402
from restore_test_util import (fingerprint, run_restore, snapshot_leftovers, stray_tablet_files,  # noqa: E402
                               table_names, wait_restore)

NO_SPACE = "No space left on device"
BIG_MB = 24        # the table that does not fit
DATA_FS_MB = 20    # the restoring server's data dir
REPO_FS_MB = 12    # the small repository


def mount_tmpfs(path, megabytes):
    os.makedirs(path, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"skip: cannot mount a tmpfs ({out.stderr.strip() or 'mount failed'}); "
              "this test needs root or CAP_SYS_ADMIN")
        sys.exit(77)


def unmount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def used_bytes(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def write_rows(path, first, count, width, seed):
    """A tab-separated load file of `count` rows of random (incompressible) text."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    with open(path, "w") as f:
        for i in range(count):
            f.write(f"{first + i}\t{''.join(rng.choices(alphabet, k=width))}\n")


def temp_files(root):
    found = []
    for dirpath, _, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in names if ".tvtmp-" in n]
    return found


def wait_gone(condition, timeout=10):
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        time.sleep(0.05)
    return condition()


class FullDisk:
    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.location = os.path.join(work, "repo")             # a large repository, on the work disk
        self.small_data = os.path.join(work, "small-data")     # tmpfs: the restoring server's data dir
        self.small_repo = os.path.join(work, "small-repo")     # tmpfs: the repository that fills
        self.source = TvServer(binary, os.path.join(work, "data"), os.path.join(work, "source.log"))
        self.target = TvServer(binary, os.path.join(self.small_data, "data"), os.path.join(work, "target.log"))
        self.mounted = []

    def mount(self):
        for path, size in ((self.small_data, DATA_FS_MB), (self.small_repo, REPO_FS_MB)):
            mount_tmpfs(path, size)
            self.mounted.append(path)

    def prepare_source(self):
        """The source server: `big` (more than the small filesystems hold) and `small`, backed up."""
        self.source.start()
        conn = connect(self.source)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        for table in ("big", "small"):
            query(conn, f"CREATE TABLE {table} (k INT, v VARCHAR(4096)) DUPLICATE KEY(k) "
                        "DISTRIBUTED BY HASH(k) BUCKETS 2")
        rows = BIG_MB * 1024 * 1024 // 2048
        for part in range(4):  # four loads: several segment files, so a restore fills the disk midway
            path = os.path.join(self.work, f"big{part}.tsv")
            write_rows(path, part * rows, rows // 4, 2048, seed=part)
            stream_load(self.source, "d", "big", path)
            os.remove(path)
        path = os.path.join(self.work, "small.tsv")
        write_rows(path, 0, 200, 100, seed=9)
        stream_load(self.source, "d", "small", path)
        self.big_print = fingerprint(conn, "d.big")
        self.small_print = fingerprint(conn, "d.small")
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{self.location}"')
        query(conn, "BACKUP DATABASE d SNAPSHOT s1 TO repo ON (TABLE big, TABLE small)")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["State"] == "FINISHED", f"the source backup finishes ({row['State']} {row['Status']})")
        return conn

    def restore_into_full_data_dir(self):
        self.target.start()
        conn = connect(self.target)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE big (k INT, v VARCHAR(4096)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        query(conn, "INSERT INTO big VALUES (1, 'kept'), (2, 'as it was')")
        query(conn, f'CREATE READ ONLY REPOSITORY repo WITH BROKER ON LOCATION "{self.location}"')
        before_print = fingerprint(conn, "d.big")
        used_before = used_bytes(self.small_data)

        for what, sql in (("a restore over an existing table", "RESTORE SNAPSHOT s1 FROM repo DATABASE d ON (TABLE big)"),
                          ("a restore as a new table",
                           "RESTORE SNAPSHOT s1 FROM repo DATABASE d ON (TABLE big AS big_new)")):
            started = time.time()
            _, row = run_restore(conn, sql, "d", timeout=60)
            status = row["Status"]
            check(row["State"] == "CANCELLED" and NO_SPACE in status,
                  f"{what} into a full data dir: CANCELLED naming '{NO_SPACE}' ({row['State']} {status})")
            check("/snapshot/" in status or ".dat" in status, f"{what}: the message names the file ({status})")
            check(time.time() - started < 45, f"{what}: the job ends promptly ({time.time() - started:.1f} s)")
            check(wait_gone(lambda: snapshot_leftovers(self.target.data_dir) == []),
                  f"{what}: the staging files are removed: {snapshot_leftovers(self.target.data_dir)[:5]}")
            used_after = used_bytes(self.small_data)
            check(abs(used_after - used_before) < 2 * 1024 * 1024,
                  f"{what}: the space is given back (used {used_before} before, {used_after} after)")
            check(fingerprint(conn, "d.big") == before_print, f"{what}: big is exactly as it was")
            check(table_names(conn, "d") == ["big"], f"{what}: no new table appears ({table_names(conn, 'd')})")
            check(stray_tablet_files(conn, self.target.data_dir) == [],
                  f"{what}: no tablet files no table owns ({stray_tablet_files(conn, self.target.data_dir)[:3]})")

        check(query(conn, "SELECT COUNT(*) FROM d.big")[0][0] == 2, "the server still serves queries")
        _, row = run_restore(conn, "RESTORE SNAPSHOT s1 FROM repo DATABASE d ON (TABLE small)", "d", timeout=60)
        check(row["State"] == "FINISHED", f"a smaller restore then works ({row['State']} {row['Status']})")
        check(fingerprint(conn, "d.small") == self.small_print, "the small table equals its source")
        return conn

    def data_dir_full_to_the_last_byte(self, conn):
        """Nothing at all left: the catalog journal and the job journal cannot be written."""
        tables_before = table_names(conn, "d")
        prints_before = {t: fingerprint(conn, f"d.{t}") for t in tables_before}
        filler = os.path.join(self.small_data, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
        os.close(fd)
        # A journal record may still fit in the slack of its file's last page: go on until one
        # does not. Each statement either happens whole or fails with the reason.
        created, refused = [], None
        for n in range(40):
            err = error_of(conn, f"CREATE TABLE d.full_{n} (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
            if err is None:
                created.append(f"full_{n}")
            else:
                refused = err
                break
        check(refused is not None and NO_SPACE in refused[1],
              f"DDL on a full data dir fails with the reason after {len(created)} that fit ({refused})")
        err = error_of(conn, "INSERT INTO d.small VALUES (100000, 'x')")
        check(err is not None and re.search(r"write /\S+: " + NO_SPACE, err[1]) is not None,
              f"INSERT on a full data dir fails naming the file and the reason ({err})")
        err = error_of(conn, "RESTORE SNAPSHOT s1 FROM repo DATABASE d ON (TABLE small AS small2)")
        if err is None:
            # Submitted: the job must end, not hang in its state, and leave nothing.
            row = wait_restore(conn, "d", timeout=45)
            check(row["State"] == "CANCELLED" and NO_SPACE in row["Status"],
                  f"a restore submitted on a full data dir ends CANCELLED with the reason "
                  f"({row['State']} {row['Status']})")
            check(wait_gone(lambda: snapshot_leftovers(self.target.data_dir) == []),
                  f"its staging is removed ({snapshot_leftovers(self.target.data_dir)[:3]})")
        else:
            check(NO_SPACE in err[1], f"a restore on a full data dir is refused with the reason ({err})")
        check(query(conn, "SELECT COUNT(*) FROM d.big")[0][0] == 2, "queries still work on a full data dir")
        os.remove(filler)
        # Space again: the journals take changes again without a restart.
        err = error_of(conn, "CREATE TABLE d.later (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        check(err is None, f"with space again, DDL works without a restart ({err})")
        err = error_of(conn, "INSERT INTO d.later VALUES (1)")
        check(err is None, f"with space again, loads work without a restart ({err})")
        expected_tables = sorted(tables_before + created + ["later"])
        self.target.stop()
        self.target.start()
        conn = connect(self.target)
        names = [t for t in table_names(conn, "d") if t != "small2"]  # a restore taken up again may add it
        check(names == expected_tables,
              f"after a restart the catalog holds exactly the acknowledged changes ({names} vs {expected_tables})")
        check({t: fingerprint(conn, f"d.{t}") for t in tables_before} == prints_before,
              "after a restart every table has its rows")
        check(query(conn, "SELECT COUNT(*) FROM d.later")[0][0] == 1, "after a restart the later load is there")
        row = wait_restore(conn, "d", timeout=45)
        check(row["State"] in ("FINISHED", "CANCELLED"), f"after a restart no restore is left running ({row['State']})")
        check(wait_gone(lambda: snapshot_leftovers(self.target.data_dir) == []),
              f"nothing is left under snapshot/ ({snapshot_leftovers(self.target.data_dir)[:3]})")
        self.target.stop()

    def backup_to_full_repository(self, conn):
        query(conn, "USE d")
        query(conn, f'CREATE REPOSITORY small_repo WITH BROKER ON LOCATION "{self.small_repo}"')
        used_before = used_bytes(self.small_repo)
        data_before = sorted(stray_tablet_files(conn, self.source.data_dir))
        started = time.time()
        query(conn, "BACKUP DATABASE d SNAPSHOT s2 TO small_repo ON (TABLE big)")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["State"] == "CANCELLED" and NO_SPACE in row["Status"],
              f"a backup to a full repository: CANCELLED naming '{NO_SPACE}' ({row['State']} {row['Status']})")
        check(time.time() - started < 45, f"the backup ends promptly ({time.time() - started:.1f} s)")
        snaps = query(conn, "SHOW SNAPSHOT ON small_repo")
        check(all(r[0] != "s2" for r in snaps), f"SHOW SNAPSHOT does not list s2 ({snaps})")
        check(wait_gone(lambda: temp_files(self.small_repo) == []),
              f"no temporary files are left in the repository ({temp_files(self.small_repo)[:3]})")
        used_after = used_bytes(self.small_repo)
        # What stays is what a cancelled backup keeps by design: objects it finished (a later
        # backup reuses them, DROP SNAPSHOT collects them); never the partial object that failed.
        check(used_after < REPO_FS_MB * 1024 * 1024 - 1024 * 1024,
              f"the repository's space is given back: {used_after} of {REPO_FS_MB} MiB used (before {used_before})")
        check(fingerprint(conn, "d.big") == self.big_print and fingerprint(conn, "d.small") == self.small_print,
              "the data dir is untouched: both tables keep their rows")
        check(snapshot_leftovers(self.source.data_dir) == [] and
              sorted(stray_tablet_files(conn, self.source.data_dir)) == data_before,
              f"the data dir is untouched: no snapshot links left ({snapshot_leftovers(self.source.data_dir)[:3]})")
        query(conn, "BACKUP DATABASE d SNAPSHOT s3 TO small_repo ON (TABLE small)")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["State"] == "FINISHED", f"a smaller backup to the same repository then works ({row['State']} {row['Status']})")

    def run(self):
        self.mount()
        source_conn = self.prepare_source()
        conn = self.restore_into_full_data_dir()
        self.data_dir_full_to_the_last_byte(conn)
        self.backup_to_full_repository(source_conn)
        self.source.stop()
        check(self.source.sanitizer_reports() == [] and self.target.sanitizer_reports() == [], "no sanitizer reports")


def main():
    if len(sys.argv) != 2:
        print("usage: full_disk.py <tabletvault binary>")
        sys.exit(2)
    work = tempfile.mkdtemp(prefix="tv-full-disk-")
    test = FullDisk(sys.argv[1], work)
    try:
        test.run()
    finally:
        for server in (test.source, test.target):
            try:
                server.stop()
            except Exception:
                pass
        for path in test.mounted:
            unmount(path)
    finish(work, test.target.log_path)


if __name__ == "__main__":
    main()
