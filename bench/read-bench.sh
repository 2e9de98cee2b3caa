#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Read benchmark: tv_read_bench (our io_uring runtime) against fio's io_uring engine, same files,
# same block size and depth, cold page cache for every run; best and median of --runs runs each.
# Rows: O_DIRECT against fio with its default buffers, O_DIRECT against fio with huge-page
# buffers (--mem=shmhuge; our pool is on huge pages, see io/buffer_pool.cc, and on a device with
# a segment limit that is worth a lot), and buffered. Target: ours >= 95% of the faster of the
# two fio O_DIRECT figures. A missed target is reported, not an error (exit 0); a run that reads
# the wrong number of bytes, or fails, is an error (exit 1). See bench/README.md for what the
# figures mean and why the buffered pair follows an untimed warm-up read.
#
# Usage: bench/read-bench.sh [--files N] [--size BYTES] [--block BYTES] [--depth D] [--dir DIR]
#                            [--runs R]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
files=8
size=$((512 * 1024 * 1024))
block=$((1024 * 1024))
depth=8
dir="${root}/bench/out/read"
runs=3
target=0.95
build_dir="${root}/build-bench"
bench_bin="${build_dir}/bench/tv_read_bench"

usage() {
    cat << EOF
Usage: bench/read-bench.sh [--files N] [--size BYTES] [--block BYTES] [--depth D] [--dir DIR] [--runs R]
Defaults: --files 8 --size 536870912 --block 1048576 --depth 8 --dir ${root}/bench/out/read --runs 3
EOF
}

die() {
    echo "read-bench: $*" >&2
    exit 1
}

is_uint() {
    [[ "$1" =~ ^[0-9]+$ ]]
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --files | --size | --block | --depth | --dir | --runs)
            [[ $# -ge 2 ]] || die "$1 needs a value"
            case "$1" in
                --files) files="$2" ;;
                --size) size="$2" ;;
                --block) block="$2" ;;
                --depth) depth="$2" ;;
                --dir) dir="$2" ;;
                --runs) runs="$2" ;;
            esac
            shift 2
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument '$1'"
            ;;
    esac
done

for name in files size block depth runs; do
    if ! is_uint "${!name}" || [[ "${!name}" -eq 0 ]]; then
        die "--${name} must be a positive integer (bytes, no suffix)"
    fi
done
((block % 4096 == 0)) || die "--block must be a multiple of 4096 (O_DIRECT)"
# fio reads whole blocks only: a tail shorter than a block would be skipped and the byte counts
# would not match.
((size % block == 0)) || die "--size must be a multiple of --block so that fio reads every byte"
dir="$(realpath -m "${dir}")"

as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    else
        sudo "$@"
    fi
}

# One benchmark at a time, machine-wide: two would share the disk, and the hugetlb reservation
# below is system-wide too.
lock=/tmp/tabletvault-read-bench.lock
: >> "${lock}" 2> /dev/null || true # may belong to another user: then we only read it
exec 9< "${lock}" || die "cannot open ${lock}"
flock -n 9 || die "another read-bench.sh is running on this machine; wait for it to finish"

# ---- fio ----------------------------------------------------------------------------------------
if ! command -v fio > /dev/null 2>&1; then
    echo "read-bench: installing fio"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y fio ||
        { as_root apt-get update && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y fio; } ||
        die "could not install fio"
fi
command -v python3 > /dev/null 2>&1 || die "python3 is needed to read fio's JSON output"

# ---- build (ninja does nothing when up to date) --------------------------------------------------
if [[ ! -f "${build_dir}/build.ninja" ]]; then
    cmake -S "${root}" -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTV_BUILD_TESTS=OFF > /dev/null ||
        die "cmake configure failed"
fi
ninja -C "${build_dir}" tv_read_bench > /dev/null || die "building tv_read_bench failed"

# ---- files --------------------------------------------------------------------------------------
mkdir -p "${dir}"
fs_type="$(findmnt -no FSTYPE --target "${dir}" 2> /dev/null || stat -f -c %T "${dir}")"
case "${fs_type}" in
    tmpfs | ramfs) die "${dir} is on ${fs_type}; the benchmark must read a real disk" ;;
esac

