// The console's verify badge (api/templates/console/zone.html): checks, in the reader's browser with web/verify.js,
// that the zone's latest event as stored recomputes to its hash from its content (docs/record-format.md §3), that the
// hash is the one the page shows, and that it is included in the latest signed tree head, signed by the key whose id
// the page shows (#key-id, to be compared with the one the bureau publishes). An objection's record holds who
// objected, which only the bureau and inspectors may read: for other readers the badge checks the inclusion of the
// hash shown and says that the content was not recomputed.

import * as v from "./verify.js";
import { Failure, getJson, must, recomputedHash, wire } from "./verifying.js";

// The record (its JSON text, as /console/zones/{id}/records/{seq} serves it) checked against the event the page
// shows (zoneId, seq, hash): the same stream and number, its hash recomputed from its content and equal to the one
// shown. Returns the recomputed hash.
export async function checkedRecord(text, shown) {
  let record;
  try {
    record = v.parseJson(text);
  } catch (err) {
    throw new Failure(`记录无法读取 the record cannot be read: ${err.message}`);
  }
  const version = record?.version instanceof v.JsonNumber ? record.version.raw : null;
  must(
    record?.originator_id === shown.zoneId && version === String(shown.seq),
    "记录不是页面所示的事件 the record is not the event the page shows",
  );
  const computed = await recomputedHash(record);
  must(computed === shown.hash, "记录哈希与页面所示不符 the record's hash is not the hash the page shows");
  return computed;
}

async function latestRecord(d) {
  const zone = encodeURIComponent(d.zoneId);
  const seq = encodeURIComponent(d.seq);
  const r = await fetch(`/console/zones/${zone}/records/${seq}`, { headers: { Accept: "application/json" } });
  if (r.status === 403) {
    const problem = await r.json().catch(() => ({}));
    if (problem.code === "objector_withheld") return null;
  }
  must(r.ok, `事件记录无法获取 the event's record could not be fetched (HTTP ${r.status})`);
  return checkedRecord(await r.text(), d);
}

async function verifyLatest(button) {
  const d = button.dataset;
  must(/^[0-9a-f]{64}$/.test(d.hash), "页面未显示事件哈希 the page shows no event hash");
  const pinned = document.getElementById("key-id")?.textContent.trim() ?? "";
  must(/^[0-9a-f]{64}$/.test(pinned), "页面未显示签名公钥编号 the page shows no signing key id");
  const served = await getJson("/checkpoints/public-key");
  const key = await v.importPublicKey(served.public_key_pem);
  must(key.keyId === pinned, `公钥编号与页面不符 the public key's id ${key.keyId.slice(0, 16)}… is not the id shown`);

  const recomputed = await latestRecord(d); // null: the content is withheld from this reader
  const latest = await getJson("/checkpoints/latest");
  const signed = await v.checkCheckpoint(latest, key);
  must(signed === null, `最新树头签名无效 the latest tree head ${signed ?? ""}`);
  const zone = encodeURIComponent(d.zoneId);
  const seq = encodeURIComponent(d.seq);
  const r = await fetch(`/audit/proofs/inclusion?zone_id=${zone}&seq=${seq}&tree_size=${latest.tree_size}`);
  if (r.status === 422) throw new Failure("最新签名树头尚未包含此事件 the latest signed tree head does not cover this event yet");
  must(r.ok, `包含证明无法获取 the inclusion proof could not be fetched (HTTP ${r.status})`);
  const proof = await r.json();
  must(proof.checkpoint?.root_hash === latest.root_hash, "证明所用树头不是最新树头 the proof is not against the latest tree head");
  const leaf = await v.eventLeaf(recomputed ?? d.hash);
  let included = false;
  try {
    included = await v.verifyInclusion(proof.leaf_index, latest.tree_size, leaf, proof.audit_path.map(v.hash32), v.hash32(latest.root_hash));
  } catch {
    included = false;
  }
  must(included, "事件不在签名树头中（包含证明无效） the event is not in the signed tree head (inclusion proof fails)");
  const size = latest.tree_size;
  const keyShown = `key ${key.keyId.slice(0, 16)}…`;
  if (recomputed === null) {
    return {
      partial: true,
      text:
        `◐ 部分核验 Partly verified: 事件 #${d.seq} 的哈希包含在规模 ${size} 的最新签名树头中；其内容含异议人信息，` +
        `您的角色无权读取，未重新计算 — event #${d.seq}'s hash is included in the latest signed tree head (size ${size}), ` +
        `but its content holds an objector's identity, which your role may not read: it was not recomputed; ${keyShown}`,
    };
  }
  return (
    `✓ 核验通过 Verified: 事件 #${d.seq} 的内容重新计算得出所示哈希，且包含在规模 ${size} 的最新签名树头中 — ` +
    `event #${d.seq}'s content recomputes to the hash shown, and it is included in the latest signed tree head ` +
    `(size ${size}); ${keyShown}`
  );
}

if (typeof document !== "undefined") {
  const button = document.getElementById("verify-zone");
  const output = document.getElementById("verify-result");
  if (button && output) wire(button, output, verifyLatest);
}
