#!/bin/sh
# bench/run.sh - the benchmark harness behind `make bench`.
#
#   sh bench/run.sh <build dir>
#
# Builds nothing: it runs the benchmark programs already built in
# <build dir>/bin, each with fixed parameters, a bounded time and a number of
# repetitions, next to the peers they are compared with, and collects what
# they print with --json (one JSON object per measurement; bench/README.md
# lists the fields). Repetitions are interleaved (round 1 of every entry,
# then round 2, ...) so that a slow minute of the shared machine hurts every
# entry a little rather than one entry a lot.
#
# Output, under the build dir (ignored by git):
#   <build>/bench-results/<YYYYMMDD-HHMMSS>/
#     machine.json        CPU, cores, kernel, compiler, build type, libraries,
#                         load average and CPU steal over the run
#     results.jsonl       every measurement, tagged with section/entry/rep
#     runs.jsonl          one line per run: exit status, seconds, load
#     <entry>.<rep>.*     raw stdout/stderr of each run
#     baseline/           bench/results/latest/ as it was before this run,
#                         compared with this run in the summary
#     summary.md, *.png   written by bench/plot.py
# and summary.md, the plots, results.jsonl and machine.json are copied to
# bench/results/latest/ (committed; docs/benchmarks.md embeds them).
#
# Environment: CQLMQ_BENCH_REPS caps the repetitions (default: the table's),
# CQLMQ_BENCH_BUDGET is the time budget in seconds (default 300): once it is
# spent, the remaining repetitions are skipped (round 1 always runs).
# Exit status: 0 when every run succeeded, 1 when one failed or timed out,
# 2 for bad usage. A missing plotting library never fails the run.
set -u

if [ $# -ne 1 ] || [ ! -d "$1/bin" ]; then
    echo "usage: sh bench/run.sh <build dir>   (a configured and built tree with bin/)" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd)
BIN=$BUILD/bin
PY=/usr/bin/python3
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$BUILD/bench-results/$STAMP
LATEST=$ROOT/bench/results/latest
MAXREPS=${CQLMQ_BENCH_REPS:-99}
BUDGET=${CQLMQ_BENCH_BUDGET:-300}
mkdir -p "$OUT" || exit 2
export PY OUT

# ---------------------------------------------------------------------------
# The benchmarks. One entry per line:
#   section  entry  reps  timeout(s)  command
# `section` groups entries into one plot and one table of the summary; an
# entry's measurements are compared with the peer measurements (JSON
# "peer": true) of the same section and group. The command runs from the
# results dir with <build>/bin first on PATH; $NODE_PORT is a cqlmq-node
# process started here (port 0 = a free port), $PY is /usr/bin/python3.
# An entry whose program is not built is skipped with a note.
# Adding a benchmark is adding one line.
# shellcheck disable=SC2016 # $NODE_PORT and $PY expand when each command runs
ENTRIES='
codec    cql_rows          5   30  bench_cql_rows --json 1000
codec    wire_transcode    5   30  bench_wire_transcode --json 150
runtime  rt_messaging      5   60  bench_rt_messaging --json 2000000 100000
store    nstore_points     3  120  bench_nstore_points --json 1000000
node     node_d128         5   60  bench_node_points --json -n 200000 -d 128 -p $NODE_PORT
node     pydriver_d128     3   90  $PY peer_pydriver.py --port $NODE_PORT -n 20000 -d 128
node     node_d1           5   60  bench_node_points --json -n 20000 -d 1 -p $NODE_PORT
node     pydriver_d1       3   60  $PY peer_pydriver.py --port $NODE_PORT -n 3000 -d 1
node     node_inproc_d128  5   60  bench_node_points --json -n 200000 -d 128
gateway  gw_requests       3   90  bench_gwapp_requests --json -n 50000 -d 1,16,128
'
# gateway: requests/s and p50/p99 through a child cqlmqd, beside the same C
# load sent straight over CQL to the same node ("peer": true, same group).

# ---------------------------------------------------------------------------
# The python-driver peer of the node entries: the DataStax python driver
# (Debian python3-cassandra) doing what bench_node_points does, against the
# same cqlmq-node process, printing the same JSON groups with "peer": true.
cat > "$OUT/peer_pydriver.py" <<'PYEOF'
"""Peer of bench_node_points: the DataStax python driver against a node.

    peer_pydriver.py --port P [-n OPS] [-d IN_FLIGHT]

Prepares INSERT INTO bench.kv (k, v) VALUES (?, ?) and SELECT v FROM
bench.kv WHERE k = ?, then runs OPS of each with IN_FLIGHT requests
outstanding: -d 1 is the synchronous session.execute() loop, -d N > 1 chains
execute_async callbacks (the driver's fastest documented pattern). One JSON
line per measurement, with per-request latency percentiles.
"""
import argparse
import json
import resource
import sys
import threading
import time
import warnings

