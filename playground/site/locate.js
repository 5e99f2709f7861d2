// Where a JSON pointer ("/rules/3/to") points in a JSON text: the offset of the member's key
// (or of the array element), so an error can be shown at its place. One pass over the text,
// stopping as soon as every pointer asked for is found.

const DONE = Symbol("done");
// The rest of a string after its opening quote; a scalar (number, true, false, null); the next
// bracket or quote.
const STRING_END = /(?:[^"\\]|\\.)*"/y;
const SCALAR = /[^,}\]\s]*/y;
const STRUCTURE = /[{}[\]"]/g;

/** Escapes a member name as a pointer token (RFC 6901). */
function token(name) {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * Offsets of `pointers` in `text`: a Map from each pointer to the offset of the nearest of it
 * and its parents that exists in the text ("/rules/3/to" of a rule without `to` points at the
 * rule). Pointers beyond a syntax error map to the deepest place found.
 */
export function locate(text, pointers) {
  const wanted = new Set();
  for (const p of pointers) {
    let q = p;
    for (;;) {
      wanted.add(q);
      const cut = q.lastIndexOf("/");
      if (cut < 0) break;
      q = q.slice(0, cut);
    }
  }
  const found = new Map();
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const string = () => {
    const start = ++i;
    let escaped = false;
    while (i < n && text[i] !== '"') {
      if (text[i] === "\\") {
        escaped = true;
        i++;
      }
      i++;
    }
    const raw = text.slice(start, i);
    i++;
    if (!escaped) return raw;
    try {
      return JSON.parse(`"${raw}"`);
    } catch {
      return raw;
    }
  };
  const mark = (pointer, at) => {
    if (wanted.has(pointer) && !found.has(pointer)) {
      found.set(pointer, at);
      if (found.size === wanted.size) throw DONE;
    }
  };
  const value = (pointer) => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      while (i < n) {
        ws();
        const at = i;
        if (text[i] !== '"') return;
        const child = `${pointer}/${token(string())}`;
        mark(child, at);
        ws();
        if (text[i] !== ":") return;
        i++;
        if (wanted.has(child)) value(child);
        else skip();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (let k = 0; i < n; k++) {
        ws();
        const child = `${pointer}/${k}`;
        mark(child, i);
        if (wanted.has(child)) value(child);
        else skip();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else return;
      }
    } else {
      skip();
    }
  };
  // Skips one value without recording anything (the fast path for the rules not asked about):
  // the regular expressions jump from one bracket or quote to the next in native code.
  const skip = () => {
    ws();
    const c = text[i];
    if (c === '"') {
      STRING_END.lastIndex = i + 1;
      i = STRING_END.exec(text) ? STRING_END.lastIndex : n;
      return;
    }
    if (c !== "{" && c !== "[") {
      SCALAR.lastIndex = i;
      i = SCALAR.exec(text) ? SCALAR.lastIndex : n;
      return;
    }
    let depth = 0;
    for (;;) {
      STRUCTURE.lastIndex = i;
      const m = STRUCTURE.exec(text);
      if (!m) return void (i = n);
      i = m.index;
      const d = text[i];
      if (d === '"') {
        STRING_END.lastIndex = i + 1;
        i = STRING_END.exec(text) ? STRING_END.lastIndex : n;
        continue;
      }
      i++;
      if (d === "{" || d === "[") depth++;
      else if (--depth === 0) return;
    }
  };
  try {
    ws();
    mark("", i);
    value("");
  } catch (e) {
    if (e !== DONE) throw e;
  }
  const out = new Map();
  for (const p of pointers) {
    let q = p;
    while (!found.has(q) && q !== "") q = q.slice(0, q.lastIndexOf("/"));
    out.set(p, { offset: found.get(q) ?? 0, exact: q === p });
  }
  return out;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The offset of an error's place: for an error in a rule whose id appears once in the text,
 * found from that rule's own `{` (a native search, then a scan of that rule alone), else by
 * scanning the text from the start.
 */
export function placeOf(text, pointer, ruleId) {
  const rule = /^\/rules\/\d+/.exec(pointer);
  if (rule && ruleId != null) {
    const id = new RegExp(`"id"\\s*:\\s*${escapeRegExp(JSON.stringify(ruleId))}`, "g");
    const first = id.exec(text);
    if (first && !id.exec(text)) {
      const open = text.lastIndexOf("{", first.index);
      const inner = pointer.slice(rule[0].length);
      const local = locate(text.slice(open), [inner]).get(inner);
      if (open >= 0 && local.exact) return open + local.offset;
    }
  }
  return locate(text, [pointer]).get(pointer).offset;
}

/** 1-based line and column of `offset` in a text whose line starts are `starts`. */
export function lineOf(starts, offset) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

/** Offsets where each line of `text` starts. */
export function lineStarts(text) {
  const starts = [0];
  let at = text.indexOf("\n");
  while (at >= 0) {
    starts.push(at + 1);
    at = text.indexOf("\n", at + 1);
  }
  return starts;
}
