// The notice board's verify buttons (api/templates/board.html): each checks, in the visitor's browser with
// web/verify.js, that the notice or circular shown is the one recorded and that the record has only grown since.
// Trusted: the key id printed on the page (#key-id), to be compared with the one the bureau publishes.

import * as v from "./verify.js";
import { getJson, must, recomputedHash, wire } from "./verifying.js";

async function verifyItem(button) {
  const d = button.dataset;
  const zone = encodeURIComponent(d.zoneId);
  const seq = encodeURIComponent(d.seq);
  const size = Number(d.treeSize);
  const article = button.closest("article");
  const shown = article?.querySelector("pre.text")?.textContent ?? "";

  // 1. the text in front of the visitor is the text whose hash the board shows and the record holds
  const textHash = v.hex(await v.sha256(shown));
  must(textHash === d.textSha256, "显示的文本与其 SHA-256 不符 the text shown does not match its SHA-256");
  const record = await getJson(`/board/record?zone_id=${zone}&seq=${seq}`);
  const data = record?.body?.data ?? {};
  const recordedText = d.kind === "circular" ? data.circular?.text ?? data.circular : data.text;
  if (d.kind === "circular" && typeof recordedText !== "string") {
    must(typeof data.circular === "object", "记录中没有通报 the record holds no circular");
  }
  must(recordedText === shown, "显示的文本不是记录中的文本 the text shown is not the recorded text");
  if (data.text_sha256 !== undefined || d.kind === "notice") {
    must(data.text_sha256 === d.textSha256, "记录中的文本哈希不符 the recorded text_sha256 does not match");
  }

  // 2. the record's hash recomputes from its content (docs/record-format.md §3)
  await recomputedHash(v.parseJson(JSON.stringify(record)));

  // 3. the pinned key: the one whose id the page shows
  const pinned = document.getElementById("key-id")?.textContent.trim() ?? "";
  const served = await getJson("/checkpoints/public-key");
  const key = await v.importPublicKey(served.public_key_pem);
  must(/^[0-9a-f]{64}$/.test(pinned), "页面未显示签名公钥编号 the page shows no signing key id");
  must(key.keyId === pinned, `公钥编号与页面不符 the public key's id ${key.keyId.slice(0, 16)}… is not the id shown`);

  // 4. the record's leaf is included in the tree head shown, signed by that key (§4.2, §5)
  const proof = await getJson(`/audit/proofs/inclusion?zone_id=${zone}&seq=${seq}&tree_size=${size}`);
  const head = proof.checkpoint;
  must(head && head.tree_size === size && head.root_hash === d.root, "树头与页面所示不符 the tree head is not the one shown");
  const signed = await v.checkCheckpoint(head, key);
  must(signed === null, `树头签名无效 the tree head ${signed ?? ""}`);
  const leaf = await v.eventLeaf(record.hash);
  let included = false;
  try {
    included = await v.verifyInclusion(proof.leaf_index, size, leaf, proof.audit_path.map(v.hash32), v.hash32(head.root_hash));
  } catch {
    included = false;
  }
  must(included, "记录不在签名树头中（包含证明无效） the record is not in the signed tree head (inclusion proof fails)");

  // 5. the latest head is signed too and extends that one: the record has only grown since
  const latest = await getJson("/checkpoints/latest");
  const latestSigned = await v.checkCheckpoint(latest, key);
  must(latestSigned === null, `最新树头签名无效 the latest tree head ${latestSigned ?? ""}`);
  must(latest.tree_size >= size, "最新树头比发布时的小 the latest tree head is smaller than the one shown");
  let consistent;
  if (latest.tree_size === size) {
    consistent = latest.root_hash === head.root_hash;
  } else {
    const c = await getJson(`/audit/proofs/consistency?first=${size}&second=${latest.tree_size}`);
    try {
      consistent = await v.verifyConsistency(size, latest.tree_size, v.hash32(head.root_hash), v.hash32(latest.root_hash), c.proof.map(v.hash32));
    } catch {
      consistent = false;
    }
  }
  must(consistent, "最新树头与发布时的树头不一致（记录被改写） the latest tree head is not consistent with the one shown (the record was rewritten)");
  return (
    `✓ 核验通过 Verified: 文本与记录一致，记录哈希正确，包含在规模 ${size} 的签名树头中，` +
    `最新树头（规模 ${latest.tree_size}）与之一致 — the text is the recorded one, its hash recomputes, it is in the ` +
    `signed tree head of size ${size}, and the latest head (size ${latest.tree_size}) extends it; key ${key.keyId.slice(0, 16)}…`
  );
}


document.querySelectorAll("button.verify-button").forEach((button) =>
  wire(button, button.parentElement.querySelector("output.verify-result"), verifyItem),
);
