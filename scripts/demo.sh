#!/usr/bin/env bash
# Load public demo data into a running agentkpi and show a few KPI queries
# (called by `make demo`, while `make run` serves in another terminal).
#
# The data is 228 tau2-bench conversations (xAI Grok agents on airline and
# telecom support tasks, October 2025), converted to events by
# scripts/tau2_to_events.py; tests/data/demo/ATTRIBUTION.md has the source,
# licence and mapping. Loading is idempotent: a second run stores nothing
# new and reports every event as a duplicate.
#
# Needs bash, curl and coreutils/grep/sed only; python3, when present, just
# prints the answers more readably.
#   key:      $AGENTKPI_KEY, else var/demo.key (written by make run);
#             it needs the ingest and read scopes
#   address:  $LISTEN (default 127.0.0.1:8080), as for make run
set -euo pipefail
cd "$(dirname "$0")/.."   # repo root

DATA=tests/data/demo/tau2_events.ndjson
RANGE=$(cat tests/data/demo/RANGE)   # from=...&to=... around the data
EXAMPLE=tau2-57dae868-c146-49bd-9340-e0d30c10305b   # see step 5 below
CHUNK_LINES=1000                     # the server's MAX_BATCH_EVENTS default

die() { echo "demo: $*" >&2; exit 1; }

LISTEN=${LISTEN:-127.0.0.1:8080}
host=${LISTEN%:*}
case $host in "" | 0.0.0.0 | "[::]") host=127.0.0.1 ;; esac   # as run.sh
BASE=http://$host:${LISTEN##*:}

command -v curl >/dev/null || die "curl is missing (make run installs it)"
[[ -s $DATA ]] || die "$DATA is missing"

curl -fsS --max-time 5 "$BASE/healthz" >/dev/null 2>&1 ||
  die "nothing answers on $BASE: start the service with 'make run' first (in another terminal), or set LISTEN"

KEY=${AGENTKPI_KEY:-}
if [[ -z $KEY ]]; then
  [[ -r var/demo.key ]] ||
    die "no key: start the service with 'make run' first (it writes var/demo.key), or set AGENTKPI_KEY"
  KEY=$(cat var/demo.key)
fi

# GET with the key; the body on stdout, or the error and exit 1.
api_get() {
  local out code
  out=$(curl -sS --max-time 60 -w '\n%{http_code}' -H "Authorization: Bearer $KEY" "$BASE$1") ||
    die "GET $1 failed"
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  [[ $code == 200 ]] || die "GET $1 answered $code: $out"
  printf '%s\n' "$out"
}

# 1. Load: NDJSON in chunks of at most 1000 lines (one request each).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
split -l "$CHUNK_LINES" -a 3 -d "$DATA" "$tmp/chunk."
accepted=0 duplicates=0 events=$(grep -c . "$DATA")
convs=$(grep -c '"type":"conversation.started"' "$DATA")
printf 'Loading %s events (%s conversations) from %s into %s ...\n' "$events" "$convs" "$DATA" "$BASE"
for chunk in "$tmp"/chunk.*; do
  code=$(curl -sS --max-time 120 -o "$tmp/reply" -w '%{http_code}' \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$chunk" "$BASE/v1/events") || die "POST /v1/events failed"
  case $code in
    200) ;;
    401) die "the key was refused (401): $(cat "$tmp/reply")" ;;
    403) die "the key lacks the ingest scope (403): $(cat "$tmp/reply")" ;;
    *) die "POST /v1/events answered $code: $(cat "$tmp/reply")" ;;
  esac
  grep -Eq '"rejected": *\[ *\]' "$tmp/reply" ||
    die "some events were rejected: $(head -c 2000 "$tmp/reply")"
  a=$(grep -Eo '"accepted": *[0-9]+' "$tmp/reply" | grep -Eo '[0-9]+$')
  d=$(grep -Eo '"duplicates": *[0-9]+' "$tmp/reply" | grep -Eo '[0-9]+$')
  accepted=$((accepted + a)) duplicates=$((duplicates + d))
done
printf 'accepted %d, duplicates %d (of %d)\n' "$accepted" "$duplicates" "$events"
if [[ $accepted -eq 0 ]]; then
  echo "(everything was already loaded: events are idempotent by id)"
fi

# 2. Queries worth reading. Each is printed as a curl line, then run.
if command -v python3 >/dev/null 2>&1; then HAVE_PY=1; else HAVE_PY=0; fi

# Print the parts of a /v1/kpis answer named in $1 (comma-separated), one
# line per group; without python3, those fields as raw JSON.
show_kpis() {
  if [[ $HAVE_PY == 0 ]]; then   # the group keys and the named fields, raw
    grep -Eo "\"key\":\{[^}]*\}|\"(${1//,/|})\":(\{[^}]*\}|[^,}]*)" |
      awk -F: '/^"key"/ { split("", seen) } !seen[$1]++ { print "    " $0 }'
    return
  fi
  python3 -c '
import json, sys
keys = sys.argv[1].split(",")
doc = json.load(sys.stdin)
def fmt(v):
    if isinstance(v, dict) and "num" in v:
        val = "-" if v["value"] is None else "%.3f" % v["value"]
        return "%s (%d/%d)" % (val, v["num"], v["den"])
    if isinstance(v, float):
        return "%.4f" % v
    return json.dumps(v, separators=(",", ":"))
for g in doc["groups"]:
    label = ", ".join("%s=%s" % kv for kv in g["key"].items()) or "all"
    print("  [%s]" % label)
    for k in keys:
        print("    %-28s %s" % (k, fmt(g["metrics"].get(k))))
' "$1"
}

