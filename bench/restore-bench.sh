#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restore benchmark: RESTORE through a Release server, timed from the statement to
# SHOW RESTORE's FINISHED, side by side with `restic restore` and `rclone copy` from their own
# copies of the same files. The data sets are backup-bench.sh's (bench-lib.sh loads them). Parts:
#   local     RESTORE of each set (8 GiB of 64 MiB segments; 20,000 files of ~64 KiB) from a local
#             repository vs restic restore (local repo), rclone copy and cp -a of the files
#   rgw       the same from Ceph RGW vs restic's S3 backend and rclone copy from the bucket
#   throttle  restores from RGW at job limits of 10 and 50 MB/s: the worst 10-s window of the
#             bytes the server received (kernel TCP counters, every 0.1 s) vs the limit; then a
#             global limit changed from 50 to 100 MB/s mid-job: when the new rate shows
#   wan       BACKUP then RESTORE of 1 GiB over wan-link (100 Mbit/s, 50 ms RTT), the server in
#             wan-a, Ceph RGW in wan-b: rates vs the link's and plain TCP's (the kernel's default
#             congestion control, then again with tcp_congestion_control=cubic)
#   rss       peak RSS (VmHWM) of the server during a 16 GiB restore
# The global download limit (max_download_speed_kbps) is 0 except where a part sets it; the
# page cache is dropped before every run. Figures are printed next to their targets with
# MET/MISSED; a missed target is not an error, a run that fails is (exit 1, after the other
# runs). See bench/README.md, section "Restores".
#
# Usage: bench/restore-bench.sh [--bin PATH] [--dir DIR] [--quick] [load | PART... | all]
#   load alone loads the sets (a later run then measures at once); no part means all
#   --bin PATH   the tabletvault binary (default: build build-release/ in Release and use it)
#   --dir DIR    data dir, file trees and scratch space (default bench/out/restore); a real disk.
#                When DIR/data does not hold the sets and bench/out/backup/data does (same
#                sizes), that data is used instead of loading it again. Needs the sets (9.3 GiB)
#                plus up to ~40 GiB: 2 x 16 GiB in rss; in rgw, RGW's sparse store (~30 GiB:
#                our repository, restic's and rclone's copies) and one restored copy
#   --quick      512 MiB and 2,000 files, short throttle runs, 256 MiB over the WAN, a 1 GiB
#                restore for rss (checks the script in a few minutes; figures mean less)
#   --poll-ms MS how often the client asks SHOW RESTORE while a timed restore runs (default 10,
#                as backup-bench.sh; each answer copies the job's record of staged files, so
#                at 10 ms it costs the server CPU during restores of many files)
# Needs root: dropping the page cache, /proc/PID/clear_refs, network namespaces, apt-get.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${root}/bench/out/restore"
tv_bin=""
quick=0
poll_ms=10
load_only=0
parts=()
all_parts=(local rgw throttle wan rss)

