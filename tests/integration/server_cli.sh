#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The tabletvault binary as users run it: command line, configuration errors, serving HTTP,
# one server per data directory, and a clean exit on SIGTERM and SIGINT with clients connected.
set -uo pipefail
tv_bin="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${here}/lib.sh"
work="$(mktemp -d)"
trap 'kill -KILL ${server_pid:-} 2>/dev/null; rm -rf "${work}"' EXIT

version="$("${tv_bin}" --version)"
check "--version prints the version" contains "${version}" "tabletvault 0."

help="$("${tv_bin}" --help)"
check "--help lists serve and its flags" contains "${help}" "tabletvault serve [--config FILE] [--data-dir DIR] [--set key=value]..."

"${tv_bin}" > /dev/null 2>&1
check "no arguments is a usage error (exit 2)" equals "$?" "2"

out="$("${tv_bin}" serve --set nope=1 2>&1)"
rc=$?
check "unknown key: exit 2" equals "${rc}" "2"
check "unknown key: named" contains "${out}" "unknown config key 'nope'"

out="$("${tv_bin}" serve --set http_port=abc 2>&1)"
rc=$?
check "bad value: exit 2" equals "${rc}" "2"
check "bad value: key, value and what is allowed" contains "${out}" "config key 'http_port': invalid value 'abc'; allowed: an integer from 0 to 65535"

printf 'http_port = 8030\nio_threads = lots\n' > "${work}/bad.conf"
out="$("${tv_bin}" serve --config "${work}/bad.conf" 2>&1)"
rc=$?
check "bad config file: exit 2" equals "${rc}" "2"
check "bad config file: file and line" contains "${out}" "${work}/bad.conf:2: config key 'io_threads': invalid value 'lots'"

out="$("${tv_bin}" bench-path --location "file://${work}/bench-repo" --files 1 --size 1K --part-size 1K \
    --work-dir "${work}/bench-work" 2>&1)"
rc=$?
check "bench-path: a part size the config refuses is a usage error (exit 2)" equals "${rc}" "2"
check "bench-path: says which key and what is allowed" contains "${out}" \
    "config key 'multipart_part_size': invalid value '1024'; allowed: a byte size from 5242880"
check "bench-path: nothing generated for a refused flag" equals "$(ls "${work}/bench-work" 2>/dev/null | wc -l)" "0"
out="$("${tv_bin}" bench-path --location "file://${work}/bench-repo" --change-limit 1x:100 2>&1)"
check "bench-path: a malformed --change-limit is a usage error (exit 2)" equals "$?" "2"
check "bench-path: --change-limit's form is named" contains "${out}" "--change-limit needs SECONDS:KBPS, got '1x:100'"

ref="$("${tv_bin}" config-reference)"
check "config-reference lists keys" contains "${ref}" '| `http_port` | integer | `8030` |'

# --- serving ---------------------------------------------------------------------------------
printf '# a config file\nio_threads = 2   # two loops\nlog_level = info\n' > "${work}/good.conf"
check "server starts with a config file" start_server "${work}/server.log" --config "${work}/good.conf" --data-dir "${work}/data"
check "start-up line names the loops" contains "$(cat "${work}/server.log")" "io_threads=2"

health="$(curl -sS "http://127.0.0.1:${http_port}/api/health")"
check "/api/health answers" contains "${health}" '{"status":"OK","version":"0.'

code="$(curl -s -o "${work}/body" -w '%{http_code}' -XPOST "http://127.0.0.1:${http_port}/api/update_config?log_level=debug")"
check "update_config without credentials is refused (401)" equals "${code}" "401"
update="$(curl -sS -u root: -XPOST "http://127.0.0.1:${http_port}/api/update_config?log_level=debug")"
check "update_config changes a run-time key" equals "${update}" '{"status":"OK","msg":""}'
code="$(curl -s -u root: -o "${work}/body" -w '%{http_code}' -XPOST "http://127.0.0.1:${http_port}/api/update_config?io_threads=1")"
check "update_config refuses a start-up key (400)" equals "${code}" "400"
check "update_config says why" contains "$(cat "${work}/body")" "config key 'io_threads' cannot change while the server runs"

# Rate limits reach the transfer engine (and so transfers already running) from both places an
# operator changes them; the server logs the limits now in force.
update="$(curl -sS -u root: -XPOST "http://127.0.0.1:${http_port}/api/update_config?max_upload_speed_kbps=2048")"
check "update_config takes max_upload_speed_kbps" equals "${update}" '{"status":"OK","msg":""}'
check "the transfer engine's upload limit follows update_config" contains "$(cat "${work}/server.log")" \
    "transfers: upload limit now 2048 KB/s, download limit now 50000 KB/s (0 = unlimited)"
out="$(mariadb -h127.0.0.1 -P"${query_port}" -uroot --skip-ssl -N \
    -e 'ADMIN SET FRONTEND CONFIG ("max_download_speed_kbps" = "0")' 2>&1)"
