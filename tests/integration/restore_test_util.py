# SPDX-License-Identifier: Apache-2.0
# What the RESTORE integration test needs beyond backup_test_util: SHOW RESTORE as dicts, waiting
# on a restore job, a table's content (checksum and ordered rows), and damaging a repository's
# objects in a way that can be undone.
import os
import shutil
import time

from backup_test_util import columns_of, query

SHOW_RESTORE_COLUMNS = [
    "JobId", "Label", "Timestamp", "DbName", "State", "AllowLoad", "ReplicationNum", "RestoreObjs", "CreateTime",
    "MetaPreparedTime", "SnapshotFinishedTime", "DownloadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress",
    "TaskErrMsg", "Status", "Timeout",
    "BytesDone", "BytesTotal", "FilesDone", "FilesTotal", "CurrentRate", "RateLimit", "Eta"]

DONE = {"FINISHED", "CANCELLED"}


def restores(conn, db=None):
    """SHOW RESTORE as dicts by column name."""
    names, rows = columns_of(conn, "SHOW RESTORE" + (f" FROM {db}" if db else ""))
    return [dict(zip(names, r)) for r in rows]


def restore_of(conn, db):
    """Row 0 of SHOW RESTORE FROM db ("" : the external-catalog job)."""
    if db == "":
        rows = [r for r in restores(conn) if r["DbName"] == ""]
    else:
        rows = restores(conn, db)
    return rows[0] if rows else None


def wait_restore(conn, db, states=DONE, timeout=60, job_id=None):
    """Waits until the database's last restore (the job `job_id` when given) is in `states`."""
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = restore_of(conn, db)
        if row is not None and row["State"] in states and (job_id is None or row["JobId"] == job_id):
            return row
        time.sleep(0.05)
    raise RuntimeError(f"restore into {db!r} did not reach {states}: {row}")


def run_restore(conn, sql, db, timeout=60):
    """Submits a RESTORE, checks it is row 0 of SHOW RESTORE FROM db at once, and waits for its end.
    Yields (the row seen at submission, the final row)."""
    before = restore_of(conn, db)
    query(conn, sql)
    first = restore_of(conn, db)
    if first is None or (before is not None and first["JobId"] == before["JobId"]):
        raise RuntimeError(f"{sql}: no new SHOW RESTORE row for {db!r}: {first}")
    return first, wait_restore(conn, db, DONE, timeout, first["JobId"])


def checksum(conn, db, table):
    return query(conn, f"CHECKSUM TABLE {db}.{table}")[0][1]


def rows_of(conn, db, table, where=""):
    """Every row, ordered by every column."""
    names, _ = columns_of(conn, f"SELECT * FROM {db}.{table} LIMIT 0")
    order = ", ".join(f"`{n}`" for n in names)
    return query(conn, f"SELECT * FROM {db}.{table} {where} ORDER BY {order}")


def staging_left(data_dir, timeout=10):
    """What stays under <data_dir>/snapshot once jobs ended (their clean-up runs just after)."""
    root = os.path.join(data_dir, "snapshot")
    deadline = time.time() + timeout
    while True:
        left = sorted(os.listdir(root)) if os.path.isdir(root) else []
        if not left or time.time() > deadline:
            return left
        time.sleep(0.05)


class Damage:
    """One object of a repository damaged, then put back as it was: `with Damage(path).flip(at):`."""

    def __init__(self, path):
        self.path = path
        self.saved = path + ".saved"
        self.action = None

    def flip(self, offset):
        self.action = ("flip", offset)
        return self

    def truncate(self):
        self.action = ("truncate", None)
        return self

    def delete(self):
        self.action = ("delete", None)
        return self

    def __enter__(self):
        shutil.copy2(self.path, self.saved)
        kind, offset = self.action
        if kind == "flip":
            with open(self.path, "r+b") as f:
                f.seek(offset)
                byte = f.read(1)
                f.seek(offset)
                f.write(bytes([byte[0] ^ 0xFF]))
        elif kind == "truncate":
            with open(self.path, "r+b") as f:
                f.truncate(os.path.getsize(self.path) // 2)
        else:
            os.remove(self.path)
        return self

    def __exit__(self, *exc):
        os.replace(self.saved, self.path)
        return False
