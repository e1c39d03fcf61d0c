// Compiles one Solidity source read from stdin with the pinned solc (WebAssembly build).
// Usage: node compile.js SETTINGS_JSON < Verifier.sol
// SETTINGS_JSON is solc's standard-JSON "settings" object without "outputSelection", e.g.
// '{"optimizer":{"enabled":true,"runs":200},"viaIR":false,"metadata":{"bytecodeHash":"none","appendCBOR":false}}'.
// Prints one JSON object: {version, contracts: {name: {bytecode, deployedBytecode,
// immutables: [{start, length}]}}} or
// {errors: [...]}.
"use strict";
const solc = require("solc");

const settings = JSON.parse(process.argv[2] || '{"optimizer":{"enabled":false}}');
settings.outputSelection = {
  "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"] },
};
let source = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (source += chunk));
process.stdin.on("end", () => {
  const input = { language: "Solidity", sources: { "Verifier.sol": { content: source } }, settings };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === "error").map((e) => e.formattedMessage || e.message);
  if (errors.length > 0) {
    process.stdout.write(JSON.stringify({ errors }));
    return;
  }
  const contracts = {};
  for (const [name, c] of Object.entries(out.contracts["Verifier.sol"])) {
    const immutables = Object.values(c.evm.deployedBytecode.immutableReferences || {}).flat();
    contracts[name] = { bytecode: c.evm.bytecode.object, deployedBytecode: c.evm.deployedBytecode.object, immutables };
  }
  process.stdout.write(JSON.stringify({ version: solc.version(), contracts }));
});
