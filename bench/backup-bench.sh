#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Backup benchmark (issue 13): BACKUP DATABASE through a Release server, timed from the statement
# to SHOW BACKUP's FINISHED, side by side with restic, rclone, cp -a and `tabletvault bench-path`
# on the same segment files and the same destination. Parts (all in one run):
#   load         two databases loaded through the server: `big` (random BIGINTs, 16 buckets,
#                segments of 64 MiB; 8 GiB) and `small` (1,000 buckets, 20 INSERTs: 20,000
#                segment files of ~64 KiB). Kept in DIR/data and reused by later runs.
#   local        BACKUP to a local repository vs restic (local repo), rclone copy, cp -a (+ sync)
#                and bench-path on files of the same count and size; peak RSS of the server
#   rgw          BACKUP to Ceph RGW vs restic's and rclone's S3 backends; the server's CPU share
#   incremental  a second BACKUP of the unchanged 20,000 files: seconds and __data bytes added
#   latency      p99 of SHOW BACKUP from 32 concurrent clients while the big set is backed up
# Figures are printed next to their targets with MET/MISSED; a missed target is not an error. A
# run that fails is (exit 1, after the other runs). See bench/README.md, section "Backups".
#
# Usage: bench/backup-bench.sh [--bin PATH] [--dir DIR] [--quick] [PART...|all]
#   --bin PATH   the tabletvault binary (default: build build-release/ in Release and use it)
#   --dir DIR    data dir, file trees and scratch space (default bench/out/backup); a real disk;
#                needs ~2.2x the data (8 GiB + 1.3 GiB) kept plus one copy while a tool runs,
#                and RGW's sparse store (CEPH_RGW_DISK_GB, 48 by default here) during `rgw`
#   --quick      512 MiB and 2,000 files (checks the script in a few minutes; figures mean less)
# Needs root: dropping the page cache, /proc/PID/clear_refs, apt-get for missing tools.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${root}/bench/out/backup"
tv_bin=""
quick=0
parts=()
all_parts=(local rgw incremental latency)

