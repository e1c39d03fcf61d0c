// Compiles a generated verifier (path in argv[2], default Verifier.sol) with solc 0.8.19
// under three optimizer settings and prints the deployed size and compile time of each:
// the measurement behind zkonnx-evm's choice of "optimizer off".
//   node scripts/evm_settings.js Verifier.sol
"use strict";
const path = require("path");
const fs = require("fs");
const solc = require(path.join(__dirname, "../evm/solc/node_modules/solc"));
const src = fs.readFileSync(process.argv[2] || "Verifier.sol", "utf8");
const variants = [
  ["optimizer off", { optimizer: { enabled: false } }],
  ["optimizer on, runs 1", { optimizer: { enabled: true, runs: 1 } }],
  ["optimizer on, via-IR", { optimizer: { enabled: true, runs: 1 }, viaIR: true }],
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
  const c = out.contracts["V.sol"];
  const k = Object.keys(c)[0];
  console.log(`${name}: deployed ${c[k].evm.deployedBytecode.object.length / 2} bytes (${Date.now() - t} ms)`);
}
