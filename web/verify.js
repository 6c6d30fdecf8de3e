// zonecase's record, verified in JavaScript: an independent implementation of docs/record-format.md.
//
// Standard WebCrypto only (crypto.subtle SHA-256 and Ed25519), no dependency, no build step: it runs as an ES
// module in a browser (the notice board's web/board.js) and under Node ≥ 20 (web/verify-cli.mjs, tests/js/).
// Written from the document alone, sharing no code with the Python verifier, so that the two can be compared.

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();

export const GENESIS = "0".repeat(64);
export const SCHEME = "jcs-sha256/1";
export const LOG_ID = "zonecase";
const SPKI_PREFIX = "302a300506032b6570032100"; // RFC 8410: Ed25519 SubjectPublicKeyInfo before the 32 raw bytes
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
// An ISO 8601 instant with an offset (the forms Python's datetime.fromisoformat reads, with a zone).
const INSTANT =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}(:\d{2}(:\d{2}([.,]\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2}(:?\d{2}([.,]\d{1,6})?)?)?)$/;

export class VerifyError extends Error {}

// --- bytes ------------------------------------------------------------------------------------------------------

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new VerifyError(`not hexadecimal: ${JSON.stringify(String(text)).slice(0, 40)}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** 32 bytes from 64 hex digits, or an error: every hash of the record is 32 bytes. */
export function hash32(text) {
  if (typeof text !== "string" || !HEX64.test(text)) throw new VerifyError("a hash must be 64 hex digits (32 bytes)");
  return unhex(text);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", typeof bytes === "string" ? encoder.encode(bytes) : bytes));
}

/** Standard base64 (RFC 4648 §4), strictly: the alphabet, padding to a multiple of 4, nothing else. */
export function fromBase64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new VerifyError("not base64");
  }
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const body = text.replace(/=+$/, "");
  const out = [];
  let bits = 0;
  let value = 0;
  for (const ch of body) {
    value = (value << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

// --- JSON, read with each number's text kept ------------------------------------------------------------------

/** A JSON number as written: `raw` is its text in the document (the legacy scheme hashes Python's rendering of it). */
export class JsonNumber {
  constructor(raw) {
    this.raw = raw;
  }
  get isInteger() {
    return /^-?\d+$/.test(this.raw);
  }
  get value() {
    if (this.raw === "NaN") return NaN;
    if (this.raw === "Infinity") return Infinity;
    if (this.raw === "-Infinity") return -Infinity;
    return Number(this.raw);
  }
}

/**
 * Parses JSON text into plain values, except that numbers are JsonNumber and objects have no prototype (so that
 * a member named "__proto__" is a member like any other). Accepts what Python's json.loads accepts (NaN, Infinity
 * and -Infinity included, so that such a line can be reported as unhashable rather than unreadable); a repeated
 * member keeps its last value.
 */
export function parseJson(text) {
  let i = 0;
  const fail = (what) => {
    throw new VerifyError(`not JSON (${what} at character ${i + 1})`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const value = () => {
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      const obj = Object.create(null);
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a member name");
        const key = string();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        obj[key] = value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (ch === '"') return string();
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
      ["NaN", new JsonNumber("NaN")],
      ["Infinity", new JsonNumber("Infinity")],
      ["-Infinity", new JsonNumber("-Infinity")],
    ]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail("unexpected character");
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const string = () => {
    i++; // the opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in a string");
      if (c !== 0x5c) {
        out += text[i++];
        continue;
      }
      const e = text[i + 1];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        fail("bad escape");
      }
    }
  };
  if (typeof text !== "string") throw new VerifyError("not JSON (not text)");
  const v = value();
  ws();
  if (i !== text.length) fail("extra data");
  return v;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof JsonNumber);

/** A JSON value of parseJson's as a plain JavaScript value (numbers as doubles), for display. */
export function plain(v) {
  if (v instanceof JsonNumber) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, plain(v[k])]));
  return v;
}

// --- RFC 8785 (JCS) --------------------------------------------------------------------------------------------

function hasLoneSurrogate(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function jcsString(s) {
  if (hasLoneSurrogate(s)) throw new VerifyError("a string holds a lone surrogate (not Unicode text)");
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function jcsNumber(n) {
  if (n instanceof JsonNumber) {
    if (n.isInteger) {
      const big = BigInt(n.raw);
      if (big > MAX_SAFE || big < -MAX_SAFE) throw new VerifyError(`the integer ${n.raw} is beyond ±(2^53−1)`);
      return big.toString();
    }
    const x = n.value; // a JSON number with a fraction or an exponent: a binary float, written as ECMAScript does
    if (!Number.isFinite(x)) throw new VerifyError(`the number ${n.raw} has no JSON form`);
    return Object.is(x, -0) ? "0" : String(x);
  }
  if (typeof n !== "number" || !Number.isFinite(n)) throw new VerifyError(`the number ${n} has no JSON form`);
  if (Number.isInteger(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    throw new VerifyError(`the number ${n} is beyond ±(2^53−1)`);
  }
  return Object.is(n, -0) ? "0" : String(n); // ECMAScript's Number::toString, which RFC 8785 §3.2.2.3 adopts
}

/** RFC 8785 canonical JSON of a value (parseJson's or plain JavaScript), as text. */
export function jcs(v) {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "string") return jcsString(v);
  if (typeof v === "number" || v instanceof JsonNumber) return jcsNumber(v);
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (typeof v === "object") {
    const keys = Object.keys(v).sort(); // default sort: by UTF-16 code units, as RFC 8785 §3.2.3 requires
    return "{" + keys.map((k) => jcsString(k) + ":" + jcs(v[k])).join(",") + "}";
  }
  throw new VerifyError(`a ${typeof v} has no JSON form`);
}

// --- the legacy rule: Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) -----------

/** A double as Python's repr writes it: shortest round-trip digits; exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [mantissa, exp] = Math.abs(x).toExponential().split("e"); // shortest digits that read back the same
  const digits = mantissa.replace(".", "");
  const e = Number(exp); // x = d.ddd × 10^e
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  const point = e + 1; // digits before the decimal point
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function pyString(s) {
  if (hasLoneSurrogate(s)) throw new VerifyError("a string holds a lone surrogate (not UTF-8 encodable)");
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The legacy scheme's serialisation (docs/record-format.md §7) of a parseJson value. */
export function pythonJson(v) {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "string") return pyString(v);
  if (v instanceof JsonNumber) return v.isInteger ? BigInt(v.raw).toString() : pythonFloatRepr(v.value);
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : pythonFloatRepr(v);
  if (Array.isArray(v)) return "[" + v.map(pythonJson).join(",") + "]";
  if (typeof v === "object") {
    const keys = Object.keys(v).sort(byCodePoint);
    return "{" + keys.map((k) => pyString(k) + ":" + pythonJson(v[k])).join(",") + "}";
  }
  throw new VerifyError(`a ${typeof v} has no JSON form`);
}

// --- the event hash (§3, §7, §8) -------------------------------------------------------------------------------

/** The bytes an event's hash is taken over, by its body's scheme; `scheme` is "jcs-sha256/1" or "legacy". */
export function eventDocument(event) {
  const body = event.body;
  if (!isObject(body)) throw new VerifyError("body is not a JSON object");
  const scheme = body.hash_scheme;
  if (scheme === undefined) {
    const doc = {
      topic: event.topic,
      originator_id: event.originator_id,
      originator_version: event.version,
      timestamp: event.timestamp,
      body,
    };
    return { scheme: "legacy", bytes: encoder.encode(pythonJson(doc)) };
  }
  if (scheme !== SCHEME) {
    throw new VerifyError(`unknown hash scheme ${typeof scheme === "string" ? `'${scheme}'` : jcs(plain(scheme))}`);
  }
  const doc = {
    originator_id: event.originator_id,
    version: event.version,
    topic: event.topic,
    timestamp: event.timestamp,
    body,
  };
  return { scheme: SCHEME, bytes: encoder.encode(jcs(doc)) };
}

/** The hex hash of an event (a parseJson object or a plain one), recomputed from its content. */
export async function eventHash(event) {
  return hex(await sha256(eventDocument(event).bytes));
}

const intOf = (v) => {
  if (v instanceof JsonNumber && v.isInteger) {
    const big = BigInt(v.raw);
    return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : null;
  }
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  return null;
};

const describe = (v) => {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (typeof v === "string") return `a string (${JSON.stringify(v).slice(0, 40)})`;
  if (typeof v === "boolean") return `a boolean (${v})`;
  if (v instanceof JsonNumber) return `a number (${v.raw})`;
  if (typeof v === "number") return `a number (${v})`;
  if (Array.isArray(v)) return "a list";
  return "an object";
};

/** The reasons an exported event (a parsed line) is not an event of §2, or [] when it has every member right. */
export function eventShapeProblems(e) {
  if (!isObject(e)) return ["it is not a JSON object"];
  const found = [];
  const position = intOf(e.position);
  if (position === null || position < 1) found.push(`position is ${describe(e.position)}, not a whole number from 1`);
  const version = intOf(e.version);
  if (version === null || version < 1) {
    found.push(`version is ${e.version === undefined ? "null" : describe(e.version)}, not a whole number from 1`);
  }
  if (typeof e.originator_id !== "string" || !UUID.test(e.originator_id)) {
    found.push(`originator_id ${JSON.stringify(plain(e.originator_id) ?? null)} is not a UUID (lower case)`);
  }
  if (typeof e.topic !== "string" || e.topic === "") found.push("topic is not a non-empty string");
  if (typeof e.timestamp !== "string" || !INSTANT.test(e.timestamp)) {
    found.push(`timestamp ${JSON.stringify(plain(e.timestamp) ?? null)} is not an ISO 8601 instant with offset`);
  }
  if (typeof e.hash !== "string" || !/^[0-9a-f]{64}$/.test(e.hash)) found.push("hash is not 64 hex digits");
  if (!isObject(e.body)) found.push("body is not a JSON object");
  else {
    const b = e.body;
    if (typeof b.prev_hash !== "string" || !/^[0-9a-f]{64}$/.test(b.prev_hash)) {
      found.push("body.prev_hash is not 64 hex digits");
    }
  }
  return found;
}

// --- the Merkle tree (RFC 9162 §2.1) ----------------------------------------------------------------------------

/** SHA-256(0x00 || data): the leaf hash of any data (the record's leaves are the 32 bytes of an event's hash). */
export async function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

/** The leaf of an event: SHA-256(0x00 || the 32 raw bytes of its hex hash). */
export async function eventLeaf(hashHex) {
  return leafHash(hash32(hashHex));
}

export async function nodeHash(left, right) {
  if (left.length !== 32 || right.length !== 32) throw new VerifyError("a node's children must be 32-byte hashes");
  return sha256(concat(Uint8Array.of(1), left, right));
}

function largestPowerOfTwoBelow(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[lo:hi]) over leaf hashes (RFC 9162 §2.1.1). */
export async function merkleRoot(leaves, lo = 0, hi = leaves.length) {
  const n = hi - lo;
  if (n === 0) return sha256(new Uint8Array(0));
  if (n === 1) return leaves[lo];
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(await merkleRoot(leaves, lo, lo + k), await merkleRoot(leaves, lo + k, hi));
}

/** The roots of every prefix D[0:1] … D[0:n], in one pass (a stack of complete subtrees). */
export async function prefixRoots(leaves) {
  const roots = [];
  const stack = []; // [size, hash] of complete subtrees, largest first
  for (const leaf of leaves) {
    stack.push([1, leaf]);
    while (stack.length > 1 && stack[stack.length - 1][0] === stack[stack.length - 2][0]) {
      const [size, right] = stack.pop();
      const [, left] = stack.pop();
      stack.push([size * 2, await nodeHash(left, right)]);
    }
    let root = stack[stack.length - 1][1];
    for (let i = stack.length - 2; i >= 0; i--) root = await nodeHash(stack[i][1], root);
    roots.push(root);
  }
  return roots;
}

/** The audit path of leaf `m` in D[lo:hi] (RFC 9162 §2.1.3.1). */
export async function inclusionProof(leaves, m, lo = 0, hi = leaves.length) {
  const n = hi - lo;
  if (n <= 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...(await inclusionProof(leaves, m, lo, lo + k)), await merkleRoot(leaves, lo + k, hi)];
  return [...(await inclusionProof(leaves, m - k, lo + k, hi)), await merkleRoot(leaves, lo, lo + k)];
}

/** The consistency proof from D[0:m] to D[0:n] (RFC 9162 §2.1.4.1). */
export async function consistencyProof(leaves, m, n = leaves.length) {
  const sub = async (m, lo, hi, complete) => {
    const size = hi - lo;
    if (m === size) return complete ? [] : [await merkleRoot(leaves, lo, hi)];
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) return [...(await sub(m, lo, lo + k, complete)), await merkleRoot(leaves, lo + k, hi)];
    return [...(await sub(m - k, lo + k, hi, false)), await merkleRoot(leaves, lo, lo + k)];
  };
  if (!(m >= 1 && m <= n)) throw new VerifyError("need 1 ≤ m ≤ n");
  return m === n ? [] : sub(m, 0, n, true);
}

const isSize = (n) => Number.isSafeInteger(n);
const all32 = (hashes) => Array.isArray(hashes) && hashes.every((h) => h instanceof Uint8Array && h.length === 32);
const half = (n) => Math.floor(n / 2);
const odd = (n) => n % 2 === 1;

/**
 * RFC 9162 §2.1.3.2, strictly: false for an index outside 0 ≤ index < size, a size below 1, or any hash that is
 * not 32 bytes. `leaf` is the leaf hash (not the event hash); hashes are Uint8Array.
 */
export async function verifyInclusion(leafIndex, treeSize, leaf, path, root) {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex < 0 || treeSize < 1 || leafIndex >= treeSize) return false;
  if (!all32([leaf, root]) || !all32(path)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2, strictly: false for a size below 1 (no proof from or to the empty tree), first > second, or
 * any hash that is not 32 bytes. Equal sizes hold with an empty proof and equal roots only.
 */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (!isSize(first) || !isSize(second) || first < 1 || second < first) return false;
  if (!all32([firstRoot, secondRoot]) || !all32(proof)) return false;
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  const path = isPow2(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

function isPow2(n) {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

// --- keys and signed tree heads (§5) ---------------------------------------------------------------------------

/** The 32 raw bytes of an Ed25519 public key in PEM (SubjectPublicKeyInfo, RFC 8410), or a VerifyError. */
export function rawPublicKey(pem) {
  const m = /-----BEGIN PUBLIC KEY-----([\sA-Za-z0-9+/=]*)-----END PUBLIC KEY-----/.exec(String(pem));
  if (!m) throw new VerifyError("is not an Ed25519 public key in PEM (no BEGIN/END PUBLIC KEY block)");
  let der;
  try {
    der = fromBase64(m[1].replace(/\s+/g, ""));
  } catch {
    throw new VerifyError("is not an Ed25519 public key in PEM (not base64)");
  }
  if (der.length !== 44 || hex(der.slice(0, 12)) !== SPKI_PREFIX) {
    throw new VerifyError("is not an Ed25519 public key in PEM (not an RFC 8410 Ed25519 SubjectPublicKeyInfo)");
  }
  return der.slice(12);
}

/** The key id: hex SHA-256 of the 32 raw public-key bytes. */
export async function keyId(raw) {
  return hex(await sha256(raw));
}

/** {raw, keyId, key (a WebCrypto Ed25519 verify key)} of a PEM public key. */
export async function importPublicKey(pem) {
  const raw = rawPublicKey(pem);
  const key = await subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  return { raw, keyId: await keyId(raw), key };
}

/** The signed tree-head message (§5), as text; `treeSize` as decimal digits, the strings verbatim. */
export function treeHeadMessage(treeSize, rootHash, issuedAt, keyIdHex) {
  return (
    `{"issued_at":${JSON.stringify(issuedAt)},"key_id":${JSON.stringify(keyIdHex)},"log":"${LOG_ID}",` +
    `"root_hash":${JSON.stringify(rootHash)},"tree_size":${treeSize}}`
  );
}

/** Whether a checkpoint's signature (base64) verifies over its message with `publicKey` (importPublicKey's). */
export async function verifySignature(publicKey, checkpoint) {
  const size = intOf(checkpoint.tree_size);
  const signature = fromBase64(checkpoint.signature);
  if (signature.length !== 64) return false;
  const message = treeHeadMessage(size, checkpoint.root_hash, checkpoint.issued_at, checkpoint.key_id);
  return subtle.verify({ name: "Ed25519" }, publicKey.key, signature, encoder.encode(message));
}

/** What is wrong with a checkpoint's form (§5 table), or null: each member present and of its type. */
export function checkpointFormProblem(cp) {
  if (cp === null) return "it is null, not an object";
  if (!isObject(cp)) return `it is ${describe(cp).replace(/ \(.*\)$/, "")}, not an object`;
  for (const member of ["tree_size", "root_hash", "issued_at", "key_id", "signature"]) {
    if (cp[member] === undefined) return `it has no ${member}`;
  }
  const size = cp.tree_size;
  if (!(size instanceof JsonNumber || typeof size === "number") || intOf(size) === null) {
    return `tree_size is ${describe(size)}, not an integer`;
  }
  if (intOf(size) < 1) return `tree_size is ${intOf(size)}: a signed tree head covers at least one event`;
  for (const member of ["root_hash", "key_id"]) {
    const v = cp[member];
    if (typeof v !== "string") return `${member} is ${describe(v)}, not a string of 64 hex digits`;
    if (!/^[0-9a-fA-F]*$/.test(v)) return `${member} is not hexadecimal (${JSON.stringify(v).slice(0, 40)})`;
    if (v.length !== 64) return `${member} has ${v.length} hex digits; a SHA-256 has 64`;
  }
  if (typeof cp.issued_at !== "string" || !INSTANT.test(cp.issued_at)) {
    return `issued_at (${JSON.stringify(plain(cp.issued_at))}) is not an ISO 8601 instant with offset`;
  }
  if (typeof cp.signature !== "string") return `signature is ${describe(cp.signature)}, not base64`;
  let sig;
  try {
    sig = fromBase64(cp.signature);
  } catch {
    return "signature is not base64";
  }
  if (sig.length !== 64) return `signature is ${sig.length} bytes; an Ed25519 signature is 64`;
  return null;
}

/**
 * A checkpoint checked on its own against a pinned key: its form, its key id, its signature. Returns a problem
 * (text) or null. `cp` is a parseJson or plain object.
 */
export async function checkCheckpoint(cp, publicKey) {
  const form = checkpointFormProblem(cp);
  if (form) return form;
  if (cp.key_id.toLowerCase() !== publicKey.keyId) {
    return `is signed by key ${cp.key_id.slice(0, 16)}…, not the pinned key ${publicKey.keyId.slice(0, 16)}…`;
  }
  if (!(await verifySignature(publicKey, cp))) return "has a signature that is not the pinned key's";
  return null;
}

// --- the whole export (§6) -------------------------------------------------------------------------------------

function splitLines(events) {
  if (typeof events === "string") {
    const rows = events.split("\n");
    if (rows[rows.length - 1] === "") rows.pop();
    return rows.map((text) => ({ text }));
  }
  // bytes: each line decoded on its own, so that one line that is not UTF-8 is named by its number
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const rows = [];
  let start = 0;
  for (let i = 0; i <= events.length; i++) {
    if (i === events.length || events[i] === 0x0a) {
      if (i === events.length && start === i) break;
      const bytes = events.subarray(start, i);
      try {
        rows.push({ text: decoder.decode(bytes) });
      } catch {
        rows.push({ text: null });
      }
      start = i + 1;
    }
  }
  return rows;
}

const span = (a, b) => (a === b ? `event ${a} is` : `events ${a}–${b} are`);

/**
 * Verifies an export (docs/record-format.md §6) against a pinned key:
 *   events:        the text (or bytes) of events.ndjson
 *   checkpoints:   checkpoints.json — its text, or the parsed array (or null when the file is missing)
 *   publicKeyPem:  the pinned key (PEM)
 *   treeHead:      optional head the inspector trusts: {tree_size, root_hash} or a whole signed checkpoint
 * ok only when every event's hash and chain hold, every checkpoint is well formed, signed by the pinned key and
 * matches the events, and one of them covers every event (and the export extends `treeHead`).
 * Legacy events (no hash_scheme) are recomputed by the legacy rule of §7 (Python's number forms included).
 */
export async function verifyExport({ events, checkpoints, publicKeyPem, treeHead = null }) {
  const problems = [];
  const publicKey = await importPublicKey(publicKeyPem);
  const rows = splitLines(events);
  const leaves = [];
  const last = new Map(); // stream → {version, hash}
  let lastPosition = 0;
  const schemes = { [SCHEME]: 0, legacy: 0 };
  const positionOf = [];

  for (let n = 0; n < rows.length; n++) {
    const line = n + 1;
    const say = (problem, position = null) => problems.push({ line, position, problem });
    let e;
    if (rows[n].text === null) {
      say(`line ${line} is not a readable event: it is not UTF-8 text`);
    } else {
      try {
        e = parseJson(rows[n].text);
      } catch {
        say(`line ${line} is not a readable event: it is not JSON`);
      }
    }
    const shape = e === undefined ? null : eventShapeProblems(e);
    if (shape && shape.length) {
      say(`line ${line} is not a readable event: ${shape[0]}`);
      e = undefined;
    }
    if (e === undefined) {
      leaves.push(null);
      positionOf.push(null);
      continue;
    }
    const position = intOf(e.position);
    const version = intOf(e.version);
    let computed;
    try {
      const doc = eventDocument(e);
      computed = hex(await sha256(doc.bytes));
      schemes[doc.scheme] += 1;
    } catch (err) {
      // unhashable (a NaN, a lone surrogate, an unknown scheme): unreadable as an event, like a line that is not JSON
      say(`line ${line} is not a readable event: its hash cannot be computed (${err.message})`);
      leaves.push(null);
      positionOf.push(null);
      continue;
    }
    positionOf.push(position);
    leaves.push(await eventLeaf(e.hash));
    if (position <= lastPosition) {
      say(`out of order: position ${position} comes after position ${lastPosition}`, position);
    }
    lastPosition = Math.max(lastPosition, position);
    if (computed !== e.hash) say("its content does not match its hash (edited)", position);
    const prev = last.get(e.originator_id);
    const expected = prev ? prev.version + 1 : 1;
    if (version !== expected) {
      const what =
        version > expected
          ? `events ${expected}–${version - 1} of its stream are missing (removed)`
          : `version ${version} repeats or goes back (the stream was at version ${expected - 1}: inserted or reordered)`;
      say(`stream ${e.originator_id}: version ${version} where ${expected} was due: ${what}`, position);
    }
    const wantPrev = prev ? prev.hash : GENESIS;
    if (e.body.prev_hash !== wantPrev) {
      say(`chain broken: prev_hash is not the hash of its stream's event before it`, position);
    }
    last.set(e.originator_id, { version, hash: e.hash });
  }

  // the checkpoints
  let heads = checkpoints;
  if (heads === null || heads === undefined) {
    problems.push({ problem: "checkpoints.json is missing" });
    heads = [];
  } else if (typeof heads === "string") {
    try {
      heads = parseJson(heads);
    } catch (err) {
      problems.push({ problem: `checkpoints.json is ${err.message}` });
      heads = [];
    }
  }
  if (!Array.isArray(heads)) {
    problems.push({ problem: `checkpoints.json is ${describe(heads).replace(/ \(.*\)$/, "")}, not a list of checkpoints` });
    heads = [];
  }
  const total = rows.length;
  const complete = leaves.every((l) => l !== null);
  const roots = complete ? await prefixRoots(leaves) : null;
  let covered = 0;
  let coveredBy = null;
  let largest = 0;
  let largestAt = 0;
  for (let k = 0; k < heads.length; k++) {
    const number = k + 1;
    const cp = heads[k];
    const form = checkpointFormProblem(cp);
    if (form) {
      problems.push({ checkpoint: number, problem: `checkpoint ${number}: ${form}` });
      continue;
    }
    const size = intOf(cp.tree_size);
    const name = `checkpoint ${number} (tree size ${size})`;
    const say = (problem) => problems.push({ checkpoint: number, tree_size: size, problem: `${name} ${problem}` });
    if (size === largest) {
      say(`repeats the tree size of checkpoint ${largestAt}`);
      continue;
    }
    if (size < largest) {
      say(`comes after checkpoint ${largestAt} of tree size ${largest}: checkpoints are listed smallest first`);
      continue;
    }
    largest = size;
    largestAt = number;
    const signed = await checkCheckpoint(cp, publicKey);
    if (signed) {
      say(signed);
      continue;
    }
    if (size > total) {
      say(`covers more events than the export holds (${total}): the export was truncated after position ${positionOf[total - 1] ?? total}`);
      continue;
    }
    const prefix = leaves.slice(0, size);
    if (prefix.some((l) => l === null)) {
      say(`cannot be checked: an event it covers is unreadable`);
      continue;
    }
    const root = roots ? roots[size - 1] : await merkleRoot(prefix);
    if (!equalBytes(root, unhex(cp.root_hash))) {
      problems.push({
        checkpoint: number,
        tree_size: size,
        problem: `${name}: its root does not match the events (the first ${size} events were altered, removed, inserted or reordered)`,
      });
      continue;
    }
    if (size > covered) {
      covered = size;
      coveredBy = { checkpoint: number, ...plain(cp) };
    }
  }
  if (covered < total) {
    const first = covered + 1;
    const why =
      heads.length === 0
        ? "checkpoints.json lists none"
        : coveredBy
          ? `the largest that is covers events 1–${covered}`
          : "none of its checkpoints is good";
    problems.push({
      line: first,
      position: positionOf[first - 1],
      first,
      problem:
        `${span(first, total)} not covered by any signed checkpoint (${why}): they may have been appended ` +
        "or rewritten after the last tree head the bureau signed",
    });
  }

  // the head the inspector trusts
  let trusted = null;
  if (treeHead) {
    trusted = await checkTrustedHead(treeHead, leaves, total, publicKey, problems);
  }
  return {
    ok: problems.length === 0,
    events_checked: total,
    checkpoints_checked: heads.length,
    key: `the pinned key ${publicKey.keyId.slice(0, 16)}…`,
    schemes,
    covered_by: coveredBy,
    tree_head: trusted,
    problems,
  };
}

