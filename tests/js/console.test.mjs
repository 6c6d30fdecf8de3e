// The console's verify badge (web/console.js): the latest event's record, as the console serves it, recomputes to
// the hash the page shows; an edited body, another event, or another hash shown fails with what failed.
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkedRecord } from "../../web/console.js";
import { Failure, recomputedHash } from "../../web/verifying.js";
import * as v from "../../web/verify.js";
import { example } from "./helpers.mjs";

const record = example("event"); // docs/record-format.md §3.5: version 2 of a zone, rejected at formal review
const shown = { zoneId: "103b50bb-37b4-4a90-8730-7ec6dd0bf18b", seq: "2", hash: example("event-hash") };

const fails = async (text, what, page = shown) => {
  await assert.rejects(checkedRecord(text, page), (err) => err instanceof Failure && err.message.includes(what));
};

test("the record the page shows recomputes to the hash shown", async () => {
  assert.equal(await checkedRecord(record, shown), example("event-hash"));
});

test("a tampered body is caught: one character, a member, a number's form", async () => {
  for (const [from, to] of [
    ["不属于软件园区。", "不属于软件园区"],
    ['"outcome": "rejected"', '"outcome": "accepted"'],
    ['{"$decimal": "0.6"}', '{"$decimal": "0.60"}'],
    ['"reason": "不属于软件园区。"', '"reason": "不属于软件园区。", "note": ""'],
  ]) {
    assert.ok(record.includes(from), from);
    await fails(record.replace(from, to), "does not match its hash (altered)");
  }
});

test("another event, another zone, or another hash shown is not the event the page shows", async () => {
  await fails(record, "not the event the page shows", { ...shown, seq: "3" });
  await fails(record, "not the event the page shows", { ...shown, zoneId: "53647a50-bb88-53d4-991e-b749aa604350" });
  await fails(record, "not the hash the page shows", { ...shown, hash: "0".repeat(64) });
  const rehashed = record.replace("不属于软件园区。", "x").replace(example("event-hash"), "a".repeat(64));
  await fails(rehashed, "does not match its hash", { ...shown, hash: "a".repeat(64) }); // a forged hash with it
});

test("a record that cannot be read or is malformed fails, never passes", async () => {
  await fails("<!doctype html><p>sign in</p>", "cannot be read");
  await fails(record.replace('"prev_hash": "0d81', '"prev_hash": "zz81'), "malformed");
  const legacy = v.parseJson(example("legacy-event")); // the shared check also hashes a legacy record
  assert.equal(await recomputedHash(legacy), example("legacy-hash"));
});
