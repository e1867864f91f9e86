#!/usr/bin/env python3
"""Assembles <out>/device.json from run.sh's phase records (docs/native.md, "The GPU kit").

Python, not the kit's node: the record must come out on a machine where that node cannot start.
Inputs in --rec: NAME.status (status, rc, seconds, budget[, reason] — one a line), NAME.out (the phase's stdout:
its last JSON line is the phase's result), NAME.err (stderr: its tail is kept), machine.env (preflight's
key=value lines). The table: --table/rows.jsonl (gl-rl's rows) and rec/torch.out (PyTorch's rows, JSON lines).
A phase run.sh never recorded is "skipped" with the stop's reason. "passed": no stop, no phase failed or timed
out, and every check's failure list is empty. Exit 0 when passed, 1 otherwise.
"""
import argparse
import json
import os
import time

PHASES = [
    "unpack",
    "preflight",
    "cuda-build",
    "table-models",
    "torch",
    "probe",
    "check-f32",
    "check-default",
    "check-quantized",
    "grpo-step",
    "table",
]
CHECKS = ["check-f32", "check-default", "check-quantized"]


def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def json_lines(text):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    return rows


def phase_record(rec, name, stop):
    lines = read(os.path.join(rec, name + ".status")).split("\n")
    if not lines[0]:
        return {"name": name, "status": "skipped", "reason": "stopped after " + stop if stop else "not run"}
    status, rc, seconds, budget = (lines + ["", "", "", ""])[:4]
    record = {"name": name, "status": status}
    if status == "skipped":
        record["reason"] = lines[4] if len(lines) > 4 else ""
        return record
    record.update(rc=int(rc or 0), seconds=int(seconds or 0), budget=int(budget or 0))
    results = json_lines(read(os.path.join(rec, name + ".out")))
    record["result"] = results[-1] if results else None
    record["stderrTail"] = read(os.path.join(rec, name + ".err"))[-1500:]
    return record


def table_rows(table_dir, rec):
    ours = json_lines(read(os.path.join(table_dir, "rows.jsonl")))
    torch = json_lines(read(os.path.join(rec, "torch.out")))
    key = lambda r: (r.get("model"), r.get("rank"), r.get("dropout"))  # noqa: E731
    by_dtype = {(key(r), r.get("dtype")): r for r in torch if "tokensPerSecond" in r}
    for row in ours:
        for dtype in ("bf16", "f32"):
            ref = by_dtype.get((key(row), dtype))
            if ref and row.get("tokensPerSecond"):
                row["torch_" + dtype] = {
                    "tokensPerSecond": ref["tokensPerSecond"],
                    "peakDeviceMiB": ref.get("peakDeviceMiB"),
                    "speedRatio": round(row["tokensPerSecond"] / ref["tokensPerSecond"], 3),
                    "memoryRatio": round(row["peakDeviceMiB"] / ref["peakDeviceMiB"], 3)
                    if row.get("peakDeviceMiB") and ref.get("peakDeviceMiB")
                    else None,
                }
    return ours, torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rec", required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--started", type=int, required=True)
    p.add_argument("--deadline", type=int, required=True)
    p.add_argument("--stop", default="")
    a = p.parse_args()
    machine = {}
    for line in read(os.path.join(a.rec, "machine.env")).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            machine[k] = v
    phases = [phase_record(a.rec, name, a.stop) for name in PHASES]
    failures = []
    for ph in phases:
        if ph["name"] in CHECKS and ph["status"] == "ok":
            result = ph.get("result") or {}
            if "error" in result:
                failures.append("%s: %s" % (ph["name"], result["error"].get("message")))
            failures += ["%s: %s" % (ph["name"], f) for f in result.get("failures", [])]
    broken = [ph["name"] for ph in phases if ph["status"] in ("failed", "timeout")]
    rows, torch = table_rows(a.table, a.rec)
    record = {
        "schema": "gl-rl-device/1",
        "mode": a.mode,
        "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a.started)),
        "seconds": int(time.time()) - a.started,
        "deadlineSeconds": a.deadline,
        "machine": machine,
        "stop": a.stop or None,
        "phases": phases,
        "checks": {"passed": not failures and not a.stop, "failures": failures},
        "table": rows,
        "torch": torch,
        "passed": not a.stop and not broken and not failures,
    }
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    return 0 if record["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