usage() { sed -n '3,24p' "$0"; }
die() {
    echo "backup-bench: $*" >&2
    exit 1
}
say() { echo "backup-bench: $*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin) [[ $# -ge 2 ]] || die "--bin needs a path"; tv_bin="$2"; shift 2 ;;
        --dir) [[ $# -ge 2 ]] || die "--dir needs a path"; dir="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        -h | --help) usage; exit 0 ;;
        all) parts+=("${all_parts[@]}"); shift ;;
        load) shift ;;  # always runs (and does nothing when DIR/data already holds the sets)
        local | rgw | incremental | latency) parts+=("$1"); shift ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ ${#parts[@]} -gt 0 ]] || parts=("${all_parts[@]}")
[[ "$(id -u)" -eq 0 ]] || die "run as root (page cache drops, clear_refs, apt-get)"
dir="$(realpath -m "${dir}")"

# ---- sizes ----------------------------------------------------------------------------------------
# A row is 16 BIGINTs (128 bytes), each an XXH3 of the row number: incompressible, never repeated
# (restic deduplicates and compresses). Segment files store fixed-width values as they are.
MiB=1048576

big_buckets=16 big_inserts=8 big_rows=8388608         # 8 x 1 GiB: 16 x 64 MiB segments per INSERT
small_buckets=1000 small_inserts=20 small_rows=512000  # 512 rows (64 KiB) per bucket per INSERT
clients=32 interval_ms=50  # latency: 32 clients, each one SHOW BACKUP every 50 ms
if ((quick)); then
    big_inserts=1 big_rows=4194304   # 512 MiB: 16 x 32 MiB
    small_inserts=2                  # 2,000 files
fi
sets_key="${big_buckets}x${big_inserts}x${big_rows} ${small_buckets}x${small_inserts}x${small_rows}"

# ---- tools --------------------------------------------------------------------------------------
install_missing() {
    local need=() pkg cmd
    for pair in restic:restic rclone:rclone mariadb:mariadb-client curl:curl column:bsdextrautils \
        flock:util-linux; do
        cmd="${pair%%:*}" pkg="${pair#*:}"
        command -v "${cmd}" > /dev/null 2>&1 || need+=("${pkg}")
    done
    [[ -x /usr/bin/time ]] || need+=(time)
    /usr/bin/python3 -c 'import pymysql' 2> /dev/null || need+=(python3-pymysql)
    [[ ${#need[@]} -eq 0 ]] && return
    say "installing ${need[*]}"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; }; } \
        > /dev/null || die "could not install ${need[*]}"
}
install_missing

if [[ -z "${tv_bin}" ]]; then
    build="${root}/build-release"
    if [[ ! -f "${build}/build.ninja" ]]; then
        cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null || die "cmake configure failed"
    fi
    say "building ${build}/tabletvault (Release)"
    ninja -C "${build}" -j2 tabletvault > /dev/null || die "building tabletvault failed"
    tv_bin="${build}/tabletvault"
fi
tv_bin="$(realpath "${tv_bin}")"
[[ -x "${tv_bin}" ]] || die "${tv_bin} is not executable"

# One benchmark at a time on this machine (the same lock as the other scripts).
exec 9> /tmp/tabletvault-bench.lock
flock -n 9 || { say "another benchmark holds /tmp/tabletvault-bench.lock; waiting"; flock 9; }

mkdir -p "${dir}"
case "$(findmnt -no FSTYPE --target "${dir}" 2> /dev/null || stat -f -c %T "${dir}")" in
    tmpfs | ramfs) die "${dir} is in memory; the benchmark needs a real disk" ;;
esac
logs="${dir}/logs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "${logs}"
tmp="$(mktemp -d /tmp/tv-backup-bench.XXXXXX)"

# ---- cleanup: everything started here stops, whatever happens -------------------------------------
server_pid="" rgw_dir=""
scratch=(cp-dst rclone-dst restic-repo bp-repo tv-repo-big tv-repo-small tv-repo-latency bp-big bp-small)
cleanup() {
    set +e
    if [[ -n "${server_pid}" ]]; then
        kill -TERM "${server_pid}" 2> /dev/null
        wait "${server_pid}" 2> /dev/null
    fi
    [[ -n "${rgw_dir}" ]] && "${ceph_rgw}" down "${rgw_dir}" > /dev/null 2>&1
    local s
    for s in "${scratch[@]}"; do rm -rf "${dir:?}/${s}"; done
    rm -rf "${tmp}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ------------------------------------------------------------------------------------
# shellcheck source=bench/bench-lib.sh
source "${root}/bench/bench-lib.sh"
hz="$(getconf CLK_TCK)"


# Times a command followed by sync; sets run_s (wall seconds) and run_cpu (user+system seconds).
run_s="" run_cpu=""
timed() {
    local name="$1" log="${logs}/$1.log" rc=0 start
    shift
    start="$(now)"
    /usr/bin/time -f '%U %S' -o "${log}.time" "$@" > "${log}" 2>&1 || rc=$?
    sync
    run_s="$(calc "$(now) - ${start}" 3)"
    read -r u s < <(tail -1 "${log}.time")
    run_cpu="$(calc "$u + $s" 1)"
    if ((rc != 0)); then
        say "${name} failed (exit ${rc}); see ${log}"
        tail -5 "${log}" | sed 's/^/    /'
        failures=$((failures + 1))
        return 1
    fi
}

# ---- the server ---------------------------------------------------------------------------------
port="" server_log=""
server_start() {  # [--set key=value]...
    server_log="${logs}/server-$(date +%H%M%S%N).log"
    "${tv_bin}" serve --data-dir "${dir}/data" --set bind_address=127.0.0.1 --set query_port=0 --set http_port=0 \
        "$@" > "${server_log}" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        grep -q " ready" "${server_log}" && break
        kill -0 "${server_pid}" 2> /dev/null || die "server exited: $(tail -5 "${server_log}")"
        sleep 0.05
    done
    port="$(sed -n 's/.*mysql: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "${server_log}" | tail -1)"
    [[ -n "${port}" ]] || die "server did not start: $(tail -5 "${server_log}")"
}
server_stop() {
    [[ -n "${server_pid}" ]] || return 0
    kill -TERM "${server_pid}" 2> /dev/null || true
    wait "${server_pid}" 2> /dev/null || true
    server_pid=""
}
sql() { mariadb -h127.0.0.1 -P"${port}" -uroot -N -B -e "$1"; }

# The client side of a backup: BACKUP, then SHOW BACKUP every 10 ms until FINISHED. With
# `latency N`, N more connections run SHOW BACKUP back to back meanwhile and report the spread.
cat > "${tmp}/client.py" << 'EOF'
import sys, threading, time
import pymysql

port, db, label, repo = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
clients = int(sys.argv[5]) if len(sys.argv) > 5 else 0

def connect():
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)

def last_job(cur):
    cur.execute(f"SHOW BACKUP FROM {db}")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(names, rows[0])) if rows else None