usage() { sed -n '3,34p' "$0"; }
die() {
    echo "restore-bench: $*" >&2
    exit 1
}
say() { echo "restore-bench: $*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin) [[ $# -ge 2 ]] || die "--bin needs a path"; tv_bin="$2"; shift 2 ;;
        --dir) [[ $# -ge 2 ]] || die "--dir needs a path"; dir="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        --poll-ms) [[ $# -ge 2 ]] || die "--poll-ms needs a number"; poll_ms="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        all) parts+=("${all_parts[@]}"); shift ;;
        load) load_only=1; shift ;;  # always runs (nothing to do when the data holds the sets); alone: only it
        local | rgw | throttle | wan | rss) parts+=("$1"); shift ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ ${#parts[@]} -gt 0 ]] || ((load_only)) || parts=("${all_parts[@]}")
[[ "$(id -u)" -eq 0 ]] || die "run as root (page cache drops, clear_refs, network namespaces, apt-get)"
dir="$(realpath -m "${dir}")"

# shellcheck source=bench/bench-lib.sh
source "${root}/bench/bench-lib.sh"

# ---- sizes --------------------------------------------------------------------------------------
set_sizes
throttle_seconds=32 change_after=15   # each throttled run; the limit change 15 s in
wan_rows=8388608                      # 1 GiB: 16 x 64 MiB
rss_inserts=16                        # 16 x 1 GiB (big_rows rows each)
if ((quick)); then
    throttle_seconds=14 change_after=6
    wan_rows=2097152                  # 256 MiB
    rss_inserts=2                     # 2 x 512 MiB
fi
wan_mbit=100 wan_rtt=50
kbps() { calc "$1 * 1000000 / 1024" 0; }  # MB/s (10^6) -> KB/s (1024), as the limits are given

install_server_bench_tools cc:gcc
resolve_binary
take_bench_lock
make_dirs restore-bench

# The sets: DIR/data, else backup-bench's when it holds them at these sizes.
data_dir="${dir}/data" src_dir="${dir}/src"
backup_data="${root}/bench/out/backup/data"
if [[ ! -f "${data_dir}/.bench-sets" || "$(cat "${data_dir}/.bench-sets")" != "${sets_key}" ]] &&
    [[ -f "${backup_data}/.bench-sets" && "$(cat "${backup_data}/.bench-sets")" == "${sets_key}" ]]; then
    data_dir="${backup_data}" src_dir="${root}/bench/out/backup/src"
fi

wan_link=/work/shared/tools/wan-link
[[ -x "${wan_link}" ]] || wan_link="${root}/bench/wan-link"

# ---- cleanup: everything started here stops, whatever happens -------------------------------------
scratch=(tv-repo-big tv-repo-small tv-repo-rss restic-repo restic-out rclone-out cp-out)
wan_up=0 forward_pid="" wan_tcp=""
cleanup() {
    lib_cleanup
    [[ -n "${forward_pid}" ]] && kill "${forward_pid}" 2> /dev/null
    ((wan_up)) && "${wan_link}" down wan > /dev/null 2>&1
    # Databases a run left in the data dir (restored copies, the rss and wan sets) are dropped
    # by the parts; one interrupted mid-way is dropped at the next invocation (drop_leftovers).
    remove_scratch "${scratch[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ------------------------------------------------------------------------------------
global_limit() {  # KB/s: the global download limit, live
    sql "ADMIN SET FRONTEND CONFIG (\"max_download_speed_kbps\" = \"$1\")"
}
drop_db() { sql "DROP DATABASE IF EXISTS $1 FORCE"; }
# Everything but the sets: what an interrupted earlier invocation may have left.
drop_leftovers() {
    local db
    for db in $(sql "SHOW DATABASES"); do
        case "${db}" in
            bigdb | smalldb | information_schema | _statistics_ | sys) ;;
            bigdb_* | smalldb_* | rssdb* | wandb*)
                say "dropping ${db}, left by an earlier run"
                drop_db "${db}"
                date +%s > "${dir}/.deleted"
                ;;
        esac
    done
    local r
    for r in $(sql "SHOW REPOSITORIES" | cut -f2); do sql "DROP REPOSITORY ${r}"; done
}
# A fresh server (nothing in its high-water mark) with the global download limit off.
fresh_server() {  # [--set key=value]...
    server_stop
    server_start "$@"
    global_limit 0
}

# Runs a RESTORE; sets job_* (see tv_job) and rs_mbs (bytes of the set / seconds).
rs_mbs=""
tv_restore() {  # name target-db label statement bytes [bench-client options...]
    local name="$1" db="$2" label="$3" statement="$4" bytes="$5"
    shift 5
    rs_mbs=""
    tv_job "${name}" RESTORE "${db}" "${label}" "${statement}" --poll-ms "${poll_ms}" "$@" || return 1
    rs_mbs="$(mbs "${bytes}" "${job_s}")"
}

# A snapshot of a set's database in a repository (BACKUP, not part of any figure).
backup_set() {  # name db label repo
    if tv_job "$1" BACKUP "$2" "$3" "BACKUP DATABASE $2 SNAPSHOT $3 TO $4"; then
        say "    (BACKUP of $2 to $4 for the restores: ${job_s} s, $(mbs "${job_bytes}" "${job_s}") MB/s)"
    else
        return 1
    fi
}

# The restore's records: RESTORE vs restic and rclone (and cp), peak RSS, server CPU.
record_vs() {  # part set restore-MB/s restic rclone cp rss cpu seconds
    local part="$1" set="$2" t="$3" r="$4" c="$5" k="$6" rss="$7" cpu="$8" s="$9"
    [[ -n "$t" ]] || return 0
    [[ -n "$r" ]] && record "${part}" "${set}: RESTORE vs restic restore, MB/s" "$t" "$r" "$(calc "$t / $r")x" ">= 3x" "$(verdict "$t / $r" '>=' 3)"
    [[ -n "$c" ]] && record "${part}" "${set}: RESTORE vs rclone copy, MB/s" "$t" "$c" "$(calc "$t / $c")x" ">= 1.5x" "$(verdict "$t / $c" '>=' 1.5)"
    [[ -n "$k" ]] && record "${part}" "${set}: RESTORE vs cp -a, MB/s" "$t" "$k" "$(calc "$t / $k")x" "-" "-"
    record "${part}" "${set}: server CPU during RESTORE, s / wall s" "${cpu}" "${s}" "$(calc "${cpu} / ${s} * 100" 0)% of a core" "report" "-"
    record "${part}" "${set}: peak RSS of the server, MiB" "${rss}" "256 + 64" "-" "<= 320" "$(verdict "${rss}" '<=' 320)"
}

