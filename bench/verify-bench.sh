#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# VERIFY SNAPSHOT next to RESTORE: one table of a few hundred MiB (bench-lib.sh's incompressible
# rows) is backed up into a local repository, then RESTORE of it into a new database and ADMIN
# VERIFY SNAPSHOT ... "mode" = "full" of the same snapshot are timed, each from a dropped page
# cache, and their MB/s printed side by side. The global download limit is 0 (unlimited) for
# both. RESTORE is timed from the statement to SHOW RESTORE's FINISHED; VERIFY is one statement.
#
# Usage: bench/verify-bench.sh [--bin PATH] [--dir DIR] [--mib N]
#   --bin PATH   the tabletvault binary (default: build build-release/ in Release and use it)
#   --dir DIR    data dir, repository and logs (default bench/out/verify); a real disk
#   --mib N      the table's size in MiB (default 512; 4 buckets)
# Dropping the page cache needs root; without it the runs read from the cache (said so).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${root}/bench/out/verify"
tv_bin=""
mib=512

usage() { sed -n '3,14p' "$0"; }
die() {
    echo "verify-bench: $*" >&2
    exit 1
}
say() { echo "verify-bench: $*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin) [[ $# -ge 2 ]] || die "--bin needs a path"; tv_bin="$2"; shift 2 ;;
        --dir) [[ $# -ge 2 ]] || die "--dir needs a path"; dir="$2"; shift 2 ;;
        --mib) [[ $# -ge 2 ]] || die "--mib needs a number"; mib="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
dir="$(realpath -m "${dir}")"

# shellcheck source=bench/bench-lib.sh
source "${root}/bench/bench-lib.sh"

install_missing mariadb:mariadb-client
resolve_binary
take_bench_lock
make_dirs verify-bench
cleanup() {
    server_stop
    rm -rf "${tmp:?}" "${dir:?}/data" "${dir:?}/repo"
}
trap cleanup EXIT

cache_note="page cache dropped before each run"
fresh_cache() {
    if [[ "$(id -u)" -eq 0 ]]; then
        drop_caches
    else
        cache_note="page cache NOT dropped (not root): reads may come from memory"
    fi
}

data_dir="${dir}/data"
rm -rf "${data_dir}" "${dir}/repo"
server_start --set max_download_speed_kbps=0 --set max_upload_speed_kbps=0
rows=$((mib * 1024 * 1024 / 128))  # 128-byte rows
load_table vdb 4 4 "$((rows / 4))"
sql "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"${dir}/repo\""
wait_job() {  # SHOW statement, State column: waits for FINISHED (dies on CANCELLED)
    local state=""
    while [[ "${state}" != FINISHED ]]; do
        state="$(sql "$1" | cut -f"$2")"
        [[ "${state}" != CANCELLED ]] || die "$1: the job ended CANCELLED"
        sleep 0.01
    done
}
sql "BACKUP SNAPSHOT vdb.snap TO repo"
wait_job "SHOW BACKUP FROM vdb" 4
bytes="$(du -sb --apparent-size "${dir}/repo" | cut -f1)"
say "snapshot: $(calc "${bytes} / 1048576" 0) MiB in the repository"

fresh_cache
start="$(now)"
sql "RESTORE SNAPSHOT snap FROM repo DATABASE vdb AS vdb2"
wait_job "SHOW RESTORE FROM vdb2" 5
restore_s="$(calc "$(now) - ${start}" 3)"

fresh_cache
start="$(now)"
verdict_rows="$(sql "ADMIN VERIFY SNAPSHOT snap ON repo PROPERTIES (\"mode\" = \"full\")")"
verify_s="$(calc "$(now) - ${start}" 3)"
[[ "$(cut -f3 <<< "${verdict_rows}")" == OK ]] || die "verify found problems: ${verdict_rows}"

fresh_cache
start="$(now)"
sql "ADMIN VERIFY SNAPSHOT snap ON repo" > /dev/null
quick_s="$(calc "$(now) - ${start}" 3)"

say "$(nproc) CPUs; ${cache_note}; binary ${tv_bin}"
printf '%-28s %10s %10s\n' "run" "seconds" "MB/s"
printf '%-28s %10s %10s\n' "RESTORE" "${restore_s}" "$(mbs "${bytes}" "${restore_s}")"
printf '%-28s %10s %10s\n' "ADMIN VERIFY (mode full)" "${verify_s}" "$(mbs "${bytes}" "${verify_s}")"
printf '%-28s %10s %10s\n' "ADMIN VERIFY (mode quick)" "${quick_s}" "-"
