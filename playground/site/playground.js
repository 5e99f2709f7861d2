// The playground: the `redirects` commands compiled to wasm (the npm package's library), on the
// rules in the editor and the request in the form. Nothing leaves the browser: the only
// fetches are this page's own files (the wasm, the bundled rules.json).
import init, { Rules, run } from "./wasm/edge_redirects_js.js";
import { placeOf, lineOf, lineStarts } from "./locate.js";
import { drawGraph } from "./graph.js";
import { encodeState, decodeState } from "./state.js";
import { runInMemory, IMPORT_NAMES } from "./memory.js";

const $ = (id) => document.getElementById(id);
const editor = $("rules");
const form = $("request");
const LINE = 18; // px, --lh in the stylesheet
const PAD_TOP = 6;
const encoder = new TextEncoder();

/** What tests and people can read: the last timings and the current reports. */
const page = { timings: [], breakdowns: [], ready: false, rules: null, validation: null, explanation: null, lint: null };
window.playground = page;

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function setStatus(message) {
  $("status").textContent = message;
}

// ---- validation, errors at their place -------------------------------------------------

let current = null; // Rules
let errorPlaces = []; // [{ line, column, error }]

function placeErrors(source, report) {
  const starts = lineStarts(source);
  return report.errors.map((error) => {
    if (error.line != null) return { line: error.line, column: error.column ?? 1, error };
    const where = lineOf(starts, placeOf(source, error.pointer, error.rule_id));
    return { line: where.line, column: where.column, error };
  });
}

function renderErrors(report) {
  const list = $("errors");
  list.replaceChildren();
  const gutter = document.createElement("div");
  const marks = document.createElement("div");
  if (report.valid) {
    list.appendChild(text("li", `ok: ${report.rules} ${report.rules === 1 ? "rule" : "rules"}`, "ok"));
  }
  for (const place of errorPlaces) {
    const e = place.error;
    const li = document.createElement("li");
    li.dataset.line = place.line;
    li.append(text("strong", `error[${e.kind}] `), text("span", `line ${place.line}:${place.column} `, "where"));
    if (e.rule_id != null) li.append(text("span", `rule #${e.rule_index} "${e.rule_id}" at ${e.pointer || "/"}`, "where"));
    li.append(document.createElement("br"), text("span", e.message));
    if (e.hint) li.append(document.createElement("br"), text("span", `hint: ${e.hint}`, "hint"));
    li.addEventListener("click", () => goToLine(place.line));
    list.appendChild(li);
    const top = PAD_TOP + (place.line - 1) * LINE;
    const mark = document.createElement("div");
    mark.className = "mark";
    mark.dataset.line = place.line;
    mark.style.top = `${top}px`;
    mark.appendChild(text("span", e.message, "msg"));
    marks.appendChild(mark);
    const dot = document.createElement("div");
    dot.className = "dot";
    dot.style.top = `${top + 5}px`;
    dot.title = e.message;
    gutter.appendChild(dot);
  }
  if (report.more_errors) list.appendChild(text("li", `and ${report.more_errors} more errors`));
  $("marks").replaceChildren(marks);
  $("gutter").replaceChildren(gutter);
  syncScroll();
}

// The editor's scroll offset, kept from its scroll events: reading scrollTop while rendering
// would lay out the whole text again (tens of ms with 10,000 rules).
let scrollTop = 0;

function syncScroll() {
  const y = -scrollTop;
  for (const id of ["marks", "gutter"]) {
    const inner = $(id).firstElementChild;
    if (inner) inner.style.transform = `translateY(${y}px)`;
  }
}

function goToLine(line) {
  const starts = lineStarts(editor.value);
  const at = starts[Math.min(line, starts.length) - 1] ?? 0;
  editor.focus();
  editor.setSelectionRange(at, at);
  editor.scrollTop = Math.max(0, (line - 4) * LINE);
  scrollTop = editor.scrollTop;
  syncScroll();
}

// ---- explain -----------------------------------------------------------------------------

