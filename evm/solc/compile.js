// Compiles one Solidity source read from stdin with the pinned solc (WebAssembly build).
// Usage: node compile.js SETTINGS_JSON < Verifier.sol
// SETTINGS_JSON is solc's standard-JSON "optimizer" object, e.g. '{"enabled":false}'.
// Prints one JSON object: {version, contracts: {name: {bytecode, deployedBytecode}}} or
// {errors: [...]}.
"use strict";
const solc = require("solc");

const optimizer = JSON.parse(process.argv[2] || '{"enabled":false}');
let source = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (source += chunk));
process.stdin.on("end", () => {
  const input = {
    language: "Solidity",
    sources: { "Verifier.sol": { content: source } },
    settings: {
      optimizer,
      // No metadata hash: a contract's code then depends only on its own source and these
      // settings, so a split verifier's main contract can pin its parts' code hashes.
      metadata: { bytecodeHash: "none", appendCBOR: false },
      outputSelection: { "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === "error").map((e) => e.formattedMessage || e.message);
  if (errors.length > 0) {
    process.stdout.write(JSON.stringify({ errors }));
    return;
  }
  const contracts = {};
  for (const [name, c] of Object.entries(out.contracts["Verifier.sol"])) {
    contracts[name] = { bytecode: c.evm.bytecode.object, deployedBytecode: c.evm.deployedBytecode.object };
  }
  process.stdout.write(JSON.stringify({ version: solc.version(), contracts }));
});
