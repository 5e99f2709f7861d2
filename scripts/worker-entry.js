// The worker's module entry: every request goes to the Rust handler (src/lib.rs).
// Should the WebAssembly instance ever fail (a bug, not a request's fault), the request still
// reaches the origin and the failure is logged; wasm-bindgen re-instantiates the module on the
// next call.
import * as handler from "./index.js";

export default {
  async fetch(request, env, ctx) {
    try {
      return await handler.fetch(request, env, ctx);
    } catch (error) {
      console.error("redirect worker failed, passing the request to the origin:", error);
      return fetch(request);
    }
  },
};
