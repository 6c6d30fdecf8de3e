// What the board's and the console's verify buttons share: fetching what they check, the failure a check names,
// and the button's result (✓, or ✗ and what failed) written into its <output>.

export class Failure extends Error {}

export const getJson = async (url) => {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Failure(`${url.split("?")[0]} 无法获取 could not be fetched (HTTP ${r.status})`);
  return r.json();
};

export const must = (condition, what) => {
  if (!condition) throw new Failure(what);
};

// On a click, runs check(button) and shows its answer (or what failed) in output.
export function wire(button, output, check) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    output.className = "verify-result";
    output.textContent = "核验中… Verifying…";
    try {
      output.textContent = await check(button);
      output.classList.add("ok");
    } catch (err) {
      const what = err instanceof Failure ? err.message : `核验无法完成 verification could not run: ${err.message}`;
      output.textContent = `✗ 核验失败 Failed: ${what}`;
      output.classList.add("failed");
    } finally {
      button.disabled = false;
    }
  });
}
