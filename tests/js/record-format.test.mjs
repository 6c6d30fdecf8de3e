// Every hash of docs/record-format.md's worked examples, recomputed by web/verify.js from the values quoted there.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as v from "../../web/verify.js";
import { example } from "./helpers.mjs";

const text = (bytes) => new TextDecoder().decode(bytes);
const events = () => example("events.ndjson").split("\n").map(v.parseJson);

test("§3.5: the event's JCS document is exactly the bytes quoted, and its hash the one quoted", async () => {
  const event = v.parseJson(example("event"));
  const doc = v.eventDocument(event);
  assert.equal(doc.scheme, "jcs-sha256/1");
  assert.equal(text(doc.bytes), example("event-document"));
  assert.equal(await v.eventHash(event), example("event-hash"));
  assert.equal(event.hash, example("event-hash"));
});

test("§3.5: each of the five exported events recomputes to its hash, and the chains hold", async () => {
  const rows = events();
  assert.equal(rows.length, 5);
  const last = new Map();
  for (const e of rows) {
    assert.deepEqual(v.eventShapeProblems(e), []);
    assert.equal(await v.eventHash(e), e.hash, `position ${e.position.raw}`);
    assert.equal(e.body.prev_hash, last.get(e.originator_id) ?? v.GENESIS);
    last.set(e.originator_id, e.hash);
  }
});

test("§3: a changed character, member or number changes the hash", async () => {
  const original = example("event");
  for (const [from, to] of [
    ["不属于软件园区。", "属于软件园区。"],
    ['{"$decimal": "0.6"}', '{"$decimal": "0.60"}'],
    ['"value": 12000000000', '"value": 12000000001'],
    ['"version": 2', '"version": 3'],
    ["2021-07-16T02:00:00+00:00", "2021-07-16T02:00:00Z"],
  ]) {
    assert.ok(original.includes(from), from);
    assert.notEqual(await v.eventHash(v.parseJson(original.replace(from, to))), example("event-hash"), to);
  }
  // how the line is written is not part of the format: other whitespace, another member order, same hash
  const e = JSON.parse(original);
  const reordered = JSON.stringify({ version: e.version, body: e.body, topic: e.topic, timestamp: e.timestamp, originator_id: e.originator_id }, null, 3);
  assert.equal(await v.eventHash(v.parseJson(reordered)), example("event-hash"));
});

test("§4.1: leaves, node hashes and the root of the tree over the five events", async () => {
  const quoted = JSON.parse(example("leaves"));
  const rows = events();
  const leaves = [];
  for (const [i, e] of rows.entries()) {
    assert.equal(e.hash, quoted[i].hash);
    const leaf = await v.eventLeaf(e.hash);
    assert.equal(v.hex(leaf), quoted[i].leaf);
    leaves.push(leaf);
  }
  const nodes = JSON.parse(example("nodes"));
  for (const [span, hash] of Object.entries(nodes)) {
    const [lo, hi] = span.split("-").map(Number);
    assert.equal(v.hex(await v.merkleRoot(leaves, lo, hi)), hash, span);
  }
  assert.equal(v.hex(await v.nodeHash(leaves[0], leaves[1])), nodes["0-2"]);
  assert.equal(v.hex(await v.nodeHash(await v.merkleRoot(leaves, 0, 4), leaves[4])), nodes["0-5"]);
  assert.equal(v.hex((await v.prefixRoots(leaves))[4]), nodes["0-5"]);
});

