#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# PyMySQL (Debian's python3-pymysql) against a real tabletvault server: session queries, DDL,
# SHOW, error cases, a second user. Usage: pymysql_client.py PORT
import sys

import pymysql

port = int(sys.argv[1])
passed = failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok - {name}")
    except Exception as e:  # report and go on: every check counts
        failed += 1
        print(f"not ok - {name}\n    {type(e).__name__}: {e}")


conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
cur = conn.cursor()


def query(sql):
    cur.execute(sql)
    return cur.fetchall()


def expect_error(sql, code, text):
    try:
        cur.execute(sql)
    except pymysql.MySQLError as e:
        assert e.args[0] == code, f"error {e.args}, wanted {code}"
        assert text in e.args[1], f"message {e.args[1]!r} lacks {text!r}"
        return
    raise AssertionError(f"{sql!r} succeeded, wanted error {code}")


def ddl():
    query("CREATE DATABASE py_db")
    conn.select_db("py_db")  # COM_INIT_DB
    assert query("SELECT DATABASE()") == (("py_db",),)
    query("""CREATE TABLE sales (d DATE NOT NULL, region VARCHAR(16), amount DECIMAL(12, 2) SUM DEFAULT "0")
             AGGREGATE KEY(d, region)
             PARTITION BY RANGE(d) (PARTITION p2024 VALUES LESS THAN ("2025-01-01"),
                                    PARTITION p2025 VALUES LESS THAN ("2026-01-01"))
             DISTRIBUTED BY HASH(region) BUCKETS 4 PROPERTIES ("replication_num" = "1")""")
    assert query("SHOW TABLES") == (("sales",),)


def show_create_round_trip():
    create = query("SHOW CREATE TABLE sales")[0][1]
    query("DROP TABLE sales")
    query(create)
    assert query("SHOW CREATE TABLE sales")[0][1] == create


def insert_and_select():
    import datetime
    import decimal
    query("INSERT INTO sales VALUES ('2025-01-01', 'north', 1.25), ('2025-01-01', 'north', 2), ('2024-06-30', 'south', 0.5)")
    rows = query("SELECT d, region, amount FROM sales ORDER BY d")
    assert rows == ((datetime.date(2024, 6, 30), "south", decimal.Decimal("0.50")),
                    (datetime.date(2025, 1, 1), "north", decimal.Decimal("3.25"))), rows
    (count, total, avg), = query("SELECT COUNT(*), SUM(amount), AVG(amount) FROM sales")
    assert count == 2 and total == decimal.Decimal("3.75") and isinstance(avg, decimal.Decimal), (count, total, avg)
    (checksum_table, checksum), = query("CHECKSUM TABLE sales")
    assert checksum_table == "py_db.sales" and isinstance(checksum, int), (checksum_table, checksum)


def session_values():
    assert query("SELECT @@version_comment LIMIT 1")[0][0].startswith("tabletvault")
    assert query("SELECT CONNECTION_ID()")[0][0] == conn.thread_id()


def session_settings():
    query("SET NAMES utf8mb4")
    query("SET autocommit=1")
    assert query("SHOW VARIABLES LIKE 'autocommit'") == (("autocommit", "1"),)


def unprivileged_user():
    query("CREATE USER 'pyuser'@'%' IDENTIFIED BY 'pw'")
    other = pymysql.connect(host="127.0.0.1", port=port, user="pyuser", password="pw")
    try:
        other.cursor().execute("CREATE DATABASE not_allowed")
    except pymysql.MySQLError as e:
        assert e.args[0] == 1227, e.args
        return
    raise AssertionError("a user without privileges created a database")


