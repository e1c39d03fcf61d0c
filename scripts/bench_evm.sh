#!/usr/bin/env bash
# Gas per on-chain verification and deployed contract sizes for each example model, under
# both layout targets (`compile --target prover|evm`), with the cost model's prediction
# beside them. A verifier over EIP-170 is split; its contracts are listed.
#   bash scripts/bench_evm.sh [model ...]      (default: every example model)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p zkonnx-cli
bin=./target/release/zkonnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(digits_mlp linreg digits_cnn sigmoid_mlp attention lenet5)
echo "| model | target | k | lanes | commitments | predicted gas | gas used | largest contract (bytes) | contracts |"
echo "|---|---|---|---|---|---|---|---|---|"
for model in "${models[@]}"; do
  for target in prover evm; do
    d="$tmp/$model-$target"
    $bin compile fixtures/$model/model.onnx --sample fixtures/$model/input_{0..4}.json --out "$d" --target $target >/dev/null
    $bin setup "$d" >/dev/null 2>&1
    $bin prove "$d" fixtures/$model/input_5.json --out "$d/proof.json" >/dev/null
    $bin evm verify "$d" "$d/proof.json" >"$tmp/evm.txt"
    gas=$(sed -n 's/^gas used: //p' "$tmp/evm.txt")
    size=$(sed -n 's/^deployed size: \([0-9]*\).*/\1/p' "$tmp/evm.txt")
    parts=$(sed -n 's/^contracts: //p' "$tmp/evm.txt")
    read -r k lanes c pg < <(python3 -c "import json;s=json.load(open('$d/settings.json'))['layout'];print(s['k'],s['lanes'],s['commitments'],s['predicted_gas'])")
    echo "| $model | $target | $k | $lanes | $c | $pg | $gas | $size | ${parts:-1} |"
  done
done
