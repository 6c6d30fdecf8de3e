#!/usr/bin/env node
// node web/verify-cli.mjs EXPORT_DIR [--public-key KEY.pem] [--tree-head SIZE:ROOT|FILE]
// Verifies a zonecase export with web/verify.js and prints the JSON report.
// Exit 0: verified; 1: a problem found; 2: the inspector's own input cannot be read.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { VerifyError, parseJson, parseTreeHead, plain, rawPublicKey, verifyExport } from "./verify.js";

function usage(message) {
  process.stderr.write(`${message}\nusage: node web/verify-cli.mjs EXPORT_DIR [--public-key KEY.pem] [--tree-head SIZE:ROOT|FILE]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let folder = null;
let keyFile = null;
let headArg = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--public-key") keyFile = args[++i] ?? usage("--public-key needs a file");
  else if (args[i] === "--tree-head") headArg = args[++i] ?? usage("--tree-head needs SIZE:ROOT or a file");
  else if (args[i].startsWith("--")) usage(`unknown option ${args[i]}`);
  else if (folder === null) folder = args[i];
  else usage("one export folder only");
}
if (folder === null) usage("no export folder given");
if (!existsSync(folder) || !statSync(folder).isDirectory()) usage(`No export folder at ${folder}`);

const problems = [];
let pinned = true;
let pem;
if (keyFile !== null) {
  if (!existsSync(keyFile)) usage(`No public key at ${keyFile}`);
  pem = readFileSync(keyFile, "latin1");
  try {
    rawPublicKey(pem);
  } catch (err) {
    usage(`${keyFile} ${err.message}`);
  }
} else {
  pinned = false;
  const own = join(folder, "public-key.pem");
  if (!existsSync(own)) {
    problems.push({ problem: "public-key.pem is missing, and no key is pinned (--public-key)" });
  } else {
    pem = readFileSync(own, "latin1");
  }
}

let treeHead = null;
if (headArg !== null) {
  try {
    treeHead = parseTreeHead(headArg);
  } catch (err) {
    if (!existsSync(headArg)) usage(`--tree-head: ${err.message}`);
    let saved;
    try {
      saved = plain(parseJson(readFileSync(headArg, "utf8")));
    } catch {
      usage(`--tree-head: ${headArg} is not JSON`);
    }
    if (saved === null || typeof saved !== "object" || !Number.isSafeInteger(saved.tree_size) || saved.tree_size < 1) {
      usage(`--tree-head: ${headArg} is not a tree head (a tree_size of at least 1)`);
    }
    if (typeof saved.root_hash !== "string" || !/^[0-9a-fA-F]{64}$/.test(saved.root_hash)) {
      usage(`--tree-head: ${headArg}: the root must be 64 hex digits`);
    }
    treeHead = saved;
  }
}

const eventsFile = join(folder, "events.ndjson");
const checkpointsFile = join(folder, "checkpoints.json");
let events = new Uint8Array(0);
if (existsSync(eventsFile)) events = new Uint8Array(readFileSync(eventsFile));
else problems.push({ problem: "events.ndjson is missing" });
const checkpoints = existsSync(checkpointsFile) ? readFileSync(checkpointsFile, "utf8") : null;

let report;
if (pem === undefined) {
  report = { ok: false, events_checked: 0, problems };
} else {
  try {
    report = await verifyExport({ events, checkpoints, publicKeyPem: pem, treeHead });
  } catch (err) {
    if (!(err instanceof VerifyError)) throw err;
    report = { ok: false, events_checked: 0, problems: [{ problem: `the export's public-key.pem ${err.message}` }] };
  }
  report.problems = [...problems, ...report.problems];
  report.ok = report.problems.length === 0;
  if (!pinned) report.key = `the export's own public-key.pem (not pinned: a forger re-signs with a key of their own)`;
}
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
process.exit(report.ok ? 0 : 1);
