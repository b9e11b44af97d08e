#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Convert tau2-bench simulation files into agentkpi events (NDJSON).

Usage: scripts/tau2_to_events.py SRC_DIR [OUT_DIR]

SRC_DIR holds the tau2-bench-grok-runs *.json files and their LICENSE (see
tests/data/demo/ATTRIBUTION.md for where they come from). OUT_DIR defaults
to tests/data/demo. Writes, deterministically (same input, same bytes):

  OUT_DIR/tau2_events.ndjson  one event per line, metrics-spec section 1
  OUT_DIR/RANGE               from=...&to=... covering every event's ts
  OUT_DIR/LICENSE             a copy of SRC_DIR/LICENSE

Standard library only. No message text is copied: events carry none.
The mapping, one simulation = one conversation, is described in
tests/data/demo/ATTRIBUTION.md; in short:

- conversation.started at start_time, with the segment, customer_id and
  agent_version (the other events carry none; facts take them from here).
- message: every user/assistant message with text (author customer/ai).
  A message that only carries tool calls is not a turn: no text reached the
  other side. The source timestamps have no UTC offset; they are read as UTC.
- tool_call: each tool call the *agent* made, ok = not the result's error,
  latency_ms = result time - call time. The customer's own device actions
  (telecom, requestor "user") are left out.
- cost_usd: the agent's per-message LLM cost, on that message's event (or
  on its first tool_call when the message has no text). The user
  simulator's cost is not a support cost and is dropped.
- handoff: a transfer_to_human_agents call by the agent.
- outcome, at end_time: escalated + reward 1 -> resolved by human;
  escalated + reward 0 -> nothing (the human side is not in the data, the
  conversation stays open); not escalated and the customer ended with
  ###STOP### -> resolved by ai (what a helpdesk would record); any other
  ending (###OUT-OF-SCOPE###, or ###TRANSFER### after a transfer that was
  announced but never made) -> abandoned.
- quality, at end_time: the tau2 evaluator's verdict (grader
  "tau2-bench-evaluator"): resolution_correct = reward == 1; on escalated
  conversations escalation_appropriate = the task's expected actions
  include the transfer; failure_category when reward < 1.