# The small set again with download_worker_count=8 (rclone's --transfers 8), for reference: how
# much of the gap is files in flight (one per core by default).
more_workers() {  # part set label statement restore-MB/s rclone-MB/s
    local part="$1" set="$2" label="$3" db="${set_db[$2]}_${1:0:1}r8"
    shift
    fresh_server --set download_worker_count=8
    drop_caches
    if tv_restore "${part}-${set}-tabletvault-8" "${db}" "${label}" "$3" "${set_bytes[${set}]}"; then
        say "[${part}] ${set}: tabletvault RESTORE with download_worker_count=8: ${rs_mbs} MB/s (${job_s} s); server CPU ${job_cpu} s, peak RSS ${job_rss} MiB"
        record "${part}" "${set}: RESTORE with download_worker_count=8 (default: one per core), MB/s" "${rs_mbs}" \
            "default ${4:-?}" "${5:+$(calc "${rs_mbs} / $5")x rclone}" "-" "-"
    fi
    discard "${set}" drop_db "${db}"
    fresh_server
}

part_load() {
    load_sets
    global_limit 0
    drop_leftovers
}

# ---- part: local ----------------------------------------------------------------------------------
part_local() {
    local set
    for set in big small; do
        local bytes="${set_bytes[${set}]}" db="${set_db[${set}]}" t="" r="" c="" k="" rss="" cpu="" secs=""
        say "[local] ${set}: $(set_label "${set}")"
        [[ "${set}" == small ]] && settle_deletions
        # tabletvault: a snapshot in a local repository on the same disk, then RESTORE into a new
        # database (the restored segments are written into the server's data dir).
        rm -rf "${dir:?}/tv-repo-${set}"
        sql "CREATE REPOSITORY local_${set} WITH BROKER ON LOCATION \"${dir}/tv-repo-${set}\""
        if backup_set "local-${set}-backup" "${db}" l1 "local_${set}"; then
            drop_caches
            if tv_restore "local-${set}-tabletvault" "${db}_lr" l1 \
                "RESTORE SNAPSHOT l1 FROM local_${set} DATABASE ${db} AS ${db}_lr" "${bytes}"; then
                t="${rs_mbs}" rss="${job_rss}" cpu="${job_cpu}" secs="${job_s}"
                say "[local] ${set}: tabletvault RESTORE ${t} MB/s (${job_s} s, ${job_files} files, ${job_bytes} bytes); server CPU ${job_cpu} s, peak RSS ${job_rss} MiB"
            fi
            discard "${set}" drop_db "${db}_lr"
        fi
        # The big set's repository goes now (disk); the small set's serves one more run below.
        if [[ "${set}" == big ]]; then sql "DROP REPOSITORY local_big"; rm -rf "${dir:?}/tv-repo-big"; fi
        # restic: a repository of the same files (backup not timed), then restore.
        rm -rf "${dir}/restic-repo" "${dir}/restic-out"
        if restic_init "${dir}/restic-repo" &&
            timed "local-${set}-restic-backup" env RESTIC_PASSWORD=bench restic backup "${restic_opts[@]}" \
                --repo "${dir}/restic-repo" "${src_dir}/${set}"; then
            drop_caches
            timed "local-${set}-restic" env RESTIC_PASSWORD=bench restic restore "${restic_opts[@]}" --repo "${dir}/restic-repo" \
                latest --target "${dir}/restic-out" && r="$(mbs "${bytes}" "${run_s}")" &&
                say "[local] ${set}: restic restore ${r} MB/s (${run_s} s, CPU ${run_cpu} s)"
        fi
        rm -rf "${dir}/restic-repo"
        discard "${set}" rm -rf "${dir}/restic-out"
        # rclone copy, 8 transfers (as in backup-bench.sh): a local "repository" is a directory of
        # the plain files; the link tree is one, on the same disk.
        rm -rf "${dir}/rclone-out"
        drop_caches
        timed "local-${set}-rclone" rclone copy --transfers 8 "${src_dir}/${set}" "${dir}/rclone-out" &&
            c="$(mbs "${bytes}" "${run_s}")" && say "[local] ${set}: rclone copy ${c} MB/s (${run_s} s, CPU ${run_cpu} s)"
        discard "${set}" rm -rf "${dir}/rclone-out"
        # cp -a, for reference
        rm -rf "${dir}/cp-out"
        drop_caches
        timed "local-${set}-cp" cp -a "${src_dir}/${set}" "${dir}/cp-out" &&
            k="$(mbs "${bytes}" "${run_s}")" && say "[local] ${set}: cp -a ${k} MB/s (${run_s} s, CPU ${run_cpu} s)"
        discard "${set}" rm -rf "${dir}/cp-out"
        record_vs local "${set}" "$t" "$r" "$c" "$k" "${rss}" "${cpu}" "${secs}"
        if [[ "${set}" == small ]]; then
            more_workers local small l1 "RESTORE SNAPSHOT l1 FROM local_small DATABASE smalldb AS smalldb_lr8" "$t" "$c"
            sql "DROP REPOSITORY local_small"
            rm -rf "${dir:?}/tv-repo-small"
            run_deferred
        fi
    done
}

