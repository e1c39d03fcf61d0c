#!/usr/bin/env bash
# Gas per on-chain verification and deployed contract size for each example model, with the
# cost model's prediction beside them.   bash scripts/bench_evm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p zkonnx-cli
bin=./target/release/zkonnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| model | k | commitments | predicted gas | gas used | deployed bytes |"
echo "|---|---|---|---|---|---|"
for model in digits_mlp linreg; do
  d="$tmp/$model"
  $bin compile fixtures/$model/model.onnx --sample fixtures/$model/input_{0..4}.json --out "$d" >/dev/null
  $bin setup "$d" >/dev/null 2>&1
  $bin prove "$d" fixtures/$model/input_5.json --out "$d/proof.json" >/dev/null
  $bin evm verify "$d" "$d/proof.json" >"$tmp/evm.txt"
  gas=$(sed -n 's/^gas used: //p' "$tmp/evm.txt")
  size=$(sed -n 's/^deployed size: \([0-9]*\).*/\1/p' "$tmp/evm.txt")
  read -r k c pg < <(python3 -c "import json;s=json.load(open('$d/settings.json'))['layout'];print(s['k'],s['commitments'],s['predicted_gas'])")
  echo "| $model | $k | $c | $pg | $gas | $size |"
done