"""

import hashlib
import json
import os
import re
import shutil
import sys
from datetime import datetime, timedelta, timezone

GRADER = "tau2-bench-evaluator"
TRANSFER = "transfer_to_human_agents"
MAX_LINES_PER_POST = 1000
MAX_BODY_BYTES = 1048576

# The customer asked for a person before the agent transferred (matched on
# the customer's own text, which is not copied).
ASKED_FOR_HUMAN = re.compile(
    r"\b(human agent|human representative|real person|live agent|"
    r"supervisor|manager|(speak|talk) (to|with) (a |an |someone|somebody)?"
    r"(human|person|representative))\b",
    re.I,
)
# Tools that only read; the first other expected action names the topic.
READ_ONLY = re.compile(r"^(get_|search_|list_|calculate$|think$)")


def parse_ts(s):
    """A source timestamp (naive ISO 8601, no offset) read as UTC."""
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def fmt_ts(t):
    """RFC 3339 with 'Z', milliseconds (what agentkpi stores)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def digest(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def customer_tier(customer_id):
    n = int(digest("tier", customer_id)[:8], 16) % 10
    return "free" if n < 6 else "pro" if n < 9 else "enterprise"


def topic_of(domain, task):
    """The customer's intent: the telecom issue, or the first write action
    the airline task expects (no_change_expected when it expects none)."""
    if domain.startswith("telecom"):
        m = re.match(r"\[([^\]]+)\]", task["id"])
        return m.group(1) if m else "telecom_other"
    actions = (task.get("evaluation_criteria") or {}).get("actions") or []
    for a in actions:
        if not READ_ONLY.match(a["name"]):
            return a["name"]
    return "no_change_expected"


def failure_category(breakdown):
    """Which part of the evaluator's check failed. DB (airline) and
    ENV_ASSERTION (telecom device state) both check the end state of the
    systems the agent acts on -> workflow; COMMUNICATE -> communication."""
    if breakdown.get("DB", 1.0) < 1.0 or breakdown.get("ENV_ASSERTION", 1.0) < 1.0:
        return "workflow"
    if breakdown.get("COMMUNICATE", 1.0) < 1.0:
        return "communication"
    return None


def run_tag(path):
    """File name up to the _NNsims part: one tau2 run (model x policy)."""
    base = os.path.basename(path)
    return re.sub(r"_\d+sims_.*$", "", base)


def convert_simulation(sim, info, task, tag):
    domain = info["environment_info"]["domain_name"]
    product_area = domain.split("_")[0].split("-")[0]  # airline, telecom
    conv = "tau2-" + sim["id"]
    # One customer per (run, task): the trials of a task inside one run are
    # the same customer contacting again; runs (A/B arms) never share one.
    customer_id = "cust-" + digest("customer", tag, sim["task_id"])[:12]
    reward = float(sim["reward_info"]["reward"])
    start = parse_ts(sim["start_time"])
    end = parse_ts(sim["end_time"])
    msgs = sim["messages"]

    events = []

    def ev(kind, suffix, ts, **fields):
        e = {"id": conv + "-" + suffix, "type": kind,
             "conversation_id": conv, "ts": fmt_ts(ts)}
        e.update(fields)
        events.append(e)
        return e

    ev("conversation.started", "000-start", start,
       customer_id=customer_id,
       agent_version=info["agent_info"]["llm"],
       segment={"channel": "chat",
                "topic": topic_of(domain, task),
                "customer_tier": customer_tier(customer_id),
                "language": "en",
                "product_area": product_area,
                "cohort": domain})

    results = {m["id"]: m for m in msgs if m["role"] == "tool"}
    handoff = None
    customer_asked = False
    last_customer_text = ""
    for m in msgs:
        role = m["role"]
        if role == "tool":
            continue
        if role not in ("user", "assistant"):
            raise ValueError("%s: unexpected role %r" % (conv, role))
        ts = parse_ts(m["timestamp"])
        turn = "%03d" % (int(m["turn_idx"]) + 1)  # 000 is the start
        text = m.get("content") or ""
        cost = m.get("cost") or 0.0
        pending_cost = cost if role == "assistant" and cost > 0 else None
        if role == "user" and text:
            last_customer_text = text
            if ASKED_FOR_HUMAN.search(text):
                customer_asked = True
        if text:
            e = ev("message", turn + "-msg", ts,
                   author="ai" if role == "assistant" else "customer")
            if pending_cost is not None:
                e["cost_usd"] = pending_cost
                pending_cost = None
        for k, call in enumerate(m.get("tool_calls") or []):
            if call.get("requestor") != "assistant":
                continue  # the customer's own device action (telecom)
            res = results.get(call["id"])
            if res is None:
                raise ValueError("%s: tool call %s has no result" % (conv, call["id"]))
            e = ev("tool_call", "%s-tool%d" % (turn, k), ts,
                   name=call["name"], ok=not res.get("error", False),
                   latency_ms=max(0, round((parse_ts(res["timestamp"]) - ts)
                                           / timedelta(milliseconds=1))))
            if pending_cost is not None:
                e["cost_usd"] = pending_cost
                pending_cost = None
            if call["name"] == TRANSFER and handoff is None:
                asked = customer_asked
                handoff = ev("handoff", "%s-handoff" % turn, ts,
                             reason="customer_requested" if asked else "ai_unable",
                             initiated_by="customer" if asked else "ai")
        if pending_cost is not None:
            raise ValueError("%s: cost with no event to carry it" % conv)

    escalated = handoff is not None
    stop = "###STOP###" in last_customer_text
    if escalated:
        if reward == 1.0:
            ev("resolved", "zzz-outcome", end, by="human")
        outcome = "resolved_human" if reward == 1.0 else "open"
    elif stop:
        ev("resolved", "zzz-outcome", end, by="ai")
        outcome = "resolved_ai"
    else:
        ev("abandoned", "zzz-outcome", end)
        outcome = "abandoned"

    q = {"grader": GRADER, "resolution_correct": reward == 1.0}
    if escalated:
        expected = (task.get("evaluation_criteria") or {}).get("actions") or []
        q["escalation_appropriate"] = any(a["name"] == TRANSFER for a in expected)
    if reward < 1.0:
        cat = failure_category(sim["reward_info"].get("reward_breakdown") or {})
        if cat:
            q["failure_category"] = cat
    ev("quality", "zzz-quality", end, **q)

    return events, {"outcome": outcome, "escalated": escalated,
                    "reward": reward, "start": start, "end": end,
                    "agent_cost": float(sim.get("agent_cost") or 0.0)}


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    src = argv[1]
    out = argv[2] if len(argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "demo")
    files = sorted(f for f in os.listdir(src) if f.endswith(".json"))
    if not files:
        sys.stderr.write("tau2_to_events: no *.json in %s\n" % src)
        return 1

    lines, stats = [], []
    for name in files:
        with open(os.path.join(src, name), encoding="utf-8") as fh:
            data = json.load(fh)
        tasks = {t["id"]: t for t in data["tasks"]}
        for sim in data["simulations"]:
            events, st = convert_simulation(sim, data["info"], tasks[sim["task_id"]],
                                            run_tag(name))
            lines.extend(json.dumps(e, ensure_ascii=False, separators=(",", ":"),
                                    sort_keys=False) for e in events)
            stats.append(st)
            # every agent dollar lands on some event
            got = sum(e.get("cost_usd", 0.0) for e in events)
            if abs(got - st["agent_cost"]) > 1e-9:
                raise ValueError("%s: cost %r != agent_cost %r"
                                 % (sim["id"], got, st["agent_cost"]))

    ids = [json.loads(l)["id"] for l in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate event ids")
    for i in range(0, len(lines), MAX_LINES_PER_POST):
        size = sum(len(l.encode()) + 1 for l in lines[i:i + MAX_LINES_PER_POST])
        if size > MAX_BODY_BYTES:
            raise ValueError("a %d-line chunk is %d bytes, over 1 MiB"
                             % (MAX_LINES_PER_POST, size))

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tau2_events.ndjson"), "w", encoding="utf-8",
              newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    day = timedelta(days=1)
    lo = min(s["start"] for s in stats).replace(hour=0, minute=0, second=0,
                                                microsecond=0)
    hi = max(s["end"] for s in stats).replace(hour=0, minute=0, second=0,
                                              microsecond=0) + day
    with open(os.path.join(out, "RANGE"), "w", encoding="utf-8") as fh:
        fh.write("from=%s&to=%s\n" % (lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                      hi.strftime("%Y-%m-%dT%H:%M:%SZ")))
    shutil.copyfile(os.path.join(src, "LICENSE"), os.path.join(out, "LICENSE"))

    count = {}
    for l in lines:
        t = json.loads(l)["type"]
        count[t] = count.get(t, 0) + 1
    outcomes = {}
    for s in stats:
        outcomes[s["outcome"]] = outcomes.get(s["outcome"], 0) + 1
    sys.stderr.write(
        "tau2_to_events: %d conversations, %d events %s\n"
        "  outcomes %s; escalated %d; reward 1: %d\n"
        % (len(stats), len(lines), json.dumps(count, sort_keys=True),
           json.dumps(outcomes, sort_keys=True),
           sum(s["escalated"] for s in stats),
           sum(s["reward"] == 1.0 for s in stats)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
