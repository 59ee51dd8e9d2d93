// run.mjs runs Clerk's own authenticateRequest (@clerk/backend, the exact
// version pinned in package-lock.json) on the cases the Go conformance
// test writes to stdin, and prints one JSON answer per case to stdout.
// The key is the PEM (jwtKey), the clock is frozen per case; the only
// network is the Go test's mock Backend API (input.apiUrl), which both
// sides call for opaque machine tokens.
//
// Requests carry exactly the headers the case gives (no Accept added), and
// header values arrive as node's HTTP server presents them: one JavaScript
// character per byte (latin1), as the Go test encodes them.
import { createClerkClient } from '@clerk/backend';
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const clients = new Map();
function client(pk) {
  let c = clients.get(pk);
  if (!c) {
    c = createClerkClient({ publishableKey: pk, secretKey: 'sk_test_conformance', jwtKey: input.pem, apiUrl: input.apiUrl });
    clients.set(pk, c);
  }
  return c;
}

// Clerk logs warnings (missing azp, ...) on the console; keep stdout for answers.
console.log = console.warn = console.info = console.error = () => {};
const write = (s) => process.stdout.write(s + '\n');

// The machine fields each machine token type exposes (authObjects.ts):
// only the members the auth object has are reported.
const machineKeys = ['id', 'subject', 'name', 'scopes', 'claims', 'userId', 'orgId', 'machineId', 'clientId'];

const pick = (a) => {
  const out = {
    userId: a?.userId ?? null,
    sessionId: a?.sessionId ?? null,
    sessionStatus: a?.sessionStatus ?? null,
    orgId: a?.orgId ?? null,
    orgRole: a?.orgRole ?? null,
    orgSlug: a?.orgSlug ?? null,
    orgPermissions: a?.orgPermissions ?? null,
    factorVerificationAge: a?.factorVerificationAge ?? null,
    actor: a?.actor ?? null,
    tokenType: a?.tokenType ?? null,
    subject: a?.subject ?? null,
  };
  if (a && a.tokenType && a.tokenType !== 'session_token') {
    out.machine = {};
    for (const k of machineKeys) if (k in a) out.machine[k] = a[k] ?? null;
  }
  return out;
};

for (const c of input.cases) {
  Date.now = () => c.nowMs;
  const headers = new Headers();
  for (const [k, v] of Object.entries(c.headers || {})) headers.set(k, v);
  if (c.authorization != null) headers.set('authorization', c.authorization);
  if (c.cookie) headers.set('cookie', c.cookie);
  const req = new Request(c.url || 'https://api.example.com/conformance', { method: c.method || 'GET', headers });
  const ans = { id: c.id };
  try {
    const opts = { acceptsToken: c.acceptsList || c.accepts || 'session_token' };
    if (c.authorizedParties) opts.authorizedParties = c.authorizedParties;
    for (const k of ['signInUrl', 'signUpUrl', 'proxyUrl', 'domain', 'isSatellite', 'organizationSyncOptions']) if (c[k]) opts[k] = c[k];
    const st = await client(c.pk).authenticateRequest(req, opts);
    const auth = st.toAuth({ treatPendingAsSignedOut: !c.acceptPending });
    ans.status = st.status;
    ans.reason = st.reason ?? null;
    ans.location = st.headers?.get('location') ?? null;
    ans.setCookie = st.headers?.getSetCookie?.() ?? [];
    ans.cacheControl = st.headers?.get('cache-control') ?? null;
    ans.cors = [st.headers?.get('access-control-allow-origin') ?? null, st.headers?.get('access-control-allow-credentials') ?? null];
    ans.signedIn = !!auth?.isAuthenticated;
    ans.auth = pick(auth);
    ans.has = (c.has || []).map((q) => {
      try {
        return !!auth?.has?.(q);
      } catch (e) {
        return 'throws';
      }
    });
  } catch (e) {
    ans.status = 'error';
    ans.reason = 'throws: ' + String(e?.message || e).slice(0, 80);
    ans.signedIn = false;
  }
  write(JSON.stringify(ans));
}
