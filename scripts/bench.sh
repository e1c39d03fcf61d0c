#!/usr/bin/env bash
# Benchmarks beyond criterion: peak memory (max RSS) and CLI wall time of each step on the
# example models and the model zoo, beside the cost model's predicted prove time, and each
# prove time as a ratio of the MLP's measured in the same run. Prints a Markdown table.
#   bash scripts/bench.sh            (criterion: cargo bench --bench pipeline)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p zkonnx-cli
bin=./target/release/zkonnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

measure() { # command...: prints "wall_s max_rss_MiB"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" '{printf "%.3f %.1f", b - a, $1/1024}' "$tmp/time"
}

echo "| model | k | advice cols | predicted prove (s) | CLI compile s / MiB | CLI setup s / MiB | CLI prove s / MiB | prove ÷ MLP prove | CLI verify s / MiB | proof bytes |"
echo "|---|---|---|---|---|---|---|---|---|---|"
base=""
for model in ${MODELS:-digits_mlp linreg digits_cnn lenet5 sigmoid_mlp attention}; do
  d="$tmp/$model"
  samples=(fixtures/$model/input_{0..4}.json)
  c=$(measure $bin compile fixtures/$model/model.onnx --sample "${samples[@]}" --out "$d")
  s=$(measure $bin setup "$d")
  p=$(measure $bin prove "$d" fixtures/$model/input_5.json --out "$d/proof.json")
  v=$(measure $bin verify "$d" "$d/proof.json")
  read -r k adv pred < <(python3 -c "import json;s=json.load(open('$d/settings.json'))['layout'];print(s['k'],s['advice_columns'],round(s['predicted_prove_s'],3))")
  bytes=$(python3 -c "import json;print((len(json.load(open('$d/proof.json'))['proof'])-2)//2)")
  wall=${p%% *}
  base=${base:-$wall}
  ratio=$(awk -v a="$wall" -v b="$base" 'BEGIN{printf "%.2f", a / b}')
  echo "| $model | $k | $adv | $pred | ${c/ / \/ } | ${s/ / \/ } | ${p/ / \/ } | $ratio | ${v/ / \/ } | $bytes |"
done
