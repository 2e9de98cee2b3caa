# SPDX-License-Identifier: Apache-2.0
# Shared helpers for integration scripts: checks that count, a server started and stopped the
# way users do it, and a closing "N passed, N failed" line.
passed=0
failed=0

check() {  # check NAME COMMAND...: runs the command, records ok / not ok
    local name="$1"
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok - ${name}"
    else
        failed=$((failed + 1))
        echo "not ok - ${name}"
    fi
}

contains() {  # contains HAYSTACK NEEDLE
    if [[ "$1" == *"$2"* ]]; then
        return 0
    fi
    echo "    expected to find: $2" >&2
    echo "    in: $1" >&2
    return 1
}

not_contains() {  # not_contains HAYSTACK NEEDLE
    if [[ "$1" != *"$2"* ]]; then
        return 0
    fi
    echo "    did not expect: $2" >&2
    return 1
}

equals() {  # equals GOT WANTED
    if [[ "$1" == "$2" ]]; then
        return 0
    fi
    echo "    got:    $1" >&2
    echo "    wanted: $2" >&2
    return 1
}

finish() {
    echo "${passed} passed, ${failed} failed"
    [[ "${failed}" -eq 0 ]]
}

# start_server LOG ARGS...: starts `tabletvault serve ARGS` in the background with its log in
# LOG, waits until it listens, and sets server_pid, http_port and query_port.
start_server() {
    local log="$1"
    shift
    "${tv_bin}" serve --set bind_address=127.0.0.1 --set http_port=0 --set query_port=0 "$@" > "${log}" 2>&1 &
    server_pid=$!
    local i
    for i in $(seq 1 200); do
        if grep -q "http: listening on" "${log}"; then
            http_port=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' "${log}" | head -n 1)
            query_port=$(sed -n 's/.*mysql: listening on 127.0.0.1:\([0-9]*\).*/\1/p' "${log}" | head -n 1)
            return 0
        fi
        if ! kill -0 "${server_pid}" 2> /dev/null; then
            echo "    server exited during start-up:" >&2
            cat "${log}" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "    server did not start listening within 10 s" >&2
    return 1
}

# stop_server SIGNAL: sends SIGNAL and waits up to 10 s; sets server_exit.
stop_server() {
    kill "-$1" "${server_pid}"
    local i
    for i in $(seq 1 200); do
        if ! kill -0 "${server_pid}" 2> /dev/null; then
            wait "${server_pid}"
            server_exit=$?
            return 0
        fi
        sleep 0.05
    done
    echo "    server still running 10 s after SIG$1" >&2
    kill -KILL "${server_pid}"
    wait "${server_pid}" || true
    server_exit=137
    return 1
}
