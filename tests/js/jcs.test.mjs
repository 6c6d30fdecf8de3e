// RFC 8785 (JCS) and the legacy serialisation in web/verify.js: key order, escapes, numbers, refusals.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as v from "../../web/verify.js";

const jcsOf = (text) => v.jcs(v.parseJson(text));

test("members sorted by UTF-16 code units at every level; no whitespace", () => {
  assert.equal(jcsOf('{ "b": 1, "a": { "d": [ 3 , 2 ], "c": null } }'), '{"a":{"c":null,"d":[3,2]},"b":1}');
  // RFC 8785 §3.2.3: sorted on UTF-16 code units, so U+1F600 (D83D DE00) comes before U+FB33 and after "\r"
  assert.equal(
    jcsOf('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}'),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
  // the legacy rule sorts by code point instead: there U+FB33 comes before U+1F600
  assert.equal(v.pythonJson(v.parseJson('{"\\ud83d\\ude00":1,"\\ufb33":2}')), '{"\ufb33":2,"\ud83d\ude00":1}');
});

test("strings escaped as ECMAScript's JSON.stringify; everything else as itself", () => {
  const s = 'q"b\\s\b\f\n\r\t\u0001\u001f\u007f é 中 😀 \u2028 /';
  assert.equal(v.jcs(s), JSON.stringify(s));
  assert.equal(v.jcs("\u0001"), '"\\u0001"');
  assert.equal(v.jcs("\u001f"), '"\\u001f"');
  assert.equal(v.pythonJson(s), JSON.stringify(s)); // Python's ensure_ascii=False writes the same escapes
  assert.throws(() => v.jcs("\ud800"), v.VerifyError); // a lone surrogate is not Unicode text
  assert.throws(() => v.jcs(v.parseJson('"\\udc00x"')), v.VerifyError);
});

test("numbers as ECMAScript writes them (RFC 8785 §3.2.2.3 and its appendix B)", () => {
  const cases = {
    0: "0", "-0": "0", "-0.0": "0", 1: "1", "1.0": "1", "4.50": "4.5", "2e-3": "0.002", "1E30": "1e+30",
    "1e21": "1e+21", "1e20": "100000000000000000000", "0.000001": "0.000001", "1e-7": "1e-7",
    "333333333.33333329": "333333333.3333333", "9007199254740991": "9007199254740991",
    "-9007199254740991": "-9007199254740991", "12000000000": "12000000000",
    "5e-324": "5e-324", "1.7976931348623157e308": "1.7976931348623157e+308", "0.1": "0.1",
  };
  for (const [text, out] of Object.entries(cases)) assert.equal(jcsOf(text), out, text);
  for (const text of ["9007199254740992", "-9007199254740992", "123456789012345678901234567890", "1e400", "NaN", "-Infinity"]) {
    assert.throws(() => jcsOf(text), v.VerifyError, text);
  }
});

test("{\"$decimal\": …} objects are hashed as the objects they are", () => {
  assert.equal(jcsOf('{"value": {"$decimal": "0.6"}, "n": 3}'), '{"n":3,"value":{"$decimal":"0.6"}}');
  assert.notEqual(jcsOf('{"$decimal": "4"}'), jcsOf("4"));
});

test("the legacy rule writes numbers as Python does: integers as digits, floats as repr", () => {
  const cases = {
    "4.0": "4.0", 4: "4", "12000000000.0": "12000000000.0", "0.65": "0.65", "1e-07": "1e-07", "1.2e+16": "1.2e+16",
    "1e16": "1e+16", "1000000000000000.0": "1000000000000000.0", "0.0001": "0.0001", "0.00001": "1e-05",
    "-0.0": "-0.0", "123456789012345678901234567890": "123456789012345678901234567890", "2.5E-5": "2.5e-05",
    "0.1": "0.1", "1e400": "Infinity", NaN: "NaN",
  };
  for (const [text, out] of Object.entries(cases)) assert.equal(v.pythonJson(v.parseJson(text)), out, text);
  assert.equal(v.pythonJson(v.parseJson('{"b": [1.5, true], "a": null}')), '{"a":null,"b":[1.5,true]}');
});

test("the reader keeps what JSON says: __proto__ is a member, the last of repeated members wins, junk is refused", () => {
  const o = v.parseJson('{"__proto__": {"x": 1}, "a": 1, "a": 2}');
  assert.equal(v.jcs(o), '{"__proto__":{"x":1},"a":2}');
  for (const bad of ["", "{", "[1,]", '{"a":1,}', "01", "1.", ".5", '"\u0001"', "[1] x", "tru", "'a'", '"\\x"']) {
    assert.throws(() => v.parseJson(bad), v.VerifyError, JSON.stringify(bad));
  }
  assert.equal(v.parseJson("12000000000.0").raw, "12000000000.0"); // its text kept
});
