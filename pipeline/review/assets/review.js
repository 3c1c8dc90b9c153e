// The review page: one item at a time, verdicts by key or click, kept in localStorage,
// exported as JSON lines. Everything it needs is in the page (no network).
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("review-data").textContent);
  const VERDICTS = DATA.verdicts; // [[name, key], ...] in button order
  const STORE = "msg-review/" + DATA.key;
  const items = DATA.items;
  const state = load();
  let current = Math.min(state.position || 0, items.length - 1);
  const $ = (id) => document.getElementById(id);

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
      return { reviewer: saved.reviewer || "", verdicts: saved.verdicts || {}, position: saved.position || 0 };
    } catch (e) {
      return { reviewer: "", verdicts: {}, position: 0 };
    }
  }
  function save() {
    state.position = current;
    localStorage.setItem(STORE, JSON.stringify(state));
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render() {
    const item = items[current];
    const stage = $("stage");
    stage.replaceChildren();
    const img = el("img", { src: DATA.images[item.image], alt: "image of " + item.id, id: "picture" });
    stage.appendChild(img);
    for (const b of item.boxes) {
      const box = el("div", { class: "box " + b.kind });
      box.style.left = 100 * b.x + "%";
      box.style.top = 100 * b.y + "%";
      box.style.width = 100 * b.w + "%";
      box.style.height = 100 * b.h + "%";
      box.appendChild(el("span", {}, b.label));
      stage.appendChild(box);
    }
    $("item-id").textContent = item.id;
    $("item-meta").textContent = item.aspect + " / " + item.form + " / " + item.scene_id;
    $("question").textContent = item.question;
    const options = $("options");
    options.replaceChildren();
    item.options.forEach((o, k) => {
      options.appendChild(el("li", { class: k === item.answer_index ? "answer" : "" }, o));
    });
    $("answer").textContent = item.answer;
    $("answer-value").textContent = item.answer_value;
    const evidence = $("evidence");
    evidence.replaceChildren();
    for (const [id, text] of item.evidence) {
      const row = el("tr");
      row.appendChild(el("td", {}, id));
      row.appendChild(el("td", {}, text));
      evidence.appendChild(row);
    }
    $("flags").hidden = item.flags.length === 0;
    const flagList = $("flag-list");
    flagList.replaceChildren(...item.flags.map((f) => el("li", {}, f)));
    const chosen = (state.verdicts[item.id] || {}).verdict;
    for (const button of document.querySelectorAll(".verdicts button")) {
      button.classList.toggle("chosen", button.dataset.verdict === chosen);
    }
    $("note").value = (state.verdicts[item.id] || {}).note || "";
    $("position").textContent = current + 1 + " / " + items.length;
    const judged = items.filter((i) => state.verdicts[i.id] && state.verdicts[i.id].verdict).length;
    $("progress").textContent = judged + " of " + items.length + " judged";
    document.querySelectorAll(".strip a").forEach((a, k) => {
      const v = (state.verdicts[items[k].id] || {}).verdict;
      a.className = (v ? "done v-" + v : "") + (k === current ? " current" : "");
    });
  }

  function judge(verdict) {
    const item = items[current];
    state.verdicts[item.id] = { verdict: verdict, note: $("note").value };
    save();
    if (current < items.length - 1) current += 1;
    save();
    render();
  }
  function go(step) {
    current = Math.max(0, Math.min(items.length - 1, current + step));
    save();
    render();
  }

  function exportText() {
    return items
      .filter((i) => state.verdicts[i.id] && state.verdicts[i.id].verdict)
      .map((i) =>
        JSON.stringify({
          id: i.id,
          verdict: state.verdicts[i.id].verdict,
          note: state.verdicts[i.id].note || "",
          reviewer: state.reviewer,
        })
      )
      .join("\n") + "\n";
  }
  function download() {
    if (!state.reviewer.trim()) {
      $("export-status").textContent = "enter your name first";
      $("reviewer").focus();
      return;
    }
    const blob = new Blob([exportText()], { type: "application/x-ndjson" });
    const link = el("a", {
      href: URL.createObjectURL(blob),
      download: "verdicts-" + state.reviewer.trim().replace(/[^A-Za-z0-9_-]+/g, "_") + ".jsonl",
    });
    document.body.appendChild(link);
    link.click();
    link.remove();
    $("export-status").textContent = "exported";
  }

  // Controls.
  const buttons = $("verdict-buttons");
  for (const [name, key] of VERDICTS) {
    const button = el("button", { "data-verdict": name, type: "button", title: "key " + key + " or " + (buttons.children.length + 1) },
      buttons.children.length + 1 + " " + name + " (" + key + ")"
    );
    button.addEventListener("click", () => judge(name));
    buttons.appendChild(button);
  }
  const strip = $("strip");
  items.forEach((item, k) => {
    const a = el("a", { title: item.id });
    a.addEventListener("click", () => {
      current = k;
      save();
      render();
    });
    strip.appendChild(a);
  });
  $("reviewer").value = state.reviewer;
  $("reviewer").addEventListener("input", (e) => {
    state.reviewer = e.target.value;
    save();
  });
  $("note").addEventListener("input", (e) => {
    const item = items[current];
    const entry = state.verdicts[item.id] || { verdict: "", note: "" };
    entry.note = e.target.value;
    state.verdicts[item.id] = entry;
    save();
  });
  $("prev").addEventListener("click", () => go(-1));
  $("next").addEventListener("click", () => go(1));
  $("export").addEventListener("click", download);
  // Each verdict by its letter and by its number (1 to 4, in button order).
  const byKey = Object.fromEntries(
    VERDICTS.flatMap(([name, key], k) => [
      [key, name],
      [String(k + 1), name],
    ])
  );
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "TEXTAREA"].includes(e.target.tagName);
    if (typing) {
      if (e.key === "Escape") e.target.blur(); // back to the keys
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (byKey[e.key.toLowerCase()]) judge(byKey[e.key.toLowerCase()]);
    else if (e.key === "ArrowRight" || e.key === "j") go(1);
    else if (e.key === "ArrowLeft" || e.key === "k") go(-1);
    else if (e.key === "n") {
      e.preventDefault();
      $("note").focus();
    } else return;
    e.preventDefault();
  });
  render();
  window.msgReview = { exportText: exportText, state: state, items: items };
})();
