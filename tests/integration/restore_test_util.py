# SPDX-License-Identifier: Apache-2.0
# What the RESTORE integration tests share: SHOW RESTORE as dicts and waiting on it, table
# checksums and row counts, and what a restore may leave behind on disk (staging directories,
# tablet directories no table owns, tablet files the catalog does not list).
import os
import random
import string
import time

from backup_test_util import columns_of, query


def restores(conn, db=None):
    """SHOW RESTORE as dicts by column name."""
    names, rows = columns_of(conn, "SHOW RESTORE" + (f" FROM {db}" if db else ""))
    return [dict(zip(names, r)) for r in rows]


def restore_of(conn, db):
    rows = restores(conn, db)
    return rows[0] if rows else None


def wait_restore(conn, db, states, timeout=120):
    """Waits until the database's last restore is in one of `states`; yields its row."""
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = restore_of(conn, db)
        if row is not None and row["State"] in states:
            return row
        time.sleep(0.05)
    raise RuntimeError(f"restore into {db} did not reach {states}: {row}")


def random_text(rng, width):
    return "".join(rng.choices(string.ascii_letters + string.digits, k=width))


def insert_rows(conn, table, first, count, width, seed):
    """`count` rows (k, v) from key `first`, v random text of `width` characters (it does not
    compress, so the segment files are about count * width bytes)."""
    rng = random.Random(seed)
    query(conn, f"INSERT INTO {table} VALUES " +
          ", ".join(f"({first + i}, '{random_text(rng, width)}')" for i in range(count)))


def fingerprint(conn, table):
    """(CHECKSUM TABLE, row count) of `db.table`."""
    checksum = query(conn, f"CHECKSUM TABLE {table}")[0][1]
    count = query(conn, f"SELECT COUNT(*) FROM {table}")[0][0]
    return checksum, count


def table_names(conn, db):
    return sorted(r[0] for r in query(conn, f"SHOW TABLES FROM {db}"))


def catalog_tablets(conn):
    """Every tablet of every table as {tablet id: FileCount}."""
    tablets = {}
    for (db,) in query(conn, "SHOW DATABASES"):
        if db in ("information_schema", "_statistics_", "sys"):
            continue
        for table in table_names(conn, db):
            names, rows = columns_of(conn, f"SHOW TABLET FROM `{db}`.`{table}`")
            for r in rows:
                row = dict(zip(names, r))
                tablets[int(row["TabletId"])] = int(row["FileCount"])
    return tablets


def tablet_dirs(data_dir):
    """{tablet id: [file names]} of the directories under <data_dir>/storage/data."""
    root = os.path.join(data_dir, "storage", "data")
    found = {}
    for name in os.listdir(root) if os.path.isdir(root) else []:
        path = os.path.join(root, name)
        if os.path.isdir(path):
            found[int(name) if name.isdigit() else name] = sorted(os.listdir(path))
    return found


def stray_tablet_files(conn, data_dir):
    """What under <data_dir>/storage/data no table owns: directories of unknown tablets, and
    tablets whose directory holds other than the files the catalog lists. Empty when clean."""
    known = catalog_tablets(conn)
    stray = []
    for tablet, files in tablet_dirs(data_dir).items():
        if tablet not in known:
            stray.append(f"tablet directory {tablet} ({len(files)} files) belongs to no table")
        elif len(files) != known[tablet]:
            stray.append(f"tablet {tablet} has {len(files)} files, the catalog lists {known[tablet]}")
    return stray


def snapshot_leftovers(data_dir):
    """Whatever is under <data_dir>/snapshot (job directories, staging)."""
    root = os.path.join(data_dir, "snapshot")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [os.path.relpath(os.path.join(dirpath, n), root) for n in dirnames + filenames]
    return sorted(found)


def staged_files(data_dir, job_id):
    """{(tablet, name): (inode, mtime_ns)} of the published files in a restore's staging
    directory (temporary files of a download in flight are left out)."""
    root = os.path.join(data_dir, "snapshot", str(job_id), "staging")
    found = {}
    for tablet in os.listdir(root) if os.path.isdir(root) else []:
        for name in os.listdir(os.path.join(root, tablet)):
            if name.endswith(".dat"):
                st = os.stat(os.path.join(root, tablet, name))
                found[(tablet, name)] = (st.st_ino, st.st_mtime_ns)
    return found
