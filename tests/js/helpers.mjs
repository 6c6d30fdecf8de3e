// Shared by the tests of web/verify.js: the worked examples of docs/record-format.md, read from the document.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOC = readFileSync(`${ROOT}docs/record-format.md`, "utf8");

/** The text of the fenced block after `<!-- example: NAME -->` in docs/record-format.md. */
export function example(name) {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  if (!m) throw new Error(`no example ${name} in docs/record-format.md`);
  return m[1];
}