test("§4.2: the inclusion proof verifies, step by step as the document shows, and only as it is", async () => {
  const p = JSON.parse(example("inclusion"));
  const path = p.audit_path.map(v.hash32);
  const leaf = v.hash32(p.leaf_hash);
  const root = v.hash32(p.root_hash);
  assert.equal(await v.verifyInclusion(p.leaf_index, p.tree_size, leaf, path, root), true);
  const step1 = await v.nodeHash(path[0], leaf);
  assert.equal(v.hex(step1), "5230db512dda0ccc2e6692abf63725ebea59a8389dec2f731f2483d221f443ff");
  const step2 = await v.nodeHash(path[1], step1);
  assert.equal(v.hex(step2), "d6536f868a13d460b72859a19f9c95408f63d74945268952df21bd85e369f8c5");
  assert.equal(v.hex(await v.nodeHash(step2, path[2])), p.root_hash);
  const leaves = await Promise.all(events().map((e) => v.eventLeaf(e.hash)));
  assert.deepEqual((await v.inclusionProof(leaves, 3)).map(v.hex), p.audit_path);
  for (const [i, n] of [[-1, 5], [2, 5], [4, 5], [3, 4], [3, 9], [5, 5], [3, 0], [1.5, 5]]) {
    assert.equal(await v.verifyInclusion(i, n, leaf, path, root), false, `${i} of ${n}`);
  }
  assert.equal(await v.verifyInclusion(3, 5, leaf, path.slice(0, 2), root), false);
  assert.equal(await v.verifyInclusion(3, 5, leaf, [...path, path[0]], root), false);
  assert.equal(await v.verifyInclusion(3, 5, leaf.slice(0, 31), path, root), false);
});

test("§5.1: the key's raw bytes and its key id", async () => {
  const raw = v.rawPublicKey(example("public-key"));
  assert.equal(v.hex(raw), example("public-key-raw"));
  const key = await v.importPublicKey(example("public-key"));
  assert.equal(key.keyId, JSON.parse(example("checkpoint")).key_id);
  assert.throws(() => v.rawPublicKey("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEA\n-----END PUBLIC KEY-----"), v.VerifyError);
});

test("§5.2: the signed message is the bytes quoted, and the signature verifies over it, and only over it", async () => {
  const cp = JSON.parse(example("checkpoint"));
  assert.equal(v.treeHeadMessage(cp.tree_size, cp.root_hash, cp.issued_at, cp.key_id), example("tree-head-message"));
  const key = await v.importPublicKey(example("public-key"));
  assert.equal(await v.verifySignature(key, cp), true);
  assert.equal(await v.checkCheckpoint(cp, key), null);
  assert.equal(await v.verifySignature(key, { ...cp, tree_size: 4 }), false);
  assert.equal(await v.verifySignature(key, { ...cp, issued_at: "2021-07-16T04:00:01+00:00" }), false);
  assert.equal(await v.verifySignature(key, { ...cp, reason: "anything" }), true); // the reason is not signed
  const flipped = v.fromBase64(cp.signature);
  flipped[0] ^= 1;
  assert.equal(await v.verifySignature(key, { ...cp, signature: Buffer.from(flipped).toString("base64") }), false);
});

test("§6: the five events and the checkpoint are an export that verifies; cut or changed, it does not", async () => {
  const events = example("events.ndjson") + "\n";
  const checkpoints = [JSON.parse(example("checkpoint"))];
  const publicKeyPem = example("public-key");
  const report = await v.verifyExport({ events, checkpoints: JSON.stringify(checkpoints), publicKeyPem });
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(report.events_checked, 5);
  const cut = events.split("\n").slice(0, 4).join("\n") + "\n";
  const bad = await v.verifyExport({ events: cut, checkpoints: JSON.stringify(checkpoints), publicKeyPem });
  assert.equal(bad.ok, false);
  assert.match(bad.problems[0].problem, /truncated/);
});

test("§7.1: the legacy event's document is exactly the bytes quoted, and its hash the one quoted", async () => {
  const event = v.parseJson(example("legacy-event"));
  const doc = v.eventDocument(event);
  assert.equal(doc.scheme, "legacy");
  assert.equal(text(doc.bytes), example("legacy-document"));
  assert.equal(await v.eventHash(event), example("legacy-hash"));
});

test("§8: an unknown hash scheme cannot be verified", () => {
  const e = v.parseJson(example("event").replace('"jcs-sha256/1"', '"jcs-sha256/2"'));
  assert.throws(() => v.eventDocument(e), /unknown hash scheme 'jcs-sha256\/2'/);
});
