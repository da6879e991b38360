"""Markdown table rows from `recsys eval` JSON lines on stdin (used by
bench/cold_start.sh).

    eval_rows.py DATASET LABEL METRIC...
"""
import json
import sys

dataset, label, metrics = sys.argv[1], sys.argv[2], sys.argv[3:]
for line in sys.stdin:
    r = json.loads(line)
    model = "collab (als)" if r["model"] == "als" else r["model"]
    what = label + (f" (keep {r['keep']})" if "keep" in r else "")
    cells = [dataset, what, model] + [f"{r[m]:.4f}" for m in metrics]
    print("| " + " | ".join(cells) + " |")
