// SPDX-License-Identifier: Apache-2.0
// Node's mysql2 driver against a real tabletvault server: connect, session queries, DDL, SHOW,
// an error case, a second user. Usage: node mysql2_client.js PORT
'use strict';
const mysql = require('mysql2/promise');
const assert = require('node:assert/strict');

const port = Number(process.argv[2]);
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n    ${e.message}`);
  }
}

async function main() {
  const conn = await mysql.createConnection({host: '127.0.0.1', port, user: 'root', password: '',
                                             multipleStatements: true});
  await check('version comment', async () => {
    const [rows] = await conn.query('SELECT @@version_comment LIMIT 1');
    assert.match(String(Object.values(rows[0])[0]), /^tabletvault /);
  });
  await check('create database and use it', async () => {
    await conn.query('CREATE DATABASE node_db');
    await conn.query('USE node_db');
    const [rows] = await conn.query('SELECT DATABASE()');
    assert.equal(Object.values(rows[0])[0], 'node_db');
  });
  await check('create table, show tables', async () => {
    await conn.query(`CREATE TABLE t1 (k INT NOT NULL, v VARCHAR(20)) DUPLICATE KEY(k)
                      DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ("replication_num" = "1")`);
    const [rows] = await conn.query('SHOW TABLES');
    assert.deepEqual(rows.map((r) => Object.values(r)[0]), ['t1']);
  });
  await check('describe columns', async () => {
    const [rows] = await conn.query('DESC t1');
    assert.deepEqual(rows.map((r) => [r.Field, r.Type, r.Null, r.Key]),
                     [['k', 'int', 'NO', 'true'], ['v', 'varchar(20)', 'YES', 'false']]);
  });
  await check('multi statements', async () => {
    const [results] = await conn.query('SELECT 1 AS a; SELECT 2 AS b');
    assert.equal(results[0][0].a, 1);
    assert.equal(results[1][0].b, 2);
  });
  await check('duplicate table is error 1050', async () => {
    await assert.rejects(conn.query('CREATE TABLE t1 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1'),
                         (e) => e.errno === 1050 && e.sqlState === '42S01' && /t1/.test(e.message));
  });
  await check('insert and select rows', async () => {
    const [ok] = await conn.query('INSERT INTO t1 VALUES (1, "a"), (2, NULL)');
    assert.equal(ok.affectedRows, 2);
    const [rows] = await conn.query('SELECT k, v, k * 2 AS twice FROM t1 ORDER BY k');
    assert.deepEqual(rows.map((r) => [r.k, r.v, r.twice]), [[1, 'a', 2], [2, null, 4]]);
  });
  await check('unknown database is error 1049', async () => {
    await assert.rejects(conn.query('USE no_such_db'),
                         (e) => e.errno === 1049 && e.message === "Unknown database 'no_such_db'");
  });
  await check('a second user logs in with its password', async () => {
    await conn.query("CREATE USER 'nodeuser'@'%' IDENTIFIED BY 's3cret'");
    const other = await mysql.createConnection({host: '127.0.0.1', port, user: 'nodeuser',
                                                password: 's3cret'});
    const [rows] = await other.query('SELECT CURRENT_USER()');
    assert.equal(Object.values(rows[0])[0], "'nodeuser'@'%'");
    await other.end();
    await assert.rejects(mysql.createConnection({host: '127.0.0.1', port, user: 'nodeuser',
                                                 password: 'wrong'}),
                         (e) => e.errno === 1045);
  });
  await check('BACKUP, RESTORE; SHOW BACKUP and SHOW RESTORE read by column name', async () => {
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const location = fs.mkdtempSync(path.join(os.tmpdir(), 'tv-node-repo-'));
    // Row 0 of SHOW BACKUP / SHOW RESTORE FROM db once its State is FINISHED or CANCELLED.
    const waitJob = async (show, db) => {
      const deadline = Date.now() + 60000;
      while (Date.now() < deadline) {
        const [rows] = await conn.query(`SHOW ${show} FROM ${db}`);
        if (rows.length > 0 && ['FINISHED', 'CANCELLED'].includes(rows[0].State)) {
          return rows[0];
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`SHOW ${show} FROM ${db}: the job did not end`);
    };
    try {
      await conn.query(`CREATE REPOSITORY node_repo WITH BROKER ON LOCATION "${location}"`);
      await conn.query('BACKUP DATABASE node_db SNAPSHOT node_snap TO node_repo ON (TABLE t1)');
      const backup = await waitJob('BACKUP', 'node_db');
      assert.equal(backup.State, 'FINISHED');
      await conn.query('RESTORE SNAPSHOT node_snap FROM node_repo DATABASE node_db AS node_copy');
      const row = await waitJob('RESTORE', 'node_copy');
      assert.deepEqual([row.State, row.Status, row.Label, row.DbName, row.RestoreObjs],
                       ['FINISHED', '[OK]', 'node_snap', 'node_copy', 't1']);
      assert.equal(row.BytesDone, row.BytesTotal);
      const [rows] = await conn.query('SELECT k, v FROM node_copy.t1 ORDER BY k');
      assert.deepEqual(rows.map((r) => [r.k, r.v]), [[1, 'a'], [2, null]]);
      await conn.query('DROP DATABASE node_copy');
      await conn.query('DROP REPOSITORY node_repo');
    } finally {
      fs.rmSync(location, {recursive: true, force: true});
    }
  });
  await check('drop database', async () => {
    await conn.query('DROP DATABASE node_db');
    const [rows] = await conn.query("SHOW DATABASES LIKE 'node_db'");
    assert.equal(rows.length, 0);
  });
  await conn.end();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`not ok - ${e.message}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
