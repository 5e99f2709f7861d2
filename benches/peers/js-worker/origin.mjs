// Stands in for the origin: every request the workers pass on ends here, on loopback.
export default {
  fetch: () => new Response('origin\n', { status: 200, headers: { 'content-type': 'text/plain' } }),
};