conns = [connect() for _ in range(clients)]
done = threading.Event()
samples = [[] for _ in range(clients)]

interval = float(sys.argv[6]) / 1000 if len(sys.argv) > 6 else 0.05

def poll(i):
    # One SHOW BACKUP every `interval` per client, the clients staggered: a monitoring load, not
    # a flood (back to back, 32 Python threads on 2 cores measure the threads' queueing).
    next_at = time.perf_counter() + i * interval / clients
    with conns[i].cursor() as cur:
        while not done.is_set():
            wait = next_at - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            t = time.perf_counter()
            last_job(cur)
            samples[i].append(time.perf_counter() - t)
            next_at += interval

threads = [threading.Thread(target=poll, args=(i,)) for i in range(clients)]
conn = connect()
states = []  # (state, seconds since BACKUP when first seen)
with conn.cursor() as cur:
    start = time.perf_counter()
    if label == "-":  # no backup: the clients alone for 3 s, as a baseline
        for t in threads:
            t.start()
        time.sleep(3)
        row = {"State": "FINISHED", "BytesTotal": 0, "FilesTotal": 0}
    else:
        cur.execute(f"BACKUP DATABASE {db} SNAPSHOT {label} TO {repo}")
        for t in threads:
            t.start()
        while True:
            row = last_job(cur)
            seen = time.perf_counter() - start
            if row and row["SnapshotName"] == label:
                if not states or states[-1][0] != row["State"]:
                    states.append((row["State"], seen))
                if row["State"] in ("FINISHED", "CANCELLED"):
                    break
            time.sleep(0.01)
    seconds = time.perf_counter() - start
done.set()
for t in threads:
    t.join()
if row["State"] != "FINISHED":
    sys.exit(f"backup {label} ended {row['State']}: {row['Status']}")
print("states: " + ", ".join(f"{s} at {t:.2f} s" for s, t in states), file=sys.stderr)
out = f"{seconds:.3f} {row['BytesTotal']} {row['FilesTotal']}"
if clients:
    lat = sorted(x for s in samples for x in s)
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    out += f" {len(lat)} {pick(0.5):.2f} {pick(0.99):.2f} {lat[-1] * 1000:.2f}"
print(out)
EOF

# Runs one BACKUP and waits for FINISHED; NAME names the log. Sets bk_s (seconds from BACKUP to
# FINISHED, plus a sync), bk_bytes, bk_files, bk_cpu (server user+sys seconds), bk_rss (server
# VmHWM during the job, MiB: the high-water mark is reset first), bk_extra (latency figures).
bk_s="" bk_bytes="" bk_files="" bk_cpu="" bk_rss="" bk_extra=""
tv_backup() {  # name db label repo [clients]
    local name="$1" out before sync_start
    bk_s="" bk_bytes="" bk_files="" bk_cpu="" bk_rss="" bk_extra=""
    echo 5 > "/proc/${server_pid}/clear_refs"
    before="$(cpu_ticks "${server_pid}")"
    if ! out="$(/usr/bin/python3 "${tmp}/client.py" "${port}" "$2" "$3" "$4" ${5:+"$5" "${interval_ms}"} 2> "${logs}/${name}.err")"; then
        say "BACKUP ${name} failed: $(tail -3 "${logs}/${name}.err")"
        failures=$((failures + 1))
        return 1
    fi
    sync_start="$(now)"
    sync
    bk_cpu="$(calc "($(cpu_ticks "${server_pid}") - ${before}) / ${hz}" 1)"
    bk_rss="$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/${server_pid}/status")"
    bk_s="$(calc "$(field "${out}" 1) + $(now) - ${sync_start}" 3)"
    bk_bytes="$(field "${out}" 2)" bk_files="$(field "${out}" 3)"
    bk_extra="$(cut -d' ' -f4- <<< "${out}")"
    echo "${out}" > "${logs}/${name}.out"
    say "    ${name}: $(grep '^states: ' "${logs}/${name}.err" | cut -c9-)"
}