function requestFromForm() {
  const data = new FormData(form);
  const lines = (name) =>
    String(data.get(name) ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  const request = { url: String(data.get("url") ?? "").trim(), method: String(data.get("method") ?? "GET") };
  for (const name of ["country", "continent", "lang", "at"]) {
    const v = String(data.get(name) ?? "").trim();
    if (v) request[name] = name === "country" || name === "continent" ? v.toUpperCase() : v;
  }
  const random = String(data.get("random") ?? "").trim();
  if (random) request.random = Number(random);
  const headers = lines("headers");
  if (headers.length) request.headers = headers;
  const cookies = lines("cookies");
  if (cookies.length) request.cookies = cookies;
  return request;
}

function setForm(request) {
  for (const el of form.elements) {
    if (!el.name) continue;
    const v = request?.[el.name];
    el.value = Array.isArray(v) ? v.join("\n") : v ?? (el.name === "method" ? "GET" : "");
  }
}

function renderExplanation(explanation, problem) {
  const box = $("decision");
  const headers = $("headers");
  const trace = $("trace");
  headers.replaceChildren();
  trace.replaceChildren();
  $("note").textContent = "";
  if (problem) {
    box.className = "decision error";
    box.textContent = problem;
    return;
  }
  const e = explanation;
  box.className = `decision ${e.outcome}`;
  box.dataset.outcome = e.outcome;
  if (e.outcome === "redirect") box.textContent = `redirect ${e.status} → ${e.location} (rule "${e.rule}")`;
  else if (e.outcome === "forward")
    box.textContent = `forward to the origin; on 2xx, 303 to ${e.location ?? "the origin's Location"} (rule "${e.rule}")`;
  else box.textContent = e.rule ? `origin (rule "${e.rule}" keeps the visitor on the origin)` : "origin (no rule applied)";
  for (const [name, value] of Object.entries(e.headers)) {
    const tr = document.createElement("tr");
    tr.append(text("td", name), text("td", value));
    headers.appendChild(tr);
  }
  if (!Object.keys(e.headers).length) {
    const tr = document.createElement("tr");
    tr.append(text("td", "(none: the request goes on to the origin unchanged)"));
    headers.appendChild(tr);
  }
  $("note").textContent = e.note ?? "(no body)";
  if (!e.trace.length) trace.appendChild(text("li", "no rule's host and pattern match this URL", "skipped"));
  for (const step of e.trace) {
    const applied = step.verdict === "applied";
    trace.appendChild(
      text("li", `#${step.rule_index} "${step.rule_id}" ${applied ? "applied" : `skipped: ${step.reason}`}`, applied ? "applied" : "skipped"),
    );
  }
}

function explainNow() {
  page.explanation = null;
  if (!current?.valid) {
    renderExplanation(null, "fix the errors in the rules to explain a request");
    return;
  }
  try {
    page.explanation = current.explain(requestFromForm(), Date.now());
    renderExplanation(page.explanation);
  } catch (e) {
    renderExplanation(null, String(e?.message ?? e));
  }
}

// ---- lint and graph (after a pause in typing: they look at every pair of rules) ----------------

let parsedRules = [];

function lintNow() {
  const list = $("lint");
  list.replaceChildren();
  page.lint = null;
  if (!current?.valid) {
    $("lint-count").textContent = "(fix the errors first)";
    drawGraph($("graph"), [], [], null);
    return;
  }
  const started = performance.now();
  page.lint = current.lint(Date.now());
  try {
    parsedRules = JSON.parse(editor.value).rules ?? [];
  } catch {
    parsedRules = [];
  }
  const { findings } = page.lint;
  $("lint-count").textContent = `${page.lint.errors} errors, ${page.lint.warnings} warnings`;
  for (const f of findings.slice(0, 100)) {
    const li = document.createElement("li");
    li.className = f.severity;
    li.dataset.code = f.code;
    const who = f.rules[0] ? ` rule #${f.rules[0].index} "${f.rules[0].id}"` : "";
    li.append(text("strong", `${f.severity}[${f.code}]`), text("span", who, "where"), document.createElement("br"), text("span", f.message));
    li.append(document.createElement("br"), text("span", `hint: ${f.hint}`, "hint"));
    list.appendChild(li);
  }
  if (findings.length > 100) list.appendChild(text("li", `and ${findings.length - 100} more`));
  drawGraphNow();
  page.lintMillis = performance.now() - started;
}

function drawGraphNow() {
  drawGraph($("graph"), page.lint?.findings ?? [], parsedRules, page.explanation?.rule ?? null);
}

// ---- the update cycle --------------------------------------------------------------------

let lintTimer = 0;
let saveTimer = 0;

/** Compiles the editor's rules, shows every error at its place and explains the request. */
function update(since) {
  const entered = performance.now();
  const source = editor.value;
  const old = current;
  const started = performance.now();
  current = Rules.fromUtf8(encoder.encode(source), "rules.json");
  const compiled = performance.now();
  // The last bundle's memory is given back after this keystroke's answer is on screen.
  if (old) setTimeout(() => old.free(), 0);
  page.rules = current;
  const report = current.validate();
  page.validation = report;
  const validated = performance.now();
  errorPlaces = report.valid ? [] : placeErrors(source, report);
  const placed = performance.now();
  page.errorPlaces = errorPlaces.map((p) => ({ line: p.line, column: p.column, message: p.error.message }));
  renderErrors(report);
  if (!report.valid) $("lint-count").textContent = "(fix the errors first)";
  const count = report.valid ? report.rules : report.errors.length;
  $("rule-count").textContent = `${count} ${report.valid ? "rule" : "error"}${count === 1 ? "" : "s"}`;
  explainNow();
  const done = performance.now();
  const took = done - since;
  page.timings.push(took);
  page.breakdowns.push({
    waited: entered - since,
    read: started - entered,
    compile: compiled - started,
    validate: validated - compiled,
    place: placed - validated,
    rest: done - placed,
  });
  $("timing").textContent = `validated and explained in ${took.toFixed(1)} ms`;
  clearTimeout(lintTimer);
  page.lint = null; // until the pause in typing
  lintTimer = setTimeout(lintNow, 500);
  scheduleSave();
}

/** Writes the state into the link after a pause (`page.saving` until it is there). */
function scheduleSave() {
  clearTimeout(saveTimer);
  page.saving = true;
  saveTimer = setTimeout(async () => {
    const hash = await encodeState({ rules: editor.value, request: requestFromForm() });
    history.replaceState(null, "", hash);
    page.savedHash = hash;
    page.saving = false;
  }, 600);
}

editor.addEventListener("input", (event) => update(event.timeStamp));
editor.addEventListener("scroll", () => {
  scrollTop = editor.scrollTop;
  syncScroll();
});
form.addEventListener("input", (event) => {
  explainNow();
  $("timing").textContent = `explained in ${(performance.now() - event.timeStamp).toFixed(1)} ms`;
  drawGraphNow();
  scheduleSave();
});
form.addEventListener("submit", (event) => event.preventDefault());

// ---- import and files ----------------------------------------------------------------------

/** `redirects import FORMAT FILE` on `input`, in the page; the rules replace the editor's. */
function importText(format, input) {
  const name = IMPORT_NAMES[format];
  const outcome = runInMemory(run, ["import", format, name], { [name]: input });
  const code = outcome.code;
  $("import-log").textContent = `$ redirects import ${format} ${name}   (exit ${code})\n${outcome.stderr}`;
  page.lastImport = { code, stderr: outcome.stderr };
  if (outcome.stdout.trim()) {
    editor.value = outcome.stdout;
    update(performance.now());
  }
  return code;
}

$("import-form").addEventListener("submit", (event) => {
  event.preventDefault();
  importText($("import-format").value, $("import-text").value);
});

function formatOf(name, content) {
  const lower = name.toLowerCase();
  if (lower.endsWith(".csv")) return "cloudflare-csv";
  if (lower.endsWith(".toml") || lower.includes("_redirects") || !lower.endsWith(".json")) return "netlify";
  try {
    const value = JSON.parse(content);
    if (Array.isArray(value)) return "nextjs";
    if (value && typeof value === "object" && "version" in value && "rules" in value) return "rules";
    return "vercel";
  } catch {
    return "rules";
  }
}

$("file").addEventListener("change", async (event) => {
  const file = event.target.files?.[0];
  if (!file) return;
  const content = await file.text();
  const format = formatOf(file.name, content);
  if (format === "rules") {
    editor.value = content;
    update(performance.now());
    setStatus(`loaded ${file.name}`);
  } else {
    $("import-box").open = true;
    $("import-format").value = format;
    $("import-text").value = content;
    importText(format, content);
    setStatus(`imported ${file.name} (${format})`);
  }
  event.target.value = "";
});

$("share").addEventListener("click", async () => {
  const hash = await encodeState({ rules: editor.value, request: requestFromForm() });
  history.replaceState(null, "", hash);
  page.savedHash = hash;
  try {
    await navigator.clipboard.writeText(location.href);
    setStatus("link copied");
  } catch {
    setStatus("link in the address bar");
  }
});

async function loadBundled() {
  const response = await fetch("rules.json");
  editor.value = await response.text();
}

$("reset").addEventListener("click", async () => {
  await loadBundled();
  update(performance.now());
});

window.addEventListener("hashchange", async () => {
  const state = await decodeState(location.hash);
  if (state && state.rules !== editor.value) {
    editor.value = state.rules ?? "";
    setForm(state.request);
    update(performance.now());
  }
});

// ---- start ---------------------------------------------------------------------------------

await init();
const state = await decodeState(location.hash);
if (state) {
  editor.value = state.rules ?? "";
  setForm(state.request);
  setStatus("opened from the link");
} else {
  await loadBundled();
}
update(performance.now());
lintNow();
page.ready = true;
document.body.dataset.ready = "1";
