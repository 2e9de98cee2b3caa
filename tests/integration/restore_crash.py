#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# kill -9 in every state of a RESTORE, then a restart: the same job (same JobId) continues from
# its journaled state and finishes, and the restored tables equal the backed-up ones, whether
# the restore overwrote an existing table whose data differed or created a new one; the tables
# it did not touch are intact; nothing is left in the staging area or in tablet directories no
# table owns. Files staged and journaled before a kill mid-download are not fetched again; a
# restore killed mid-download and then cancelled leaves the old data as it was and nothing new.
# The server is held in a state with the test-only TV_TEST_PAUSE_RESTORE_IN=<STATE> (the job
# waits on entering that state) so the kill lands there.
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402
from backup_test_util import check, connect, error_of, finish, query, wait_for  # noqa: E402
from restore_test_util import (fingerprint, insert_rows, restore_of, snapshot_leftovers, staged_files,  # noqa: E402
                               stray_tablet_files, table_names, wait_restore)

STATES = ["PENDING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING"]
# Segment files of `big` (about 30 KB) are objects of their own, those of `small` are packed.
FLAGS = ["--set", "backup_pack_threshold=16K", "--set", "backup_pack_size=64K"]
# A job timeout that expires while the server is down (the restore reaches COMMIT in well under
# a second).
TIMEOUT_S = 6


def start(server, pause=None, crash_after_publish=False):
    if pause:
        os.environ["TV_TEST_PAUSE_RESTORE_IN"] = pause
    if crash_after_publish:
        os.environ["TV_FAILPOINTS"] = "restore.commit.after_publish=crash"
    try:
        server.start()
    finally:
        os.environ.pop("TV_TEST_PAUSE_RESTORE_IN", None)
        os.environ.pop("TV_FAILPOINTS", None)
    conn = connect(server)
    query(conn, "USE d")
    return conn


def restore_sql(new_name, extra=""):
    """Overwrites `big` (it exists, with other data) and restores `small` as a new table."""
    return f"RESTORE SNAPSHOT d.snap FROM repo ON (big, small AS {new_name}){extra}"


def check_clean(conn, data_dir, what):
    leftovers = snapshot_leftovers(data_dir)
    check(leftovers == [], f"{what}: nothing is left under <data_dir>/snapshot: {leftovers[:5]}")
    stray = stray_tablet_files(conn, data_dir)
    check(stray == [], f"{what}: every tablet directory and file belongs to a table: {stray[:5]}")


