// The page's state (rules and request) in the URL fragment, deflated and base64url-encoded,
// so a link reproduces a question. CompressionStream is built into browsers.

async function pipe(bytes, transform) {
  const stream = new Blob([bytes]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function toBase64url(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `#s=...` for `state`. */
export async function encodeState(state) {
  const json = new TextEncoder().encode(JSON.stringify(state));
  return `#s=${toBase64url(await pipe(json, new CompressionStream("deflate-raw")))}`;
}

/** The state in `hash`, or null when it holds none (or a damaged one). */
export async function decodeState(hash) {
  if (!hash.startsWith("#s=")) return null;
  try {
    const bytes = await pipe(fromBase64url(hash.slice(3)), new DecompressionStream("deflate-raw"));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
