// The console's verify badge (api/templates/console/zone.html): checks, in the reader's browser with web/verify.js,
// that the zone's latest event as stored recomputes to its hash from its content (docs/record-format.md §3), that the
// hash is the one the page shows, and that it is included in the latest signed tree head — or, for an event recorded
// after it, in the first signed tree head that covers it (the service signs one when asked for the proof) — signed by
// the key whose id the page shows (#key-id, to be compared with the one the bureau publishes). An objection's record holds who
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
  const zone = encodeURIComponent(d.zoneId);
  const seq = encodeURIComponent(d.seq);
  const proofs = `/audit/proofs/inclusion?zone_id=${zone}&seq=${seq}`;
  const heads = await fetch("/checkpoints/latest");
  must(heads.ok || heads.status === 404, `最新树头无法获取 the latest tree head could not be fetched (HTTP ${heads.status})`);
  let latest = heads.ok ? await heads.json() : null;
  let r = latest ? await fetch(`${proofs}&tree_size=${latest.tree_size}`) : null;
  if (r === null || r.status === 422) {
    // recorded after the latest signed tree head (or none is signed yet): the first signed tree head that covers
    // it, which the service signs now if there is none — checked below like any other
    r = await fetch(proofs);
    latest = null;
  }
  must(r.ok, `包含证明无法获取 the inclusion proof could not be fetched (HTTP ${r.status})`);
  const proof = await r.json();
  const covering = latest === null;
  latest = latest ?? proof.checkpoint;
  const signed = await v.checkCheckpoint(latest, key);
  must(signed === null, `树头签名无效 the signed tree head ${signed ?? ""}`);
  must(proof.checkpoint?.root_hash === latest.root_hash, "证明所用树头不是所取树头 the proof is not against the tree head fetched");
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
  const head = covering
    ? { zh: `首个包含它的签名树头（规模 ${size}）`, en: `the first signed tree head that covers it (size ${size})` }
    : { zh: `规模 ${size} 的最新签名树头`, en: `the latest signed tree head (size ${size})` };
  if (recomputed === null) {
    return {
      partial: true,
      text:
        `◐ 部分核验 Partly verified: 事件 #${d.seq} 的哈希包含在${head.zh}中；其内容含异议人信息，` +
        `您的角色无权读取，未重新计算 — event #${d.seq}'s hash is included in ${head.en}, ` +
        `but its content holds an objector's identity, which your role may not read: it was not recomputed; ${keyShown}`,
    };
  }
  return (
    `✓ 核验通过 Verified: 事件 #${d.seq} 的内容重新计算得出所示哈希，且包含在${head.zh}中 — ` +
    `event #${d.seq}'s content recomputes to the hash shown, and it is included in ${head.en}; ${keyShown}`
  );
}

if (typeof document !== "undefined") {
  const button = document.getElementById("verify-zone");
  const output = document.getElementById("verify-result");
  if (button && output) wire(button, output, verifyLatest);
}
