package clerkauth

// Reason strings: what [Auth.Reason] and [AuthError].Reason hold for a
// signed-out request, as Clerk's own SDKs report them (the
// X-Clerk-Auth-Reason header). The Err* kinds say whose fault a failure
// is; a reason says exactly what happened, for logs and for a page that
// must tell "the session needs a refresh" from "signed out".
//
// The browser has a signed-in client but its session token is missing or
// stale; loading clerk-js from the instance's Frontend API (or a
// handshake) refreshes it, and the next request is signed in:
const (
	// ReasonClientUATButNoToken: __client_uat says signed in, but there is
	// no __session cookie (the token was never set or was cleared).
	ReasonClientUATButNoToken = "client-uat-but-no-session-token"
	// ReasonTokenIATBeforeClientUAT: the __session token was issued before
	// the client's last sign-in (another tab signed in, or switched
	// session).
	ReasonTokenIATBeforeClientUAT = "session-token-iat-before-client-uat"
	// ReasonTokenExpired: the token's exp has passed (a session token
	// lives 60 s; clerk-js refreshes it before that).
	ReasonTokenExpired = "token-expired"
)

// The client is signed out (or never signed in): a page shows its
// signed-out state or sends the user to sign in.
const (
	// ReasonTokenAndUATMissing: no token at all (no Authorization bearer
	// token, no __session cookie, no __client_uat or __client_uat=0).
	ReasonTokenAndUATMissing = "session-token-and-uat-missing"
	// ReasonTokenButNoClientUAT: a __session cookie, but __client_uat is
	// missing or 0: the client signed out.
	ReasonTokenButNoClientUAT = "session-token-but-no-client-uat"
	// ReasonSessionPending: the session awaits a required step (sts
	// "pending", for example choosing an organization) and
	// Options.AcceptPendingSessions is false.
	ReasonSessionPending = "session-pending"
)

// The token is not acceptable: malformed, forged, of another instance or
// type, or failing a claim check. A refresh does not help.
const (
	ReasonTokenInvalid            = "token-invalid"
	ReasonTokenTypeMismatch       = "token-type-mismatch"
	ReasonTokenInvalidAlgorithm   = "token-invalid-algorithm"
	ReasonTokenInvalidSignature   = "token-invalid-signature"
	ReasonTokenVerificationFailed = "token-verification-failed"
	// ReasonTokenNotActiveYet and ReasonTokenIATInTheFuture are reported
	// for machine JWTs whose nbf or iat is in the future.
	ReasonTokenNotActiveYet   = "token-not-active-yet"
	ReasonTokenIATInTheFuture = "token-iat-in-the-future"
	// ReasonSessionTokenNBF and ReasonSessionTokenIATInTheFuture are
	// reported for session tokens whose nbf or iat is in the future.
	ReasonSessionTokenNBF            = "session-token-nbf"
	ReasonSessionTokenIATInTheFuture = "session-token-iat-in-the-future"
	ReasonTokenInvalidAzp            = "token-invalid-authorized-parties"
	ReasonTokenInvalidIssuer         = "token-invalid-issuer"
	// ReasonJWKKidMismatch: no key of the instance has the token's kid
	// (a token of another instance, or a forged one).
	ReasonJWKKidMismatch = "jwk-kid-mismatch"
)

// The server could not check the token now (errors.Is ErrKeysUnavailable
// or ErrBackendUnavailable; RequireAuth answers 503): not the client's
// fault.
const (
	ReasonJWKRemoteFailedToLoad = "jwk-remote-failed-to-load"
	ReasonSecretKeyInvalid      = "secret-key-invalid"
	ReasonBackendAPIUnavailable = "backend-api-unavailable"
)