file_list=()
have_files=1
for ((i = 0; i < files; i++)); do
    f="${dir}/file_${i}"
    file_list+=("${f}")
    if [[ ! -f "${f}" || "$(stat -c %s "${f}")" -ne "${size}" ]]; then
        have_files=0
    fi
done
if [[ "${have_files}" -eq 0 ]]; then
    need=$((files * size))
    avail=$(($(df --output=avail -B1 "${dir}" | tail -n 1)))
    ((avail > need + 1024 * 1024 * 1024)) || die "not enough space in ${dir}: need ${need} bytes, have ${avail}"
    echo "read-bench: creating ${files} files of ${size} bytes in ${dir}"
    "${bench_bin}" --dir "${dir}" --files "${files}" --size "${size}" --create > /dev/null
fi
fio_files="$(IFS=:; echo "${file_list[*]}")"
[[ "${fio_files}" != *::* ]] || die "fio cannot take file names containing ':'"

drop_caches() {
    sync
    if ! echo 3 | as_root tee /proc/sys/vm/drop_caches > /dev/null 2>&1; then
        echo "read-bench: warning: could not drop the page cache; figures may be warm" >&2
    fi
}

expected=$((files * size))
tmp="$(mktemp -d)"
old_nr_hugepages=""  # set while we hold extra hugetlb pages for fio; restored on exit
cleanup() {
    if [[ -n "${old_nr_hugepages}" ]]; then
        echo "${old_nr_hugepages}" | as_root tee /proc/sys/vm/nr_hugepages > /dev/null ||
            echo "read-bench: warning: could not restore vm.nr_hugepages to ${old_nr_hugepages}" >&2
    fi
    rm -rf "${tmp}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- huge pages for fio's buffers ------------------------------------------------------------------
# fio --mem=shmhuge takes its buffers from the hugetlb pool (vm.nr_hugepages), which is usually
# empty. It needs depth*block rounded up to huge pages plus a little (measured: 6 pages of 2MiB
# for 8 x 1MiB); we reserve 4 pages of slack and give everything back on exit.

meminfo() {  # the number after "$1:" in /proc/meminfo, or nothing
    local key value _
    while read -r key value _; do
        if [[ "${key}" == "$1:" ]]; then
            echo "${value}"
            return
        fi
    done < /proc/meminfo
}

hugepages_in_use() {  # hugetlb pages faulted in by someone, system-wide
    echo $(($(meminfo HugePages_Total) - $(meminfo HugePages_Free)))
}

# Sets huge_skip to why fio cannot have huge-page buffers here, or leaves it empty.
huge_skip=""
huge_page_kib="$(meminfo Hugepagesize)"
reserve_hugepages() {
    if [[ -z "${huge_page_kib}" || ! -e /proc/sys/vm/nr_hugepages ]]; then
        huge_skip="this kernel has no hugetlb pages"
        return
    fi
    if [[ "$(id -u)" -ne 0 ]] && ! sudo -n true 2> /dev/null; then
        huge_skip="raising vm.nr_hugepages, and fio's SHM_HUGETLB, need root"
        return
    fi
    local huge=$((huge_page_kib * 1024))
    local need=$(((depth * block + huge - 1) / huge + 4))
    local free
    free="$(meminfo HugePages_Free)"
    if ((free >= need)); then
        return
    fi
    local old
    old="$(cat /proc/sys/vm/nr_hugepages)"
    old_nr_hugepages="${old}"
    local attempt
    for attempt in plain compacted; do
        if [[ "${attempt}" == compacted ]]; then
            # Free memory is usually fragmented into pieces smaller than a huge page: let the
            # kernel move pages around, then ask again.
            echo 1 | as_root tee /proc/sys/vm/compact_memory > /dev/null 2>&1 || true
        fi
        echo $((old + need - free)) | as_root tee /proc/sys/vm/nr_hugepages > /dev/null 2>&1 || true
        if (($(meminfo HugePages_Free) >= need)); then
            return
        fi
    done
    huge_skip="the kernel reserved only $(meminfo HugePages_Free) of the ${need} huge pages of ${huge_page_kib}KiB that fio needs (memory fragmented or short?)"
    echo "${old}" | as_root tee /proc/sys/vm/nr_hugepages > /dev/null || true
    old_nr_hugepages=""
}

# Untimed: reads every file through the page cache once and drops it again. On a VM that hands
# free memory back to the host (virtio-balloon free page reporting, as on the machine in
# bench/README.md), the first buffered read after a pause spends its time faulting guest memory
# back in, not reading: it came out at a third to a half of the one right after it, whoever ran
# it. Warming up before each buffered pair takes that bias off whoever goes first.
warm_up_page_cache_memory() {
    drop_caches
    cat "${file_list[@]}" > /dev/null
}

# Prints our MB/s; checks the byte count. Extra arguments go to tv_read_bench. Writes how many of
# the pool's bytes were on huge pages to ${tmp}/pool_huge ("unknown" if tv_read_bench cannot tell).
run_ours() {
    local direct="$1" out
    shift
    out="$("${bench_bin}" --dir "${dir}" --files "${files}" --size "${size}" --block "${block}" \
        --depth "${depth}" --direct "${direct}" --drop-cache --verbose "$@")" || die "tv_read_bench failed"
    local line
    line="$(grep '^tabletvault read:' <<< "${out}")" || die "tv_read_bench printed no result: ${out}"
    [[ "${line}" == *" bytes=${expected} "* ]] || die "tv_read_bench read the wrong amount: ${line}"
    local pool
    pool="$(grep '^tabletvault pool:' <<< "${out}")" || true
    if [[ "${pool}" =~ bytes=([0-9]+)\ huge_page_bytes=([0-9]+) ]]; then
        echo "${BASH_REMATCH[2]} ${BASH_REMATCH[1]}" > "${tmp}/pool_huge"
    else
        echo "unknown" > "${tmp}/pool_huge"
    fi
    sed -n 's/.* MB\/s=\([0-9.]*\).*/\1/p' <<< "${line}"
}

# Samples hugepages_in_use every 0.1 s; on SIGTERM writes the peak to $1 and stops.
watch_hugepages() {
    local out="$1" peak=0 now
    trap 'echo "${peak}" > "${out}"; exit 0' TERM
    while true; do
        now="$(hugepages_in_use)"
        if ((now > peak)); then
            peak="${now}"
        fi
        sleep 0.1
    done
}

# Prints fio's MB/s; checks that fio read every file fully once (read.io_bytes == files * size).
# Buffers: "default" (fio's malloc, i.e. small pages unless THP is "always") or "huge"
# (--mem=shmhuge); for "huge" it also checks that fio's buffers really sat on hugetlb pages and
# writes how many it used to ${tmp}/fio_huge.
run_fio() {
    local direct="$1" buffers="$2" json="${tmp}/fio.json" mem_args=() watcher="" before=0
    if [[ "${buffers}" == huge ]]; then
        mem_args=(--mem=shmhuge --hugepage-size=$((huge_page_kib * 1024)))
    fi
    drop_caches
    if [[ "${buffers}" == huge ]]; then
        before="$(hugepages_in_use)"
        watch_hugepages "${tmp}/fio_peak" > /dev/null &
        watcher=$!
    fi
    local rc=0
    fio --name=read --ioengine=io_uring --rw=read --bs="${block}" --iodepth="${depth}" --direct="${direct}" \
        --filename="${fio_files}" --file_service_type=sequential "${mem_args[@]}" \
        --output-format=json --output="${json}" > /dev/null || rc=$?
    if [[ -n "${watcher}" ]]; then
        kill "${watcher}"
        wait "${watcher}" || true
    fi
    ((rc == 0)) || die "fio failed (see ${json})"
    if [[ -n "${watcher}" ]]; then
        local used=$(($(cat "${tmp}/fio_peak") - before))
        ((used > 0)) || die "fio --mem=shmhuge ran without a single hugetlb page in use"
        echo "${used}" > "${tmp}/fio_huge"
    fi
    python3 - "${json}" "${expected}" << 'EOF'
import json, sys
path, expected = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    text = f.read()
doc = json.loads(text[text.index("{"):])  # fio may print notes before the JSON
job = doc["jobs"][0]
if job.get("error", 0):
    sys.exit(f"read-bench: fio job error {job['error']}")
read = job["read"]
if read["io_bytes"] != expected:
    sys.exit(f"read-bench: fio read {read['io_bytes']} bytes, expected {expected}")
print(f"{read['bw_bytes'] / 1e6:.1f}")
EOF
}

# ---- header ---------------------------------------------------------------------------------------
echo "read-bench: files=${files} size=${size} block=${block} depth=${depth} dir=${dir} (${fs_type})"
echo "read-bench: fio $(fio --version | sed 's/^fio-//'), kernel $(uname -r), $(nproc) CPUs," \
    "THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2> /dev/null || echo unknown);" \
    "page cache dropped before every run, an untimed warm-up read before each buffered pair"
# The device under ${dir}: its segment limit is what makes small-page buffers cost requests.
device="$(findmnt -no SOURCE --target "${dir}" 2> /dev/null || true)"
device="${device##*/}"
if [[ -n "${device}" && -e "/sys/class/block/${device}/partition" ]]; then
    device="$(basename "$(readlink -f "/sys/class/block/${device}/..")")"
fi
if [[ -n "${device}" && -r "/sys/block/${device}/queue/max_segments" ]]; then
    echo "read-bench: device ${device}: max_segments $(cat "/sys/block/${device}/queue/max_segments")," \
        "max_sectors_kb $(cat "/sys/block/${device}/queue/max_sectors_kb")," \
        "scheduler $(sed 's/.*\[\(.*\)\].*/\1/' "/sys/block/${device}/queue/scheduler")"
fi
load="$(cut -d' ' -f1 /proc/loadavg)"
echo "read-bench: load average ${load} at start"
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 1.5 else 1)' "${load}"; then
    echo "read-bench: warning: the machine is busy (load ${load}); other work will disturb the figures" >&2
