#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Read benchmark: tv_read_bench (our io_uring runtime) against fio's io_uring engine, same files,
# same block size and depth, O_DIRECT and buffered; best of 3 runs each, cold page cache for all.
# Target: ours >= 95% of fio for O_DIRECT. A missed target is reported, not an error (exit 0);
# a run that reads the wrong number of bytes, or fails, is an error (exit 1).
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
fs_type="$(stat -f -c %T "${dir}")"
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
trap 'rm -rf "${tmp}"' EXIT

# Prints our MB/s; checks the byte count. Extra arguments go to tv_read_bench.
run_ours() {
    local direct="$1" line
    shift
    line="$("${bench_bin}" --dir "${dir}" --files "${files}" --size "${size}" --block "${block}" \
        --depth "${depth}" --direct "${direct}" --drop-cache "$@")" || die "tv_read_bench failed"
    [[ "${line}" == *" bytes=${expected} "* ]] || die "tv_read_bench read the wrong amount: ${line}"
    sed -n 's/.* MB\/s=\([0-9.]*\).*/\1/p' <<< "${line}"
}

# Prints fio's MB/s; checks that fio read every file fully once (read.io_bytes == files * size).
run_fio() {
    local direct="$1" json="${tmp}/fio.json"
    drop_caches
    fio --name=read --ioengine=io_uring --rw=read --bs="${block}" --iodepth="${depth}" --direct="${direct}" \
        --filename="${fio_files}" --file_service_type=sequential \
        --output-format=json --output="${json}" > /dev/null || die "fio failed (see ${json})"
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

best() {  # best of two decimal numbers
    python3 -c 'import sys; print(f"{max(float(sys.argv[1]), float(sys.argv[2])):.1f}")' "$1" "$2"
}

echo "read-bench: files=${files} size=${size} block=${block} depth=${depth} dir=${dir} (${fs_type})"
echo "read-bench: fio $(fio --version | sed 's/^fio-//'), kernel $(uname -r), $(nproc) CPUs; page cache dropped before every run"
# Modes: direct and buffered compare the runtime as it is with fio. direct-thp is an experiment
# (tv_read_bench --thp 1): the same O_DIRECT read with the buffer pool's memory collapsed into
# transparent huge pages, i.e. what the proposed io/buffer_pool.cc change would give; it is set
# against the same fio O_DIRECT figure and carries no verdict.
declare -A ours_best fio_best
modes=(direct buffered direct-thp)
for mode in "${modes[@]}"; do
    ours_best[${mode}]=0
    fio_best[${mode}]=0
done
for ((run = 1; run <= runs; run++)); do
    for mode in direct buffered; do
        direct=$([[ "${mode}" == direct ]] && echo 1 || echo 0)
        # Alternate who goes first, so that neither side always meets the device (and the host
        # behind it) in the state the other one left.
        if ((run % 2 == 1)); then
            ours="$(run_ours "${direct}")"
            theirs="$(run_fio "${direct}")"
        else
            theirs="$(run_fio "${direct}")"
            ours="$(run_ours "${direct}")"
        fi
        printf 'read-bench: run %d/%d %-10s  tabletvault %8s MB/s  fio %8s MB/s\n' \
            "${run}" "${runs}" "${mode}" "${ours}" "${theirs}"
        ours_best[${mode}]="$(best "${ours_best[${mode}]}" "${ours}")"
        fio_best[${mode}]="$(best "${fio_best[${mode}]}" "${theirs}")"
    done
    ours="$(run_ours 1 --thp 1)"
    printf 'read-bench: run %d/%d %-10s  tabletvault %8s MB/s  (experiment: pool on huge pages)\n' \
        "${run}" "${runs}" direct-thp "${ours}"
    ours_best[direct-thp]="$(best "${ours_best[direct-thp]}" "${ours}")"
done
fio_best[direct-thp]="${fio_best[direct]}"

echo
echo "Best of ${runs} runs each (MB = 10^6 bytes; block=${block} depth=${depth} files=${files}x${size}):"
printf '%-10s %17s %10s %7s  %s\n' mode "tabletvault MB/s" "fio MB/s" ratio target
for mode in "${modes[@]}"; do
    ratio="$(python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.3f}")' \
        "${ours_best[${mode}]}" "${fio_best[${mode}]}")"
    if [[ "${mode}" == direct-thp ]]; then
        goal="(experiment: pool on THP, the proposed io/buffer_pool.cc fix; fio = direct row)"
    elif [[ "${mode}" == direct ]]; then
        verdict="$(python3 -c 'import sys; print("MET" if float(sys.argv[1]) >= float(sys.argv[2]) else "MISSED")' \
            "${ratio}" "${target}")"
        goal=">= ${target} ${verdict}"
    else
        goal="(none)"
    fi
    printf '%-10s %17s %10s %7s  %s\n' "${mode}" "${ours_best[${mode}]}" "${fio_best[${mode}]}" "${ratio}" "${goal}"
done
