#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Durability of the catalog: a client streams DDL while the server is killed with SIGKILL at a
# random moment; after a restart the catalog holds exactly the acknowledged statements (plus,
# possibly, the one that was in flight: it may or may not have reached the journal), and never
# half of one. Repeated on the same data directory, so replay of many journals is covered too.
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvserver import TvServer  # noqa: E402

ROUNDS = 12


def stream_ddl(port, first, acked, in_flight, stop):
    """CREATE DATABASE dN and a table in it, one statement at a time, recording acknowledgements."""
    try:
        c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
        cur = c.cursor()
        n = first
        while not stop.is_set():
            for stmt in (f"CREATE DATABASE d{n}",
                         f"CREATE TABLE d{n}.t (k INT NOT NULL, v VARCHAR(10)) DUPLICATE KEY(k) "
                         f"PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (\"10\")) "
                         f"DISTRIBUTED BY HASH(k) BUCKETS 2"):
                in_flight[0] = stmt
                cur.execute(stmt)
                acked.append(stmt)
                in_flight[0] = None
            n += 1
    except Exception:
        pass  # the kill ends the stream


def catalog_view(port):
    c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    cur = c.cursor()
    cur.execute("SHOW DATABASES")
    dbs = sorted(r[0] for r in cur.fetchall() if r[0] != "information_schema")  # built in, never created
    tables = set()
    for db in dbs:
        cur.execute(f"SHOW TABLES FROM {db}")
        tables.update(f"{db}.{r[0]}" for r in cur.fetchall())
    c.close()
    return set(dbs), tables


def expected_objects(statements):
    dbs, tables = set(), set()
    for s in statements:
        name = s.split()[2]
        if s.startswith("CREATE DATABASE"):
            dbs.add(name)
        else:
            tables.add(name)
    return dbs, tables


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tv-crash-")
    server = TvServer(binary, os.path.join(work, "data"), os.path.join(work, "server.log"))
    passed = failed = 0
    acked_all = []
    next_db = 0
    rng = random.Random(int(os.environ.get("TV_CRASH_SEED", "20261121")))
    try:
        for round_no in range(ROUNDS):
            server.start()
            got_dbs, got_tables = catalog_view(server.mysql_port)
            want_dbs, want_tables = expected_objects(acked_all)
            extra_dbs, extra_tables = got_dbs - want_dbs, got_tables - want_tables
            missing = (want_dbs - got_dbs) | (want_tables - got_tables)
            # The statement in flight at the kill may have become durable: at most one extra object.
            ok = not missing and len(extra_dbs) + len(extra_tables) <= 1
            if extra_dbs or extra_tables:
                acked_all.append(next(iter(
                    [f"CREATE DATABASE {d}" for d in extra_dbs] + [f"CREATE TABLE {t} ..." for t in extra_tables])))
            print(f"{'ok' if ok else 'not ok'} - round {round_no}: {len(want_dbs)} databases and "
                  f"{len(want_tables)} tables acknowledged, all present")
            if not ok:
                print(f"    missing {sorted(missing)}; unexpected {sorted(extra_dbs | extra_tables)}")
                failed += 1
            else:
                passed += 1
            next_db = len([s for s in acked_all if s.startswith("CREATE DATABASE")]) + 1000 * (round_no + 1)
            acked, in_flight, stop = [], [None], threading.Event()
            t = threading.Thread(target=stream_ddl, args=(server.mysql_port, next_db, acked, in_flight, stop))
            t.start()
            time.sleep(rng.uniform(0.05, 0.4))
            server.stop(signal.SIGKILL)
            stop.set()
            t.join(timeout=30)
            acked_all.extend(acked)
        server.start()
        got_dbs, got_tables = catalog_view(server.mysql_port)
        want_dbs, want_tables = expected_objects(acked_all)
        final_ok = want_dbs <= got_dbs and want_tables <= got_tables and \
            len(got_dbs - want_dbs) + len(got_tables - want_tables) <= 1
        print(f"{'ok' if final_ok else 'not ok'} - final: {len(got_dbs)} databases, {len(got_tables)} tables")
        passed, failed = passed + final_ok, failed + (not final_ok)
        code = server.stop()
        clean = code == 0 and not server.sanitizer_reports()
        print(f"{'ok' if clean else 'not ok'} - clean shutdown after {ROUNDS} crashes (exit {code})")
        passed, failed = passed + clean, failed + (not clean)
    except Exception as e:
        failed += 1
        print(f"not ok - {e!r}")
    finally:
        if server.process:
            server.stop(signal.SIGKILL)
        if failed:
            print(open(server.log_path).read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