# ---- load ---------------------------------------------------------------------------------------
columns="id BIGINT NOT NULL" select="xx_hash3_64(CAST(generate_series AS VARCHAR))"
for i in $(seq 1 15); do
    columns+=", c${i} BIGINT NOT NULL"
    select+=", xx_hash3_64(CAST(generate_series AS VARCHAR), '${i}')"
done
load_table() {  # db buckets inserts rows
    local db="$1" buckets="$2" inserts="$3" rows="$4" i start
    sql "CREATE DATABASE ${db}"
    sql "CREATE TABLE ${db}.t (${columns}) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS ${buckets}"
    start="$(now)"
    for ((i = 0; i < inserts; i++)); do
        sql "INSERT INTO ${db}.t SELECT ${select} FROM TABLE(generate_series($((i * rows + 1)), $(((i + 1) * rows))))" > /dev/null
    done
    say "[load] ${db}: ${inserts} INSERTs of ${rows} rows into ${buckets} buckets in $(calc "$(now) - ${start}" 1) s"
}
# DIR/src/SET/<tablet>/<file>: hard links to the server's segment files of that database, so
# every tool reads exactly the files BACKUP reads (the same inodes, the same disk blocks).
link_tree() {  # set db
    local set="$1" db="$2" t
    rm -rf "${dir}/src/${set}"
    mkdir -p "${dir}/src/${set}"
    for t in $(sql "SHOW TABLET FROM ${db}.t" | cut -f1); do
        cp -al "${dir}/data/storage/data/${t}" "${dir}/src/${set}/${t}"
    done
}
declare -A set_n set_bytes set_db
set_db[big]=bigdb set_db[small]=smalldb
part_load() {
    if [[ -f "${dir}/data/.bench-sets" && "$(cat "${dir}/data/.bench-sets")" == "${sets_key}" ]]; then
        say "[load] reusing the data in ${dir}/data (${sets_key})"
        server_start
    else
        rm -rf "${dir}/data" "${dir}/src"
        # A load flushes its largest tablet buffer once it holds max(2 x write_buffer_size, 256 MiB):
        # at the defaults a 1 GiB INSERT into 16 buckets would cut segments of 10-30 MiB. With 1 GiB
        # buffers each INSERT writes one segment per bucket (16 x 64 MiB).
        server_start --set write_buffer_size=1073741824
        load_table bigdb "${big_buckets}" "${big_inserts}" "${big_rows}"
        load_table smalldb "${small_buckets}" "${small_inserts}" "${small_rows}"
        echo "${sets_key}" > "${dir}/data/.bench-sets"
        rm -rf "${dir}/src"
    fi
    local set
    for set in big small; do
        [[ -d "${dir}/src/${set}" ]] || link_tree "${set}" "${set_db[${set}]}"
        set_n[${set}]="$(find "${dir}/src/${set}" -type f | wc -l)"
        set_bytes[${set}]="$(find "${dir}/src/${set}" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')"
        say "[load] ${set}: $(set_label "${set}")"
    done
    # A fresh process for the measurements: no load's memory in its high-water mark.
    server_stop
    server_start
}
set_label() { echo "${set_n[$1]} files, $(calc "${set_bytes[$1]} / ${MiB}" 0) MiB (avg $(calc "${set_bytes[$1]} / ${set_n[$1]} / 1024" 0) KiB)"; }
mbs() { calc "$1 / 1e6 / $2" 1; }  # bytes seconds -> MB/s