show_series() {
  if [[ $HAVE_PY == 0 ]]; then grep -Eo '\{"t":[^}]*\}' | sed 's/^/    /'; return; fi
  python3 -c '
import json, sys
doc = json.load(sys.stdin)
for s in doc["series"]:
    for p in s["points"]:
        if p.get("den"):
            print("    %s  %.3f (%d/%d)" % (p["t"][:10], p["value"], p["num"], p["den"]))
        else:
            print("    %s  -  (no conversations)" % p["t"][:10])
'
}

show_conversation() {
  if [[ $HAVE_PY == 0 ]]; then   # the facts come first, then the events
    head -c 2000 | grep -Eo '"(stream|status|resolved_by|escalated|turns|tool_calls|cost_usd|resolution_correct|failure_category)":[^,}]*' |
      head -n 9 | sed 's/^/    /'
    return
  fi
  python3 -c '
import json, sys
doc = json.load(sys.stdin)
c = doc["conversation"]
for k in ("agent_version", "segment", "stream", "status", "resolved_by",
          "escalated", "turns", "tool_calls", "tool_failures", "cost_usd",
          "graded", "resolution_correct", "failure_category"):
    print("    %-20s %s" % (k, json.dumps(c[k], separators=(",", ":"))))
types = {}
for e in doc["events"]:
    types[e["type"]] = types.get(e["type"], 0) + 1
print("    %-20s %s" % ("events", json.dumps(types, separators=(",", ":"))))
'
}

step() {   # step TITLE EXPLANATION PATH; $KEY is printed as is, for pasting
  # shellcheck disable=SC2016
  printf '\n== %s\n%s\n  curl -s -H "Authorization: Bearer $KEY" '"'"'%s%s'"'"'\n' "$1" "$2" "$BASE" "$3"
}

printf '\nThe demo data is from October 2025, so every query below names its\n'
printf 'range (%s); without one, /v1/kpis covers the last 7 days.\n' "$RANGE"
printf 'To paste the curl lines: KEY=%s\n' "$KEY"

q="/v1/kpis?$RANGE"
step "1. The scorecard for all 228 conversations" \
"The AI answered every conversation; it closed 'resolved by ai' in containment_rate,
but the tau2 evaluator (a quality event) found some of those wrong: the difference
is self_grading_gap. Escalations are transfer_to_human_agents calls; the evaluator
expected a transfer in very few of them (escalation_appropriateness)." "$q"
api_get "$q" | show_kpis conversations,containment_rate,true_resolution_rate,self_grading_gap,escalation_rate,escalation_appropriateness,abandonment_rate,fcr_rate,tool_failure_rate,cost_per_resolution,cost_per_successful_outcome,escalation_reasons,failure_categories

q="/v1/kpis?$RANGE&group_by=agent_version"
step "2. By agent model" \
"Which model really resolves, which one hands off, and what a real resolution costs." "$q"
api_get "$q" | show_kpis conversations,containment_rate,true_resolution_rate,self_grading_gap,escalation_rate,escalation_appropriateness,cost_per_successful_outcome

q="/v1/kpis?from=2025-10-13T11:00:00Z&to=2025-10-13T12:00:00Z&group_by=cohort,agent_version"
step "3. An A/B test: default vs tighter airline policy, per model" \
"Between 11:00 and 12:00 on 13 Oct the same 4 tasks x 4 trials ran under both
policies with three models: a like-for-like comparison. The tighter policy cuts
escalations, but look at abandonment: some agents announced a transfer without
making it. 16 conversations per cell: the rates' ci95 intervals are wide." "$q"
api_get "$q" | show_kpis conversations,true_resolution_rate,escalation_rate,abandonment_rate,cost_per_successful_outcome

q="/v1/kpis/timeseries?metric=true_resolution_rate&interval=1d&$RANGE"
step "4. True resolution per day" \
"Every day of the range is present; the runs happened on 5, 6 and 13 October." "$q"
api_get "$q" | show_series

q="/v1/conversations/$EXAMPLE"
step "5. One conversation behind the numbers" \
"A grok-3 booking chat the customer ended as done ('resolved by ai') that the
evaluator graded wrong: it counts in containment but not in true resolution.
The answer lists the facts and every event, so any figure can be audited." "$q"
api_get "$q" | show_conversation

printf '\nMore: group_by=topic (the customer intent), cohort, customer_tier; filters such as\n'
printf '&product_area=telecom; /v1/conversations?status=abandoned&%s\n' "$RANGE"
