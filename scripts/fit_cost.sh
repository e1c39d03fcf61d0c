#!/usr/bin/env bash
# Sweeps the lane width of each example model (compile --lanes N, setup, best of two
# in-process `zkonnx prove` times) and least-squares fits the prove-time cost model of
# circuits/src/layout.rs (CostModel):  t = per_proof + 2^k·(base + per_advice·advice +
# more_lookup·(lookups − 1)), weighted by 1/t. Prints the sweep, the coefficients (µs per row)
# and each layout's measured, old-predicted and refitted time. Takes ~10 minutes.
#   bash scripts/fit_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p zkonnx-cli
bin=./target/release/zkonnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
  local m=$1 lanes=$2 d="$tmp/$1-$2" best=999 t
  $bin compile fixtures/$m/model.onnx --sample fixtures/$m/input_{0..4}.json --out "$d" --lanes "$lanes" >/dev/null
  $bin setup "$d" >/dev/null 2>&1
  for _ in 1 2; do
    t=$($bin prove "$d" fixtures/$m/input_5.json --out "$d/p.json" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
    best=$(python3 -c "print(min($best, $t))")
  done
  python3 -c "import json;s=json.load(open('$d/settings.json'))['layout'];print('$m', $lanes, s['k'], s['advice_columns'], s['lookups'], s['predicted_prove_s'], $best)"
  rm -rf "$d"
}
{
  for l in 2 4 8; do run digits_mlp $l; done
  for l in 2 4 8 16; do run digits_cnn $l; done
  for l in 2 4 8; do run sigmoid_mlp $l; done
  for l in 2 4 8; do run attention $l; done
  for l in 4 6 8 12 16 24 32; do run lenet5 $l; done
} | tee "$tmp/sweep.txt"
python3 - "$tmp/sweep.txt" <<'PY'
import sys
import numpy as np
rows = [l.split() for l in open(sys.argv[1])]
rows = [(m, int(l), int(k), int(a), int(lk), float(p), float(t)) for m, l, k, a, lk, p, t in rows]
X = np.array([[1, 2**k, 2**k * a, 2**k * (lk - 1)] for _, _, k, a, lk, _, _ in rows], dtype=float)
y = np.array([r[6] for r in rows])
coef, *_ = np.linalg.lstsq(X / y[:, None], np.ones_like(y), rcond=None)
print("per_proof_s %.3f  base+first_lookup %.1f us  per_advice %.2f us  more_lookup %.1f us" %
      (coef[0], coef[1] * 1e6, coef[2] * 1e6, coef[3] * 1e6))
for r, p in zip(rows, X @ coef):
    print("%-12s lanes %2d k %2d: measured %6.3f s, predicted before %6.3f, refitted %6.3f" %
          (r[0], r[1], r[2], r[6], r[5], p))
PY