# ---- part: local ----------------------------------------------------------------------------------
restic_opts=(--no-cache)  # and the defaults: repository version 2, --compression auto
restic_init() {  # repo -> init a repository (not timed)
    RESTIC_PASSWORD=bench restic init "${restic_opts[@]}" --repo "$1" > "${logs}/restic-init.log" 2>&1 ||
        { say "restic init $1 failed: $(tail -2 "${logs}/restic-init.log")"; return 1; }
}
declare -A local_mbs
part_local() {
    local set
    for set in big small; do
        local bytes="${set_bytes[${set}]}" n="${set_n[${set}]}" label t r c k b
        label="$(set_label "${set}")"
        say "[local] ${set}: ${label}"
        # tabletvault: BACKUP to a local repository on the same disk.
        rm -rf "${dir:?}/tv-repo-${set}"
        sql "CREATE REPOSITORY local_${set} WITH BROKER ON LOCATION \"${dir}/tv-repo-${set}\""
        drop_caches
        if tv_backup "local-${set}-tabletvault" "${set_db[${set}]}" "l1" "local_${set}"; then
            t="$(mbs "${bytes}" "${bk_s}")"
            say "[local] ${set}: tabletvault BACKUP ${t} MB/s (${bk_s} s, ${bk_files} files, ${bk_bytes} bytes); server CPU ${bk_cpu} s, peak RSS ${bk_rss} MiB"
            record local "${set}: peak RSS of the server, MiB" "${bk_rss}" "256 + 64" "-" "<= 320" "$(verdict "${bk_rss}" '<=' 320)"
        fi
        # The big set's repository is not needed again; the small set's stays for `incremental`.
        if [[ "${set}" == big ]]; then sql "DROP REPOSITORY local_${set}"; rm -rf "${dir:?}/tv-repo-${set}"; fi
        # restic
        rm -rf "${dir}/restic-repo"
        restic_init "${dir}/restic-repo" && drop_caches &&
            timed "local-${set}-restic" env RESTIC_PASSWORD=bench restic backup "${restic_opts[@]}" --repo "${dir}/restic-repo" \
                "${dir}/src/${set}" && r="$(mbs "${bytes}" "${run_s}")" &&
            say "[local] ${set}: restic ${r} MB/s (${run_s} s, CPU ${run_cpu} s; repo $(du -sm "${dir}/restic-repo" | cut -f1) MiB)"
        rm -rf "${dir}/restic-repo"
        # rclone copy, 8 transfers (as in transfer-bench.sh)
        rm -rf "${dir}/rclone-dst"
        drop_caches
        timed "local-${set}-rclone" rclone copy --transfers 8 "${dir}/src/${set}" "${dir}/rclone-dst" &&
            c="$(mbs "${bytes}" "${run_s}")" && say "[local] ${set}: rclone ${c} MB/s (${run_s} s, CPU ${run_cpu} s)"
        rm -rf "${dir}/rclone-dst"
        # cp -a
        rm -rf "${dir}/cp-dst"
        drop_caches
        timed "local-${set}-cp" cp -a "${dir}/src/${set}" "${dir}/cp-dst" &&
            k="$(mbs "${bytes}" "${run_s}")" && say "[local] ${set}: cp -a ${k} MB/s (${run_s} s, CPU ${run_cpu} s)"
        rm -rf "${dir}/cp-dst"
        # bench-path on generated files of the same count and (average) size, defaults otherwise
        # (one file in flight per core, as BACKUP). The first run generates the files; the second,
        # timed one reuses them with a cold cache.
        local size=$((bytes / n)) bp="${dir}/bp-${set}"
        rm -rf "${bp}" "${dir}/bp-repo"
        "${tv_bin}" bench-path --location "${dir}/bp-repo" --direction up --files "${n}" --size "${size}" \
            --work-dir "${bp}" --keep-files on > "${logs}/local-${set}-bench-path-gen.log" 2>&1 || true
        rm -rf "${dir}/bp-repo"
        drop_caches
        if timed "local-${set}-bench-path" "${tv_bin}" bench-path --location "${dir}/bp-repo" --direction up \
            --files "${n}" --size "${size}" --work-dir "${bp}" --keep-files on; then
            b="$(sed -n 's/^upload: .* in \([0-9.]*\) s: \([0-9.]*\) MB\/s .*/\2/p' "${logs}/local-${set}-bench-path.log")"
            say "[local] ${set}: bench-path ${b:-?} MB/s by its own clock, $(mbs "${bytes}" "${run_s}") MB/s process start to sync (${n} x ${size} bytes)"
        fi
        rm -rf "${bp}" "${dir}/bp-repo"
        local_mbs[${set}]="${t:-}"
        if [[ -n "${t:-}" ]]; then
            [[ -n "${r:-}" ]] && record local "${set}: BACKUP vs restic, MB/s" "$t" "$r" "$(calc "$t / $r")x" ">= 3x" "$(verdict "$t / $r" '>=' 3)"
            [[ -n "${c:-}" ]] && record local "${set}: BACKUP vs rclone copy, MB/s" "$t" "$c" "$(calc "$t / $c")x" ">= 1.5x" "$(verdict "$t / $c" '>=' 1.5)"
            [[ -n "${k:-}" ]] && record local "${set}: BACKUP vs cp -a, MB/s" "$t" "$k" "$(calc "$t / $k")x" "-" "-"
            if [[ -n "${b:-}" ]]; then
                if [[ "${set}" == big ]]; then
                    record local "${set}: BACKUP vs bench-path, MB/s" "$t" "$b" "$(calc "$t / $b")x" ">= 0.9x" "$(verdict "$t / $b" '>=' 0.9)"
                else
                    record local "${set}: BACKUP vs bench-path (per file, no packs), MB/s" "$t" "$b" "$(calc "$t / $b")x" "-" "-"
                fi
            fi
        fi
    done
    return 0
}

