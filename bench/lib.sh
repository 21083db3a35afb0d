# Shared by the benchmark scripts (sourced, not run). Expects $tmp, $runs,
# $results (a TSV file the rows are appended to), $cur_cap (hidden as FILE
# in the stderr lines kept) and $tag (prefix of the per-run files).

# measure NAME WORKERS CMD...: best wall time (nanosecond clock around the
# run) and largest peak RSS (GNU time) of $runs runs. With BENCH_LOCK set
# (a file, for example /tmp/omamori-bench.lock), each run holds an flock(1)
# lock on it, taken before the clock starts and given back after it stops,
# so that benchmarks on a shared machine take turns run by run.
bench_lock_take() {
	[ -n "${BENCH_LOCK:-}" ] || return 0
	exec {bench_lock_fd}>>"$BENCH_LOCK"
	flock "$bench_lock_fd"
}
bench_lock_give() {
	[ -n "${BENCH_LOCK:-}" ] || return 0
	flock -u "$bench_lock_fd"
	exec {bench_lock_fd}>&-
}
measure() {
	local name=$1 workers=$2
	shift 2
	local best="" rss=0 cpu="" i
	for ((i = 1; i <= runs; i++)); do
		rm -f "$tmp"/bench.db* "$tmp"/eve.json
		local t0 t1
		bench_lock_take
		t0=$(date +%s%N)
		if ! /usr/bin/time -f '%M %U %S' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"; then
			bench_lock_give
			echo "bench: $name failed:" >&2
			tail -5 "$tmp/err" >&2
			printf '%s\t%s\tfailed\t0\t0\t%s\n' "$name" "$workers" "$*" >>"$results"
			return 0
		fi
		t1=$(date +%s%N)
		bench_lock_give
		local wall kb us ss c
		wall=$(python3 -c "print(f'{($t1 - $t0) / 1e9:.3f}')")
		read -r kb us ss < <(tail -1 "$tmp/time")
		c=$(python3 -c "print(f'{$us + $ss:.2f}')")
		echo "bench: $name run $i: ${wall}s wall, ${c}s CPU, peak RSS $((kb / 1024)) MiB" >&2
		if [ -z "$cpu" ] || python3 -c "import sys; sys.exit(0 if $c < $cpu else 1)"; then
			cpu=$c
		fi
		if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $wall < $best else 1)"; then
			best=$wall
		fi
		((kb > rss)) && rss=$kb
	done
	if [ -s "$tmp/err" ]; then
		echo "bench: $name stderr (last run):" >&2
		tail -3 "$tmp/err" >&2
		tail -1 "$tmp/err" | sed "s|$cur_cap|FILE|; s|$tmp/|\$TMP/|" >"$tmp/summary.$tag.$name"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$workers" "$best" "$rss" "$cpu" "$*" >>"$results"
}

