// What the board's and the console's verify buttons share: fetching what they check, the failure a check names,
// recomputing a record's hash from its content, and the button's result (✓, or ✗ and what failed) written into its
// <output>.

import * as v from "./verify.js";

export class Failure extends Error {}

export const getJson = async (url) => {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Failure(`${url.split("?")[0]} 无法获取 could not be fetched (HTTP ${r.status})`);
  return r.json();
};

export const must = (condition, what) => {
  if (!condition) throw new Failure(what);
};

// The hash of a record in the export's format (docs/record-format.md §2–3; a parseJson value, so that each number
// keeps its text), recomputed from its content; a malformed record, or one whose content does not give the hash it
// carries (altered after it was recorded), fails.
export async function recomputedHash(record) {
  const problems = v.eventShapeProblems(record);
  must(problems.length === 0, `记录格式不符 the record is malformed: ${problems[0]}`);
  let computed;
  try {
    computed = await v.eventHash(record);
  } catch (err) {
    throw new Failure(`记录哈希无法计算 the record's hash cannot be computed: ${err.message}`);
  }
  must(computed === record.hash, "记录内容与其哈希不符（已被改动） the record's content does not match its hash (altered)");
  return computed;
}

// On a click, runs check(button) and shows its answer (or what failed) in output. The answer is a text (✓, class
// "ok"), or {text, partial: true} for a check that could do only part of its work and says which (class "partial").
export function wire(button, output, check) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    output.className = "verify-result";
    output.textContent = "核验中… Verifying…";
    try {
      const answer = await check(button);
      output.textContent = typeof answer === "string" ? answer : answer.text;
      output.classList.add(typeof answer === "string" || !answer.partial ? "ok" : "partial");
    } catch (err) {
      const what = err instanceof Failure ? err.message : `核验无法完成 verification could not run: ${err.message}`;
      output.textContent = `✗ 核验失败 Failed: ${what}`;
      output.classList.add("failed");
    } finally {
      button.disabled = false;
    }
  });
}