# ---- part: incremental ----------------------------------------------------------------------------
data_bytes() { du -sb "${dir}/tv-repo-small/__tabletvault_repository_local_small/__data" 2> /dev/null | cut -f1; }
part_incremental() {
    if [[ ! -d "${dir}/tv-repo-small" ]]; then
        # `local` did not run: a first backup of the small set, not measured.
        sql "CREATE REPOSITORY local_small WITH BROKER ON LOCATION \"${dir}/tv-repo-small\""
        tv_backup incremental-first smalldb l1 local_small || return 0
    fi
    local before after
    before="$(data_bytes)"
    drop_caches
    tv_backup incremental-second smalldb l2 local_small || return 0
    after="$(data_bytes)"
    say "[incremental] second BACKUP of ${set_n[small]} unchanged files: ${bk_s} s, __data ${before} -> ${after} bytes"
    record incremental "unchanged ${set_n[small]} files: data bytes uploaded" "$((after - before))" "-" "-" "0" "$(verdict "$((after - before))" '==' 0)"
    record incremental "unchanged ${set_n[small]} files: seconds" "${bk_s}" "-" "-" "< 2" "$(verdict "${bk_s}" '<' 2)"
    sql "DROP REPOSITORY local_small"
    rm -rf "${dir:?}/tv-repo-small"
}

