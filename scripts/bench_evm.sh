#!/usr/bin/env bash
# Gas per on-chain verification and deployed contract sizes for each example model, under
# both layout targets (`compile --target prover|evm`), with the cost model's prediction
# beside them: in revm (Prague's gas schedule) and on anvil's latest hardfork (Osaka, where
# EIP-7883 prices MODEXP higher), as eth_estimateGas of the verifying transaction. A verifier
# over EIP-170 is split; its contracts are listed. Starts anvil (npm ci --prefix .ci/anvil)
# on a free loopback port unless ZKONNX_TEST_RPC names a node.
#   bash scripts/bench_evm.sh [model ...]      (default: every example model)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p zkonnx-cli
bin=./target/release/zkonnx
tmp=$(mktemp -d)
anvil_pid=
cleanup() {
  [ -z "$anvil_pid" ] || kill "$anvil_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "${ZKONNX_TEST_RPC:-}" ]; then
  [ -x .ci/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] || npm ci --prefix .ci/anvil --no-audit --no-fund >/dev/null
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  .ci/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil --host 127.0.0.1 --port "$port" --silent &
  anvil_pid=$!
  ZKONNX_TEST_RPC="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
fi
# anvil's first development key (public knowledge; a local test node only).
export ZKONNX_PRIVATE_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(digits_mlp linreg digits_cnn sigmoid_mlp attention lenet5)
echo "| model | target | k | lanes | commitments | predicted gas | gas used (revm) | gas on anvil | largest contract (bytes) | contracts |"
echo "|---|---|---|---|---|---|---|---|---|---|"
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
    address=$($bin evm deploy "$d" --rpc-url "$ZKONNX_TEST_RPC" | sed -n 's/^verifier deployed at //p')
    node=$($bin evm verify "$d" "$d/proof.json" --rpc-url "$ZKONNX_TEST_RPC" --address "$address" |
      sed -n 's/^gas as a transaction (eth_estimateGas): //p')
    read -r k lanes c pg < <(python3 -c "import json;s=json.load(open('$d/settings.json'))['layout'];print(s['k'],s['lanes'],s['commitments'],s['predicted_gas'])")
    echo "| $model | $target | $k | $lanes | $c | $pg | $gas | $node | $size | ${parts:-1} |"
  done
done
