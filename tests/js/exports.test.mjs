// verifyExport on the committed fixture export tests/data/v2-export (151 legacy-scheme events, one checkpoint):
// it verifies, every legacy hash recomputed; tampered, re-keyed or cut, it does not.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as v from "../../web/verify.js";
import { ROOT } from "./helpers.mjs";

const DIR = `${ROOT}tests/data/v2-export/`;
const events = readFileSync(`${DIR}events.ndjson`, "utf8");
const checkpoints = readFileSync(`${DIR}checkpoints.json`, "utf8");
const publicKeyPem = readFileSync(`${DIR}public-key.pem`, "utf8");
const DOC_KEY = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAo0fReAQQJPZ13NDf4X0AdTPSe6rolj0SFrwAVynrrTY=\n-----END PUBLIC KEY-----\n";
const rows = events.split("\n").slice(0, -1);
const head = JSON.parse(checkpoints)[0];

test("the v2-era export verifies, its 151 legacy hashes recomputed (none skipped)", async () => {
  const report = await v.verifyExport({ events, checkpoints, publicKeyPem });
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(report.events_checked, 151);
  assert.deepEqual(report.schemes, { "jcs-sha256/1": 0, legacy: 151 });
  assert.equal(report.covered_by.tree_size, 151);
  const bytes = new Uint8Array(readFileSync(`${DIR}events.ndjson`));
  assert.equal((await v.verifyExport({ events: bytes, checkpoints, publicKeyPem })).ok, true);
});

test("its floats are hashed as Python wrote them: 4.0 is not 4", async () => {
  const n = rows.findIndex((r) => /: \d+\.0[,}]/.test(r));
  assert.ok(n >= 0, "the fixture holds an integral float");
  const e = v.parseJson(rows[n]);
  assert.equal(await v.eventHash(e), e.hash);
  const changed = rows[n].replace(/: (\d+)\.0([,}])/, ": $1$2");
  assert.notEqual(await v.eventHash(v.parseJson(changed)), e.hash);
  const report = await v.verifyExport({ events: [...rows.slice(0, n), changed, ...rows.slice(n + 1)].join("\n") + "\n", checkpoints, publicKeyPem });
  assert.equal(report.ok, false);
  assert.deepEqual([report.problems[0].line, report.problems[0].problem], [n + 1, "its content does not match its hash (edited)"]);
});

test("against another key, cut short, or with a line changed, it fails and says where", async () => {
  const other = await v.verifyExport({ events, checkpoints, publicKeyPem: DOC_KEY });
  assert.equal(other.ok, false);
  assert.match(other.problems[0].problem, /^checkpoint 1 \(tree size 151\) is signed by key 5024580d6c3681bb…, not the pinned key/);
  assert.match(other.problems[1].problem, /^events 1–151 are not covered by any signed checkpoint/);

  const cut = await v.verifyExport({ events: rows.slice(0, 150).join("\n") + "\n", checkpoints, publicKeyPem });
  assert.equal(cut.ok, false);
  assert.match(cut.problems[0].problem, /covers more events than the export holds \(150\)/);

  const edited = rows.map((r, i) => (i === 99 ? r.replace('"reason": "', '"reason": "x') : r));
  const report = await v.verifyExport({ events: edited.join("\n") + "\n", checkpoints, publicKeyPem });
  assert.deepEqual(report.problems, [{ line: 100, position: 100, problem: "its content does not match its hash (edited)" }]);
});

test("a trusted tree head: equal, extended, or not the export's", async () => {
  const same = await v.verifyExport({ events, checkpoints, publicKeyPem, treeHead: head });
  assert.equal(same.ok, true);
  assert.deepEqual([same.tree_head.consistent, same.tree_head.extended_by], [true, 0]);
  const leaves = await Promise.all(rows.map((r) => v.eventLeaf(JSON.parse(r).hash)));
  const root40 = v.hex(await v.merkleRoot(leaves.slice(0, 40)));
  const older = await v.verifyExport({ events, checkpoints, publicKeyPem, treeHead: v.parseTreeHead(`40:${root40.toUpperCase()}`) });
  assert.equal(older.ok, true);
  assert.equal(older.tree_head.extended_by, 111);
  const wrong = await v.verifyExport({ events, checkpoints, publicKeyPem, treeHead: { tree_size: 40, root_hash: head.root_hash } });
  assert.equal(wrong.ok, false);
  assert.match(wrong.problems[0].problem, /^the export does not extend the trusted tree head 40:02190adc/);
  const forged = await v.verifyExport({ events, checkpoints, publicKeyPem, treeHead: { ...head, issued_at: "2024-05-27T02:00:01+00:00" } });
  assert.match(forged.problems[0].problem, /has a signature that is not the pinned key's/);
  for (const bad of ["0:" + "ab".repeat(32), "12:abc", "x:y", "12"]) assert.throws(() => v.parseTreeHead(bad), v.VerifyError);
});

test("unreadable lines are named by line, never thrown", async () => {
  const enc = new TextEncoder();
  const bytes = v.concat(enc.encode(rows.slice(0, 4).join("\n") + "\n"), Uint8Array.of(0x7b, 0xe9, 0x7d, 0x0a), enc.encode(rows.slice(5).join("\n") + "\n"));
  const report = await v.verifyExport({ events: bytes, checkpoints, publicKeyPem });
  assert.deepEqual(report.problems[0], { line: 5, position: null, problem: "line 5 is not a readable event: it is not UTF-8 text" });
  for (const line of ["[1]", "{", '{"position": 5}', rows[4].replace('"version": ', '"version": -')]) {
    const r = await v.verifyExport({ events: [...rows.slice(0, 4), line, ...rows.slice(5)].join("\n") + "\n", checkpoints, publicKeyPem });
    assert.equal(r.problems[0].line, 5, line);
    assert.match(r.problems[0].problem, /^line 5 is not a readable event/);
  }
  const scheme = rows[4].replace('"prev_hash"', '"hash_scheme": "sha3/1", "prev_hash"');
  const r = await v.verifyExport({ events: [...rows.slice(0, 4), scheme, ...rows.slice(5)].join("\n") + "\n", checkpoints, publicKeyPem });
  assert.match(r.problems[0].problem, /unknown hash scheme 'sha3\/1'/);
  const none = await v.verifyExport({ events, checkpoints: null, publicKeyPem });
  assert.deepEqual(none.problems.map((p) => p.problem.split(" (")[0]), ["checkpoints.json is missing", "events 1–151 are not covered by any signed checkpoint"]);
});
