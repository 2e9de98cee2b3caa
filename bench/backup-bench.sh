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
#   rgw          BACKUP to Ceph RGW vs restic's and rclone's S3 backends; the server's CPU share;
#                our BACKUP again with unsigned payloads for reference (the default signs over http://)
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

# shellcheck source=bench/bench-lib.sh
source "${root}/bench/bench-lib.sh"

# ---- sizes (the data sets: bench-lib.sh) ----------------------------------------------------------
clients=32 interval_ms=50  # latency: 32 clients, each one SHOW BACKUP every 50 ms
set_sizes

install_server_bench_tools
resolve_binary
take_bench_lock
make_dirs backup-bench
data_dir="${dir}/data" src_dir="${dir}/src"

# ---- cleanup: everything started here stops, whatever happens -------------------------------------
scratch=(cp-dst rclone-dst restic-repo bp-repo bp-repo-gen tv-repo-big tv-repo-small tv-repo-latency bp-big bp-small)
cleanup() {
    lib_cleanup
    remove_scratch "${scratch[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs one BACKUP and waits for FINISHED; NAME names the log. Sets bk_s (seconds from BACKUP to
# FINISHED, plus a sync), bk_bytes, bk_files, bk_cpu (server user+sys seconds), bk_rss (server
# VmHWM during the job, MiB: the high-water mark is reset first), bk_extra (latency figures).
bk_s="" bk_bytes="" bk_files="" bk_cpu="" bk_rss="" bk_extra=""
tv_backup() {  # name db label repo [clients [bench-client options...]]
    bk_s="" bk_bytes="" bk_files="" bk_cpu="" bk_rss="" bk_extra=""
    local extra=()
    [[ -n "${5:-}" ]] && extra=(--clients "$5" --interval "${interval_ms}" "${@:6}")
    tv_job "$1" BACKUP "$2" "$3" "BACKUP DATABASE $2 SNAPSHOT $3 TO $4" "${extra[@]}" || return 1
    bk_s="${job_s}" bk_bytes="${job_bytes}" bk_files="${job_files}" bk_cpu="${job_cpu}" bk_rss="${job_rss}" bk_extra="${job_extra}"
}

part_load() { load_sets; }

# A local repository at PATH under NAME; a registration an earlier invocation left (its
# directory removed at its exit) is dropped first.
create_local_repo() {  # name path
    sql "DROP REPOSITORY $1" > /dev/null 2>&1 || true
    sql "CREATE REPOSITORY $1 WITH BROKER ON LOCATION \"$2\""
}

# ---- part: local ----------------------------------------------------------------------------------
declare -A local_mbs
part_local() {
    local set
    for set in big small; do
        local bytes="${set_bytes[${set}]}" n="${set_n[${set}]}" label t r c k b
        label="$(set_label "${set}")"
        say "[local] ${set}: ${label}"
        [[ "${set}" == small ]] && settle_deletions
        # tabletvault: BACKUP to a local repository on the same disk.
        rm -rf "${dir:?}/tv-repo-${set}"
        create_local_repo "local_${set}" "${dir}/tv-repo-${set}"
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
        discard "${set}" rm -rf "${dir}/rclone-dst"
        # cp -a
        rm -rf "${dir}/cp-dst"
        drop_caches
        timed "local-${set}-cp" cp -a "${dir}/src/${set}" "${dir}/cp-dst" &&
            k="$(mbs "${bytes}" "${run_s}")" && say "[local] ${set}: cp -a ${k} MB/s (${run_s} s, CPU ${run_cpu} s)"
        discard "${set}" rm -rf "${dir}/cp-dst"
        # bench-path on generated files of the same count and (average) size, defaults otherwise
        # (one file in flight per core, as BACKUP). The first run generates the files; the second,
        # timed one reuses them with a cold cache, into a location of its own (the first one's
        # copies are removed with the set's other outputs: settle_deletions in bench-lib.sh).
        local size=$((bytes / n)) bp="${dir}/bp-${set}"
        rm -rf "${bp}" "${dir}/bp-repo" "${dir}/bp-repo-gen"
        "${tv_bin}" bench-path --location "${dir}/bp-repo-gen" --direction up --files "${n}" --size "${size}" \
            --work-dir "${bp}" --keep-files on > "${logs}/local-${set}-bench-path-gen.log" 2>&1 || true
        discard "${set}" rm -rf "${dir}/bp-repo-gen"
        drop_caches
        if timed "local-${set}-bench-path" "${tv_bin}" bench-path --location "${dir}/bp-repo" --direction up \
            --files "${n}" --size "${size}" --work-dir "${bp}" --keep-files on; then
            b="$(sed -n 's/^upload: .* in \([0-9.]*\) s: \([0-9.]*\) MB\/s .*/\2/p' "${logs}/local-${set}-bench-path.log")"
            say "[local] ${set}: bench-path ${b:-?} MB/s by its own clock, $(mbs "${bytes}" "${run_s}") MB/s process start to sync (${n} x ${size} bytes)"
        fi
        discard "${set}" rm -rf "${bp}" "${dir}/bp-repo"
        run_deferred
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
        create_local_repo local_small "${dir}/tv-repo-small"
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
# One BACKUP of the big set into a fresh local repository under the latency clients; sets
# lat_n lat_p50 lat_p99 lat_max (SHOW BACKUPs answered, milliseconds). 1 when the backup failed.
lat_n="" lat_p50="" lat_p99="" lat_max=""
latency_backup() {  # name [bench-client options...]
    local name="$1"
    shift
    rm -rf "${dir:?}/tv-repo-latency"
    create_local_repo local_latency "${dir}/tv-repo-latency"
    drop_caches
    tv_backup "${name}" bigdb l1 local_latency "${clients}" "$@" || return 1
    read -r lat_n lat_p50 lat_p99 lat_max <<< "${bk_extra}"
}
part_latency() {
    # The same clients for 3 s with no backup running: what the clients and the machine cost alone
    # (on 2 cores, 32 Python threads and the server share the CPUs).
    local base_p50="" base_p99=""
    if /usr/bin/python3 "${root}/bench/bench-client.py" "${port}" BACKUP bigdb - - --clients "${clients}" --interval "${interval_ms}" \
        > "${logs}/latency-idle.out" 2> "${logs}/latency-idle.err"; then
        base_p50="$(field "$(cat "${logs}/latency-idle.out")" 5)" base_p99="$(field "$(cat "${logs}/latency-idle.out")" 6)"
        say "[latency] ${clients} clients, one query each every ${interval_ms} ms, no backup running: $(field "$(cat "${logs}/latency-idle.out")" 4) SHOW BACKUP in 3 s, p50 ${base_p50} ms, p99 ${base_p99} ms"
    fi
    if latency_backup latency-big; then
        say "[latency] ${clients} clients, ${lat_n} SHOW BACKUP during a ${bk_s} s BACKUP of the big set" \
            "($(mbs "${set_bytes[big]}" "${bk_s}") MB/s, ${local_mbs[big]:-?} MB/s alone): p50 ${lat_p50} ms, p99 ${lat_p99} ms, max ${lat_max} ms"
        record latency "SHOW BACKUP p99, ${clients} clients x 1/${interval_ms} ms, during BACKUP of big, ms" "${lat_p99}" "p50 ${lat_p50}" "max ${lat_max}" "<= 10" "$(verdict "${lat_p99}" '<=' 10)"
        [[ -n "${base_p99}" ]] && record latency "SHOW BACKUP p99, ${clients} clients, no backup running, ms" "${base_p99}" "p50 ${base_p50}" "-" "-" "-"
        record latency "BACKUP of big under that load, MB/s" "$(mbs "${set_bytes[big]}" "${bk_s}")" "${local_mbs[big]:-?} alone" "-" "-" "-"
    fi
    # Again with the clients at nice -10. On 2 cores the backup keeps both CPUs busy, and the
    # 32 Python threads then wait for a CPU themselves (perf sched: up to 46 ms, where the
    # server's loops waited at most 7 ms); ahead of the server they time its answers.
    if latency_backup latency-big-nice --nice -10; then
        say "[latency] the same with the clients at nice -10: ${lat_n} SHOW BACKUP during a ${bk_s} s BACKUP" \
            "($(mbs "${set_bytes[big]}" "${bk_s}") MB/s): p50 ${lat_p50} ms, p99 ${lat_p99} ms, max ${lat_max} ms"
        record latency "SHOW BACKUP p99, the same, clients at nice -10 (the server's answers), ms" "${lat_p99}" "p50 ${lat_p50}" "max ${lat_max}" "<= 10" "$(verdict "${lat_p99}" '<=' 10)"
    fi
    sql "DROP REPOSITORY local_latency"
    rm -rf "${dir:?}/tv-repo-latency"
}

# ---- part: rgw ------------------------------------------------------------------------------------
part_rgw() {
    rgw_up "${dir}/rgw" || return 0
    local endpoint="${rgw_endpoint}" props="${rgw_props}"
    "${s3env[@]}" rclone mkdir dst:bench > "${logs}/rgw-mkdir.log" 2>&1 || die "could not create the RGW bucket"
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
        # Our backup again with unsigned payloads, for reference: over http:// the default signs
        # every payload, so RGW checks a SHA-256 of every byte: a large part of what it spends
        # beyond its work for rclone's upload of the same bytes (bench/README.md).
        local u=""
        sql "CREATE REPOSITORY rgw_${set}_u WITH BROKER ON LOCATION \"s3://bench/tv-${set}-u\" PROPERTIES (${props}, \"aws.s3.payload_signing\" = \"unsigned\")"
        drop_caches
        before="$(rgw_ticks)"
        if tv_backup "rgw-${set}-tabletvault-unsigned" "${set_db[${set}]}" u1 "rgw_${set}_u"; then
            u="$(mbs "${bytes}" "${bk_s}")"
            say "[rgw] ${set}: tabletvault BACKUP with unsigned payloads ${u} MB/s (${bk_s} s); server CPU ${bk_cpu} s;" \
                "RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s"
        fi
        sql "DROP REPOSITORY rgw_${set}_u"
        if [[ -n "$t" ]]; then
            [[ -n "$r" ]] && record rgw "${set}: BACKUP vs restic (S3), MB/s" "$t" "$r" "$(calc "$t / $r")x" ">= 2x" "$(verdict "$t / $r" '>=' 2)"
            [[ -n "$c" ]] && record rgw "${set}: BACKUP vs rclone (S3), MB/s" "$t" "$c" "$(calc "$t / $c")x" ">= 2x" "$(verdict "$t / $c" '>=' 2)"
        fi
        if [[ -n "$u" && -n "$r" && -n "$c" ]]; then
            record rgw "${set}: BACKUP with unsigned payloads vs restic / rclone, MB/s" "$u" "$r / $c" \
                "$(calc "$u / $r")x / $(calc "$u / $c")x" "-" "-"
        fi
    done
    rgw_down
}

# ---- run ----------------------------------------------------------------------------------------
say "parts: load ${parts[*]}; dir ${dir}; binary ${tv_bin}$( ((quick)) && echo '; QUICK sizes')"
print_machine
start_all="$(now)"
run_parts load "${parts[@]}"
server_stop

print_results "Backup benchmark: figures next to their targets (MB = 10^6 bytes)"
say "done in $(calc "$(now) - ${start_all}" 0) s; logs in ${logs}"
if ((failures > 0)); then
    say "${failures} run(s) failed"
    exit 1
fi
