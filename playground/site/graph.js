// The redirect graph as SVG: each rule in a chain or loop that lint found is a box ("id: from →
// to"), an arrow from a rule to the rule its target lands on; loops in red, the rule that
// answered the request highlighted. Each connected group is one row, boxes in hop order.

const SVG = "http://www.w3.org/2000/svg";
const BOX_W = 230;
const BOX_H = 40;
const GAP_X = 50;
const GAP_Y = 44;
const PAD = 12;

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent?.appendChild(node);
  return node;
}

function cut(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Draws into `container`. `findings`: lint findings; `rules`: the bundle's rules (for labels);
 * `selected`: the id of the rule that answered, or null. Returns the number of boxes drawn.
 */
export function drawGraph(container, findings, rules, selected) {
  const edges = new Map(); // "a\u0000b" -> { from, to, loop }
  const inLoop = new Set();
  for (const f of findings) {
    if (f.code !== "chain" && f.code !== "loop") continue;
    const ids = f.rules.map((r) => r.id);
    for (let k = 0; k + 1 < ids.length; k++) {
      const key = `${ids[k]}\u0000${ids[k + 1]}`;
      const old = edges.get(key);
      edges.set(key, { from: ids[k], to: ids[k + 1], loop: (old?.loop ?? false) || f.code === "loop" });
    }
    if (f.code === "loop") {
      ids.forEach((id) => inLoop.add(id));
      if (ids.length > 1 && ids[0] !== ids.at(-1)) {
        const key = `${ids.at(-1)}\u0000${ids[0]}`;
        edges.set(key, { from: ids.at(-1), to: ids[0], loop: true });
      }
    }
  }
  const next = new Map();
  const nodes = new Set();
  for (const e of edges.values()) {
    nodes.add(e.from);
    nodes.add(e.to);
    if (!next.has(e.from)) next.set(e.from, []);
    next.get(e.from).push(e.to);
  }
  if (selected && !nodes.has(selected)) nodes.add(selected);
  container.replaceChildren();
  if (nodes.size === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No chains or loops, and no rule answered the request.";
    container.appendChild(p);
    return 0;
  }
  // Groups: connected components, each laid out by hops from its entry rules.
  const neighbours = new Map([...nodes].map((n) => [n, new Set()]));
  for (const e of edges.values()) {
    neighbours.get(e.from).add(e.to);
    neighbours.get(e.to).add(e.from);
  }
  const hasIn = new Set([...edges.values()].map((e) => e.to));
  const seen = new Set();
  const rows = [];
  const limit = 60;
  let drawn = 0;
  const ordered = [...nodes].sort((a, b) => (b === selected) - (a === selected));
  for (const start of ordered) {
    if (seen.has(start) || drawn >= limit) continue;
    const group = [];
    const stack = [start];
    seen.add(start);
    while (stack.length) {
      const n = stack.pop();
      group.push(n);
      for (const m of neighbours.get(n)) if (!seen.has(m)) (seen.add(m), stack.push(m));
    }
    // Order: breadth-first along arrows from rules nothing points at (any rule for a loop).
    const entries = group.filter((n) => !hasIn.has(n));
    const order = [];
    const placed = new Set();
    const queue = entries.length ? entries : [group[0]];
    while (order.length < group.length) {
      if (!queue.length) queue.push(group.find((n) => !placed.has(n)));
      const n = queue.shift();
      if (placed.has(n)) continue;
      placed.add(n);
      order.push(n);
      for (const m of next.get(n) ?? []) if (!placed.has(m)) queue.push(m);
    }
    rows.push(order.slice(0, limit - drawn));
    drawn += Math.min(order.length, limit - drawn);
  }
  const columns = Math.max(...rows.map((r) => r.length));
  const width = PAD * 2 + columns * BOX_W + (columns - 1) * GAP_X;
  const height = PAD * 2 + rows.length * BOX_H + (rows.length - 1) * GAP_Y + 24;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  el("title", {}, svg).textContent = `redirect graph: ${drawn} rules`;
  const defs = el("defs", {}, svg);
  for (const [id, color] of [["arrow", "#57606a"], ["arrow-loop", "#b3261e"]]) {
    const m = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: color }, m);
  }
  const at = new Map();
  rows.forEach((row, r) =>
    row.forEach((id, c) => at.set(id, { x: PAD + c * (BOX_W + GAP_X), y: PAD + r * (BOX_H + GAP_Y) })),
  );
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  for (const e of edges.values()) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const cls = e.loop ? "edge loop" : "edge";
    const marker = e.loop ? "url(#arrow-loop)" : "url(#arrow)";
    let d;
    if (b.x > a.x && a.y === b.y) {
      d = `M${a.x + BOX_W},${a.y + BOX_H / 2} L${b.x},${b.y + BOX_H / 2}`;
    } else {
      // Back to an earlier box (a loop closing) or another row: an arc under the boxes.
      const y = Math.max(a.y, b.y) + BOX_H + GAP_Y / 2;
      d = `M${a.x + BOX_W / 2},${a.y + BOX_H} C${a.x + BOX_W / 2},${y} ${b.x + BOX_W / 2},${y} ${b.x + BOX_W / 2},${b.y + BOX_H}`;
    }
    el("path", { d, class: cls, "marker-end": marker, "data-from": e.from, "data-to": e.to }, svg);
  }
  for (const [id, p] of at) {
    const classes = ["node"];
    if (id === selected) classes.push("selected");
    if (inLoop.has(id)) classes.push("in-loop");
    const g = el("g", { class: classes.join(" "), "data-rule": id, transform: `translate(${p.x},${p.y})` }, svg);
    el("rect", { width: BOX_W, height: BOX_H, rx: 6 }, g);
    const rule = byId.get(id);
    el("text", { x: 8, y: 16 }, g).textContent = cut(id, 30);
    const to = rule ? (rule.to === undefined ? (rule.split ? "split" : "") : rule.to ?? "origin") : "";
    el("text", { x: 8, y: 32 }, g).textContent = cut(rule ? `${rule.from} → ${to}` : "", 30);
  }
  container.appendChild(svg);
  return drawn;
}