# ---- part: rgw ------------------------------------------------------------------------------------
rgw_big_ready=0  # the big set's snapshot r1 is in repository rgw_big (throttle reuses it)
rgw_start() {
    [[ -n "${rgw_dir}" ]] && return 0
    rgw_up "${dir}/rgw" || return 1
    "${s3env[@]}" rclone mkdir dst:bench > "${logs}/rgw-mkdir.log" 2>&1 || die "could not create the RGW bucket"
}
rgw_repo() {  # set: repository rgw_SET with the set's snapshot r1
    local set="$1"
    if [[ "${set}" == big ]] && ((rgw_big_ready)); then return 0; fi
    sql "DROP REPOSITORY rgw_${set}" > /dev/null 2>&1 || true
    sql "CREATE REPOSITORY rgw_${set} WITH BROKER ON LOCATION \"s3://bench/tv-${set}\" PROPERTIES (${rgw_props})"
    backup_set "rgw-${set}-backup" "${set_db[${set}]}" r1 "rgw_${set}" || return 1
    [[ "${set}" == big ]] && rgw_big_ready=1
    return 0
}
part_rgw() {
    rgw_start || return 0
    local set before
    for set in big small; do
        local bytes="${set_bytes[${set}]}" db="${set_db[${set}]}" t="" r="" c="" rss="" cpu="" secs=""
        say "[rgw] ${set}: $(set_label "${set}")"
        if rgw_repo "${set}"; then
            [[ "${set}" == small ]] && settle_deletions
            drop_caches
            before="$(rgw_ticks)"
            if tv_restore "rgw-${set}-tabletvault" "${db}_rr" r1 \
                "RESTORE SNAPSHOT r1 FROM rgw_${set} DATABASE ${db} AS ${db}_rr" "${bytes}"; then
                t="${rs_mbs}" rss="${job_rss}" cpu="${job_cpu}" secs="${job_s}"
                say "[rgw] ${set}: tabletvault RESTORE ${t} MB/s (${job_s} s); server CPU ${job_cpu} s =" \
                    "$(calc "${job_cpu} / ${job_s} * 100" 0)% of one core; RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s; peak RSS ${job_rss} MiB"
            fi
            discard "${set}" drop_db "${db}_rr"
        fi
        # restic, S3 backend (defaults: 5 connections): backup (not timed), then restore.
        local repo="s3:${rgw_endpoint}/bench/restic-${set}"
        rm -rf "${dir}/restic-out"
        if restic_init "${repo}" "${s3env[@]}" &&
            timed "rgw-${set}-restic-backup" "${s3env[@]}" restic backup "${restic_opts[@]}" --repo "${repo}" "${src_dir}/${set}"; then
            drop_caches
            before="$(rgw_ticks)"
            timed "rgw-${set}-restic" "${s3env[@]}" restic restore "${restic_opts[@]}" --repo "${repo}" latest --target "${dir}/restic-out" &&
                r="$(mbs "${bytes}" "${run_s}")" &&
                say "[rgw] ${set}: restic restore ${r} MB/s (${run_s} s, CPU ${run_cpu} s; RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s)"
        fi
        discard "${set}" rm -rf "${dir}/restic-out"
        # rclone copy, 8 transfers: the files uploaded by rclone (not timed), then copied back.
        rm -rf "${dir}/rclone-out"
        if timed "rgw-${set}-rclone-up" "${s3env[@]}" rclone copy --transfers 8 --s3-no-head "${src_dir}/${set}" "dst:bench/rclone-${set}"; then
            drop_caches
            before="$(rgw_ticks)"
            timed "rgw-${set}-rclone" "${s3env[@]}" rclone copy --transfers 8 "dst:bench/rclone-${set}" "${dir}/rclone-out" &&
                c="$(mbs "${bytes}" "${run_s}")" &&
                say "[rgw] ${set}: rclone copy ${c} MB/s (${run_s} s, CPU ${run_cpu} s; RGW+OSD+mon CPU $(calc "($(rgw_ticks) - ${before}) / ${hz}" 1) s)"
        fi
        discard "${set}" rm -rf "${dir}/rclone-out"
        record_vs rgw "${set}" "$t" "$r" "$c" "" "${rss}" "${cpu}" "${secs}"
        if [[ "${set}" == small ]]; then
            more_workers rgw small r1 "RESTORE SNAPSHOT r1 FROM rgw_small DATABASE smalldb AS smalldb_rr8" "$t" "$c"
            sql "DROP REPOSITORY rgw_small"
            run_deferred
        fi
    done
    # Nothing was deleted from the bucket on the way (RGW's garbage collector would have run
    # during the next measurements); `ceph-rgw down` removes the whole store.
    if [[ " ${parts[*]} " != *" throttle "* ]]; then
        sql "DROP REPOSITORY rgw_big"
        rgw_big_ready=0
        rgw_down
    fi
}

