// RFC 9162 trees and proofs in web/verify.js: transparency-dev/merkle's published vectors (as tests/unit/test_merkle.py
// holds them), proofs of every size up to 33 and their mutations, and the strict refusals.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as v from "../../web/verify.js";

const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const INCLUSION = [
  [1, 1, []],
  [1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
  [6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
  [3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
  [2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
];
const CONSISTENCY = [
  [1, 1, []],
  [1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
  [6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
  [2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
  [6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
];

const ctLeaves = () => Promise.all(CT_LEAVES.map((d) => v.leafHash(v.unhex(d))));
const h = (x) => v.hash32(x);
const flip = (b, i = 0) => {
  const c = Uint8Array.from(b);
  c[i] ^= 1;
  return c;
};

test("the reference roots of sizes 0–8", async () => {
  const leaves = await ctLeaves();
  for (let n = 0; n <= 8; n++) assert.equal(v.hex(await v.merkleRoot(leaves.slice(0, n))), ROOTS[n], `size ${n}`);
  assert.deepEqual((await v.prefixRoots(leaves)).map(v.hex), ROOTS.slice(1));
});

test("the reference inclusion proofs verify, are reproduced, and every mutation is refused", async () => {
  const leaves = await ctLeaves();
  for (const [leafNumber, size, path] of INCLUSION) {
    const i = leafNumber - 1;
    const proof = path.map(h);
    const root = h(ROOTS[size]);
    assert.equal(await v.verifyInclusion(i, size, leaves[i], proof, root), true);
    assert.deepEqual((await v.inclusionProof(leaves.slice(0, size), i)).map(v.hex), path);
    const mutations = {
      "index -1": [-1, size, leaves[i], proof, root],
      "index + 1": [i + 1, size, leaves[i], proof, root],
      "index = size": [size, size, leaves[i], proof, root],
      "size 0": [i, 0, leaves[i], proof, root],
      "size doubled": [i, size * 2, leaves[i], proof, root],
      "leaf flipped": [i, size, flip(leaves[i]), proof, root],
      "root flipped": [i, size, leaves[i], proof, flip(root)],
      "path longer": [i, size, leaves[i], [...proof, root], root],
      "short hash": [i, size, leaves[i].slice(0, 31), proof, root],
      "long root": [i, size, leaves[i], proof, v.concat(root, Uint8Array.of(0))],
    };
    if (proof.length) {
      mutations["path shorter"] = [i, size, leaves[i], proof.slice(1), root];
      mutations["path element flipped"] = [i, size, leaves[i], [flip(proof[0]), ...proof.slice(1)], root];
      mutations["path element short"] = [i, size, leaves[i], [proof[0].slice(1), ...proof.slice(1)], root];
    }
    for (const [name, args] of Object.entries(mutations)) {
      assert.equal(await v.verifyInclusion(...args), false, `${leafNumber}/${size}: ${name}`);
    }
  }
});

test("the reference consistency proofs verify, are reproduced, and every mutation is refused", async () => {
  const leaves = await ctLeaves();
  for (const [m, n, path] of CONSISTENCY) {
    const proof = path.map(h);
    const [a, b] = [h(ROOTS[m]), h(ROOTS[n])];
    assert.equal(await v.verifyConsistency(m, n, a, b, proof), true, `${m}→${n}`);
    assert.deepEqual((await v.consistencyProof(leaves.slice(0, n), m)).map(v.hex), path);
    const mutations = {
      "from 0": [0, n, h(ROOTS[0]), b, proof],
      "to a smaller tree": [n + 1, n, a, b, proof],
      "first root flipped": [m, n, flip(a), b, proof],
      "second root flipped": [m, n, a, flip(b), proof],
      "roots swapped": [m, n, b, a, proof],
      "path longer": [m, n, a, b, [...proof, a]],
      "short root": [m, n, a.slice(0, 31), b, proof],
      "first negative": [-m, n, a, b, proof],
    };
    if (proof.length) {
      mutations["path shorter"] = [m, n, a, b, proof.slice(0, -1)];
      mutations["path element flipped"] = [m, n, a, b, [flip(proof[0]), ...proof.slice(1)]];
    }
    for (const [name, args] of Object.entries(mutations)) {
      if (name === "roots swapped" && m === n) continue;
      assert.equal(await v.verifyConsistency(...args), false, `${m}→${n}: ${name}`);
    }
  }
  const empty = h(ROOTS[0]);
  assert.equal(await v.verifyConsistency(0, 0, empty, empty, []), false); // no proof from or to the empty tree
});

test("proofs of every leaf and every pair of sizes up to 33 verify; a bit flipped anywhere is refused", async () => {
  const leaves = [];
  for (let i = 0; i < 33; i++) leaves.push(await v.leafHash(await v.sha256(String(i))));
  const roots = await v.prefixRoots(leaves);
  for (let n = 1; n <= 33; n++) {
    assert.deepEqual(roots[n - 1], await v.merkleRoot(leaves.slice(0, n)));
    for (let i = 0; i < n; i++) {
      const proof = await v.inclusionProof(leaves.slice(0, n), i);
      assert.equal(await v.verifyInclusion(i, n, leaves[i], proof, roots[n - 1]), true, `${i} of ${n}`);
      if (proof.length) {
        const bent = [...proof.slice(0, -1), flip(proof[proof.length - 1], 31)];
        assert.equal(await v.verifyInclusion(i, n, leaves[i], bent, roots[n - 1]), false);
      }
      if (i + 1 < n) assert.equal(await v.verifyInclusion(i + 1, n, leaves[i], proof, roots[n - 1]), false);
    }
    for (let m = 1; m <= n; m++) {
      const proof = await v.consistencyProof(leaves.slice(0, n), m);
      assert.equal(await v.verifyConsistency(m, n, roots[m - 1], roots[n - 1], proof), true, `${m}→${n}`);
      if (m < n) {
        assert.equal(await v.verifyConsistency(m, n, roots[m - 1], flip(roots[n - 1], 5), proof), false);
        for (let k = 0; k < proof.length; k++) {
          const bent = proof.map((p, j) => (j === k ? flip(p, 7) : p));
          assert.equal(await v.verifyConsistency(m, n, roots[m - 1], roots[n - 1], bent), false, `${m}→${n} #${k}`);
        }
      }
    }
  }
});

test("an event's leaf is over the 32 raw bytes of its hash; anything else is refused", async () => {
  assert.throws(() => v.hash32("ab".repeat(31)), v.VerifyError);
  assert.throws(() => v.hash32("zz".repeat(32)), v.VerifyError);
  await assert.rejects(v.eventLeaf("ab".repeat(33)), v.VerifyError);
  const leaf = await v.eventLeaf("ab".repeat(32));
  assert.deepEqual(leaf, await v.sha256(v.concat(Uint8Array.of(0), v.unhex("ab".repeat(32)))));
  await assert.rejects(v.nodeHash(leaf, leaf.slice(1)), v.VerifyError);
});
