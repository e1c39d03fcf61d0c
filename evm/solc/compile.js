// Compiles one Solidity source read from stdin with the pinned solc (WebAssembly build).
// Usage: node compile.js RUNS < Verifier.sol     (RUNS = "off" disables the optimizer)
// Prints one JSON object: {version, bytecode, deployedBytecode} or {errors: [...]}.
"use strict";
const solc = require("solc");

const arg = process.argv[2] || "off";
const optimizer = arg === "off" ? { enabled: false } : { enabled: true, runs: parseInt(arg, 10) };
let source = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (source += chunk));
process.stdin.on("end", () => {
  const input = {
    language: "Solidity",
    sources: { "Verifier.sol": { content: source } },
    settings: {
      optimizer,
      outputSelection: { "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === "error").map((e) => e.formattedMessage || e.message);
  if (errors.length > 0) {
    process.stdout.write(JSON.stringify({ errors }));
    return;
  }
  const contracts = out.contracts["Verifier.sol"];
  const name = Object.keys(contracts)[0];
  const evm = contracts[name].evm;
  process.stdout.write(
    JSON.stringify({
      version: solc.version(),
      contract: name,
      bytecode: evm.bytecode.object,
      deployedBytecode: evm.deployedBytecode.object,
    }),
  );
});