# ---- part: latency --------------------------------------------------------------------------------
part_latency() {
    rm -rf "${dir:?}/tv-repo-latency"
    sql "CREATE REPOSITORY local_latency WITH BROKER ON LOCATION \"${dir}/tv-repo-latency\""
    # The same clients for 3 s with no backup running: what the clients and the machine cost alone
    # (on 2 cores, 32 Python threads and the server share the CPUs).
    local base_p50="" base_p99=""
    if /usr/bin/python3 "${tmp}/client.py" "${port}" bigdb - - "${clients}" "${interval_ms}" > "${logs}/latency-idle.out" 2> "${logs}/latency-idle.err"; then
        base_p50="$(field "$(cat "${logs}/latency-idle.out")" 5)" base_p99="$(field "$(cat "${logs}/latency-idle.out")" 6)"
        say "[latency] ${clients} clients, one query each every ${interval_ms} ms, no backup running: $(field "$(cat "${logs}/latency-idle.out")" 4) SHOW BACKUP in 3 s, p50 ${base_p50} ms, p99 ${base_p99} ms"
    fi
    drop_caches
    if tv_backup latency-big bigdb l1 local_latency "${clients}"; then
        local n p50 p99 max
        read -r n p50 p99 max <<< "${bk_extra}"
        say "[latency] ${clients} clients, ${n} SHOW BACKUP during a ${bk_s} s BACKUP of the big set" \
            "($(mbs "${set_bytes[big]}" "${bk_s}") MB/s, ${local_mbs[big]:-?} MB/s alone): p50 ${p50} ms, p99 ${p99} ms, max ${max} ms"
        record latency "SHOW BACKUP p99, ${clients} clients x 1/${interval_ms} ms, during BACKUP of big, ms" "${p99}" "p50 ${p50}" "max ${max}" "<= 10" "$(verdict "${p99}" '<=' 10)"
        [[ -n "${base_p99}" ]] && record latency "SHOW BACKUP p99, ${clients} clients, no backup running, ms" "${base_p99}" "p50 ${base_p50}" "-" "-" "-"
        record latency "BACKUP of big under that load, MB/s" "$(mbs "${set_bytes[big]}" "${bk_s}")" "${local_mbs[big]:-?} alone" "-" "-" "-"
    fi
    sql "DROP REPOSITORY local_latency"
    rm -rf "${dir:?}/tv-repo-latency"
}

