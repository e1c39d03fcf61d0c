// Compiles a generated verifier (path in argv[2], default Verifier.sol) with solc 0.8.19
// under several optimizer settings and prints the deployed size and compile time of each:
// the measurement behind zkonnx-evm's choice of settings (`evm/src/solc.rs`). The default
// Yul optimizer sequence fails with "stack too deep" on snark-verifier's assembly block, and
// via-IR strips it to an empty contract.
//   node scripts/evm_settings.js Verifier.sol
"use strict";
const path = require("path");
const fs = require("fs");
const solc = require(path.join(__dirname, "../evm/solc/node_modules/solc"));
const src = fs.readFileSync(process.argv[2] || "Verifier.sol", "utf8");
const short = { yul: true, yulDetails: { stackAllocation: true, optimizerSteps: "dhfoDgvulfnTUtnIf" } };
const variants = [
  ["optimizer off", { optimizer: { enabled: false } }],
  ["optimizer on, runs 1, default Yul sequence", { optimizer: { enabled: true, runs: 1 } }],
  ["optimizer on, via-IR", { optimizer: { enabled: true, runs: 1 }, viaIR: true }],
  ["optimizer on, runs 1, no Yul optimizer", { optimizer: { enabled: true, runs: 1, details: { yul: false } } }],
  ["optimizer on, runs 1, short Yul sequence", { optimizer: { enabled: true, runs: 1, details: short } }],
  ["optimizer on, runs 100000, short Yul sequence (zkonnx)", { optimizer: { enabled: true, runs: 100000, details: short } }],
];
for (const [name, settings] of variants) {
  const t = Date.now();
  settings.outputSelection = { "*": { "*": ["evm.deployedBytecode.object"] } };
  const out = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources: { "V.sol": { content: src } }, settings })));
  const errs = (out.errors || []).filter((e) => e.severity === "error");
  if (errs.length) {
    console.log(`${name}: error: ${errs[0].message.slice(0, 90)} (${Date.now() - t} ms)`);
    continue;
  }
  const sizes = Object.entries(out.contracts["V.sol"]).map(([k, c]) => `${k} ${c.evm.deployedBytecode.object.length / 2}`);
  console.log(`${name}: deployed bytes ${sizes.join(", ")} (${Date.now() - t} ms)`);
}
