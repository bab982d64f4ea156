// Review queue: one key per choice, n = next, u = undo. Corrections go through the JSON API with the
// session's CSRF token; the run version is kept up to date so a stale view is refused, not overwritten.
(function () {
  const box = document.getElementById("queue");
  if (!box) return;
  const status = document.getElementById("status");
  const items = Array.from(box.querySelectorAll(".item"));
  let index = 0;
  let version = Number(box.dataset.version);

  function show(i) {
    items.forEach((item, j) => { item.hidden = j !== i; });
    if (i >= items.length) status.textContent = "File terminée : rechargez la page pour la suite.";
  }

  async function send(body) {
    const response = await fetch(`/api/runs/${encodeURIComponent(box.dataset.run)}/corrections`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
      body: JSON.stringify(Object.assign({ seen: version }, body)),
    });
    const data = await response.json();
    if (!response.ok) { status.textContent = "Non enregistré : " + data.detail; return false; }
    version = data.version;
    status.textContent = `#${data.event} ${data.action} enregistré`;
    return true;
  }

  async function choose(key) {
    const item = items[index];
    if (!item) return;
    const choice = item.querySelector(`li[data-key="${key}"]`);
    if (!choice) return;
    const unit = item.dataset.unit;
    const to = choice.dataset.to;
    const body = to === "" ? { action: "off_topic", unit }
      : to === item.dataset.theme ? { action: "confirm", unit }
      : { action: "move", unit, to };
    if (await send(body)) { index += 1; show(index); }
  }

  document.addEventListener("keydown", async (event) => {
    if (event.target.matches("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[0-9]$/.test(event.key)) { event.preventDefault(); await choose(event.key); }
    else if (event.key === "n") { index = Math.min(index + 1, items.length); show(index); }
    else if (event.key === "u") {
      if (await send({ action: "undo" }) && index > 0) { index -= 1; show(index); }
    }
  });
})();
