#!/usr/bin/env bash
# botwright side by side with Bot Builder v3 and the ceiling, from one run.
#
#   bench/run.sh            the full run (about 12 minutes on 2 cores); rewrites BENCHMARKS.md's figures section
#   bench/run.sh --quick    a scaled-down run (under two minutes) for CI: fails only when a bot does not
#                           answer, a turn fails, or a reply is lost or duplicated; never on timing, and it
#                           does not touch BENCHMARKS.md
#
# Needs: cargo, node (20+) and npm. Results (JSON lines) go to target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 64 ;;
esac

started=$(date +%s)
out=target/bench
mkdir -p "$out"
if [ "$quick" = 1 ]; then results=$out/quick.jsonl; else results=$out/results.jsonl; fi
commands=$out/commands.txt
rm -f "$results" "$commands"

echo "== building (release)" >&2
cargo build --release --locked -p botwright-bench -p botwright-cli --bins
echo "== installing the Bot Builder v3 reference (npm ci)" >&2
(cd bench/peers/botbuilder-v3 && npm ci --no-audit --no-fund --loglevel=error)

ready=$(date +%s)
r=target/release
v3="node bench/peers/botbuilder-v3/bot.js"
ceiling_echo="ceiling=$r/bench-ceiling --workload echo"
ceiling_waterfall="ceiling=$r/bench-ceiling --workload waterfall"
bw_echo_mem="botwright-memory=$r/bench-bot --workload echo --store memory"
bw_echo_sql="botwright-sqlite=$r/bench-bot --workload echo --store sqlite:{tmp}/bot.db"
bw_wf_mem="botwright-memory=$r/bench-bot --workload waterfall --store memory"
bw_wf_sql="botwright-sqlite=$r/bench-bot --workload waterfall --store sqlite:{tmp}/bot.db"
# PostgreSQL on 127.0.0.1:5432 (database test), a fresh schema per run.
bw_wf_pg="botwright-postgres=$r/bench-bot --workload waterfall --store postgres://postgres@127.0.0.1:5432/test?schema=bench_$(date +%s)"
# The channel simulator is local: serve runs without the Bot Framework rate limits.
serve_mem="botwright-memory=$r/botwright serve --rate-limits off --store memory"
serve_sql="botwright-sqlite=$r/botwright serve --rate-limits off --store sqlite:{tmp}/bot.db"
v3_echo="botbuilder-v3=$v3 echo"
v3_echo0="botbuilder-v3-batch0=env AUTO_BATCH_DELAY=0 $v3 echo"
v3_wf="botbuilder-v3=$v3 waterfall"
v3_sample="botbuilder-v3=$v3 sample"
# Fan-out: one command sends one text to every address of a file (the harness writes it).
notify_sql="botwright-sqlite=$r/botwright notify --rate-limits off --store sqlite:{tmp}/bot.db --addresses {addresses} --text Maintenance --json"
v3_notify="botbuilder-v3=node bench/peers/botbuilder-v3/notify.js {addresses} Maintenance"

# Runs the harness, keeping the exact command line for BENCHMARKS.md.
bench() {
  local line="target/release/botwright-bench"
  for a in "$@"; do line+=" $(printf '%q' "$a")"; done
  echo "$line" >> "$commands"
  echo "== $line" >&2
  "$r/botwright-bench" "$@" --json "$results" --scratch "$out/scratch"
}

if [ "$quick" = 1 ]; then
  short=(--warmup 1s --duration 2s --timeout 10s)
  check=(--fail-on-errors)
  bench load --workload echo "${short[@]}" "${check[@]}" --scenario echo \
    --bot "$ceiling_echo" --bot "$bw_echo_mem" --bot "$v3_echo"
  bench load --workload waterfall "${short[@]}" "${check[@]}" --scenario waterfall \
    --bot "$bw_wf_sql" --bot "$v3_wf"
  for w in subscribe notify standup; do
    bench load --workload "$w" "${short[@]}" "${check[@]}" --scenario "$w" --bot "$serve_sql" --bot "$v3_sample"
  done
  bench proactive --messages 2000 "${check[@]}" --scenario proactive --bot "$serve_sql" --bot "$v3_sample"
  bench proactive --messages 2000 "${check[@]}" --scenario fan-out --bot "$notify_sql" --bot "$v3_notify"
  # Under faults, waited notifications have a deadline (a timing matter), and v3 does not retry: report only.
  bench proactive --messages 500 --rate-limited 0.1 --server-error 0.05 --scenario proactive-faults \
    --bot "$serve_sql" --bot "$v3_sample"
  echo "== quick run done: $(( $(date +%s) - ready )) s of runs after $(( ready - started )) s of build and install (results: $results)" >&2
  exit 0
fi

long=(--warmup 3s --duration 10s --rounds 2)
bench load --workload echo "${long[@]}" --scenario echo \
  --bot "$ceiling_echo" --bot "$bw_echo_mem" --bot "$bw_echo_sql" --bot "$v3_echo" --bot "$v3_echo0"
bench load --workload waterfall "${long[@]}" --scenario waterfall \
  --bot "$ceiling_waterfall" --bot "$bw_wf_mem" --bot "$bw_wf_sql" --bot "$bw_wf_pg" --bot "$v3_wf"
# 10,000 conversations, each one waterfall (125 users x 80 conversations each), then the peak memory.
bench load --workload waterfall --users 125 --conversations 10000 --cycles 10000 --warmup 0s --timeout 20s \
  --scenario waterfall-10k --bot "$bw_wf_mem" --bot "$bw_wf_sql" --bot "$v3_wf"
for w in subscribe notify standup; do
  bench load --workload "$w" --warmup 2s --duration 8s --scenario "$w" \
    --bot "$serve_mem" --bot "$serve_sql" --bot "$v3_sample"
done
bench proactive --messages 100000 --concurrency 64 --scenario proactive \
  --bot "$serve_mem" --bot "$serve_sql" --bot "$v3_sample"
bench proactive --messages 5000 --concurrency 64 --rate-limited 0.1 --server-error 0.05 --retry-after 1 \
  --scenario proactive-faults --bot "$serve_mem" --bot "$serve_sql" --bot "$v3_sample"
bench proactive --messages 100000 --rounds 2 --scenario fan-out --bot "$notify_sql" --bot "$v3_notify"
bench proactive --messages 100000 --rate-limited 0.1 --server-error 0.05 --retry-after 1 \
  --scenario fan-out-faults --bot "$notify_sql" --bot "$v3_notify"

# The machine and the commands, then the tables, between the markers of BENCHMARKS.md.
preface=$out/preface.md
{
  echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),"\
       "$(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r), shared with other work;"\
       "$(rustc --version | cut -d' ' -f1-2), Node $(node --version), botbuilder 3.30.0, express 4.22.3."
  echo "Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg) (other builds share the machine; compare"\
       "figures within one scenario, whose bots ran in alternation)."
  if [ "$(nproc)" = 2 ]; then
    echo "The generator ran on core 0 and each bot on core 1 (\`taskset\`)."
  fi
  echo
  echo "Commands (after \`cargo build --release -p botwright-bench -p botwright-cli --bins\` and \`npm ci\` in"\
       "\`bench/peers/botbuilder-v3\`):"
  echo
  echo '```sh'
  cat "$commands"
  echo '```'
} > "$preface"
"$r/botwright-bench" render --results "$results" --preface "$preface" --into BENCHMARKS.md
echo "== full run done: $(( $(date +%s) - ready )) s of runs after $(( ready - started )) s of build and install; BENCHMARKS.md updated (results: $results)" >&2
