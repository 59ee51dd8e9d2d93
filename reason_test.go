package clerkauth

import (
	"testing"

	"github.com/clerkauth/clerkauth/internal/reason"
)

// The exported Reason* constants spell their values out (go doc shows
// them); internal/reason, which clerktest and the CLI share, must say
// the same.
func TestReasonConstantsMatchInternal(t *testing.T) {
	for exported, internal := range map[string]string{
		ReasonClientUATButNoToken:        reason.ClientUATButNoToken,
		ReasonTokenIATBeforeClientUAT:    reason.TokenIATBeforeClientUAT,
		ReasonTokenExpired:               reason.TokenExpired,
		ReasonTokenAndUATMissing:         reason.TokenAndUATMissing,
		ReasonTokenButNoClientUAT:        reason.TokenButNoClientUAT,
		ReasonSessionPending:             reason.SessionPending,
		ReasonTokenInvalid:               reason.TokenInvalid,
		ReasonTokenTypeMismatch:          reason.TokenTypeMismatch,
		ReasonTokenInvalidAlgorithm:      reason.TokenInvalidAlgorithm,
		ReasonTokenInvalidSignature:      reason.TokenInvalidSignature,
		ReasonTokenVerificationFailed:    reason.TokenVerificationFailed,
		ReasonTokenNotActiveYet:          reason.TokenNotActiveYet,
		ReasonTokenIATInTheFuture:        reason.TokenIATInTheFuture,
		ReasonSessionTokenNBF:            reason.SessionTokenNBF,
		ReasonSessionTokenIATInTheFuture: reason.SessionTokenIATInTheFuture,
		ReasonTokenInvalidAzp:            reason.TokenInvalidAzp,
		ReasonTokenInvalidIssuer:         reason.TokenInvalidIssuer,
		ReasonJWKKidMismatch:             reason.JWKKidMismatch,
		ReasonJWKRemoteFailedToLoad:      reason.JWKRemoteFailedToLoad,
		ReasonSecretKeyInvalid:           reason.SecretKeyInvalid,
		ReasonBackendAPIUnavailable:      reason.BackendAPIUnavailable,
	} {
		if exported != internal {
			t.Errorf("exported reason %q, internal/reason %q", exported, internal)
		}
	}
}