fi

reserve_hugepages
if [[ -z "${huge_skip}" ]]; then
    # fio has no fallback from --mem=shmhuge (it fails when shmget does), so a short run tells
    # whether it works here at all.
    if ! fio --name=check --ioengine=io_uring --rw=read --bs="${block}" --iodepth="${depth}" --direct=1 \
        --filename="${file_list[0]}" --size=$((block * depth * 2)) \
        --mem=shmhuge --hugepage-size=$((huge_page_kib * 1024)) --output=/dev/null > "${tmp}/check.txt" 2>&1; then
        huge_skip="fio --mem=shmhuge fails here: $(grep -m1 -i 'error\|fio:' "${tmp}/check.txt" || tail -n 1 "${tmp}/check.txt")"
    fi
fi
if [[ -n "${huge_skip}" ]]; then
    echo "read-bench: skipping the row against fio on huge-page buffers: ${huge_skip}" >&2
else
    if [[ -n "${old_nr_hugepages}" ]]; then
        reserved="raised vm.nr_hugepages from ${old_nr_hugepages} to $(cat /proc/sys/vm/nr_hugepages) until exit"
    else
        reserved="vm.nr_hugepages $(cat /proc/sys/vm/nr_hugepages), enough free already"
    fi
    echo "read-bench: fio's huge-page buffers: --mem=shmhuge (${reserved})"