# ---- part: rgw ------------------------------------------------------------------------------------
rgw_ticks() {  # CPU ticks of radosgw + ceph-osd + ceph-mon, from the pids ceph-rgw recorded
    local t=0 name pid _
    while read -r name pid _; do t=$((t + $(cpu_ticks "${pid}"))); done < "${rgw_dir}/pids"
    echo "$t"
}
ceph_rgw=/work/shared/tools/ceph-rgw
[[ -x "${ceph_rgw}" ]] || ceph_rgw="${root}/tests/support/ceph-rgw"
part_rgw() {
    rgw_dir="${dir}/rgw"
    local rgw_port
    rgw_port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "${ceph_rgw}" down "${rgw_dir}" > /dev/null 2>&1 || true
    say "[rgw] starting Ceph RGW in ${rgw_dir} (port ${rgw_port})"
    CEPH_RGW_DISK_GB="${CEPH_RGW_DISK_GB:-48}" "${ceph_rgw}" up "${rgw_dir}" "${rgw_port}" > "${logs}/rgw-up.log" 2>&1 ||
        { say "ceph-rgw up failed: $(tail -3 "${logs}/rgw-up.log")"; failures=$((failures + 1)); rgw_dir=""; return; }
    local endpoint access_key secret_key region
    # shellcheck disable=SC1091
    source "${rgw_dir}/env"
    region="${region:-us-east-1}"
    local s3env=(env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="${access_key}" AWS_SECRET_ACCESS_KEY="${secret_key}"
        AWS_DEFAULT_REGION="${region}" RESTIC_PASSWORD=bench RCLONE_CONFIG="${tmp}/rclone.conf"
        RCLONE_CONFIG_DST_TYPE=s3 RCLONE_CONFIG_DST_PROVIDER=Ceph RCLONE_CONFIG_DST_ENDPOINT="${endpoint}"
        RCLONE_CONFIG_DST_ACCESS_KEY_ID="${access_key}" RCLONE_CONFIG_DST_SECRET_ACCESS_KEY="${secret_key}"
        RCLONE_CONFIG_DST_REGION="${region}")
    "${s3env[@]}" rclone mkdir dst:bench > "${logs}/rgw-mkdir.log" 2>&1 || die "could not create the RGW bucket"
    local props="\"aws.s3.access_key\" = \"${access_key}\", \"aws.s3.secret_key\" = \"${secret_key}\", \"aws.s3.endpoint\" = \"${endpoint}\", \"aws.s3.region\" = \"${region}\""
    local set
    for set in big small; do
        local bytes="${set_bytes[${set}]}" t="" r="" c="" before
        say "[rgw] ${set}: $(set_label "${set}")"
        sql "CREATE REPOSITORY rgw_${set} WITH BROKER ON LOCATION \"s3://bench/tv-${set}\" PROPERTIES (${props})"
        drop_caches
        before="$(rgw_ticks)"
        if tv_backup "rgw-${set}-tabletvault" "${set_db[${set}]}" r1 "rgw_${set}"; then
            t="$(mbs "${bytes}" "${bk_s}")"
            local share
            share="$(calc "${bk_cpu} / ${bk_s} * 100" 0)"
            say "[rgw] ${set}: tabletvault BACKUP ${t} MB/s (${bk_s} s); server CPU ${bk_cpu} s = ${share}% of one core;" \
                "RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s; peak RSS ${bk_rss} MiB"
            record rgw "${set}: server CPU during BACKUP, s / wall s" "${bk_cpu}" "${bk_s}" "${share}% of a core" "report" "-"
            record rgw "${set}: peak RSS of the server, MiB" "${bk_rss}" "256 + 64" "-" "<= 320" "$(verdict "${bk_rss}" '<=' 320)"
        fi
        sql "DROP REPOSITORY rgw_${set}"
        # restic, S3 backend (defaults: 5 connections)
        "${s3env[@]}" restic init "${restic_opts[@]}" --repo "s3:${endpoint}/bench/restic-${set}" > "${logs}/rgw-restic-init.log" 2>&1 ||
            say "restic init on RGW failed: $(tail -2 "${logs}/rgw-restic-init.log")"
        drop_caches
        before="$(rgw_ticks)"
        timed "rgw-${set}-restic" "${s3env[@]}" restic backup "${restic_opts[@]}" --repo "s3:${endpoint}/bench/restic-${set}" \
            "${dir}/src/${set}" && r="$(mbs "${bytes}" "${run_s}")" &&
            say "[rgw] ${set}: restic ${r} MB/s (${run_s} s, CPU ${run_cpu} s; RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s)"
        # rclone, 8 transfers, --s3-no-head as in transfer-bench.sh
        drop_caches
        before="$(rgw_ticks)"
        timed "rgw-${set}-rclone" "${s3env[@]}" rclone copy --transfers 8 --s3-no-head "${dir}/src/${set}" "dst:bench/rclone-${set}" &&
            c="$(mbs "${bytes}" "${run_s}")" &&
            say "[rgw] ${set}: rclone ${c} MB/s (${run_s} s, CPU ${run_cpu} s; RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s)"
        if [[ -n "$t" ]]; then
            [[ -n "$r" ]] && record rgw "${set}: BACKUP vs restic (S3), MB/s" "$t" "$r" "$(calc "$t / $r")x" ">= 2x" "$(verdict "$t / $r" '>=' 2)"
            [[ -n "$c" ]] && record rgw "${set}: BACKUP vs rclone (S3), MB/s" "$t" "$c" "$(calc "$t / $c")x" ">= 2x" "$(verdict "$t / $c" '>=' 2)"
        fi
    done
    "${ceph_rgw}" down "${rgw_dir}" > /dev/null 2>&1 || true
    rgw_dir=""
}

# ---- run ----------------------------------------------------------------------------------------
say "parts: load ${parts[*]}; dir ${dir}; binary ${tv_bin}$( ((quick)) && echo '; QUICK sizes')"
say "$(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r);" \
    "$(restic version | cut -d' ' -f1-2), $(rclone version 2> /dev/null | head -1)"
load="$(cut -d' ' -f1 /proc/loadavg)"
say "load average ${load} at start; logs in ${logs}"
if awk "BEGIN { exit !(${load} > 1.5) }"; then
    say "warning: the machine is busy (load ${load}); other work disturbs the figures"
fi
start_all="$(now)"
for part in load "${parts[@]}"; do
    part_start="$(now)"
    "part_${part}"
    say "part ${part} took $(calc "$(now) - ${part_start}" 0) s"
done
server_stop

echo
echo "Backup benchmark: figures next to their targets (MB = 10^6 bytes)"
{
    echo "part|what|ours|reference|ratio|target|verdict"
    printf '%s\n' "${results[@]}"
} | column -t -s '|'
say "done in $(calc "$(now) - ${start_all}" 0) s; logs in ${logs}"
if ((failures > 0)); then
    say "${failures} run(s) failed"
    exit 1
fi
