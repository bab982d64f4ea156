// Review queue: every choice is a button (mouse, touch) with its key shown on it (keyboard). Corrections go
// through the JSON API with the session's CSRF token and the run version this page read, so a change another
// reviewer made meanwhile is refused (409) rather than overwritten.
(function () {
  const box = document.getElementById("queue");
  const items = Array.from(box ? box.querySelectorAll(".item") : []);
  if (!items.length) return;
  const status = document.getElementById("status");
  const conflict = document.getElementById("conflict");
  const picker = document.getElementById("picker");
  const filter = document.getElementById("picker-input");
  const api = `/api/runs/${encodeURIComponent(box.dataset.run)}`;
  let index = 0;
  // The version the view is whole at. It is the version the page read, never the one the server answers with:
  // adopting that would also adopt changes this page never showed. Only when the page's own save is the very next
  // event (seq == seen + 1) did nothing else happen in between, and the view is whole at that seq too.
  let seen = Number(box.dataset.version);
  // unit -> this page's last event on it. Every event on a unit passed the stale-view check, so nobody else
  // touched the unit between the view and that event: for that unit the view is whole up to it. Sending it as
  // `seen` for the unit keeps the page's own saves from conflicting with itself, while any later change by
  // someone else (seq above it) is still refused.
  const mine = new Map();
  const done = []; // this page's corrections still in force, latest last: {event, index}
  let busy = false; // one write at a time: a double click must not save the same choice twice

  function show(i) {
    index = Math.min(i, items.length);
    items.forEach((item, j) => { item.hidden = j !== index; });
    closePicker();
    if (index >= items.length) say("File terminée : rechargez la page pour la suite.");
  }

  function say(text) { status.textContent = text; }

  function seenFor(unit) { return Math.max(seen, mine.get(unit) || 0); }

  function saved(unit, event) {
    if (event === seen + 1) seen = event;
    mine.set(unit, event);
  }

  async function send(body) {
    if (busy) return null;
    busy = true;
    try { return await post(body); } finally { busy = false; }
  }

  async function post(body) {
    const response = await fetch(`${api}/corrections`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({ detail: response.statusText }));
    if (response.status === 409) {
      conflict.querySelector(".text").textContent = data.detail;
      conflict.hidden = false;
      say("Non enregistré : cette idée a changé depuis l'ouverture de la file.");
      return null;
    }
    if (!response.ok) { say(`Non enregistré : ${data.detail}`); return null; }
    refreshProgress();
    return data;
  }

  function bodyFor(item, to) {
    const unit = item.dataset.unit;
    if (to === "") return { action: "off_topic", unit };
    if (to === item.dataset.theme) return { action: "confirm", unit };
    return { action: "move", unit, to };
  }

  const DONE = { off_topic: "marquée hors sujet", confirm: "thème gardé", move: "déplacée" };

  async function choose(to, label) {
    const item = items[index];
    if (!item) return;
    const body = bodyFor(item, to);
    const data = await send(Object.assign({ seen: seenFor(body.unit) }, body));
    if (!data) return;
    saved(body.unit, data.event);
    done.push({ event: data.event, index });
    say(`Idée ${index + 1} ${DONE[body.action]}${body.action === "move" ? ` vers « ${label} »` : ""} (version ${data.event}).`);
    show(index + 1);
  }

  async function undo() {
    const last = done[done.length - 1];
    if (!last) { say("Rien à annuler : aucune correction faite depuis l'ouverture de la file."); return; }
    const unit = items[last.index].dataset.unit;
    // The event undone touched this unit only, and nobody else touched it before that event (it passed the
    // check): `seen` may go up to that event. A change made after it is refused by the undo itself.
    const data = await send({ action: "undo", event: last.event, seen: Math.max(seenFor(unit), last.event) });
    if (!data) return;
    done.pop();
    saved(unit, data.event);
    show(last.index);
    say(`Correction annulée : l'idée ${last.index + 1} est de nouveau à revoir.`);
  }

  function retrainText(missing) {  // as queue.html writes it
    return missing ? `encore ${missing} idées à revoir avant qu'un réentraînement vaille la peine` : "un réentraînement vaut la peine";
  }

  async function refreshProgress() {
    const bar = document.getElementById("progress");
    const response = await fetch(`${api}/queue?limit=1`);
    if (!response.ok) return;
    const { progress } = await response.json();
    bar.querySelector("progress").value = progress.reviewed;
    bar.querySelector("progress").max = progress.reviewed + progress.open;
    bar.querySelector(".reviewed").textContent = progress.reviewed;
    bar.querySelector(".open").textContent = progress.open;
    bar.querySelector(".until").textContent = retrainText(progress.until_retrain);
    if (progress.held_out_f1 !== null) bar.querySelector(".f1").textContent = progress.held_out_f1.toFixed(2).replace(".", ",");
  }

  function openPicker() {
    picker.hidden = false;
    filter.value = "";
    filterThemes();
    filter.focus();
  }

  function closePicker() { if (picker) picker.hidden = true; }

  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

  function filterThemes() {
    const wanted = fold(filter.value.trim());
    picker.querySelectorAll("li").forEach((li) => { li.hidden = !fold(li.textContent).includes(wanted); });
  }

  function picked(button) { return choose(button.dataset.to, button.dataset.label); }

  box.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-key]");
    if (button) picked(button);
  });
  picker.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-to]");
    if (button) picked(button);
  });
  filter.addEventListener("input", filterThemes);
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); closePicker(); }
    else if (event.key === "Enter") {
      event.preventDefault();
      const first = picker.querySelector("li:not([hidden]) button");
      if (first) picked(first);
    }
  });
  document.getElementById("open-picker").addEventListener("click", () => (picker.hidden ? openPicker() : closePicker()));
  document.getElementById("skip").addEventListener("click", () => show(index + 1));
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("reload").addEventListener("click", () => window.location.reload());

  document.addEventListener("keydown", (event) => {
    if (event.target.matches("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[0-9]$/.test(event.key)) {
      const button = items[index] && items[index].querySelector(`button[data-key="${event.key}"]`);
      if (button) { event.preventDefault(); picked(button); }
    } else if (event.key === "/") { event.preventDefault(); openPicker(); }
    else if (event.key === "n") show(index + 1);
    else if (event.key === "u") undo();
  });
})();
