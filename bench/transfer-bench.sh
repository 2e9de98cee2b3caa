#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Transfer benchmark (issue 6): the transfer pipeline, through `tabletvault bench-path`, side by
# side with cp, fio, rclone and the AWS CLI on the same files and the same sink. Parts:
#   local     8 x 512 MiB and 20,000 x 64 KiB to a local repository directory: tabletvault vs
#             cp -r (+ sync), with fio's O_DIRECT read of the same files as the disk's limit
#   sink      the same files uploaded to an nginx that answers S3 and discards the bodies
#             (bench/nginx-s3-sink.conf): tabletvault vs rclone vs the AWS CLI
#   rgw       the same uploads to Ceph RGW, with the server's CPU time per run
#   throttle  uploads (to the sink) and downloads (from a local repository) at 10, 50 and
#             200 MB/s limits: per-second rates and the worst 10-second window, plus a limit
#             change halfway through
#   wan       1 GiB of mixed file sizes up and down over an emulated 100 Mbit/s, 50 ms RTT link
#             (bench/wan-link) to an nginx WebDAV store (bench/nginx-dav-store.conf)
#   memory    peak RSS of bench-path for 1 GiB and 16 GiB (and the small-file set) at defaults
# Figures are printed, with each target and MET/MISSED; a missed target is not an error. A run
# that fails is (exit 1, after the other runs). See bench/README.md, section "Transfers".
#
# Usage: bench/transfer-bench.sh [--bin PATH] [--dir DIR] [--quick] [PART...|all]
#   --bin PATH   the tabletvault binary (default: build build-bench/ in Release and use it)
#   --dir DIR    where the file sets and scratch space live (default bench/out/transfer); must
#                be a real disk; needs ~6 GiB kept plus up to ~34 GiB while `memory` runs
#   --quick      small sets and short runs (checks the script in ~3 minutes; figures mean less)
# Needs root: dropping the page cache, network namespaces, apt-get for missing tools.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_dir="${root}/bench"
dir="${root}/bench/out/transfer"
tv_bin=""
quick=0
parts=()
all_parts=(local sink rgw throttle wan memory)

