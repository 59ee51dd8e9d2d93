// run.mjs runs Clerk's own authenticateRequest (@clerk/backend, the exact
// version pinned in package-lock.json) on the cases the Go conformance
// test writes to stdin, and prints one JSON answer per case to stdout.
// No network: the key is the PEM (jwtKey), the clock is frozen per case.
import { createClerkClient } from '@clerk/backend';
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const clients = new Map();
function client(pk) {
  let c = clients.get(pk);
  if (!c) {
    c = createClerkClient({ publishableKey: pk, secretKey: 'sk_test_conformance', jwtKey: input.pem });
    clients.set(pk, c);
  }
  return c;
}

// Clerk logs warnings (missing azp, ...) on the console; keep stdout for answers.
console.log = console.warn = console.info = console.error = () => {};
const write = (s) => process.stdout.write(s + '\n');

const pick = (a) => ({
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
});

for (const c of input.cases) {
  Date.now = () => c.nowMs;
  const headers = new Headers({ accept: 'application/json' });
  if (c.authorization != null) headers.set('authorization', c.authorization);
  if (c.cookie) headers.set('cookie', c.cookie);
  const req = new Request('https://api.example.com/conformance', { method: 'GET', headers });
  const ans = { id: c.id };
  try {
    const opts = { acceptsToken: c.accepts || 'session_token' };
    if (c.authorizedParties) opts.authorizedParties = c.authorizedParties;
    const st = await client(c.pk).authenticateRequest(req, opts);
    const auth = st.toAuth();
    ans.status = st.status;
    ans.reason = st.reason ?? null;
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