fi

# ---- runs ------------------------------------------------------------------------------------------
# Every figure goes to results as "mode side MB/s"; the summary below takes best and median.
results="${tmp}/results"
: > "${results}"
pool_small_runs=0
pool_unknown_runs=0
for ((run = 1; run <= runs; run++)); do
    # Alternate who goes first, so that neither side always meets the device (and the host behind
    # it) in the state the other one left.
    if ((run % 2 == 1)); then
        order=(ours fio fio_huge)
    else
        order=(fio_huge fio ours)
    fi
    for mode in direct buffered; do
        direct=$([[ "${mode}" == direct ]] && echo 1 || echo 0)
        if [[ "${mode}" == buffered ]]; then
            warm_up_page_cache_memory
        fi
        declare -A got=()
        for side in "${order[@]}"; do
            case "${side}" in
                ours) got[ours]="$(run_ours "${direct}")" ;;
                fio) got[fio]="$(run_fio "${direct}" default)" ;;
                fio_huge)
                    [[ "${mode}" == direct && -z "${huge_skip}" ]] || continue
                    got[fio_huge]="$(run_fio "${direct}" huge)"
                    ;;
            esac
        done
        echo "${mode} ours ${got[ours]}" >> "${results}"
        echo "${mode} fio ${got[fio]}" >> "${results}"
        line="$(printf 'read-bench: run %d/%d %-8s  tabletvault %7s MB/s  fio %7s MB/s' \
            "${run}" "${runs}" "${mode}" "${got[ours]}" "${got[fio]}")"
        if [[ -n "${got[fio_huge]:-}" ]]; then
            echo "${mode} fio_huge ${got[fio_huge]}" >> "${results}"
            line+="$(printf '  fio huge-page buffers %7s MB/s (%s hugetlb pages in use)' \
                "${got[fio_huge]}" "$(cat "${tmp}/fio_huge")")"
        fi
        echo "${line}"
        if [[ "${mode}" == direct ]]; then
            read -r pool_huge pool_bytes < "${tmp}/pool_huge" || true
            if [[ "${pool_huge}" == unknown ]]; then
                pool_unknown_runs=$((pool_unknown_runs + 1))
            elif ((pool_huge < pool_bytes)); then
                pool_small_runs=$((pool_small_runs + 1))
                echo "read-bench: warning: only ${pool_huge} of tabletvault's ${pool_bytes} pool bytes were on" \
                    "huge pages in this run" >&2
            fi
        fi
        unset got
    done