usage() { sed -n '3,24p' "$0"; }
die() {
    echo "transfer-bench: $*" >&2
    exit 1
}
say() { echo "transfer-bench: $*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin) [[ $# -ge 2 ]] || die "--bin needs a path"; tv_bin="$2"; shift 2 ;;
        --dir) [[ $# -ge 2 ]] || die "--dir needs a path"; dir="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        -h | --help) usage; exit 0 ;;
        all) parts+=("${all_parts[@]}"); shift ;;
        local | sink | rgw | throttle | wan | memory) parts+=("$1"); shift ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ ${#parts[@]} -gt 0 ]] || { usage >&2; die "name at least one part (or all)"; }
[[ "$(id -u)" -eq 0 ]] || die "run as root (page cache drops, network namespaces, apt-get)"
dir="$(realpath -m "${dir}")"

# ---- sizes ----------------------------------------------------------------------------------------
MiB=1048576
big_n=8 big_size=$((512 * MiB))
small_n=20000 small_size=$((64 * 1024))
throttle_seconds=32 change_after=15
wan_sets=("64 $((8 * MiB))" "256 ${MiB}" "4096 $((64 * 1024))")  # count size: 1 GiB in all
memory_sizes=($((1024 * MiB)) $((16384 * MiB)))
if ((quick)); then
    big_size=$((32 * MiB)) small_n=2000
    throttle_seconds=13 change_after=6
    wan_sets=("8 $((8 * MiB))" "32 ${MiB}" "512 $((64 * 1024))")
    memory_sizes=($((256 * MiB)) $((2048 * MiB)))
fi

# ---- tools --------------------------------------------------------------------------------------
install_missing() {
    local need=() pkg cmd
    for pair in nginx:nginx fio:fio rclone:rclone aws:awscli ip:iproute2 tc:iproute2 cc:gcc curl:curl \
        python3:python3 flock:util-linux column:bsdextrautils pgrep:procps; do
        cmd="${pair%%:*}" pkg="${pair#*:}"
        command -v "${cmd}" > /dev/null 2>&1 || need+=("${pkg}")
    done
    [[ -x /usr/bin/time ]] || need+=(time)
    [[ ${#need[@]} -eq 0 ]] && return
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    say "installing ${need[*]}"
    # Debian starts a freshly installed nginx on port 80; we start our own, so keep it stopped.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e "${policy}" ]]; then
        printf '#!/bin/sh\nexit 101\n' > "${policy}" && chmod +x "${policy}" && made_policy=1
    fi
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; }; } \
        > /dev/null || { ((made_policy)) && rm -f "${policy}"; die "could not install ${need[*]}"; }
    ((made_policy)) && rm -f "${policy}"
    return 0
}
install_missing

if [[ -z "${tv_bin}" ]]; then
    build="${root}/build-bench"
    if [[ ! -f "${build}/build.ninja" ]]; then
        cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTV_BUILD_BENCH=ON > /dev/null ||
            die "cmake configure failed"
    fi
    say "building ${build}/tabletvault (Release)"
    ninja -C "${build}" tabletvault > /dev/null || die "building tabletvault failed"
    tv_bin="${build}/tabletvault"
fi
tv_bin="$(realpath "${tv_bin}")"
[[ -x "${tv_bin}" ]] || die "${tv_bin} is not executable"
"${tv_bin}" --help | grep -q -- '--keep-files' || die "${tv_bin} has no bench-path --keep-files; rebuild it"

# One benchmark at a time on this machine (the same lock as load-bench.sh).
exec 9> /tmp/tabletvault-bench.lock
flock -n 9 || { say "another benchmark holds /tmp/tabletvault-bench.lock; waiting"; flock 9; }

mkdir -p "${dir}"
case "$(findmnt -no FSTYPE --target "${dir}" 2> /dev/null || stat -f -c %T "${dir}")" in
    tmpfs | ramfs) die "${dir} is in memory; the benchmark needs a real disk" ;;
esac
logs="${dir}/logs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "${logs}"
tmp="$(mktemp -d /tmp/tv-transfer-bench.XXXXXX)"

# ---- cleanup: everything started here stops, whatever happens -------------------------------------
sink_pid="" sink_body="" dav_pid="" rgw_dir="" wan_up=0
stop_nginx() {  # pid file
    local pidfile="$1" pid
    [[ -s "${pidfile}" ]] || return 0
    pid="$(cat "${pidfile}")"
    kill -QUIT "${pid}" 2> /dev/null || return 0
    for _ in $(seq 50); do kill -0 "${pid}" 2> /dev/null || return 0; sleep 0.1; done
    kill -KILL "${pid}" 2> /dev/null || true
}
cleanup() {
    set +e
    [[ -n "${sink_pid}" ]] && stop_nginx "${tmp}/sink/nginx.pid"
    [[ -n "${dav_pid}" ]] && stop_nginx "${dir}/wan-dav/nginx.pid"
    [[ -n "${rgw_dir}" ]] && "${root}/tests/support/ceph-rgw" down "${rgw_dir}" > /dev/null 2>&1
    ((wan_up)) && "${bench_dir}/wan-link" down wan > /dev/null 2>&1
    [[ -n "${sink_body}" ]] && rm -rf "${sink_body}"
    rm -rf "${tmp}" "${dir}/cp-dst" "${dir}/repo" "${dir}/wan-dav" "${dir}/mem-repo" "${dir}/throttle-repo"
    rm -rf "${dir}"/*/down
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ------------------------------------------------------------------------------------
# shellcheck source=bench/bench-lib.sh
source "${root}/bench/bench-lib.sh"
hz="$(getconf CLK_TCK)"

within() {  # value bound -> MET when -bound <= value <= bound
    if awk "BEGIN { exit !($1 >= -$2 && $1 <= $2) }"; then echo MET; else echo MISSED; fi
}

# Runs bench-path with the given arguments; NAME names the log. Sets tv_up / tv_down to
# "seconds MB/s files/s" (empty when that direction did not run or failed) and tv_cpu to the
# process's user+system seconds, tv_rss to its peak RSS in KiB.
# tv_prefix: a command the binary runs under (the wan part runs it in the client namespace).
tv_up="" tv_down="" tv_cpu="" tv_rss="" tv_prefix=()
tv_run() {
    local name="$1" log="${logs}/$1.log" rc=0
    shift
    /usr/bin/time -f '%e %U %S %M' -o "${log}.time" "${tv_prefix[@]}" "${tv_bin}" bench-path "$@" > "${log}" 2>&1 || rc=$?
    grep -v ' INFO ' "${log}" | grep -v '^bench-path: ' | sed 's/^/    /' || true
    tv_up="$(sed -n 's/^upload: .* in \([0-9.]*\) s: \([0-9.]*\) MB\/s .*, \([0-9.]*\) files\/s$/\1 \2 \3/p' "${log}")"
    tv_down="$(sed -n 's/^download: .* in \([0-9.]*\) s: \([0-9.]*\) MB\/s .*, \([0-9.]*\) files\/s$/\1 \2 \3/p' "${log}")"
    read -r _ u s tv_rss < <(tail -1 "${log}.time")
    tv_cpu="$(calc "$u + $s" 1)"
    if ((rc != 0)) || grep -q FAILED "${log}"; then
        say "bench-path ${name} failed (exit ${rc}); see ${log}"
        failures=$((failures + 1))
        return 1
    fi
}

# Times a command; sets run_s (wall seconds) and run_cpu (user+system seconds).
run_s="" run_cpu=""
timed() {
    local name="$1" log="${logs}/$1.log" rc=0 start
    shift
    start="$(now)"
    /usr/bin/time -f '%U %S' -o "${log}.time" "$@" > "${log}" 2>&1 || rc=$?
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

# ---- file sets --------------------------------------------------------------------------------
# DIR/SET/src/f000000...: the names bench-path --work-dir DIR/SET --keep-files on reuses.
# Contents: one random MiB, stamped with the file and MiB number (incompressible, never equal).
make_set() {  # set count size
    local set="$1" n="$2" size="$3" src="${dir}/$1/src"
    if [[ -f "${src}/.complete" && "$(cat "${src}/.complete")" == "${n} ${size}" ]]; then
        return
    fi
    say "creating ${n} files of ${size} bytes in ${src}"
    rm -rf "${src}"
    mkdir -p "${src}"
    python3 - "${src}" "${n}" "${size}" << 'EOF'
import os, random, struct, sys
src, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = bytearray(random.Random(6).randbytes(1 << 20))
for f in range(n):
    with open(f"{src}/f{f:06d}", "wb") as out:
        done = 0
        while done < size:
            chunk = min(len(block), size - done)
            block[0:16] = struct.pack("<QQ", f, done)
            out.write(memoryview(block)[:chunk])
            done += chunk
EOF
    echo "${n} ${size}" > "${src}/.complete"
}
# A set of COUNT files that are hard links to the big set's files, round robin: more data
# without more disk (every read still goes to the disk: bench-path reads with O_DIRECT).
link_set() {  # set count
    local src="${dir}/$1/src" i
    if [[ -f "${src}/.complete" && "$(cat "${src}/.complete")" == "$2 ${big_size}" ]]; then
        return
    fi
    rm -rf "${src}"
    mkdir -p "${src}"
    for ((i = 0; i < $2; i++)); do
        ln "${dir}/big/src/$(printf 'f%06d' $((i % big_n)))" "${src}/$(printf 'f%06d' "$i")"
    done
    echo "$2 ${big_size}" > "${src}/.complete"
}
sets_ready=0
ensure_sets() {
    ((sets_ready)) && return
    make_set big "${big_n}" "${big_size}"
    make_set small "${small_n}" "${small_size}"
    sets_ready=1
}
# Eight files in flight, as rclone gets (--transfers 8) and near the AWS CLI's ten requests; the
# default (one per core, two here) leaves small files waiting on per-file fsync and round trips.
tv_concurrency=8
set_args() {  # set -> bench-path arguments for it
    case "$1" in
        big) echo "--files ${big_n} --size ${big_size} --work-dir ${dir}/big --keep-files on --concurrency ${tv_concurrency}" ;;
        small) echo "--files ${small_n} --size ${small_size} --work-dir ${dir}/small --keep-files on --concurrency ${tv_concurrency}" ;;
    esac
}
set_bytes() { case "$1" in big) echo $((big_n * big_size)) ;; small) echo $((small_n * small_size)) ;; esac; }
set_count() { case "$1" in big) echo "${big_n}" ;; small) echo "${small_n}" ;; esac; }
set_label() { case "$1" in big) echo "${big_n} x $((big_size / MiB)) MiB" ;; small) echo "${small_n} x $((small_size / 1024)) KiB" ;; esac; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the S3 sink ------------------------------------------------------------------------------
sink_port=""
sink_up() {
    [[ -n "${sink_pid}" ]] && return
    local run="${tmp}/sink"
    # Bodies over client_body_buffer_size would go to temp files: keep those in memory too.
    local body_dir=/dev/shm
    [[ -d /dev/shm && -w /dev/shm ]] || body_dir="${run}"
    mkdir -p "${run}/empty"
    sink_body="$(mktemp -d "${body_dir}/tv-sink-body.XXXXXX")"
    chown nobody: "${sink_body}"  # nginx's workers run as nobody
    ln -s "${sink_body}" "${run}/body"
    sink_port="$(free_port)"
    sed -e "s|@RUN@|${run}|g" -e "s|@PORT@|${sink_port}|g" "${bench_dir}/nginx-s3-sink.conf" > "${run}/nginx.conf"
    # glibc hands blocks up to 32 MiB out of its heap and keeps freed heap memory, so nginx's
    # per-request body buffers are reused rather than mapped and faulted in for every part.
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184 \
        nginx -p "${run}" -c "${run}/nginx.conf" || die "the nginx sink did not start: $(cat "${run}/error.log" 2> /dev/null)"
    sink_pid="$(cat "${run}/nginx.pid")"
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:${sink_port}/bench?list-type=2" && break
        sleep 0.1
    done
    say "nginx S3 sink on 127.0.0.1:${sink_port} (pid ${sink_pid})"
}
sink_ticks() {  # CPU ticks of the sink's master and workers
    local t=0 p
    for p in "${sink_pid}" $(pgrep -P "${sink_pid}" || true); do t=$((t + $(cpu_ticks "$p"))); done
    echo "$t"
}
s3_props() {  # endpoint access secret region -> bench-path --property arguments
    echo "--property aws.s3.endpoint=$1 --property aws.s3.access_key=$2 --property aws.s3.secret_key=$3" \
        "--property aws.s3.region=$4 --property aws.s3.enable_path_style_access=true" \
        "--property aws.s3.payload_signing=unsigned"
}
# rclone and the AWS CLI, configured through the environment only (a private config dir).
rclone_env() {  # endpoint access secret region
    echo "RCLONE_CONFIG=${tmp}/rclone.conf RCLONE_CONFIG_DST_TYPE=s3 RCLONE_CONFIG_DST_PROVIDER=Other" \
        "RCLONE_CONFIG_DST_ENDPOINT=$1 RCLONE_CONFIG_DST_ACCESS_KEY_ID=$2 RCLONE_CONFIG_DST_SECRET_ACCESS_KEY=$3" \
        "RCLONE_CONFIG_DST_REGION=$4"
}
aws_env() {
    echo "AWS_CONFIG_FILE=${tmp}/aws-config AWS_SHARED_CREDENTIALS_FILE=${tmp}/aws-credentials" \
        "AWS_ACCESS_KEY_ID=$2 AWS_SECRET_ACCESS_KEY=$3 AWS_DEFAULT_REGION=$4"
}

# Uploads a set with the three clients to ENDPOINT/bucket; prints a line per client; sets
# up_tv / up_rclone / up_aws to "MB/s files/s". server_ticks_fn: a function printing the
# server's CPU ticks (sink or RGW), reported per run.
up_tv="" up_rclone="" up_aws=""
three_clients() {  # part set endpoint access secret region bucket server_ticks_fn
    local part="$1" set="$2" endpoint="$3" access="$4" secret="$5" region="$6" bucket="$7" ticks_fn="$8"
    local bytes count before after mbps fps started
    bytes="$(set_bytes "${set}")" count="$(set_count "${set}")"
    up_tv="" up_rclone="" up_aws=""
    # tabletvault. The server's CPU is counted over the whole process, which also deletes what
    # it uploaded after the measured transfer: the window's wall time is printed beside it.
    drop_caches
    before="$(${ticks_fn})" started="$(now)"
    # shellcheck disable=SC2046
    if tv_run "${part}-${set}-tabletvault" --location "s3://${bucket}/tabletvault" $(s3_props "${endpoint}" "${access}" "${secret}" "${region}") \
        --direction up $(set_args "${set}"); then
        after="$(${ticks_fn})"
        up_tv="$(field "${tv_up}" 2) $(field "${tv_up}" 3)"
        say "[${part}] $(set_label "${set}") tabletvault $(field "${tv_up}" 2) MB/s, $(field "${tv_up}" 3) files/s;" \
            "client CPU ${tv_cpu} s; server CPU $(calc "(${after} - ${before}) / ${hz}" 1) s in $(calc "$(now) - ${started}" 1) s" \
            "(transfer $(field "${tv_up}" 1) s, then deleting the objects)"
    fi
    # rclone: --s3-no-head because a sink cannot answer the HEAD rclone makes after each upload
    # (it would report the object missing); used against RGW too, so both runs are alike. It
    # only saves rclone work, so it errs in rclone's favour.
    drop_caches
    before="$(${ticks_fn})"
    # shellcheck disable=SC2046
    if timed "${part}-${set}-rclone" env -u AWS_CA_BUNDLE $(rclone_env "${endpoint}" "${access}" "${secret}" "${region}") \
        rclone copy --transfers 8 --s3-no-head "${dir}/${set}/src" "dst:${bucket}/rclone-$$-${set}" --exclude .complete; then
        after="$(${ticks_fn})"
        mbps="$(calc "${bytes} / 1e6 / ${run_s}" 1)" fps="$(calc "${count} / ${run_s}" 1)"
        up_rclone="${mbps} ${fps}"
        say "[${part}] $(set_label "${set}") rclone      ${mbps} MB/s, ${fps} files/s;" \
            "client CPU ${run_cpu} s, server CPU $(calc "(${after} - ${before}) / ${hz}" 1) s in ${run_s} s"
    fi
    # AWS CLI (defaults: 10 requests in flight, 8 MiB parts)
    drop_caches
    before="$(${ticks_fn})"
    # shellcheck disable=SC2046
    if timed "${part}-${set}-aws" env -u AWS_CA_BUNDLE $(aws_env "${endpoint}" "${access}" "${secret}" "${region}") \
        aws --endpoint-url "${endpoint}" s3 cp --recursive --only-show-errors --exclude .complete \
        "${dir}/${set}/src" "s3://${bucket}/aws-$$-${set}"; then
        after="$(${ticks_fn})"
        mbps="$(calc "${bytes} / 1e6 / ${run_s}" 1)" fps="$(calc "${count} / ${run_s}" 1)"
        up_aws="${mbps} ${fps}"
        say "[${part}] $(set_label "${set}") AWS CLI     ${mbps} MB/s, ${fps} files/s;" \
            "client CPU ${run_cpu} s, server CPU $(calc "(${after} - ${before}) / ${hz}" 1) s in ${run_s} s"
    fi
}
ratio_rows() {  # part set: records tabletvault against rclone and the AWS CLI
    local part="$1" set="$2" label t r a
    label="$(set_label "${set}")"
    t="$(field "${up_tv}" 1)" r="$(field "${up_rclone}" 1)" a="$(field "${up_aws}" 1)"
    local rt="" at=""
    [[ "${part}" == sink ]] && rt=">= 3x" at=">= 5x"
    if [[ -n "$t" && -n "$r" ]]; then
        local x
        x="$(calc "$t / $r")"
        record "${part}" "${label}: tabletvault vs rclone, MB/s" "$t" "$r" "${x}x" "${rt:--}" \
            "$([[ -n "${rt}" ]] && verdict "$x" '>=' 3 || echo '-')"
        if [[ "${set}" == small ]]; then
            local tf rf
            tf="$(field "${up_tv}" 2)" rf="$(field "${up_rclone}" 2)"
            x="$(calc "${tf} / ${rf}")"
            record "${part}" "${label}: tabletvault vs rclone, files/s" "${tf}" "${rf}" "${x}x" \
                "$([[ -n "${rt}" ]] && echo '>= 5x' || echo -)" "$([[ -n "${rt}" ]] && verdict "$x" '>=' 5 || echo '-')"
        fi
    fi
    if [[ -n "$t" && -n "$a" ]]; then
        local x
        x="$(calc "$t / $a")"
        record "${part}" "${label}: tabletvault vs AWS CLI, MB/s" "$t" "$a" "${x}x" "${at:--}" \
            "$([[ -n "${at}" ]] && verdict "$x" '>=' 5 || echo '-')"
    fi
}

# ---- part: local ----------------------------------------------------------------------------------
fio_read() {  # set -> MB/s of an O_DIRECT io_uring read of the set's files
    local set="$1"
    local json="${logs}/local-${set}-fio.json" bs=$MiB args=()
    if [[ "${set}" == big ]]; then
        local files=() i
        for ((i = 0; i < big_n; i++)); do files+=("${dir}/big/src/$(printf 'f%06d' "$i")"); done
        args=(--filename="$(IFS=:; echo "${files[*]}")")
    else
        # A 64 KiB file is one 64 KiB read; fio takes the directory (the command line could
        # not hold 20,000 names) and opens 64 files at a time, one after the other.
        bs="${small_size}"
        args=(--opendir="${dir}/small/src" --openfiles=64)
    fi
    drop_caches
    fio --name=read --ioengine=io_uring --rw=read --bs="${bs}" --iodepth=8 --direct=1 \
        --file_service_type=sequential "${args[@]}" --output-format=json --output="${json}" > /dev/null ||
        { say "fio failed; see ${json}"; failures=$((failures + 1)); return 1; }
    python3 - "${json}" "$(set_bytes "${set}")" << 'EOF'
import json, sys
text = open(sys.argv[1]).read()
job = json.loads(text[text.index("{"):])["jobs"][0]
read = job["read"]
# .complete (a few bytes) is in the directory too for the small set
if abs(read["io_bytes"] - int(sys.argv[2])) > 4096:
    sys.exit(f"transfer-bench: fio read {read['io_bytes']} bytes, expected {sys.argv[2]}")
print(f"{read['bw_bytes'] / 1e6:.1f}")
EOF
}
# The same disk reading the big set and writing as much at once (fio, O_DIRECT, 1 MiB, depth 8
# each): what a copy from this disk to itself can reach, in MB/s of data copied.
fio_copy() {
    local json="${logs}/local-big-fio-copy.json" files=() i
    for ((i = 0; i < big_n; i++)); do files+=("${dir}/big/src/$(printf 'f%06d' "$i")"); done
    drop_caches
    fio --ioengine=io_uring --bs=1M --iodepth=8 --direct=1 --output-format=json --output="${json}" \
        --name=read --rw=read --file_service_type=sequential --filename="$(IFS=:; echo "${files[*]}")" \
        --name=write --rw=write --size="$(set_bytes big)" --filename="${dir}/fio-copy-target" > /dev/null ||
        { say "fio copy failed; see ${json}"; rm -f "${dir}/fio-copy-target"; failures=$((failures + 1)); return 1; }
    rm -f "${dir}/fio-copy-target"
    python3 - "${json}" "$(set_bytes big)" << 'EOF2'
import json, sys
text = open(sys.argv[1]).read()
jobs = json.loads(text[text.index("{"):])["jobs"]
slowest_ms = max(jobs[0]["read"]["runtime"], jobs[1]["write"]["runtime"])
print(f"{int(sys.argv[2]) / 1e6 / (slowest_ms / 1000):.1f}")
EOF2
}
part_local() {
    ensure_sets
    local set
    for set in big small; do
        local label bytes t c f
        label="$(set_label "${set}")" bytes="$(set_bytes "${set}")"
        say "[local] ${label}"
        drop_caches
        # shellcheck disable=SC2046
        tv_run "local-${set}-tabletvault" --location "${dir}/repo" --direction up $(set_args "${set}") &&
            t="$(field "${tv_up}" 2)" || t=""
        # cp -r, then sync: tabletvault fsyncs every file it writes, so cp's data must be on
        # the disk too before its clock stops.
        rm -rf "${dir}/cp-dst"
        drop_caches
        timed "local-${set}-cp" bash -c "cp -r '${dir}/${set}/src' '${dir}/cp-dst' && sync" &&
            c="$(calc "${bytes} / 1e6 / ${run_s}" 1)" || c=""
        rm -rf "${dir}/cp-dst"
        sync
        f="$(fio_read "${set}")" || f=""
        say "[local] ${label}: tabletvault ${t:-failed} MB/s, cp -r ${c:-failed} MB/s, fio read ${f:-failed} MB/s"
        if [[ "${set}" == big ]]; then
            local fc
            fc="$(fio_copy)" || fc=""
            say "[local] ${label}: fio reading and writing at once: ${fc:-failed} MB/s copied"
            if [[ -n "$t" && -n "${fc}" ]]; then
                record local "${label}: tabletvault vs fio read+write at once, MB/s" "$t" "${fc}" \
                    "$(calc "$t / ${fc}")x" "-" "-"
            fi
        fi
        if [[ -n "$t" && -n "$f" ]]; then
            local x
            x="$(calc "$t / $f")"
            record local "${label}: tabletvault copy vs fio read, MB/s" "$t" "$f" "${x}x" ">= 0.9x" "$(verdict "$x" '>=' 0.9)"
        fi
        if [[ -n "$t" && -n "$c" ]]; then
            local x
            x="$(calc "$t / $c")"
            record local "${label}: tabletvault vs cp -r, MB/s" "$t" "$c" "${x}x" ">= 2x" "$(verdict "$x" '>=' 2)"
        fi
    done
}

# ---- part: sink -----------------------------------------------------------------------------------
part_sink() {
    ensure_sets
    sink_up
    local set
    for set in big small; do
        three_clients sink "${set}" "http://127.0.0.1:${sink_port}" bench bench us-east-1 bench sink_ticks
        ratio_rows sink "${set}"
    done
}

# ---- part: rgw ------------------------------------------------------------------------------------
rgw_ticks() {  # CPU ticks of radosgw + ceph-osd (+ ceph-mon), from the pids ceph-rgw recorded
    local t=0 name pid _
    while read -r name pid _; do t=$((t + $(cpu_ticks "${pid}"))); done < "${rgw_dir}/pids"
    echo "$t"
}
part_rgw() {
    ensure_sets
    rgw_dir="${dir}/rgw"
    local port
    port="$(free_port)"
    say "[rgw] starting Ceph RGW in ${rgw_dir} (port ${port})"
    "${root}/tests/support/ceph-rgw" down "${rgw_dir}" > /dev/null 2>&1 || true
    "${root}/tests/support/ceph-rgw" up "${rgw_dir}" "${port}" > "${logs}/rgw-up.log" 2>&1 ||
        { say "ceph-rgw up failed: $(tail -3 "${logs}/rgw-up.log")"; failures=$((failures + 1)); return; }
    local endpoint access_key secret_key region
    # shellcheck disable=SC1091
    source "${rgw_dir}/env"
    # shellcheck disable=SC2154
    endpoint="${endpoint}" access_key="${access_key}" secret_key="${secret_key}" region="${region:-us-east-1}"
    # shellcheck disable=SC2046
    env -u AWS_CA_BUNDLE $(aws_env "${endpoint}" "${access_key}" "${secret_key}" "${region}") \
        aws --endpoint-url "${endpoint}" s3 mb s3://bench > /dev/null || die "could not create the RGW bucket"
    # The server's own ceiling for one stream: curl PUT of one big file (signed by curl).
    local curl_put
    drop_caches
    curl_put="$(curl -sf -o /dev/null -w '%{speed_upload}' --aws-sigv4 "aws:amz:${region}:s3" \
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --user "${access_key}:${secret_key}" -T "${dir}/big/src/f000000" "${endpoint}/bench/curl-f000000")" &&
        curl_put="$(calc "${curl_put} / 1e6" 1)" || curl_put=""
    say "[rgw] curl PUT of one $((big_size / MiB)) MiB file: ${curl_put:-failed} MB/s"
    local set
    for set in big small; do
        three_clients rgw "${set}" "${endpoint}" "${access_key}" "${secret_key}" "${region}" bench rgw_ticks
        ratio_rows rgw "${set}"
        if [[ "${set}" == big && -n "${up_tv}" && -n "${curl_put}" ]]; then
            local t x
            t="$(field "${up_tv}" 1)" x="$(calc "$(field "${up_tv}" 1) / ${curl_put}")"
            record rgw "$(set_label big): tabletvault vs one curl PUT, MB/s" "$t" "${curl_put}" "${x}x" "-" "-"
        fi
    done
    "${root}/tests/support/ceph-rgw" down "${rgw_dir}" > /dev/null 2>&1 || true
    rgw_dir=""
}

# ---- part: throttle -------------------------------------------------------------------------------
throttle_run() {  # name way(up|down) mbps files [change-to-mbps]
    local name="$1" way="$2" mbps="$3" n="$4" to="${5:-}" kbps location extra=()
    kbps="$(calc "${mbps} * 1000000 / 1024" 0)"
    if [[ -n "${to}" ]]; then extra=(--change-limit "${change_after}:$(calc "${to} * 1000000 / 1024" 0)"); fi
    link_set throttle "${n}"
    if [[ "${way}" == up ]]; then
        # shellcheck disable=SC2207
        location=(--location s3://bench/throttle $(s3_props "http://127.0.0.1:${sink_port}" bench bench us-east-1))
    else
        location=(--location "${dir}/throttle-repo")
    fi
    say "[throttle] ${way} at ${mbps} MB/s (--limit-kbps ${kbps})${to:+, changed to ${to} MB/s after ${change_after} s}: ${n} x $((big_size / MiB)) MiB"
    drop_caches
    tv_run "throttle-${name}" "${location[@]}" --direction "${way}" --limit-kbps "${kbps}" --windows on \
        --files "${n}" --size "${big_size}" --work-dir "${dir}/throttle" --keep-files on "${extra[@]}" || return 0
    local log="${logs}/throttle-${name}.log" worst achieved
    worst="$(sed -n 's/^  worst 10-second window: \([-+0-9.]*\)% of the limit$/\1/p' "${log}")"
    if [[ "${way}" == up ]]; then achieved="$(field "${tv_up}" 2)"; else achieved="$(field "${tv_down}" 2)"; fi
    if [[ -z "${to}" ]]; then
        if [[ -n "${worst}" ]]; then
            record throttle "${way} at ${mbps} MB/s: worst 10-s window vs the limit" "${worst}%" "${mbps} MB/s" \
                "whole run ${achieved} MB/s" "within +-2%" "$(within "${worst#+}" 2)"
        else
            record throttle "${way} at ${mbps} MB/s: worst 10-s window" "none" "" "run too short" "within +-2%" MISSED
        fi
    else
        local shown
        shown="$(sed -n 's/.*showed in window [0-9]* (\([0-9.]*\) s later)$/\1/p' "${log}")"
        record throttle "${way} ${mbps} -> ${to} MB/s after ${change_after} s: new rate showed" "${shown:-never} s" "" \
            "worst 10-s ${worst:-?}%" "print it" "-"
    fi
}
part_throttle() {
    ensure_sets
    sink_up
    rm -rf "${dir}/throttle-repo"
    local mbps n way
    for way in up down; do
        for mbps in 10 50 200; do
            n="$(awk -v x="$(calc "${mbps} * 1000000 * ${throttle_seconds} / ${big_size}" 6)" 'BEGIN { n = int(x); if (n < x) n++; if (n < 1) n = 1; print n }')"
            throttle_run "${way}-${mbps}" "${way}" "${mbps}" "${n}"
        done
        # 50 MB/s, then 100 MB/s from change_after on: enough data for as long again.
        n="$(awk -v x="$(calc "(50 + 100) * 1000000 * ${change_after} / ${big_size}" 6)" 'BEGIN { n = int(x); if (n < x) n++; print n }')"
        throttle_run "${way}-change" "${way}" 50 "${n}" 100
    done
    rm -rf "${dir}/throttle-repo"
}

# ---- part: wan ------------------------------------------------------------------------------------
part_wan() {
    local rate=100 rtt=50 port=8080 run="${dir}/wan-dav"
    local link_mbs
    link_mbs="$(calc "${rate} * 1000000 / 8 / 1000000" 3)"
    "${bench_dir}/wan-link" down wan > /dev/null 2>&1 || true
    "${bench_dir}/wan-link" up wan "${rate}" "${rtt}" > "${logs}/wan-up.log" 2>&1 ||
        { say "wan-link up failed: $(cat "${logs}/wan-up.log")"; failures=$((failures + 1)); return; }
    wan_up=1
    say "[wan] $(cat "${logs}/wan-up.log")"
    rm -rf "${run}"
    mkdir -p "${run}/store/.tmp"
    # nginx started by root runs its workers as nobody: they write the store.
    chown -R nobody: "${run}/store"
    sed -e "s|@RUN@|${run}|g" -e "s|@PORT@|${port}|g" -e "s|@ADDR@|10.77.0.2|g" "${bench_dir}/nginx-dav-store.conf" \
        > "${run}/nginx.conf"
    ip netns exec wan-b nginx -p "${run}" -c "${run}/nginx.conf" || die "nginx did not start in wan-b"
    dav_pid="$(cat "${run}/nginx.pid")"
    local endpoint="http://10.77.0.2:${port}"
    for _ in $(seq 50); do
        ip netns exec wan-a curl -s -o /dev/null "${endpoint}/wan" && break
        sleep 0.1
    done
    # The link's practical ceiling for one TCP stream: curl PUT and GET of 64 MiB.
    head -c $((64 * MiB)) /dev/urandom > "${tmp}/curl-64m"
    local cup cdown
    cup="$(ip netns exec wan-a curl -sf -o /dev/null -w '%{speed_upload}' -T "${tmp}/curl-64m" "${endpoint}/ref/curl-64m")" ||
        die "curl could not PUT to the WAN store: $(tail -2 "${run}/error.log")"
    cdown="$(ip netns exec wan-a curl -sf -o /dev/null -w '%{speed_download}' "${endpoint}/ref/curl-64m")" ||
        die "curl could not GET from the WAN store: $(tail -2 "${run}/error.log")"
    cup="$(calc "${cup} / 1e6" 2)" cdown="$(calc "${cdown} / 1e6" 2)"
    rm -rf "${run}/store/ref"
    say "[wan] curl, one stream of 64 MiB: up ${cup} MB/s, down ${cdown} MB/s (link ${link_mbs} MB/s)"
    # tabletvault: each size its own bench-path run (one size per run), both directions; the
    # totals are bytes over the summed transfer times. More files in flight than the default
    # (one per core): a request waits a round trip for its answer, so small files need many
    # in flight to keep 100 Mbit/s busy at 50 ms.
    local wan_concurrency="${TV_WAN_CONCURRENCY:-32}"
    local up_b=0 up_s=0 down_b=0 down_s=0 entry n size
    for entry in "${wan_sets[@]}"; do
        read -r n size <<< "${entry}"
        say "[wan] ${n} x ${size} bytes"
        # shellcheck disable=SC2046
        tv_prefix=(ip netns exec wan-a)
        # shellcheck disable=SC2046
        tv_run "wan-${size}" --location "s3://wan/store" $(s3_props "${endpoint}" bench bench us-east-1) \
            --direction both --concurrency "${wan_concurrency}" --files "${n}" --size "${size}" --work-dir "${dir}/wan-${size}" \
            --keep-files on || true
        tv_prefix=()
        rm -rf "${run}/store/wan"
        [[ -n "${tv_up}" && -n "${tv_down}" ]] || continue
        up_b=$((up_b + n * size)) down_b=$((down_b + n * size))
        up_s="$(calc "${up_s} + $(field "${tv_up}" 1)" 3)" down_s="$(calc "${down_s} + $(field "${tv_down}" 1)" 3)"
    done
    if ((up_b > 0)); then
        local up down
        up="$(calc "${up_b} / 1e6 / ${up_s}" 2)" down="$(calc "${down_b} / 1e6 / ${down_s}" 2)"
        say "[wan] tabletvault, $((up_b / MiB)) MiB of mixed files: up ${up} MB/s, down ${down} MB/s"
        record wan "up, $((up_b / MiB)) MiB mixed: MB/s vs link rate" "${up}" "${link_mbs} (curl ${cup})" \
            "$(calc "${up} / ${link_mbs} * 100" 1)%" ">= 95%" "$(verdict "${up} / ${link_mbs}" '>=' 0.95)"
        record wan "down, $((down_b / MiB)) MiB mixed: MB/s vs link rate" "${down}" "${link_mbs} (curl ${cdown})" \
            "$(calc "${down} / ${link_mbs} * 100" 1)%" ">= 95%" "$(verdict "${down} / ${link_mbs}" '>=' 0.95)"
    fi
    stop_nginx "${run}/nginx.pid"
    dav_pid=""
    rm -rf "${run}"
    "${bench_dir}/wan-link" down wan > /dev/null 2>&1 || true
    wan_up=0
}

# ---- part: memory ---------------------------------------------------------------------------------
part_memory() {
    ensure_sets
    local bytes first_rss="" first_label=""
    for bytes in "${memory_sizes[@]}"; do
        local n=$((bytes / big_size)) way=both avail
        ((n >= 1)) || n=1
        avail=$(($(df --output=avail -B1 "${dir}" | tail -n 1)))
        # Both directions keep a copy in the repository and one downloaded: 2x the data.
        if ((avail < 2 * n * big_size + 2 * 1024 * MiB)); then
            way=up
            say "[memory] only $((avail / MiB)) MiB free in ${dir}: uploads only for $((n * big_size / MiB)) MiB"
        fi
        link_set "mem-${n}" "${n}"
        say "[memory] $((n * big_size / MiB)) MiB (${n} x $((big_size / MiB)) MiB), direction ${way}, default settings"
        tv_run "memory-${n}" --location "${dir}/mem-repo" --direction "${way}" --files "${n}" --size "${big_size}" \
            --work-dir "${dir}/mem-${n}" --keep-files on || continue
        rm -rf "${dir}/mem-${n}"
        local rss=$((tv_rss / 1024))
        say "[memory] peak RSS ${rss} MiB (up $(field "${tv_up}" 2) MB/s${tv_down:+, down $(field "${tv_down}" 2) MB/s})"
        record memory "$((n * big_size / MiB)) MiB in ${n} files (${way}): peak RSS, MiB" "${rss}" \
            "budget 256 + overhead" "$(calc "${rss} / 256" 2)x budget" "flat, <= 256 + 64" "$(verdict "${rss}" '<=' 320)"
        if [[ -z "${first_rss}" ]]; then
            first_rss="${rss}" first_label="$((n * big_size / MiB)) MiB"
        else
            record memory "$((n * big_size / MiB)) MiB vs ${first_label}: peak RSS" "${rss}" "${first_rss}" \
                "$(calc "${rss} / ${first_rss}")x" "flat (<= 1.1x)" "$(verdict "${rss} / ${first_rss}" '<=' 1.1)"
        fi
    done
    # The small-file set: the same budget whatever the file count.
    say "[memory] small-file set $(set_label small), direction both"
    if tv_run "memory-small" --location "${dir}/mem-repo" --direction both --files "${small_n}" \
        --size "${small_size}" --work-dir "${dir}/small" --keep-files on; then
        local rss=$((tv_rss / 1024))
        say "[memory] peak RSS ${rss} MiB"
        record memory "$(set_label small) (both): peak RSS, MiB" "${rss}" "budget 256 + overhead" \
            "$(calc "${rss} / 256" 2)x budget" "flat, <= 256 + 64" "$(verdict "${rss}" '<=' 320)"
    fi
    rm -rf "${dir}/mem-repo"
}

# ---- run ----------------------------------------------------------------------------------------
say "parts: ${parts[*]}; dir ${dir}; binary ${tv_bin}$( ((quick)) && echo '; QUICK sizes')"
say "$(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r);" \
    "nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(rclone version 2> /dev/null | head -1), $(aws --version 2>&1 | cut -d' ' -f1), $(fio --version)"
load="$(cut -d' ' -f1 /proc/loadavg)"
say "load average ${load} at start; logs in ${logs}"
if awk "BEGIN { exit !(${load} > 1.5) }"; then
    say "warning: the machine is busy (load ${load}); other work disturbs the figures"
fi
start_all="$(now)"
for part in "${parts[@]}"; do
    part_start="$(now)"
    "part_${part}"
    say "part ${part} took $(calc "$(now) - ${part_start}" 0) s"
done

echo
echo "Transfer benchmark: figures next to their targets (MB = 10^6 bytes)"
{
    echo "part|what|ours|reference|ratio|target|verdict"
    printf '%s\n' "${results[@]}"
} | column -t -s '|'
say "done in $(calc "$(now) - ${start_all}" 0) s; logs in ${logs}"
if ((failures > 0)); then
    say "${failures} run(s) failed"
    exit 1
fi
