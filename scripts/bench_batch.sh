#!/usr/bin/env bash
# Batch throughput: prove-batch over N inputs (default 100, cycling the digits fixtures) on
# the 64-32-10 MLP, keys loaded once; prints proofs/minute and peak memory (max RSS), then
# verify-batch's wall time.   bash scripts/bench_batch.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
cargo build --release -q -p zkonnx-cli
bin=./target/release/zkonnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$bin compile fixtures/digits_mlp/model.onnx --sample fixtures/digits_mlp/input_{0..4}.json --out "$tmp/model" >/dev/null
$bin setup "$tmp/model" >/dev/null 2>&1
mkdir "$tmp/in"
for i in $(seq 0 $((n - 1))); do cp "fixtures/digits_mlp/input_$((i % 10)).json" "$tmp/in/in$i.json"; done
/usr/bin/time -f "%e %M" -o "$tmp/t" $bin prove-batch "$tmp/model" "$tmp/in" --out "$tmp/proofs" >/dev/null 2>&1
read -r wall rss <"$tmp/t"
/usr/bin/time -f "%e %M" -o "$tmp/v" $bin verify-batch "$tmp/model" "$tmp/proofs" >/dev/null
read -r vwall vrss <"$tmp/v"
python3 - "$n" "$wall" "$rss" "$vwall" "$vrss" <<'PY'
import sys
n, wall, rss, vwall, vrss = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"prove-batch: {n} proofs in {wall:.1f} s = {n * 60 / wall:.0f} proofs/minute ({wall / n:.3f} s/proof), peak RSS {rss / 1024:.0f} MiB")
print(f"verify-batch: {n} proofs in {vwall:.2f} s ({vwall / n * 1000:.1f} ms/proof), peak RSS {vrss / 1024:.0f} MiB")
PY
