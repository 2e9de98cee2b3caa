#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The mariadb command-line client against a real tabletvault server, in -e and batch modes:
# session statements it sends on connect, DDL, SHOW, and error reporting.
# Usage: mariadb_client.sh PORT
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/../integration/lib.sh"
port="$1"
sql() { mariadb -h127.0.0.1 -P"${port}" -uroot --batch --skip-column-names "$@"; }

check "interactive-style connect (version comment)" contains "$(sql -e 'SELECT @@version_comment LIMIT 1')" "tabletvault"

out="$(sql <<'SQL'
CREATE DATABASE cli_db;
USE cli_db;
CREATE TABLE events (
    id BIGINT NOT NULL COMMENT "event id",
    kind VARCHAR(32) NOT NULL DEFAULT "click",
    at DATETIME
) DUPLICATE KEY(id)
PARTITION BY LIST(kind) (PARTITION p_click VALUES IN ("click"), PARTITION p_view VALUES IN ("view", "impression"))
DISTRIBUTED BY HASH(id) BUCKETS 3
PROPERTIES ("replication_num" = "1");
SHOW TABLES;
SELECT DATABASE();
SQL
)"
check "batch mode: DDL then SHOW" equals "${out}" $'events\ncli_db'

out="$(sql -e 'SHOW DATABASES' )"
check "SHOW DATABASES lists it" contains "${out}" "cli_db"

out="$(sql -D cli_db -e 'DESC events')"
check "DESC shows columns" contains "${out}" $'kind\tvarchar(32)\tNO\tfalse\tclick'

out="$(sql -e 'CREATE TABLE cli_db.events (x INT) DISTRIBUTED BY HASH(x) BUCKETS 1' 2>&1)"
check "error: exit code and message" contains "${out}" "ERROR 1050 (42S01)"

out="$(sql -e 'INSERT INTO cli_db.events (id, kind) VALUES (1, "click"), (2, "view")' 2>&1)"
check "INSERT answers rows affected" equals "${out}" ""
out="$(sql -N -B -e 'SELECT id, kind FROM cli_db.events ORDER BY id' 2>&1)"
check "SELECT returns the rows" equals "${out}" $'1\tclick\n2\tview'
out="$(mariadb -h127.0.0.1 -P"${port}" -uroot --batch -e 'SELECT e.id, e.kind AS k, id + 1 FROM cli_db.events e WHERE id = 1' 2>&1)"
check "result columns are named as MySQL names them" equals "${out}" $'id\tk\tid + 1\n1\tclick\t2'
out="$(sql -e 'INSERT INTO cli_db.events (id) VALUES (NULL)' 2>&1)"
check "a NULL key is refused" contains "${out}" "ERROR 1048 (23000)"

out="$(sql -e 'SELECT * FROM' 2>&1)"
check "syntax error says where" contains "${out}" "ERROR 1064 (42000)"

out="$(mariadb -h127.0.0.1 -P"${port}" -uroot -pwrong -e 'SELECT 1' 2>&1)"
check "wrong password: 1045" contains "${out}" "ERROR 1045 (28000): Access denied for user 'root'"

# A client that starts with caching_sha2_password is switched to mysql_native_password.
sql -e "CREATE USER 'sha_user'@'%' IDENTIFIED BY 'pw'" > /dev/null
out="$(mariadb -h127.0.0.1 -P"${port}" -usha_user -ppw --default-auth=caching_sha2_password --batch \
        --skip-column-names -e 'SELECT CURRENT_USER()' 2>&1)"
check "caching_sha2_password client is switched and logs in" equals "${out}" "'sha_user'@'%'"

# BACKUP then RESTORE; SHOW BACKUP / SHOW RESTORE read by column name from the batch header.
column() {  # column SHOW_STATEMENT NAME: NAME's value in the first row
    mariadb -h127.0.0.1 -P"${port}" -uroot --batch -e "$1" |
        awk -F'\t' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i } NR == 2 { print $c }'
}
wait_job() {  # wait_job SHOW_STATEMENT: the State once FINISHED or CANCELLED
    local state=""
    for _ in $(seq 1 600); do
        state="$(column "$1" State)"
        [[ "${state}" == FINISHED || "${state}" == CANCELLED ]] && break
        sleep 0.1
    done
    echo "${state}"
}
repo_dir="$(mktemp -d)"
sql -e "CREATE REPOSITORY cli_repo WITH BROKER ON LOCATION '${repo_dir}'" > /dev/null
sql -e 'BACKUP DATABASE cli_db SNAPSHOT cli_snap TO cli_repo ON (TABLE events)' > /dev/null
check "SHOW BACKUP's State by column name" equals "$(wait_job 'SHOW BACKUP FROM cli_db')" "FINISHED"
sql -e 'RESTORE SNAPSHOT cli_snap FROM cli_repo DATABASE cli_db AS cli_copy' > /dev/null
check "SHOW RESTORE's State by column name" equals "$(wait_job 'SHOW RESTORE FROM cli_copy')" "FINISHED"
check "SHOW RESTORE's Status and RestoreObjs by column name" equals \
    "$(column 'SHOW RESTORE FROM cli_copy' Status) $(column 'SHOW RESTORE FROM cli_copy' RestoreObjs)" "[OK] events"
out="$(sql -e 'SELECT id, kind FROM cli_copy.events ORDER BY id' 2>&1)"
check "the restored table holds the rows" equals "${out}" $'1\tclick\n2\tview'
sql -e 'DROP DATABASE cli_copy; DROP REPOSITORY cli_repo' > /dev/null
rm -rf "${repo_dir}"

out="$(sql -e 'DROP DATABASE cli_db; SHOW DATABASES' )"
check "DROP DATABASE" equals "$(grep -c cli_db <<< "${out}")" "0"
finish
