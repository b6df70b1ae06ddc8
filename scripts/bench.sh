#!/usr/bin/env bash
# Run every benchmark script; each prints JSON lines {name, value, unit, target}.
# BENCH=load (a glob) runs only bench_load.py; LOAD_DURATION_S sizes the load run (300 s).
set -uo pipefail
mkdir -p bench-output
: > bench-output/results.jsonl
status=0
for script in tests/benchmarks/bench_${BENCH:-*}.py; do
  echo "== $script" >&2
  module=${script%.py}; module=${module//\//.}
  if ! .venv/bin/python -m "$module"; then
    echo "!! $script failed" >&2
    status=1
  fi
done
echo >&2
.venv/bin/python - <<'PY'
import json
rows = [json.loads(line) for line in open("bench-output/results.jsonl")]
width = max((len(r["name"]) for r in rows), default=10)
for r in rows:
    print(f'{r["name"]:<{width}}  {r["value"]:>12} {r["unit"]:<8} target {r.get("target") or "-"}')
PY
exit $status
