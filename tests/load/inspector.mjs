// workerd's inspector (Chrome DevTools protocol), to measure an isolate from outside without
// changing the worker: `Runtime.getHeapUsage` gives V8's heap; `Runtime.queryObjects` finds
// every live WebAssembly.Memory and its byteLength is read in place. queryObjects collects
// garbage first, so the heap is read before it (as the requests left it) and after (what is
// really live). Used by the load run (tests/load/run.mjs) and the benchmarks.

/** Connects to one isolate's inspector (`ws://host:port/<service>`). */
export async function connectTo(url, WebSocketClient) {
  const ws = new WebSocketClient(url);
  const pending = new Map();
  let nextId = 0;
  let context = null;
  const contextSeen = new Promise((resolve) => {
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id !== undefined) {
        const p = pending.get(message.id);
        pending.delete(message.id);
        if (p) message.error ? p.reject(new Error(`${p.method}: ${message.error.message}`)) : p.resolve(message.result);
      } else if (message.method === "Runtime.executionContextCreated") {
        context = message.params.context.id;
        resolve();
      }
    };
  });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector at ${url} refused the connection`));
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params }));
      setTimeout(() => pending.has(id) && (pending.delete(id), reject(new Error(`${method}: no answer in 30 s`))), 30_000).unref();
    });
  // The context is announced on Runtime.enable; an isolate still starting may not announce it
  // then, so ask again until it does.
  for (let attempt = 0; ; attempt++) {
    await send("Runtime.enable");
    const seen = await Promise.race([contextSeen.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
    if (seen) break;
    if (attempt === 10) throw new Error(`inspector at ${url}: no execution context announced`);
    await send("Runtime.disable");
  }
  return {
    send,
    context: () => context,
    close: () => ws.close(),
  };
}

/** The isolate's JS heap before and after a collection, and the byteLength of each wasm memory. */
export async function isolateMemory(inspector) {
  const { send } = inspector;
  const before = await send("Runtime.getHeapUsage");
  const proto = await send("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", contextId: inspector.context() });
  const found = await send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId });
  const sizes = await send("Runtime.callFunctionOn", {
    objectId: found.objects.objectId,
    functionDeclaration: "function () { return this.map((memory) => memory.buffer.byteLength); }",
    returnByValue: true,
  });
  const after = await send("Runtime.getHeapUsage");
  return { before, wasmBytes: sizes.result.value, after };
}