def ping_and_field_list():
    conn.ping(reconnect=False)  # COM_PING
    # COM_FIELD_LIST, as the mysql client's tab completion sends it.
    conn._execute_command(pymysql.constants.COMMAND.COM_FIELD_LIST, "sales\0")
    names = []
    while True:
        packet = conn._read_packet()
        if packet.is_eof_packet() or packet.is_ok_packet():
            break
        data = packet.get_all_data()
        assert data[-1:] == b"\xfb", f"the default value must be a bare NULL byte: {data[-4:]!r}"
        names.append(pymysql.protocol.FieldDescriptorPacket(data, "utf8").name)
    assert names == ["d", "region", "amount"], names


def reset_connection():
    query("SET @kept = 'x'")
    query("SET sql_mode = 'STRICT_TRANS_TABLES'")
    conn._execute_command(0x1F, "")  # COM_RESET_CONNECTION (PyMySQL has no name for it)
    assert conn._read_packet().is_ok_packet()
    assert query("SELECT @kept, @@sql_mode, DATABASE()") == ((None, "ONLY_FULL_GROUP_BY", "py_db"),)


def wait_job(show, db, states=("FINISHED", "CANCELLED")):
    """Row 0 of SHOW BACKUP / SHOW RESTORE FROM db, read by column name, once its State is in `states`."""
    import time
    deadline = time.time() + 60
    with conn.cursor(pymysql.cursors.DictCursor) as dict_cur:
        while time.time() < deadline:
            dict_cur.execute(f"SHOW {show} FROM {db}")
            rows = dict_cur.fetchall()
            if rows and rows[0]["State"] in states:
                return rows[0]
            time.sleep(0.05)
    raise AssertionError(f"SHOW {show} FROM {db}: no job in {states}")


def backup_and_restore():
    import shutil
    import tempfile
    location = tempfile.mkdtemp(prefix="tv-pymysql-repo-")
    try:
        query(f'CREATE REPOSITORY py_repo WITH BROKER ON LOCATION "{location}"')
        query("BACKUP DATABASE py_db SNAPSHOT py_snap TO py_repo ON (TABLE sales)")
        backup = wait_job("BACKUP", "py_db")
        assert backup["State"] == "FINISHED" and backup["SnapshotName"] == "py_snap", backup
        query("RESTORE SNAPSHOT py_snap FROM py_repo DATABASE py_db AS py_copy")
        row = wait_job("RESTORE", "py_copy")
        assert row["State"] == "FINISHED" and row["Status"] == "[OK]", row
        assert row["Label"] == "py_snap" and row["DbName"] == "py_copy" and row["RestoreObjs"] == "sales", row
        assert row["BytesDone"] == row["BytesTotal"] and int(row["FilesTotal"]) > 0, row
        assert query("CHECKSUM TABLE py_copy.sales")[0][1] == query("CHECKSUM TABLE py_db.sales")[0][1]
        query("DROP DATABASE py_copy")
        query("DROP REPOSITORY py_repo")
    finally:
        shutil.rmtree(location, ignore_errors=True)


check("version and connection id", session_values)
check("set names, autocommit, show variables", session_settings)
check("partitioned aggregate table", ddl)
check("SHOW CREATE TABLE round-trips", show_create_round_trip)
check("COM_PING and COM_FIELD_LIST", ping_and_field_list)
check("COM_RESET_CONNECTION clears session state, keeps the database", reset_connection)
check("syntax error names line and column",
      lambda: expect_error("SELEC 1", 1064, "line 1, column"))
check("unknown table", lambda: expect_error("DROP TABLE nope", 1051, "Unknown table"))
check("INSERT and typed SELECT: dates, decimals, aggregates decoded by the driver", insert_and_select)
check("a row outside every partition is refused",
      lambda: expect_error("INSERT INTO sales VALUES ('2030-01-01', 'north', 1)", 1064, "out of partition ranges"))
check("user without privileges is refused DDL", unprivileged_user)
check("BACKUP, RESTORE; SHOW BACKUP and SHOW RESTORE read by column name", backup_and_restore)
check("drop database", lambda: query("DROP DATABASE py_db"))
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