warnings.simplefilter("ignore")
from cassandra import __version__ as driver_version  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.policies import RoundRobinPolicy  # noqa: E402


def pct(lat):
    lat = sorted(lat)
    n = len(lat)
    # nearest rank: the ceil(q * n)-th smallest, with q in thousandths
    return {k: round(lat[max(0, -(-q * n // 1000) - 1)] * 1e6, 3)
            for k, q in (("p50_us", 500), ("p99_us", 990), ("p999_us", 999))}


def emit(group, name, value, unit, extra=None):
    line = {"bench": "pydriver", "group": group, "name": name, "peer": True,
            "value": value, "unit": unit}
    line.update(extra or {})
    line["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(line), flush=True)


def sync_phase(session, stmt, args_of, n):
    lat = [0.0] * n
    t0 = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        session.execute(stmt, args_of(i))
        lat[i] = time.perf_counter() - t
    return time.perf_counter() - t0, lat, 0


def async_phase(session, stmt, args_of, n, depth):
    lat = [0.0] * n
    lock = threading.Lock()
    st = {"next": 0, "done": 0, "errors": 0}
    finished = threading.Event()

    def start():
        with lock:
            i = st["next"]
            if i >= n:
                return
            st["next"] = i + 1
        t = time.perf_counter()
        f = session.execute_async(stmt, args_of(i))
        f.add_callbacks(ok, bad, callback_args=(i, t), errback_args=(i, t))

    def end(i, t, failed):
        lat[i] = time.perf_counter() - t
        with lock:
            st["done"] += 1
            st["errors"] += failed
            last = st["done"] == n
        if last:
            finished.set()
        else:
            start()

    def ok(_rows, i, t):
        end(i, t, 0)

    def bad(_exc, i, t):
        end(i, t, 1)

    t0 = time.perf_counter()
    for _ in range(min(depth, n)):
        start()
    if not finished.wait(300):
        sys.exit("timed out")
    return time.perf_counter() - t0, lat, st["errors"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("-d", type=int, default=128)
    a = ap.parse_args()
    t0 = time.perf_counter()
    cluster = Cluster(["127.0.0.1"], port=a.port, protocol_version=4,
                      load_balancing_policy=RoundRobinPolicy())
    session = cluster.connect()
    connect_ms = (time.perf_counter() - t0) * 1e3
    session.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("CREATE TABLE IF NOT EXISTS bench.kv (k int PRIMARY KEY, v blob)")
    ins = session.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
    sel = session.prepare("SELECT v FROM bench.kv WHERE k = ?")
    v = b"v" * 16
    how = "execute, sync" if a.d == 1 else "execute_async callbacks"
    name = "DataStax python driver %s (%s)" % (driver_version, how)
    extra = {"reactor": cluster.connection_class.__name__}
    for what, stmt, args_of in (("insert", ins, lambda i: (i, v)),
                                ("select", sel, lambda i: (i,))):
        if a.d == 1:
            dt, lat, errors = sync_phase(session, stmt, args_of, a.n)
        else:
            dt, lat, errors = async_phase(session, stmt, args_of, a.n, a.d)
        emit("%s, %d in flight" % (what, a.d), name, a.n / dt, "ops/s",
             dict(pct(lat), errors=errors, **extra))
    emit("connect: Cluster.connect() to a 1-node cluster",
         "DataStax python driver %s" % driver_version, connect_ms, "ms", extra)
    cluster.shutdown()


main()
PYEOF

# ---------------------------------------------------------------------------
# Helpers.

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# JSON string of $1 (quotes, backslashes, tabs and newlines handled).
jstr() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\t\n' '  ')"; }
# "steal total" CPU ticks from the first line of /proc/stat.
cpustat() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t }' /proc/stat; }
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" 2>/dev/null | head -1; }

T_START=$(now)
LOAD_START=$(cat /proc/loadavg)
STAT_START=$(cpustat)
echo "bench: results in $OUT"

# One cqlmq-node process shared by the node entries, on a free port.
NODE_PID=
NODE_PORT=0
stop_node() {
    if [ -n "$NODE_PID" ]; then
        kill "$NODE_PID" 2>/dev/null
        wait "$NODE_PID" 2>/dev/null
        NODE_PID=
    fi
}
trap 'stop_node' EXIT
trap 'stop_node; exit 130' INT TERM
if [ -x "$BIN/cqlmq-node" ]; then
    "$BIN/cqlmq-node" --port 0 --log-size 0 > "$OUT/node.out" 2> "$OUT/node.err" &
    NODE_PID=$!
    i=0
    while [ $i -lt 50 ] && ! grep -q 'ready port=' "$OUT/node.out" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    NODE_PORT=$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$OUT/node.out")
    if [ -z "$NODE_PORT" ]; then
        echo "bench: cqlmq-node did not start; node entries against it will fail" >&2
        NODE_PORT=0
    fi
fi
export NODE_PORT

# Runs one repetition of one entry: run_one section entry rep timeout command
FAILED=0
run_one() {
    sec=$1 ent=$2 rep=$3 tmo=$4
    shift 4
    cmd=$*
    base=$OUT/$ent.$rep
    prog=$(eval "printf '%s' $1")
    why=
    case $prog in
    /*) [ -x "$prog" ] || why="not built" ;;
    *) [ -x "$BIN/$prog" ] || why="not built" ;;
    esac
    case $cmd in
    *NODE_PORT*) [ "$NODE_PORT" != 0 ] || why=${why:-"no cqlmq-node"} ;;
    esac
    if [ -n "$why" ]; then
        echo "bench: skip $ent ($1: $why)"
        printf '{"section":"%s","entry":"%s","rep":%s,"status":"%s","command":%s}\n' \
            "$sec" "$ent" "$rep" "$why" "$(jstr "$cmd")" >> "$OUT/runs.jsonl"
        return
    fi
    l0=$(load1)
    t0=$(now)
    (cd "$OUT" && PATH="$BIN:$PATH" timeout -k 5 "$tmo" sh -c "exec $cmd") \
        < /dev/null > "$base.out" 2> "$base.err"
    rc=$?
    secs=$(elapsed "$t0" "$(now)")
    status=ok
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status=timeout
    elif [ $rc -ne 0 ]; then
        status="exit $rc"
    elif ! grep -q '^{' "$base.out"; then
        status="no JSON output"
    fi
    [ "$status" = ok ] || FAILED=1
    echo "bench: $ent #$rep: $status, ${secs} s"
    [ "$status" = ok ] || sed 's/^/    /' "$base.err" | tail -5
    # Tag each measurement with where it came from.
    sed -n "s/^{\(.*\)}\$/{\"section\":\"$sec\",\"entry\":\"$ent\",\"rep\":$rep,\1}/p" \
        "$base.out" >> "$OUT/results.jsonl"
    printf '{"section":"%s","entry":"%s","rep":%s,"status":"%s","seconds":%s,"load1_before":%s,"load1_after":%s,"command":%s}\n' \
        "$sec" "$ent" "$rep" "$status" "$secs" "$l0" "$(load1)" "$(jstr "$cmd")" \
        >> "$OUT/runs.jsonl"
}

# Interleaved rounds over the table.
: > "$OUT/results.jsonl"
: > "$OUT/runs.jsonl"
TABLE=$(printf '%s\n' "$ENTRIES" | grep -v '^[[:space:]]*\(#\|$\)')
ROUNDS=$(printf '%s\n' "$TABLE" | awk -v m="$MAXREPS" '$3 > r { r = $3 } END { print (r < m ? r : m) }')
round=1
while [ "$round" -le "$ROUNDS" ]; do
    if [ "$round" -gt 1 ] && [ "$(elapsed "$T_START" "$(now)" | cut -d. -f1)" -ge "$BUDGET" ]; then
        echo "bench: time budget of ${BUDGET} s spent; skipping rounds $round..$ROUNDS"
        break
    fi
    # The table is read from a here-document so that FAILED survives the loop.
    while read -r sec ent reps tmo cmd; do
        [ "$round" -le "$reps" ] || continue
        # shellcheck disable=SC2086 # the command's words, unexpanded
        run_one "$sec" "$ent" "$round" "$tmo" $cmd
    done <<EOF
$TABLE
EOF
    round=$((round + 1))
done

# Peak memory of the shared node process, then stop it.
if [ -n "$NODE_PID" ] && [ -r "/proc/$NODE_PID/status" ]; then
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$NODE_PID/status")
    [ -n "$hwm" ] && printf '{"section":"node","entry":"node_process","rep":1,"bench":"cqlmq-node","group":"cqlmq-node process peak RSS after all node entries","name":"cqlmq-node --log-size 0","peer":false,"value":%s,"unit":"MiB","maxrss_kb":%s}\n' \
        "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')" "$hwm" >> "$OUT/results.jsonl"
fi
stop_node

# ---------------------------------------------------------------------------
# Machine information.
STAT_END=$(cpustat)
steal_pct=$(printf '%s %s\n' "$STAT_START" "$STAT_END" |
    awk '{ dt = $4 - $2; printf "%.2f", (dt > 0 ? 100 * ($3 - $1) / dt : 0) }')
cc=$(cache_var CMAKE_C_COMPILER)
btype=$(cache_var CMAKE_BUILD_TYPE)
bflags="$(cache_var CMAKE_C_FLAGS) $(cache_var "CMAKE_C_FLAGS_$(echo "$btype" | tr '[:lower:]' '[:upper:]')")"
pyver=$($PY -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)
drv=$($PY -c 'import cassandra; print(cassandra.__version__)' 2>/dev/null)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)
dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l)
{
    printf '{\n'
    printf '  "stamp": %s,\n' "$(jstr "$STAMP")"
    printf '  "date": %s,\n' "$(jstr "$(date -Is)")"
    printf '  "nproc": %s,\n' "$(nproc)"
    printf '  "cpu_model": %s,\n' "$(jstr "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)")"
    printf '  "mem_total": %s,\n' "$(jstr "$(awk '/^MemTotal:/ { print $2 " kB" }' /proc/meminfo)")"
    printf '  "virtualization": %s,\n' "$(jstr "$(systemd-detect-virt 2>/dev/null || echo unknown)")"
    printf '  "kernel": %s,\n' "$(jstr "$(uname -srm)")"
    printf '  "os": %s,\n' "$(jstr "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-}")")"
    printf '  "compiler": %s,\n' "$(jstr "$("${cc:-cc}" --version 2>/dev/null | head -1)")"
    printf '  "cmake": %s,\n' "$(jstr "$(cmake --version 2>/dev/null | head -1)")"
    printf '  "build_type": %s,\n' "$(jstr "$btype")"
    printf '  "build_flags": %s,\n' "$(jstr "$bflags")"
    printf '  "sanitize": %s,\n' "$(jstr "$(cache_var CQLMQ_SANITIZE)")"
    printf '  "libzmq": %s,\n' "$(jstr "$(pkg-config --modversion libzmq 2>/dev/null)")"
    printf '  "libuv": %s,\n' "$(jstr "$(pkg-config --modversion libuv 2>/dev/null)")"
    printf '  "msgpack_c": %s,\n' "$(jstr "$(pkg-config --modversion msgpack-c 2>/dev/null || pkg-config --modversion msgpack 2>/dev/null)")"
    printf '  "python": %s,\n' "$(jstr "$pyver")"
    printf '  "python_driver": %s,\n' "$(jstr "$drv")"
    printf '  "git_commit": %s,\n' "$(jstr "$commit")"
    printf '  "git_uncommitted_files": %s,\n' "${dirty:-0}"
    printf '  "loadavg_start": %s,\n' "$(jstr "$LOAD_START")"
    printf '  "loadavg_end": %s,\n' "$(jstr "$(cat /proc/loadavg)")"
    printf '  "cpu_steal_pct": %s,\n' "$steal_pct"
    printf '  "wall_seconds": %s\n' "$(elapsed "$T_START" "$(now)")"
    printf '}\n'
} > "$OUT/machine.json"

# ---------------------------------------------------------------------------
# Plots and summary (bench/plot.py writes summary.md even without matplotlib).
if ! $PY -c 'import matplotlib' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing python3-matplotlib for the plots"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-matplotlib \
            > "$OUT/apt.log" 2>&1 ||
            { apt-get update -q >> "$OUT/apt.log" 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-matplotlib \
                  >> "$OUT/apt.log" 2>&1; } ||
            echo "bench: could not install python3-matplotlib (see $OUT/apt.log); no plots"
    else
        echo "bench: no plots: install matplotlib with  sudo apt-get install python3-matplotlib"
    fi
fi
# The previous committed results become this run's baseline ("before").
if [ -s "$LATEST/results.jsonl" ]; then
    mkdir -p "$OUT/baseline"
    cp "$LATEST/results.jsonl" "$OUT/baseline/"
    [ -s "$LATEST/machine.json" ] && cp "$LATEST/machine.json" "$OUT/baseline/"
fi
if $PY "$ROOT/bench/plot.py" "$OUT"; then
    mkdir -p "$LATEST"
    rm -f "$LATEST"/*.png "$LATEST"/summary.md "$LATEST"/results.jsonl "$LATEST"/machine.json
    cp "$OUT"/summary.md "$OUT"/results.jsonl "$OUT"/machine.json "$LATEST"/
    for f in "$OUT"/*.png; do
        [ -e "$f" ] && cp "$f" "$LATEST"/
    done
    echo "bench: summary in $OUT/summary.md, copied with the plots to bench/results/latest/"
else
    echo "bench: bench/plot.py failed; raw results stay in $OUT" >&2
    FAILED=1
fi
exit $FAILED
