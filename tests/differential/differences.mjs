// Deliberate differences from the platforms: each is an answer we give on purpose, with the
// reason. The differential suite accepts a disagreement only when one of these describes it
// (and only for the peer named); the README's import section lists the same.

/** `{ peer, name, reason, applies(request, peerAnswer, ourAnswer) }` */
export const DIFFERENCES = [
  {
    peer: 'netlify',
    name: 'Role= tokens are not verified at the edge',
    reason:
      'A Role= rewrite imports as a `"to": null` rule that holds when the visitor sends an ' +
      '`nf_jwt` cookie; the edge cannot verify Netlify Identity signatures, so a forged or ' +
      'expired token reaches the origin (which must check it) where Netlify would fall through ' +
      'to the next rule (usually a login redirect).',
    applies: (req, peer, us) => Boolean(req.jwt) && us.outcome === 'origin' && peer.outcome === 'redirect',
  },
  {
    peer: 'netlify',
    name: 'Language= reads the best q-value, not the first entry',
    reason:
      "Netlify's engine takes the first two letters of the first Accept-Language entry, " +
      'whatever its q-value; we take the language the visitor prefers most (highest q), as ' +
      'RFC 9110 defines, so `en;q=0.1,fr;q=0.9` counts as French.',
    applies: (req) => /;q=/.test(req.language ?? ''),
  },
  {
    peer: 'netlify',
    name: 'percent-encoded sources match',
    reason:
      "Netlify's engine decodes the request path but compares it with the source as written, " +
      'so a source written percent-encoded (`/caf%C3%A9`) never matches anything; we decode ' +
      'both, so it matches `/café` however the visitor encodes it.',
    applies: (req, peer, us) => peer.outcome === 'origin' && us.outcome === 'redirect' && /%[0-9A-F]{2}|[^\x00-\x7f]/i.test(new URL(req.url).pathname),
  },
  ...['vercel', 'nextjs'].map((peer) => ({
    peer,
    name: 'the loop guard',
    reason:
      'A rule whose Location is the request URL itself is skipped (README, precedence step 4): ' +
      'answering it would send the visitor round in a circle. Netlify skips it too.',
    applies: (req, peerAnswer, us) =>
      peerAnswer.outcome === 'redirect' && us.outcome === 'origin' && new URL(peerAnswer.location).href === new URL(req.url).href,
  })),
  {
    peer: 'nextjs',
    name: 'a trailing slash is removed before the redirects run',
    reason:
      'Next.js (`trailingSlash: false`, its default) answers `/a/` with a 308 to `/a` before ' +
      'its redirects run, so a source never sees the slash; the judge here matches `/a/` ' +
      'itself, and a `(.*)` group then keeps the slash in its value. The import sets ' +
      '`trailing_slash: "remove"`, which answers `/a/` as Next.js answers `/a` after its hop: ' +
      'the same page, without the slash.',
    applies: (req, peer, us) => {
      const path = new URL(req.url).pathname;
      return (
        peer.outcome === 'redirect' &&
        us.outcome === 'redirect' &&
        path.length > 1 &&
        path.endsWith('/') &&
        new URL(peer.location).pathname === `${new URL(us.location).pathname}/`
      );
    },
  },
];

/**
 * Real files only: the platform answers with an entry `redirects import` refused (each refusal
 * is printed with its line and reason, and the import exits 1); the platform's engine on the file
 * without the refused entries answers as we do.
 */
export const NOT_IMPORTED = {
  peer: '*',
  name: 'an entry not imported',
  reason:
    'The import refused the entry that answers (listed with its line and reason); the rest of ' +
    'the file answers as on the platform.',
  applies: () => false,
};