check "ADMIN SET FRONTEND CONFIG takes max_download_speed_kbps" equals "${out}" ""
check "the transfer engine's download limit follows ADMIN SET FRONTEND CONFIG" contains "$(cat "${work}/server.log")" \
    "transfers: upload limit now 2048 KB/s, download limit now 0 KB/s (0 = unlimited)"
out="$(mariadb -h127.0.0.1 -P"${query_port}" -uroot --skip-ssl -N \
    -e 'ADMIN SET FRONTEND CONFIG ("max_download_speed_kbps" = "-5")' 2>&1)"
check "a negative limit is refused with the allowed range" contains "${out}" \
    "ERROR 1105 (HY000) at line 1: config key 'max_download_speed_kbps': invalid value '-5'; allowed: an integer from 0"

bad="$(printf 'THIS IS NOT HTTP\r\n\r\n' | curl -s --max-time 5 telnet://127.0.0.1:"${http_port}" 2>/dev/null)"
check "malformed request gets 400" contains "${bad}" "HTTP/1.1 400 Bad Request"
health="$(curl -sS "http://127.0.0.1:${http_port}/api/health")"
check "server keeps serving after a bad client" contains "${health}" '"status":"OK"'

out="$("${tv_bin}" serve --data-dir "${work}/data" --set bind_address=127.0.0.1 --set http_port=0 --set query_port=0 2>&1)"
rc=$?
check "second server on the same data_dir: exit 1" equals "${rc}" "1"
check "second server: says who holds it" contains "${out}" "is in use by another tabletvault process (pid ${server_pid})"

out="$("${tv_bin}" serve --data-dir "${work}/data2" --set bind_address=127.0.0.1 --set http_port="${http_port}" --set query_port=0 2>&1)"
rc=$?
check "port in use: exit 1" equals "${rc}" "1"
check "port in use: says which" contains "${out}" "cannot listen for HTTP on 127.0.0.1:${http_port}: Address already in use"

out="$("${tv_bin}" serve --data-dir "${work}/data3" --set bind_address=127.0.0.1 --set http_port=0 --set query_port=0 \
    --set tcp_congestion_control=no-such-cc 2>&1)"
rc=$?
check "a congestion control the kernel lacks: exit 1" equals "${rc}" "1"
if [[ $(id -u) == 0 ]]; then
    why="this kernel has no such TCP congestion control"
else
    why="no such TCP congestion control is loaded, and only root can load one (modprobe tcp_no-such-cc)"
fi
check "a congestion control the kernel lacks: says so and lists what is loaded" contains "${out}" \
    "refusing to start: tcp_congestion_control = no-such-cc: ${why} (loaded now: $(cat /proc/sys/net/ipv4/tcp_available_congestion_control))"

# Idle keep-alive clients and a half-sent request must not hold shutdown up.
exec 3<> "/dev/tcp/127.0.0.1/${http_port}"
exec 4<> "/dev/tcp/127.0.0.1/${http_port}"
printf 'GET /api/health HTTP/1.1\r\nHost: x\r\n' >&4
sleep 0.2
check "SIGTERM stops the server promptly" stop_server TERM
check "SIGTERM: exit 0" equals "${server_exit}" "0"
exec 3>&- 4>&-
log="$(cat "${work}/server.log")"
check "SIGTERM: logged" contains "${log}" "received Terminated, shutting down"
check "SIGTERM: shutdown completed" contains "${log}" "shutdown complete"

# With log_file set, the log goes to the file and nothing to standard error. The start-up line
# is read from the file, so start_server's own wait does not apply here.
"${tv_bin}" serve --data-dir "${work}/data" --set bind_address=127.0.0.1 --set http_port=0 --set query_port=0 \
    --set log_file="${work}/file.log" > "${work}/stderr.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do grep -q "http: listening" "${work}/file.log" 2>/dev/null && break; sleep 0.05; done
check "log_file receives the log" contains "$(cat "${work}/file.log" 2>/dev/null)" "http: listening on 127.0.0.1:"
check "SIGINT stops the server" stop_server INT
check "SIGINT: exit 0" equals "${server_exit}" "0"
check "log_file: the shutdown is logged there" contains "$(cat "${work}/file.log")" "received Interrupt, shutting down"
check "log_file: nothing on standard error" equals "$(cat "${work}/stderr.log")" ""

# Root without a password on an address others can reach is warned about at start-up; on the
# loopback address (every start above) it is not.
check "no root-password warning on 127.0.0.1" not_contains "$(cat "${work}/server.log")" "root has no password"
"${tv_bin}" serve --data-dir "${work}/data" --set bind_address=0.0.0.0 --set http_port=0 --set query_port=0 \
    > "${work}/open.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do grep -q "http: listening" "${work}/open.log" 2>/dev/null && break; sleep 0.05; done
check "root without a password on 0.0.0.0 is warned about" contains "$(cat "${work}/open.log")" \
    "root has no password and the server listens on 0.0.0.0: anyone who can reach its MySQL port is root; set root_password, or bind_address = 127.0.0.1"
check "SIGTERM stops it" stop_server TERM

finish
