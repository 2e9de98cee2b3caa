# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2154,SC2120
# Helpers the benchmark scripts share (sourced, not run): arithmetic, clocks, the page cache,
# a process's CPU ticks, and the results table with its MET / MISSED verdicts. Below them, what
# backup-bench.sh and restore-bench.sh share: tools, the binary, the lock, timed runs, the server,
# the jobs' client, the two data sets, restic and Ceph RGW. The sourcing script defines say and
# die, and sets root (the checkout), dir (its --dir) and quick before calling them.

calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
now() { date +%s.%N; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
cpu_ticks() {  # utime+stime of a process (all its threads), in clock ticks; 0 if gone
    [[ -r "/proc/$1/stat" ]] || { echo 0; return; }
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
field() { awk -v i="$2" '{ print $i }' <<< "$1"; }

failures=0
results=()  # "part|what|ours|reference|ratio|target|verdict"
record() { results+=("$1|$2|$3|$4|$5|$6|$7"); }
verdict() {  # value op threshold -> MET / MISSED
    if awk "BEGIN { exit !($1 $2 $3) }"; then echo MET; else echo MISSED; fi
}
within() {  # value bound -> MET when -bound <= value <= bound
    if awk "BEGIN { exit !($1 >= -$2 && $1 <= $2) }"; then echo MET; else echo MISSED; fi
}
print_results() {  # title
    echo
    echo "$1"
    {
        echo "part|what|ours|reference|ratio|target|verdict"
        printf '%s\n' "${results[@]}"
    } | column -t -s '|'
}
MiB=1048576
mbs() { calc "$1 / 1e6 / $2" 1; }  # bytes seconds -> MB/s
hz="$(getconf CLK_TCK)"

# ---- tools, binary, lock, directories -----------------------------------------------------------
# install_missing TEST:PACKAGE...: TEST is a command, an absolute path, or import:MODULE (python3).
install_missing() {
    local need=() pair test pkg
    for pair in "$@"; do
        test="${pair%:*}" pkg="${pair##*:}"
        case "${test}" in
            import:*) /usr/bin/python3 -c "import ${test#import:}" 2> /dev/null || need+=("${pkg}") ;;
            /*) [[ -x "${test}" ]] || need+=("${pkg}") ;;
            *) command -v "${test}" > /dev/null 2>&1 || need+=("${pkg}") ;;
        esac
    done
    [[ ${#need[@]} -eq 0 ]] && return
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    say "installing ${need[*]}"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; }; } \
        > /dev/null || die "could not install ${need[*]}"
}
# The tools the server benchmarks use (restic, rclone, the MySQL client and pymysql, ...).
install_server_bench_tools() {
    install_missing restic:restic rclone:rclone mariadb:mariadb-client curl:curl column:bsdextrautils \
        flock:util-linux ss:iproute2 ip:iproute2 /usr/bin/time:time import:pymysql:python3-pymysql "$@"
}

# Sets tv_bin: --bin's binary, else build-release/ built now in Release.
resolve_binary() {
    if [[ -z "${tv_bin}" ]]; then
        local build="${root}/build-release"
        if [[ ! -f "${build}/build.ninja" ]]; then
            cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null || die "cmake configure failed"
        fi
        say "building ${build}/tabletvault (Release)"
        ninja -C "${build}" -j2 tabletvault > /dev/null || die "building tabletvault failed"
        tv_bin="${build}/tabletvault"
    fi
    tv_bin="$(realpath "${tv_bin}")"
    [[ -x "${tv_bin}" ]] || die "${tv_bin} is not executable"
}

# One benchmark at a time on this machine (the lock every bench script takes).
take_bench_lock() {
    exec 9> /tmp/tabletvault-bench.lock
    flock -n 9 || { say "another benchmark holds /tmp/tabletvault-bench.lock; waiting"; flock 9; }
}

# Makes dir (a real disk), logs (dir/logs/<time>) and tmp (a scratch dir in dir).
make_dirs() {  # name-for-tmp
    mkdir -p "${dir}"
    case "$(findmnt -no FSTYPE --target "${dir}" 2> /dev/null || stat -f -c %T "${dir}")" in
        tmpfs | ramfs) die "${dir} is in memory; the benchmark needs a real disk" ;;
    esac
    logs="${dir}/logs/$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "${logs}"
    # Scratch files beside the data, not in /tmp (which other suites on this machine sweep).
    tmp="$(mktemp -d "${dir}/.tmp-$1.XXXXXX")"
}

print_machine() {
    say "$(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r);" \
        "$(restic version | cut -d' ' -f1-2), $(rclone version 2> /dev/null | head -1)"
    local load
    load="$(cut -d' ' -f1 /proc/loadavg)"
    say "load average ${load} at start; logs in ${logs}"
    if awk "BEGIN { exit !(${load} > 1.5) }"; then
        say "warning: the machine is busy (load ${load}); other work disturbs the figures"
    fi
}

# Times a command followed by sync; sets run_s (wall seconds) and run_cpu (user+system seconds).
run_s="" run_cpu=""
timed() {
    local name="$1" log="${logs}/$1.log" rc=0 start u s
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
# data_dir: the server's data directory. server_ns: a network namespace the server and every
# client of it run in (empty: this one).
data_dir="" server_ns="" server_pid="" port="" server_log=""
in_ns() { if [[ -n "${server_ns}" ]]; then ip netns exec "${server_ns}" "$@"; else "$@"; fi; }
server_start() {  # [--set key=value]...
    server_log="${logs}/server-$(date +%H%M%S%N).log"
    # ip netns exec execs the command: $! is the server's pid either way (not a subshell's).
    local pre=()
    [[ -n "${server_ns}" ]] && pre=(ip netns exec "${server_ns}")
    "${pre[@]}" "${tv_bin}" serve --data-dir "${data_dir}" --set bind_address=127.0.0.1 --set query_port=0 --set http_port=0 \
        "$@" > "${server_log}" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        grep -q " ready" "${server_log}" 2> /dev/null && break
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
sql() { in_ns mariadb -h127.0.0.1 -P"${port}" -uroot -N -B -e "$1"; }

# Runs one job (BACKUP or RESTORE) through bench-client.py and waits for its end; NAME names the
# log. Sets job_s (seconds from the statement to FINISHED, plus a sync), job_bytes, job_files,
# job_cpu (server user+sys seconds), job_rss (server VmHWM during the job, MiB: the high-water
# mark is reset first), job_extra (the client's further figures), job_states, job_sync (the
# seconds of the sync after FINISHED, part of job_s).
job_s="" job_bytes="" job_files="" job_cpu="" job_rss="" job_extra="" job_states="" job_sync=""
tv_job() {  # name BACKUP|RESTORE db label statement [bench-client options...]
    local name="$1" kind="$2" db="$3" label="$4" statement="$5" out before sync_start
    shift 5
    job_s="" job_bytes="" job_files="" job_cpu="" job_rss="" job_extra="" job_states=""
    echo 5 > "/proc/${server_pid}/clear_refs"
    before="$(cpu_ticks "${server_pid}")"
    if ! out="$(in_ns /usr/bin/python3 "${root}/bench/bench-client.py" "${port}" "${kind}" "${db}" "${label}" \
        "${statement}" "$@" 2> "${logs}/${name}.err")"; then
        say "${kind} ${name} failed: $(tail -3 "${logs}/${name}.err")"
        failures=$((failures + 1))
        return 1
    fi
    sync_start="$(now)"
    sync
    job_cpu="$(calc "($(cpu_ticks "${server_pid}") - ${before}) / ${hz}" 1)"
    job_rss="$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/${server_pid}/status")"
    job_sync="$(calc "$(now) - ${sync_start}" 3)"
    job_s="$(calc "$(field "${out}" 1) + ${job_sync}" 3)"
    job_bytes="$(field "${out}" 2)" job_files="$(field "${out}" 3)"
    job_extra="$(cut -d' ' -f4- <<< "${out}")"
    job_states="$(grep '^states: ' "${logs}/${name}.err" | cut -c9-)"
    echo "${out}" > "${logs}/${name}.out"
    say "    ${name}: ${job_states}; then sync ${job_sync} s"
}

# ---- the data sets ------------------------------------------------------------------------------
# A row is 16 BIGINTs (128 bytes), each an XXH3 of the row number: incompressible, never repeated
# (restic deduplicates and compresses). Segment files store fixed-width values as they are.
big_buckets=16 big_inserts=8 big_rows=8388608         # 8 x 1 GiB: 16 x 64 MiB segments per INSERT
small_buckets=1000 small_inserts=20 small_rows=512000  # 512 rows (64 KiB) per bucket per INSERT
set_sizes() {  # after quick is known
    if ((quick)); then
        big_inserts=1 big_rows=4194304   # 512 MiB: 16 x 32 MiB
        small_inserts=2                  # 2,000 files
    fi
    sets_key="${big_buckets}x${big_inserts}x${big_rows} ${small_buckets}x${small_inserts}x${small_rows}"
}
columns="id BIGINT NOT NULL" select="xx_hash3_64(CAST(generate_series AS VARCHAR))"
for i in $(seq 1 15); do
    columns+=", c${i} BIGINT NOT NULL"
    select+=", xx_hash3_64(CAST(generate_series AS VARCHAR), '${i}')"
done
load_table() {  # db buckets inserts rows [first-row-offset]
    local db="$1" buckets="$2" inserts="$3" rows="$4" first="${5:-0}" i start
    sql "CREATE DATABASE ${db}"
    sql "CREATE TABLE ${db}.t (${columns}) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS ${buckets}"
    start="$(now)"
    for ((i = 0; i < inserts; i++)); do
        sql "INSERT INTO ${db}.t SELECT ${select} FROM TABLE(generate_series($((first + i * rows + 1)), $((first + (i + 1) * rows))))" > /dev/null
    done
    say "[load] ${db}: ${inserts} INSERTs of ${rows} rows into ${buckets} buckets in $(calc "$(now) - ${start}" 1) s"
}
# src_dir/SET/<tablet>/<file>: hard links to the server's segment files of that database, so
# every tool reads exactly the files the server reads (the same inodes, the same disk blocks).
src_dir=""
link_tree() {  # set db
    local set="$1" db="$2" t
    rm -rf "${src_dir:?}/${set}"
    mkdir -p "${src_dir}/${set}"
    for t in $(sql "SHOW TABLET FROM ${db}.t" | cut -f1); do
        cp -al "${data_dir}/storage/data/${t}" "${src_dir}/${set}/${t}"
    done
}
declare -A set_n set_bytes set_db
set_db[big]=bigdb set_db[small]=smalldb
set_label() { echo "${set_n[$1]} files, $(calc "${set_bytes[$1]} / ${MiB}" 0) MiB (avg $(calc "${set_bytes[$1]} / ${set_n[$1]} / 1024" 0) KiB)"; }
# Loads `bigdb` and `smalldb` into data_dir unless it already holds them at these sizes, makes
# the link trees, counts them, and leaves a freshly started server running (no load's memory in
# its high-water mark).
load_sets() {
    if [[ -f "${data_dir}/.bench-sets" && "$(cat "${data_dir}/.bench-sets")" == "${sets_key}" ]]; then
        say "[load] reusing the data in ${data_dir} (${sets_key})"
        server_start
    else
        rm -rf "${data_dir:?}" "${src_dir:?}"
        # A load flushes its largest tablet buffer once it holds max(2 x write_buffer_size, 256 MiB):
        # at the defaults a 1 GiB INSERT into 16 buckets would cut segments of 10-30 MiB. With 1 GiB
        # buffers each INSERT writes one segment per bucket (16 x 64 MiB).
        server_start --set write_buffer_size=1073741824
        load_table bigdb "${big_buckets}" "${big_inserts}" "${big_rows}"
        load_table smalldb "${small_buckets}" "${small_inserts}" "${small_rows}"
        echo "${sets_key}" > "${data_dir}/.bench-sets"
        rm -rf "${src_dir}"
    fi
    local set
    for set in big small; do
        [[ -d "${src_dir}/${set}" ]] || link_tree "${set}" "${set_db[${set}]}"
        set_n[${set}]="$(find "${src_dir}/${set}" -type f | wc -l)"
        set_bytes[${set}]="$(find "${src_dir}/${set}" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')"
        say "[load] ${set}: $(set_label "${set}")"
    done
    server_stop
    server_start
}

# ---- many files deleted, then many created -------------------------------------------------------
# ext4 without a journal (this machine's root file system) does not hand out an inode freed in
# the last 60 s, or 360 s while its inode table block is dirty: each file created then walks past
# every recently freed inode of its group, a buffer lookup each. Measured here: 20,000 files of
# 64 KiB written in 0.8 s on a quiet file system took 7-9 s right after 20,000 others were
# deleted. So runs that create many files must not follow a mass deletion, or whoever runs
# second pays for whoever ran first: the small set's outputs (restored databases, restic's,
# rclone's and cp's copies) are kept until every tool ran (defer / run_deferred), and
# settle_deletions waits out deletions made before (also by an earlier invocation: DIR/.deleted).
deferred=()
defer() { deferred+=("$(printf '%q ' "$@")"); }  # command...: run by run_deferred
run_deferred() {
    local c
    ((${#deferred[@]})) || return 0
    for c in "${deferred[@]}"; do eval "$c"; done
    deferred=()
    date +%s > "${dir}/.deleted"
}
# Removes now, or at run_deferred for the small set: discard SET command...
discard() {
    local set="$1"
    shift
    if [[ "${set}" == small ]]; then defer "$@"; else "$@"; fi
}
remove_scratch() {  # name...: DIR/name removed; a removal is remembered for settle_deletions
    local s removed=0
    for s in "$@"; do
        [[ -e "${dir:?}/${s}" ]] && removed=1
        rm -rf "${dir:?}/${s}"
    done
    ((removed)) && date +%s > "${dir}/.deleted"
    return 0
}
ext4_without_journal() {  # true when DIR lies on ext4 without a journal
    local dev fstype
    read -r dev fstype < <(findmnt -no SOURCE,FSTYPE -T "${dir}" 2> /dev/null) || return 1
    [[ "${fstype}" == ext4 ]] || return 1
    [[ "$(cat "/sys/fs/ext4/$(basename "${dev}")/journal_task" 2> /dev/null)" == "<none>" ]]
}
settle_deletions() {
    local last wait
    ext4_without_journal || return 0
    last="$(cat "${dir}/.deleted" 2> /dev/null || echo 0)"
    wait=$((last + 370 - $(date +%s)))
    if ((wait > 0)); then
        say "waiting ${wait} s before creating many files: many were deleted $((370 - wait)) s ago (ext4 without a journal; see bench-lib.sh)"
        sleep "${wait}"
    fi
}

# ---- restic -------------------------------------------------------------------------------------
restic_opts=(--no-cache)  # and the defaults: repository version 2, --compression auto
restic_init() {  # repo [env command prefix...] -> init a repository (not timed)
    local repo="$1"
    shift
    "$@" env RESTIC_PASSWORD=bench restic init "${restic_opts[@]}" --repo "${repo}" > "${logs}/restic-init.log" 2>&1 ||
        { say "restic init ${repo} failed: $(tail -2 "${logs}/restic-init.log")"; return 1; }
}

# ---- Ceph RGW -----------------------------------------------------------------------------------
ceph_rgw=/work/shared/tools/ceph-rgw
[[ -x "${ceph_rgw}" ]] || ceph_rgw="${root}/tests/support/ceph-rgw"
# rgw_up DIR [NETNS]: a one-node Ceph cluster with RGW in DIR (in NETNS, on its 127.0.0.1, when
# given). Sets rgw_dir, rgw_endpoint (http://127.0.0.1:PORT), rgw_port, rgw_access_key,
# rgw_secret_key, rgw_region, s3env (env for restic, rclone's remote `dst:` and the AWS CLI)
# and rgw_props (a repository's PROPERTIES). Returns 1 (after saying why) if it did not start.
rgw_dir="" rgw_ns=""
rgw_up() {
    local d="$1" ns="${2:-}" p
    if [[ -n "${ns}" ]]; then
        p=7480
    else
        p="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    fi
    "${ceph_rgw}" down "${d}" > /dev/null 2>&1 || true
    say "starting Ceph RGW in ${d} (port ${p}${ns:+, netns ${ns}})"
    local pre=()
    [[ -n "${ns}" ]] && pre=(ip netns exec "${ns}")
    if ! CEPH_RGW_DISK_GB="${CEPH_RGW_DISK_GB:-48}" "${pre[@]}" "${ceph_rgw}" up "${d}" "${p}" > "${logs}/rgw-up.log" 2>&1; then
        say "ceph-rgw up failed: $(tail -3 "${logs}/rgw-up.log")"
        failures=$((failures + 1))
        "${ceph_rgw}" down "${d}" > /dev/null 2>&1 || true
        return 1
    fi
    rgw_dir="${d}" rgw_ns="${ns}" rgw_port="${p}"
    local endpoint access_key secret_key region
    # shellcheck disable=SC1091
    source "${d}/env"
    rgw_endpoint="${endpoint}" rgw_access_key="${access_key}" rgw_secret_key="${secret_key}" rgw_region="${region:-us-east-1}"
    rgw_set_endpoint "${rgw_endpoint}"
}
# rgw_set_endpoint URL: the clients' view of the store (another address, as from a netns).
rgw_set_endpoint() {
    local endpoint="$1"
    s3env=(env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="${rgw_access_key}" AWS_SECRET_ACCESS_KEY="${rgw_secret_key}"
        AWS_DEFAULT_REGION="${rgw_region}" RESTIC_PASSWORD=bench RCLONE_CONFIG="${tmp}/rclone.conf"
        RCLONE_CONFIG_DST_TYPE=s3 RCLONE_CONFIG_DST_PROVIDER=Ceph RCLONE_CONFIG_DST_ENDPOINT="${endpoint}"
        RCLONE_CONFIG_DST_ACCESS_KEY_ID="${rgw_access_key}" RCLONE_CONFIG_DST_SECRET_ACCESS_KEY="${rgw_secret_key}"
        RCLONE_CONFIG_DST_REGION="${rgw_region}")
    rgw_props="\"aws.s3.access_key\" = \"${rgw_access_key}\", \"aws.s3.secret_key\" = \"${rgw_secret_key}\", \"aws.s3.endpoint\" = \"${endpoint}\", \"aws.s3.region\" = \"${rgw_region}\""
}
rgw_down() {
    [[ -n "${rgw_dir}" ]] || return 0
    "${ceph_rgw}" down "${rgw_dir}" > /dev/null 2>&1 || true
    rgw_dir="" rgw_ns=""
}
rgw_ticks() {  # CPU ticks of radosgw + ceph-osd + ceph-mon, from the pids ceph-rgw recorded
    local t=0 name pid _
    while read -r name pid _; do t=$((t + $(cpu_ticks "${pid}"))); done < "${rgw_dir}/pids"
    echo "$t"
}

# ---- cleanup ------------------------------------------------------------------------------------
# What every script stops at exit, whatever happened (its own trap calls this first).
lib_cleanup() {
    set +e
    server_stop
    rgw_down
    [[ -n "${tmp:-}" ]] && rm -rf "${tmp}"
}

# Runs the parts in order, each timed.
run_parts() {  # part...
    local part part_start
    for part in "$@"; do
        part_start="$(now)"
        "part_${part}"
        say "part ${part} took $(calc "$(now) - ${part_start}" 0) s"
    done
}
