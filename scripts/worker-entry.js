// The worker's module entry: every request goes to the Rust handler (src/lib.rs).
// The bundled rules are an artifact uploaded beside the wasm as a module of its own (rules.bin,
// a Data module: an ArrayBuffer outside wasm memory), handed to the handler before every
// request (the wasm instance may be a new one); it copies in only the pieces a request needs.
// Should the WebAssembly instance ever fail (a bug, not a request's fault), the request still
// reaches the origin and the failure is logged; wasm-bindgen re-instantiates the module on the
// next call.
import * as handler from "./index.js";
import artifact from "./rules.bin";

export default {
  async fetch(request, env, ctx) {
    try {
      handler.embedArtifact(artifact);
      return await handler.fetch(request, env, ctx);
    } catch (error) {
      console.error("redirect worker failed, passing the request to the origin:", error);
      return fetch(request);
    }
  },
};
