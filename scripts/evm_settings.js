// Compiles a verifier written by `zkonnx evm verifier` (path in argv[2], default
// Verifier.sol) with solc 0.8.19 under the settings contract authors use, and prints the
// deployed size and compile time of each (gas: tests/evm.rs prints it per setting). Every
// setting compiles but via-IR with the optimizer on, which fails ("stack too deep") rather
// than giving a contract that never accepts.
//   node scripts/evm_settings.js Verifier.sol
"use strict";
const path = require("path");
const fs = require("fs");
const solc = require(path.join(__dirname, "../evm/solc/node_modules/solc"));
const src = fs.readFileSync(process.argv[2] || "Verifier.sol", "utf8");
const variants = [
  ["optimizer off (Foundry's and Hardhat's default)", { optimizer: { enabled: false } }],
  ["optimizer on, runs 200", { optimizer: { enabled: true, runs: 200 } }],
  ["optimizer on, runs 100000 (zkonnx)", { optimizer: { enabled: true, runs: 100000 } }],
  ["via-IR, optimizer off", { optimizer: { enabled: false }, viaIR: true }],
  ["via-IR, optimizer on", { optimizer: { enabled: true, runs: 200 }, viaIR: true }],
];
for (const [name, settings] of variants) {
  const t = Date.now();
  settings.metadata = { bytecodeHash: "none", appendCBOR: false };
  settings.outputSelection = { "*": { "*": ["evm.deployedBytecode.object"] } };
  const out = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources: { "V.sol": { content: src } }, settings })));
  const errs = (out.errors || []).filter((e) => e.severity === "error");
  if (errs.length) {
    console.log(`${name}: error: ${errs[0].message.slice(0, 90)} (${Date.now() - t} ms)`);
    continue;
  }
  const sizes = Object.entries(out.contracts["V.sol"]).map(([k, c]) => `${k} ${c.evm.deployedBytecode.object.length / 2}`);
  console.log(`${name}: ${sizes.join(", ")} bytes (${Date.now() - t} ms)`);
}
