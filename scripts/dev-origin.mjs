// A stand-in origin server for local development: answers every request that no rule
// redirects with a short page saying what arrived. Usage: node scripts/dev-origin.mjs PORT
import http from "node:http";

const port = Number(process.argv[2] ?? 8788);
http
  .createServer((req, res) => {
    let size = 0;
    req.on("data", (chunk) => (size += chunk.length));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end(
        `Local development origin: ${req.method} ${req.url} (${size} body bytes).\n` +
          "No redirect rule answered this request, so the worker passed it to the origin.\n",
      );
    });
  })
  .listen(port, "127.0.0.1", () => {
    console.log(`development origin on http://127.0.0.1:${port}`);
  });