done
if ((pool_unknown_runs > 0)); then
    echo "read-bench: warning: could not tell whether tabletvault's pool was on huge pages in" \
        "${pool_unknown_runs} of ${runs} O_DIRECT runs" >&2
elif ((pool_small_runs == 0)); then
    echo "read-bench: tabletvault's buffer pool was entirely on huge pages in every O_DIRECT run"
fi

# ---- summary ---------------------------------------------------------------------------------------
echo
python3 - "${results}" "${runs}" "${target}" "${block}" "${depth}" "${files}" "${size}" "${huge_skip}" << 'EOF'
import statistics, sys
path, runs, target, block, depth, files, size, huge_skip = sys.argv[1:]
runs, target = int(runs), float(target)
figures = {}
with open(path) as f:
    for line in f:
        mode, side, value = line.split()
        figures.setdefault((mode, side), []).append(float(value))

def best(key): return max(figures[key])
def median(key): return statistics.median(figures[key])

rows = [("direct, fio default buffers", "direct", "fio"),
        ("direct, fio huge-page buffers", "direct", "fio_huge"),
        ("buffered", "buffered", "fio")]
print(f"Best and median of {runs} runs (MB/s, MB = 10^6 bytes; block={block} depth={depth} files={files}x{size}):")
print(f"{'':31} {'-------------- best --------------':34}  {'------------- median -------------':34}")
print(f"{'mode':31} {'tabletvault':>12} {'fio':>12} {'ratio':>8}  {'tabletvault':>12} {'fio':>12} {'ratio':>8}")
for label, mode, side in rows:
    if (mode, side) not in figures:
        print(f"{label:31} skipped: {huge_skip or 'no figures'}")
        continue
    ours, theirs = (mode, "ours"), (mode, side)
    print(f"{label:31} {best(ours):12.1f} {best(theirs):12.1f} {best(ours) / best(theirs):8.3f}"
          f"  {median(ours):12.1f} {median(theirs):12.1f} {median(ours) / median(theirs):8.3f}")

# The target is judged on best-of-N against the faster fio O_DIRECT figure: fio on huge-page
# buffers is the like-for-like comparison (our pool is on huge pages), fio's default the usual one.
candidates = {side: best(("direct", side)) for side in ("fio", "fio_huge") if ("direct", side) in figures}
side = max(candidates, key=candidates.get)
name = {"fio": "default buffers", "fio_huge": "huge-page buffers"}[side]
ratio = best(("direct", "ours")) / candidates[side]
verdict = "MET" if round(ratio, 3) >= target else "MISSED"  # as printed
against = "the faster of fio's two O_DIRECT figures" if len(candidates) == 2 else "fio's only O_DIRECT figure"
print()
print(f"Target: tabletvault O_DIRECT best >= {target} x {against} (best of {runs}): "
      f"{best(('direct', 'ours')):.1f} / {candidates[side]:.1f} (fio, {name}) = {ratio:.3f}  {verdict}")
median_ratio = median(("direct", "ours")) / max(median(("direct", s)) for s in candidates)
print(f"        (on medians, for reference: {median_ratio:.3f}; buffered has no target)")
EOF
