// Clerk's side of the webhook cross-check (../webhook_test.go): reads a
// JSON array of requests on stdin and writes a JSON array of answers.
//   {"op":"sign", "secret", "id", "ts", "body"}       -> {"sig": "v1,..."}
//        signed by standardwebhooks' Webhook.sign, the library Clerk uses.
//   {"op":"verify", "secret", "headers", "body", "now"} -> {"ok", "error", "event"}
//        verified by @clerk/backend's verifyWebhook(request), with Date.now
//        fixed at now (Unix seconds) so the answer does not depend on when
//        it runs.
import { Webhook } from "standardwebhooks";
import { verifyWebhook } from "@clerk/backend/webhooks";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const requests = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const realNow = Date.now;
const answers = [];
for (const r of requests) {
  if (r.op === "sign") {
    answers.push({ sig: new Webhook(r.secret).sign(r.id, new Date(r.ts * 1000), r.body) });
    continue;
  }
  Date.now = () => r.now * 1000;
  try {
    const req = new Request("http://localhost/webhooks/clerk", { method: "POST", headers: r.headers, body: r.body });
    const event = await verifyWebhook(req, { signingSecret: r.secret });
    answers.push({ ok: true, event });
  } catch (e) {
    answers.push({ ok: false, error: e instanceof Error ? e.message : String(e) });
  } finally {
    Date.now = realNow;
  }
}
process.stdout.write(JSON.stringify(answers));
