// Theme page: tick many units, then correct them all in one event (the form posts as it does without JavaScript).
// This script only helps to tick: shift-click ticks a range, "20 les plus proches" ticks the units of the theme
// most like one (the server ranks them by meaning), and the count and the buttons follow the selection.
(function () {
  const form = document.getElementById("bulk");
  if (!form) return;
  const count = document.getElementById("selected-count");
  const status = document.getElementById("bulk-status");
  const target = document.getElementById("bulk-to");
  const boxes = () => Array.from(document.querySelectorAll('input[type="checkbox"][form="bulk"]'));
  const ticked = () => boxes().filter((box) => box.checked).map((box) => box.value);
  let last = null; // the box clicked last: a shift-click ticks everything between it and the next one

  function update() {
    const n = ticked().length;
    count.textContent = n === 0 ? "Aucune idée cochée" : n === 1 ? "1 idée cochée" : `${n} idées cochées`;
    form.querySelectorAll("[data-needs]").forEach((button) => {
      const needs = button.dataset.needs.split(" ");
      button.disabled = n === 0 || (needs.includes("theme") && !target.value);
    });
  }

  function tickRange(box) {
    const all = boxes();
    const [from, to] = [all.indexOf(last), all.indexOf(box)].sort((a, b) => a - b);
    all.slice(from, to + 1).forEach((other) => { other.checked = box.checked; });
  }

  async function tickSimilar(button) {
    const unit = button.dataset.unit;
    const params = new URLSearchParams({ n: "20", theme: form.dataset.theme });
    ticked().concat(unit).forEach((chosen) => params.append("exclude", chosen));
    const run = encodeURIComponent(form.dataset.run);
    status.textContent = "Recherche des idées les plus proches…";
    const response = await fetch(`/api/runs/${run}/units/${encodeURIComponent(unit)}/similar?${params}`);
    const data = await response.json();
    if (!response.ok) { status.textContent = "Introuvable : " + data.detail; return; }
    const wanted = new Set([unit, ...data.units]);
    const shown = boxes().filter((box) => wanted.has(box.value));
    shown.forEach((box) => { box.checked = true; });
    const hidden = wanted.size - shown.length; // filtered out by the search: not ticked, so said
    status.textContent = `${data.units.length} idées proches cochées` + (hidden ? ` (${hidden} masquées par la recherche)` : "");
    update();
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest('input[type="checkbox"][form="bulk"]');
    if (box) {
      if (event.shiftKey && last && last !== box) tickRange(box);
      last = box;
      update();
      return;
    }
    const similar = event.target.closest("button.similar");
    if (similar) tickSimilar(similar);
  });
  target.addEventListener("change", update);
  form.addEventListener("reset", () => setTimeout(() => { last = null; update(); }));
  document.querySelectorAll("button.similar").forEach((button) => { button.hidden = false; });
  update();
})();
