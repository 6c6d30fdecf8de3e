// The console's verify badge (api/templates/console/zone.html): checks, in the reader's browser with web/verify.js,
// that the zone's latest event is included in the latest signed tree head, signed by the key whose id the page
// shows (#key-id, to be compared with the one the bureau publishes).

import * as v from "./verify.js";
import { Failure, getJson, must, wire } from "./verifying.js";

async function verifyLatest(button) {
  const d = button.dataset;
  must(/^[0-9a-f]{64}$/.test(d.hash), "页面未显示事件哈希 the page shows no event hash");
  const pinned = document.getElementById("key-id")?.textContent.trim() ?? "";
  must(/^[0-9a-f]{64}$/.test(pinned), "页面未显示签名公钥编号 the page shows no signing key id");
  const served = await getJson("/checkpoints/public-key");
  const key = await v.importPublicKey(served.public_key_pem);
  must(key.keyId === pinned, `公钥编号与页面不符 the public key's id ${key.keyId.slice(0, 16)}… is not the id shown`);

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
  const leaf = await v.eventLeaf(d.hash);
  let included = false;
  try {
    included = await v.verifyInclusion(proof.leaf_index, latest.tree_size, leaf, proof.audit_path.map(v.hash32), v.hash32(latest.root_hash));
  } catch {
    included = false;
  }
  must(included, "事件不在签名树头中（包含证明无效） the event is not in the signed tree head (inclusion proof fails)");
  return (
    `✓ 核验通过 Verified: 事件 #${d.seq} 包含在规模 ${latest.tree_size} 的最新签名树头中 — event #${d.seq} is ` +
    `included in the latest signed tree head (size ${latest.tree_size}); key ${key.keyId.slice(0, 16)}…`
  );
}

const button = document.getElementById("verify-zone");
const output = document.getElementById("verify-result");
if (button && output) wire(button, output, verifyLatest);