async function checkTrustedHead(head, leaves, total, publicKey, problems) {
  const size = intOf(head.tree_size);
  const rootHex = String(head.root_hash ?? "");
  const shown = `${size}:${rootHex.toLowerCase()}`;
  const say = (problem) => problems.push({ tree_size: size, problem });
  if (size === null || size < 1 || !HEX64.test(rootHex)) {
    say("the trusted tree head is not a tree size ≥ 1 and a root of 64 hex digits");
    return { tree_size: size, root_hash: rootHex, consistent: false };
  }
  if (head.signature !== undefined) {
    const signed = await checkCheckpoint(head, publicKey);
    if (signed) {
      say(`the trusted tree head of size ${size} ${signed}`);
      return { tree_size: size, root_hash: rootHex, consistent: false };
    }
  }
  if (size > total) {
    say(
      `the trusted tree head covers ${size} events, the export only ${total}: events ${total + 1}–${size} are ` +
        "missing from it (a log only grows; this export is older than that head, or cut short)",
    );
    return { tree_size: size, root_hash: rootHex, consistent: false };
  }
  const prefix = leaves.slice(0, size);
  let consistent = false;
  if (prefix.every((l) => l !== null)) {
    // by consistency proof, as a verifier holding only the two heads would: from the trusted head to the export's
    const all = leaves.slice(0, total);
    if (all.every((l) => l !== null)) {
      const proof = await consistencyProof(all, size, total);
      consistent = await verifyConsistency(size, total, unhex(rootHex), await merkleRoot(all), proof);
    }
  }
  if (!consistent) {
    say(`the export does not extend the trusted tree head ${shown}: its first ${size} events are not the ones that head covers`);
  }
  return { tree_size: size, root_hash: rootHex.toLowerCase(), consistent, extended_by: consistent ? total - size : null };
}

/** Parses a --tree-head argument's text: "SIZE:ROOT". Returns {tree_size, root_hash} or throws VerifyError. */
export function parseTreeHead(text) {
  const m = /^(\d+):([0-9a-fA-F]*)$/.exec(String(text).trim());
  if (!m) throw new VerifyError("neither SIZE:ROOT nor a tree-head file");
  const size = Number(m[1]);
  if (!Number.isSafeInteger(size) || size < 1) throw new VerifyError("the size must be at least 1");
  if (m[2].length !== 64) throw new VerifyError("the root must be 64 hex digits");
  return { tree_size: size, root_hash: m[2].toLowerCase() };
}