# ---- part: throttle -------------------------------------------------------------------------------
# Restores of the big set from RGW, cancelled after throttle_seconds. The rate is the bytes the
# server's TCP connections to RGW received (ss's bytes_received, every 0.1 s): the throttle
# paces ranged GETs of ~50 ms of the limit each, so that counter moves in small steps, where
# BytesDone moves a whole 16 MiB part at a time (its windows are printed too, for comparison).
throttle_run() {  # name limit-MB/s (job limit) | name 50 change-to-MB/s (global limits)
    local name="$1" mbps="$2" to="${3:-}" db="bigdb_t${1//-/_}" samples="${logs}/throttle-$1.samples" opts=() props=""
    drop_db "${db}"
    if [[ -n "${to}" ]]; then
        global_limit "$(kbps "${mbps}")"
        opts=(--change-at "${change_after}" --change-sql "ADMIN SET FRONTEND CONFIG (\"max_download_speed_kbps\" = \"$(kbps "${to}")\")")
        say "[throttle] global limit ${mbps} MB/s ($(kbps "${mbps}") KB/s), ${to} MB/s from ${change_after} s on; ${throttle_seconds} s"
    else
        props=" PROPERTIES (\"max_download_speed_kbps\" = \"$(kbps "${mbps}")\")"
        say "[throttle] job limit ${mbps} MB/s ($(kbps "${mbps}") KB/s), global limit off; ${throttle_seconds} s"
    fi
    drop_caches
    tv_restore "throttle-${name}" "${db}" r1 "RESTORE SNAPSHOT r1 FROM rgw_big DATABASE bigdb AS ${db}${props}" "${set_bytes[big]}" \
        --samples "${samples}" --counter "ss:${rgw_port}" --stop-after "${throttle_seconds}" "${opts[@]}" || true
    global_limit 0
    drop_db "${db}"
    [[ -s "${samples}" ]] || return 0
    local stop_at changed out
    stop_at="$(sed -n 's/^cancelled by the bench at //p' "${logs}/throttle-${name}.err")"
    if [[ -z "${to}" ]]; then
        out="$(/usr/bin/python3 "${root}/bench/rate-windows.py" "${samples}" "$(calc "$(kbps "${mbps}") * 1024" 0)" ${stop_at:+--stop-at "${stop_at}"})"
        say "[throttle] ${mbps} MB/s: ${out}"
        local worst rate windows bd
        worst="$(sed -n 's/.* worst=\([-+0-9.]*\).*/\1/p' <<< "${out}")"
        rate="$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<< "${out}")"
        windows="$(sed -n 's/.*\bwindows=\([0-9]*\).*/\1/p' <<< "${out}")"
        bd="$(sed -n 's/.* bd_worst=\([-+0-9.]*\).*/\1/p' <<< "${out}")"
        if [[ -n "${worst}" ]]; then
            record throttle "job limit ${mbps} MB/s: worst 10-s window vs the limit (${windows} windows)" "${worst}%" "${mbps} MB/s" \
                "run $(calc "${rate} / 1e6" 2) MB/s; BytesDone's worst ${bd:-?}%" "within +-2%" "$(within "${worst#+}" 2)"
        else
            record throttle "job limit ${mbps} MB/s: worst 10-s window" "none" "${mbps} MB/s" "run too short" "within +-2%" MISSED
        fi
    else
        changed="$(sed -n 's/^changed at //p' "${logs}/throttle-${name}.err")"
        [[ -n "${changed}" ]] || { say "[throttle] the limit was not changed (the job ended first)"; return 0; }
        out="$(/usr/bin/python3 "${root}/bench/rate-windows.py" "${samples}" "$(calc "$(kbps "${mbps}") * 1024" 0)" \
            ${stop_at:+--stop-at "${stop_at}"} --change-at "${changed}" --new-limit "$(calc "$(kbps "${to}") * 1024" 0)")"
        say "[throttle] ${mbps} -> ${to} MB/s: ${out}"
        local applied before after first
        applied="$(sed -n 's/.* applied=\([0-9.]*\).*/\1/p' <<< "${out}")"
        before="$(sed -n 's/.* before=\([-+0-9.]*\).*/\1/p' <<< "${out}")"
        after="$(sed -n 's/.* after=\([-+0-9.]*\).*/\1/p' <<< "${out}")"
        first="$(sed -n 's/.* first_1s=\([-+0-9.]*\).*/\1/p' <<< "${out}")"
        record throttle "global ${mbps} -> ${to} MB/s at ${change_after} s: new rate (1-s window within 2%) from" "${applied:-never} s" \
            "first 1-s window ${first:-?}%" "10-s windows: before ${before:-?}%, after ${after:-?}%" "print it" "-"
    fi
}
part_throttle() {
    rgw_start || return 0
    rgw_repo big || return 0
    throttle_run 10 10
    throttle_run 50 50
    throttle_run change 50 100
    sql "DROP REPOSITORY rgw_big"
    rgw_big_ready=0
    rgw_down
}

# ---- part: wan ------------------------------------------------------------------------------------
# wan-link joins netns wan-a (10.77.0.1) and wan-b (10.77.0.2) through a TUN pair that delays
# every packet, shaped to 100 Mbit/s each way. The server runs in wan-a; Ceph RGW in wan-b.
# ceph-rgw binds its monitor, OSD and RGW to 127.0.0.1 (the ceph.conf it writes says so), which in
# wan-b is wan-b's own loopback: bench/tcp-forward.py, also in wan-b, accepts on 10.77.0.2:7480
# and connects to 127.0.0.1:7480, so every byte still crosses the link.
link_bytes() {  # rx tx of wan-a's link device
    echo "$(ip netns exec wan-a cat /sys/class/net/tdA/statistics/rx_bytes) $(ip netns exec wan-a cat /sys/class/net/tdA/statistics/tx_bytes)"
}
phase_s() {  # states from -> seconds from the first sighting of FROM to that of the next state seen
    local a b
    a="$(grep -o "$2 at [0-9.]*" <<< "$1" | head -1 | awk '{ print $3 }')" || true
    b="$(sed -n "s/.*$2 at [0-9.]* s, [A-Z_]* at \([0-9.]*\) s.*/\1/p" <<< "$1")" || true
    if [[ -n "$a" && -n "$b" ]]; then calc "$b - $a" 3; fi
    return 0
}
# One BACKUP then RESTORE of wandb across the link; records both rates vs the link's.
wan_round() {  # label note curl-up curl-down
    local label="$1" note="$2" cup="$3" cdown="$4" link_mbs l0 l1 bytes up down wire phase
    link_mbs="$(calc "${wan_mbit} / 8" 3)"
    # A repository of its own: a second BACKUP into the same one would reuse every file.
    sql "CREATE REPOSITORY wan_${label} WITH BROKER ON LOCATION \"s3://bench/tv-wan-${label}\" PROPERTIES (${rgw_props})"
    l0="$(link_bytes)"
    drop_caches
    if ! tv_job "wan-backup-${label}" BACKUP wandb "${label}" "BACKUP DATABASE wandb SNAPSHOT ${label} TO wan_${label}"; then
        sql "DROP REPOSITORY wan_${label}"
        return 0
    fi
    bytes="${job_bytes}"
    l1="$(link_bytes)"
    wire="$(( $(field "${l1}" 2) - $(field "${l0}" 2) ))"
    up="$(calc "${bytes} / 1e6 / ${job_s}" 2)"  # two decimals: at 12 MB/s one is 0.8 % of the link
    phase="$(phase_s "${job_states}" UPLOADING)"
    say "[wan] BACKUP${note} ${up} MB/s (${bytes} bytes in ${job_s} s; uploading ${phase:-?} s:" \
        "$( [[ -n "${phase}" ]] && mbs "${bytes}" "${phase}") MB/s; the link carried $(calc "${wire} / 1e6" 1) MB out); server CPU ${job_cpu} s"
    record wan "BACKUP${note} of $(calc "${bytes} / ${MiB}" 0) MiB to RGW across the link, MB/s" "${up}" \
        "link ${link_mbs}${cup:+ (curl ${cup})}" \
        "$(calc "${up} / ${link_mbs} * 100" 1)%$( [[ -n "${wan_tcp}" ]] && echo " ($(calc "${up} / ${wan_tcp} * 100" 1)% of plain TCP)")$( [[ -n "${phase}" ]] && echo "; uploading $(calc "${bytes} / 1e6 / ${phase} / ${link_mbs} * 100" 1)%, link busy $(calc "${wire} / 1e6 / ${phase} / ${link_mbs} * 100" 1)%")" \
        ">= 95%" "$(verdict "${up} / ${link_mbs}" '>=' 0.95)"
    drop_caches
    l0="$(link_bytes)"
    if tv_restore "wan-restore-${label}" "wandb_r" "${label}" "RESTORE SNAPSHOT ${label} FROM wan_${label} DATABASE wandb AS wandb_r" "${bytes}"; then
        l1="$(link_bytes)"
        wire="$(( $(field "${l1}" 1) - $(field "${l0}" 1) ))"
        down="$(calc "${bytes} / 1e6 / ${job_s}" 2)"
        phase="$(phase_s "${job_states}" DOWNLOADING)"
        say "[wan] RESTORE${note} ${down} MB/s (${job_s} s; downloading ${phase:-?} s:" \
            "$( [[ -n "${phase}" ]] && mbs "${bytes}" "${phase}") MB/s; the link carried $(calc "${wire} / 1e6" 1) MB in); server CPU ${job_cpu} s"
        record wan "RESTORE${note} of the same across the link, MB/s" "${down}" "link ${link_mbs}${cdown:+ (curl ${cdown})}" \
            "$(calc "${down} / ${link_mbs} * 100" 1)%$( [[ -n "${wan_tcp}" ]] && echo " ($(calc "${down} / ${wan_tcp} * 100" 1)% of plain TCP)")$( [[ -n "${phase}" ]] && echo "; downloading $(calc "${bytes} / 1e6 / ${phase} / ${link_mbs} * 100" 1)%, link busy $(calc "${wire} / 1e6 / ${phase} / ${link_mbs} * 100" 1)%")" \
            ">= 95%" "$(verdict "${down} / ${link_mbs}" '>=' 0.95)"
    fi
    drop_db wandb_r
    sql "DROP REPOSITORY wan_${label}"
}
part_wan() {
    if ip netns list | grep -qE '^wan-(a|b)\b'; then
        say "[wan] network namespace wan-a or wan-b exists already (someone else's wan-link?): not touching it"
        failures=$((failures + 1))
        return 0
    fi
    "${wan_link}" up wan "${wan_mbit}" "${wan_rtt}" > "${logs}/wan-up.log" 2>&1 ||
        { say "wan-link up failed: $(cat "${logs}/wan-up.log")"; failures=$((failures + 1)); "${wan_link}" down wan > /dev/null 2>&1; return 0; }
    wan_up=1
    say "[wan] $(tail -1 "${logs}/wan-up.log")"
    local link_mbs
    link_mbs="$(calc "${wan_mbit} / 8" 3)"
    if ! rgw_up "${dir}/rgw-wan" wan-b; then
        "${wan_link}" down wan > /dev/null 2>&1; wan_up=0
        return 0
    fi
    ip netns exec wan-b /usr/bin/python3 "${root}/bench/tcp-forward.py" 10.77.0.2 7480 127.0.0.1 7480 > "${logs}/wan-forward.log" 2>&1 &
    forward_pid=$!
    local endpoint="http://10.77.0.2:7480"
    for _ in $(seq 50); do
        ip netns exec wan-a curl -s -o /dev/null "${endpoint}/" && break
        sleep 0.1
    done
    rgw_set_endpoint "${endpoint}"
    ip netns exec wan-a "${s3env[@]}" rclone mkdir dst:bench > "${logs}/wan-mkdir.log" 2>&1 ||
        { say "[wan] could not create the bucket through the link: $(tail -2 "${logs}/wan-mkdir.log")"; failures=$((failures + 1)); }
    # One TCP stream's ceiling on this link: curl PUT and GET of 64 MiB (SigV4, unsigned payload).
    head -c $((64 * MiB)) /dev/urandom > "${tmp}/curl-64m"
    local cup="" cdown="" curl_s3=(curl -sf -o /dev/null --aws-sigv4 "aws:amz:${rgw_region}:s3" --user "${rgw_access_key}:${rgw_secret_key}"
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    cup="$(ip netns exec wan-a "${curl_s3[@]}" -w '%{speed_upload}' -T "${tmp}/curl-64m" "${endpoint}/bench/curl-64m")" &&
        cdown="$(ip netns exec wan-a "${curl_s3[@]}" -w '%{speed_download}' "${endpoint}/bench/curl-64m")" &&
        cup="$(calc "${cup} / 1e6" 2)" cdown="$(calc "${cdown} / 1e6" 2)" &&
        say "[wan] curl, one stream of 64 MiB: up ${cup} MB/s, down ${cdown} MB/s (link ${link_mbs} MB/s)"
    rm -f "${tmp}/curl-64m"
    # What plain TCP carries across this link as data: bulk streams, no requests, 25 s measured
    # after 5 s of warm-up. TCP/IP headers take 52 of each 1,500-byte packet, and the emulated
    # link is not kept entirely busy even so: this is the ceiling any transfer over it can reach.
    ip netns exec wan-b /usr/bin/python3 "${root}/bench/tcp-ceiling.py" sink 10.77.0.2 7481 > "${logs}/wan-sink.log" 2>&1 &
    local sink_pid=$! streams got
    sleep 0.5
    local cc default_cc
    default_cc="the kernel's default, $(cat /proc/sys/net/ipv4/tcp_congestion_control)"
    for cc in "" cubic; do
        for streams in 2 8; do
            if got="$(ip netns exec wan-a /usr/bin/python3 "${root}/bench/tcp-ceiling.py" send 10.77.0.2 7481 "${streams}" 30 5 ${cc})"; then
                say "[wan] plain TCP, ${streams} streams, ${cc:-${default_cc}}: ${got} MB/s of data ($(calc "${got} / ${link_mbs} * 100" 1)% of the link)"
                record wan "plain TCP's data rate across the link, ${streams} streams${cc:+, ${cc}} (the ceiling), MB/s" "${got}" \
                    "link ${link_mbs}" "$(calc "${got} / ${link_mbs} * 100" 1)%" "-" "-"
                [[ ${streams} != 2 || -n "${cc}" ]] || wan_tcp="${got}"
            fi
        done
    done
    kill "${sink_pid}" 2> /dev/null || true
    wait "${sink_pid}" 2> /dev/null || true
    # The server in wan-a; a 1 GiB database (16 x 64 MiB segments) loaded there.
    server_stop
    server_ns=wan-a
    server_start --set write_buffer_size=1073741824
    global_limit 0
    drop_db wandb
    load_table wandb 16 1 "${wan_rows}"
    fresh_server
    wan_round w1 "" "${cup}" "${cdown}"
    # Again with CUBIC for this side's connections (tcp_congestion_control; the kernel's default
    # here is BBR): BACKUP's data is sent by the server, RESTORE's by RGW, whose kernel decides.
    fresh_server --set tcp_congestion_control=cubic
    wan_round w2 " with tcp_congestion_control=cubic" "" ""
    drop_db wandb
    server_stop
    server_ns=""
    kill "${forward_pid}" 2> /dev/null || true
    wait "${forward_pid}" 2> /dev/null || true
    forward_pid=""
    rgw_down
    "${wan_link}" down wan > /dev/null 2>&1 || true
    wan_up=0
    fresh_server
}

# ---- part: rss ------------------------------------------------------------------------------------
# A database of rss_inserts x 1 GiB (16 buckets, 64 MiB segments) is loaded, backed up to a
# local repository and dropped; a fresh server then restores it while its VmHWM is watched.
part_rss() {
    local want=$((rss_inserts * big_rows * 128)) avail
    avail="$(df -B1 --output=avail "${dir}" | tail -1)"
    if ((avail < want * 2 + 4 * 1024 * MiB)); then
        say "[rss] needs $(calc "(${want} * 2 + 4 * 1024 * ${MiB}) / 1024 / ${MiB}" 1) GiB free on ${dir}, has $(calc "${avail} / 1024 / ${MiB}" 1) GiB: skipped"
        failures=$((failures + 1))
        return 0
    fi
    server_stop
    server_start --set write_buffer_size=1073741824
    drop_db rssdb
    load_table rssdb "${big_buckets}" "${rss_inserts}" "${big_rows}"
    fresh_server
    rm -rf "${dir:?}/tv-repo-rss"
    sql "CREATE REPOSITORY rss WITH BROKER ON LOCATION \"${dir}/tv-repo-rss\""
    if backup_set rss-backup rssdb s1 rss; then
        local bytes="${job_bytes}"
        drop_db rssdb
        fresh_server
        drop_caches
        if tv_restore rss-restore rssdb_r s1 "RESTORE SNAPSHOT s1 FROM rss DATABASE rssdb AS rssdb_r" "${bytes}"; then
            say "[rss] RESTORE of $(calc "${bytes} / 1024 / ${MiB}" 2) GiB (${job_files} files): ${rs_mbs} MB/s, peak RSS ${job_rss} MiB, server CPU ${job_cpu} s"
            record rss "peak RSS, RESTORE of $(calc "${bytes} / 1024 / ${MiB}" 1) GiB from a local repository, MiB" "${job_rss}" "256 + 64" \
                "${rs_mbs} MB/s" "<= 320" "$(verdict "${job_rss}" '<=' 320)"
        fi
        drop_db rssdb_r
    fi
    drop_db rssdb
    sql "DROP REPOSITORY rss"
    rm -rf "${dir:?}/tv-repo-rss"
}

# ---- run ----------------------------------------------------------------------------------------
say "parts: load ${parts[*]:-}; dir ${dir}; data ${data_dir}; binary ${tv_bin}; SHOW RESTORE every ${poll_ms} ms$( ((quick)) && echo '; QUICK sizes')"
print_machine
start_all="$(now)"
run_parts load ${parts[@]+"${parts[@]}"}
server_stop

print_results "Restore benchmark: figures next to their targets (MB = 10^6 bytes)"
say "done in $(calc "$(now) - ${start_all}" 0) s; logs in ${logs}"
if ((failures > 0)); then
    say "${failures} run(s) failed"
    exit 1
fi
