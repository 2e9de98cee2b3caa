#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Starts a tabletvault server on a fresh data directory, runs one client test against its MySQL
# port, and stops it. Usage: run_client.sh TABLETVAULT_BINARY mariadb|pymysql|node
set -uo pipefail
tv_bin="$1"
client="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/../integration/lib.sh"
work="$(mktemp -d)"
trap 'kill -KILL ${server_pid:-} 2>/dev/null; rm -rf "${work}"' EXIT

start_server "${work}/server.log" --data-dir "${work}/data" --set query_port=0 || exit 1
mysql_port=$(sed -n 's/.*mysql: listening on 127.0.0.1:\([0-9]*\).*/\1/p' "${work}/server.log" | head -n 1)
case "${client}" in
    mariadb) "${here}/mariadb_client.sh" "${mysql_port}" ;;
    pymysql) /usr/bin/python3 "${here}/pymysql_client.py" "${mysql_port}" ;;
    node)
        if [[ ! -d "${here}/node/node_modules/mysql2" ]]; then
            (cd "${here}/node" && npm ci --no-audit --no-fund --silent) || { echo "npm ci failed"; exit 1; }
        fi
        node "${here}/node/mysql2_client.js" "${mysql_port}" ;;
    *) echo "unknown client ${client}"; exit 2 ;;
esac
rc=$?
stop_server TERM || rc=1
[[ ${rc} -eq 0 ]] || { echo "--- server log ---"; tail -n 50 "${work}/server.log"; }
exit "${rc}"