class Run:
    def __init__(self, server, data_dir, backed_up, untouched):
        self.server, self.data_dir, self.backed_up, self.untouched = server, data_dir, backed_up, untouched
        self.batch = 100

    def make_big_differ(self, conn):
        """`big` gets rows the snapshot does not have: an overwrite must remove them."""
        self.batch += 1
        insert_rows(conn, "big", self.batch * 10000, 40, 300, seed=self.batch)
        now = fingerprint(conn, "d.big")
        check(now != self.backed_up["big"], f"big differs from the snapshot before the restore: {now}")
        return now

    def check_restored(self, conn, new_name, what):
        check(fingerprint(conn, "d.big") == self.backed_up["big"],
              f"{what}: the overwritten table equals the backed-up one {self.backed_up['big']}")
        got = fingerprint(conn, f"d.{new_name}")
        check(got == self.backed_up["small"],
              f"{what}: the new table equals the backed-up one: {got} == {self.backed_up['small']}")
        self.check_untouched(conn, what)

    def check_untouched(self, conn, what):
        now = {t: fingerprint(conn, t) for t in self.untouched}
        check(now == self.untouched, f"{what}: the tables the restore does not touch are intact")

    def crash_in(self, state):
        """Held in `state`, kill -9, restart: the same job finishes."""
        new_name = f"small_{state.lower()}"
        conn = start(self.server, pause=state)
        self.make_big_differ(conn)
        query(conn, restore_sql(new_name))
        held = wait_restore(conn, "d", {state}, timeout=30)
        staging = os.path.join(self.data_dir, "snapshot", held["JobId"], "staging")
        had_staging = os.path.isdir(staging)
        if state not in ("COMMITTING",):
            check(new_name not in table_names(conn, "d"), f"{state}: the new table is not visible before COMMIT")
        self.server.stop(signal.SIGKILL)

        if state != "PENDING":
            # Held again after the restart: the job has its plan, so its tables stay locked from
            # the start, before it runs a step.
            conn = start(self.server, pause=state)
            again = restore_of(conn, "d")
            check(again["JobId"] == held["JobId"] and again["State"] == state,
                  f"{state}: after the restart the job is in the same state: {again['State']}")
            if state in ("COMMIT", "COMMITTING"):
                check(again["FilesDone"] == again["FilesTotal"] and again["BytesDone"] == again["BytesTotal"]
                      and int(again["FilesTotal"]) > 0,
                      f"{state}: after the restart SHOW RESTORE still counts every file as done: "
                      f"{again['FilesDone']}/{again['FilesTotal']} files, {again['BytesDone']}/{again['BytesTotal']} bytes")
            refused = error_of(conn, "INSERT INTO big VALUES (1, 'slipped in')")
            check(refused is not None and "is being restored" in refused[1],
                  f"{state}: after the restart the table under restore still refuses loads: {refused}")
            self.server.stop(signal.SIGKILL)

        conn = start(self.server)
        if state not in ("PENDING", "SNAPSHOTING"):
            check(had_staging, f"{state}: the staging directory was there when the server was killed")
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["JobId"] == held["JobId"] and row["State"] == "FINISHED" and row["Status"] == "[OK]",
              f"kill -9 in {state}: the same job finishes after the restart: {row['JobId']} {row['State']} "
              f"{row['Status']}")
        self.check_restored(conn, new_name, state)
        check_clean(conn, self.data_dir, state)
        self.server.stop()

    def crash_mid_download(self):
        """Killed half-way through the downloads (throttled): the files staged and journaled
        before the kill are kept, not fetched again."""
        new_name = "small_mid_download"
        conn = start(self.server)
        self.make_big_differ(conn)
        query(conn, restore_sql(new_name, " PROPERTIES ('max_download_speed_kbps' = '64')"))
        held = wait_restore(conn, "d", {"DOWNLOADING"}, timeout=30)
        deadline = time.time() + 30
        while time.time() < deadline and len(staged_files(self.data_dir, held["JobId"])) < 3:
            time.sleep(0.05)
        before = staged_files(self.data_dir, held["JobId"])
        time.sleep(1.0)  # past the journal's flush (every 250 ms) of the staged files
        row = restore_of(conn, "d")
        total = int(row["FilesTotal"])
        check(3 <= len(before) < total and row["State"] == "DOWNLOADING",
              f"DOWNLOADING: killed with {len(before)} of {total} files staged")
        self.server.stop(signal.SIGKILL)

        # Held again before COMMIT, so the staging directory can be looked at once the
        # downloads are done; the data dir named through a symbolic link this time (as after
        # a move or another mount point): the same files, another path.
        self.server.data_dir = self.data_dir + "-link"
        os.symlink(os.path.basename(self.data_dir), self.server.data_dir)
        conn = start(self.server, pause="COMMIT")
        deadline = time.time() + 10
        resumed = restore_of(conn, "d")
        while time.time() < deadline and int(resumed["BytesDone"]) == 0:
            time.sleep(0.05)
            resumed = restore_of(conn, "d")
        check(resumed["JobId"] == held["JobId"] and int(resumed["BytesDone"]) > 0,
              f"DOWNLOADING: the resumed job counts what was staged: BytesDone {resumed['BytesDone']}")
        wait_restore(conn, "d", {"COMMIT"}, timeout=90)
        after = staged_files(self.data_dir, held["JobId"])
        check(len(after) == total, f"DOWNLOADING: every file is staged after the restart ({len(after)}/{total})")
        fetched_again = [k for k, v in before.items() if after.get(k) != v]
        check(fetched_again == [], f"DOWNLOADING: none of the {len(before)} files staged before the kill was "
                                   f"fetched again: {fetched_again[:5]}")
        check(new_name not in table_names(conn, "d"), "DOWNLOADING: nothing is visible before COMMIT")
        self.server.stop(signal.SIGKILL)
        self.server.data_dir = self.data_dir
        os.remove(self.data_dir + "-link")

        conn = start(self.server)
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["JobId"] == held["JobId"] and row["State"] == "FINISHED",
              f"DOWNLOADING (mid-download): the same job finishes: {row['State']} {row['Status']}")
        self.check_restored(conn, "small_mid_download", "DOWNLOADING (mid-download)")
        check_clean(conn, self.data_dir, "DOWNLOADING (mid-download)")
        self.server.stop()

    def timed_out_while_down(self):
        """Killed in COMMIT (before the publish) and restarted after the job's timeout: the job
        is cancelled, and nothing of it is visible."""
        new_name = "small_timed_out"
        conn = start(self.server, pause="COMMIT")
        old_big = self.make_big_differ(conn)
        submitted = time.time()
        query(conn, restore_sql(new_name, f" PROPERTIES ('timeout' = '{TIMEOUT_S}')"))
        held = wait_restore(conn, "d", {"COMMIT"}, timeout=TIMEOUT_S)
        self.server.stop(signal.SIGKILL)
        time.sleep(max(0.0, submitted + TIMEOUT_S + 1 - time.time()))

        conn = start(self.server)
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=10)
        check(row["JobId"] == held["JobId"] and row["State"] == "CANCELLED" and "timed out" in row["Status"],
              f"timed out while the server was down: cancelled at the restart: {row['State']} {row['Status']}")
        check(fingerprint(conn, "d.big") == old_big, "timed out: the table it would have overwritten is as it was")
        check(new_name not in table_names(conn, "d"), "timed out: the new table is not visible")
        self.check_untouched(conn, "timed out")
        check_clean(conn, self.data_dir, "timed out")
        self.server.stop()

    def crash_after_publish(self):
        """The server dies right after the COMMIT record is durable, before COMMITTING is
        journaled, and comes back after the job's timeout: the job finishes, since its data is
        visible (it can no longer be cancelled, by a timeout or by CANCEL)."""
        new_name = "small_published"
        conn = start(self.server, crash_after_publish=True)
        self.make_big_differ(conn)
        previous = restore_of(conn, "d")["JobId"]
        submitted = time.time()
        query(conn, restore_sql(new_name, f" PROPERTIES ('timeout' = '{TIMEOUT_S}')"))
        code = self.server.process.wait(timeout=30)
        self.server.process = None
        check(code == -signal.SIGKILL, f"the server killed itself right after the publish: {code}")
        time.sleep(max(0.0, submitted + TIMEOUT_S + 1 - time.time()))

        conn = start(self.server)
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=30)
        check(row["JobId"] != previous and row["State"] == "FINISHED" and row["Status"] == "[OK]",
              f"killed between the publish and COMMITTING, restarted after its timeout: the job finishes: "
              f"{row['State']} {row['Status']}")
        self.check_restored(conn, new_name, "after the publish")
        check_clean(conn, self.data_dir, "after the publish")
        self.server.stop()

    def publish_refused(self):
        """Held in COMMIT, the new table's name is taken meanwhile, then a restart: the publish
        is refused, so the job is cancelled and nothing of it is visible, the table it would
        have overwritten included, and the files it linked into tablet directories are gone."""
        new_name = "small_taken"
        conn = start(self.server, pause="COMMIT")
        old_big = self.make_big_differ(conn)
        query(conn, restore_sql(new_name))
        held = wait_restore(conn, "d", {"COMMIT"}, timeout=30)
        query(conn, f"CREATE TABLE {new_name} (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        query(conn, f"INSERT INTO {new_name} VALUES (1), (2)")
        self.server.stop()

        conn = start(self.server)
        row = wait_restore(conn, "d", {"FINISHED", "CANCELLED"}, timeout=30)
        check(row["JobId"] == held["JobId"] and row["State"] == "CANCELLED" and
              f"Table '{new_name}' was created while the restore ran; nothing was restored" in row["Status"],
              f"a name taken while the job was held: the publish is refused: {row['State']} {row['Status']}")
        check(fingerprint(conn, "d.big") == old_big, "publish refused: the table it would have overwritten is as it was")
        check(query(conn, f"SELECT k FROM {new_name} ORDER BY k") == ((1,), (2,)),
              "publish refused: the table that took the name is the user's")
        self.check_untouched(conn, "publish refused")
        check_clean(conn, self.data_dir, "publish refused")
        self.server.stop()

    def cancel_after_crash(self):
        """Killed mid-download, then CANCEL RESTORE after the restart: the old data as it was,
        nothing new visible, the staging area removed."""
        new_name = "small_cancelled"
        conn = start(self.server)
        old_big = self.make_big_differ(conn)
        query(conn, restore_sql(new_name, " PROPERTIES ('max_download_speed_kbps' = '32')"))
        held = wait_restore(conn, "d", {"DOWNLOADING"}, timeout=30)
        deadline = time.time() + 30
        while time.time() < deadline and len(staged_files(self.data_dir, held["JobId"])) < 2:
            time.sleep(0.05)
        time.sleep(0.6)
        self.server.stop(signal.SIGKILL)

        conn = start(self.server)
        wait_restore(conn, "d", {"DOWNLOADING"}, timeout=30)
        err = None
        try:
            query(conn, "INSERT INTO big VALUES (1, 'x')")
        except Exception as e:  # noqa: BLE001
            err = str(e)
        check(err is not None and "is being restored" in err, f"a load into the table under restore is refused: {err}")
        query(conn, "CANCEL RESTORE FROM d")
        row = wait_restore(conn, "d", {"CANCELLED", "FINISHED"}, timeout=10)
        check(row["JobId"] == held["JobId"] and row["State"] == "CANCELLED" and "user cancelled" in row["Status"],
              f"CANCEL after the restart: the job is cancelled: {row['State']} {row['Status']}")
        check(fingerprint(conn, "d.big") == old_big, "CANCEL: the table it would have overwritten is as it was")
        check(new_name not in table_names(conn, "d"), "CANCEL: the new table is not visible")
        self.check_untouched(conn, "CANCEL")
        check_clean(conn, self.data_dir, "CANCEL")
        query(conn, "INSERT INTO big VALUES (1, 'x')")  # the table takes loads again
        self.server.stop(signal.SIGKILL)
        conn = start(self.server)
        check(fingerprint(conn, "d.big")[1] == old_big[1] + 1 and new_name not in table_names(conn, "d"),
              "CANCEL: the same after another kill -9 and restart")
        check_clean(conn, self.data_dir, "CANCEL, restarted")
        self.server.stop()


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-rcrash-")
    data_dir = os.path.join(work, "data")
    location = os.path.join(work, "repo")
    log_path = os.path.join(work, "server.log")
    server = TvServer(binary, data_dir, log_path, FLAGS)
    try:
        server.start()
        conn = connect(server)
        query(conn, "CREATE DATABASE d")
        query(conn, "USE d")
        query(conn, "CREATE TABLE big (k INT, v VARCHAR(512)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        for batch in range(3):
            insert_rows(conn, "big", batch * 1000, 400, 300, seed=batch)
        query(conn, "CREATE TABLE small (k INT, v VARCHAR(64)) DUPLICATE KEY(k) "
                    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (1000), PARTITION p2 VALUES LESS THAN (9000)) "
                    "DISTRIBUTED BY HASH(k) BUCKETS 2")
        for batch in range(3):
            insert_rows(conn, "small", batch * 2000, 50, 20, seed=10 + batch)
        query(conn, "CREATE TABLE keep (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        insert_rows(conn, "keep", 0, 100, 20, seed=20)
        query(conn, "CREATE DATABASE other")
        query(conn, "CREATE TABLE other.t (k INT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        insert_rows(conn, "other.t", 0, 100, 20, seed=30)
        query(conn, f'CREATE REPOSITORY repo WITH BROKER ON LOCATION "{location}"')
        query(conn, "BACKUP DATABASE d SNAPSHOT snap TO repo")
        row = wait_for(conn, "d", {"FINISHED", "CANCELLED"}, timeout=60)
        check(row["State"] == "FINISHED", f"the backup finished: {row['Status']}")
        backed_up = {t: fingerprint(conn, f"d.{t}") for t in ("big", "small")}
        # `keep` is in the snapshot but not restored; `small` is restored under other names.
        untouched = {t: fingerprint(conn, t) for t in ("d.keep", "d.small", "other.t")}
        server.stop()

        run = Run(server, data_dir, backed_up, untouched)
        for state in STATES:
            run.crash_in(state)
        run.crash_mid_download()
        run.timed_out_while_down()
        run.crash_after_publish()
        run.publish_refused()
        run.cancel_after_crash()
        check(server.sanitizer_reports() == [], "no sanitizer reports")
        log = open(log_path).read()
        check("resuming restore" in log, "the log says which jobs were resumed")
    finally:
        server.stop()
    finish(work, log_path)


if __name__ == "__main__":
    main()
