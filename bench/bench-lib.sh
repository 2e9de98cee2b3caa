# SPDX-License-Identifier: Apache-2.0
# Helpers the benchmark scripts share (sourced, not run): arithmetic, clocks, the page cache,
# a process's CPU ticks, and the results table with its MET / MISSED verdicts.

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
