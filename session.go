package clerkauth

import (
	"strconv"
	"time"

	"github.com/clerkauth/clerkauth/internal/claims"
	"github.com/clerkauth/clerkauth/internal/jsonobj"
)

// Errors of the claims and header readers: each says what was wrong.
var (
	errPayloadSyntax    = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token payload is not valid JSON")
	errPayloadDuplicate = authErr(ErrTokenInvalid, ReasonTokenInvalid, "duplicate member name in token payload")
	errPayloadTooDeep   = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token payload nested deeper than 128 levels")
	errHeaderDuplicate  = authErr(ErrTokenInvalid, ReasonTokenInvalid, "duplicate member name in token header")
	errHeaderTooDeep    = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token header nested deeper than 128 levels")
	errFeaUnscoped      = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "fea" has an entry without a scope`)
)

func claimTypeErr(name string) *AuthError {
	return authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, "claim "+strconv.Quote(name)+" has the wrong type")
}

// readSessionClaims reads a verified payload into c (see
// [claims.ReadSession]), with the error Clerk gives for each failure.
func readSessionClaims(raw string, c *claims.Session) *AuthError {
	err := claims.ReadSession(raw, c)
	if te, ok := err.(claims.TypeError); ok {
		return claimTypeErr(te.Name)
	}
	switch {
	case err == nil:
		return nil
	case err == jsonobj.ErrDuplicate:
		return errPayloadDuplicate
	case err == jsonobj.ErrTooDeep:
		return errPayloadTooDeep
	case err == jsonobj.ErrSyntax:
		return errPayloadSyntax
	}
	return errBadPayload
}

// fillAuth maps verified claims into a, as Clerk's
// JWTPayloadToAuthObjectProperties does. It fails only on a v2
// organization whose fea Clerk cannot split (Clerk throws there).
func fillAuth(a *Auth, c *claims.Session, exp, iat int64) *AuthError {
	*a = Auth{
		TokenType:             TokenTypeSession,
		UserID:                c.Sub,
		SessionID:             c.Sid,
		SessionStatus:         c.Sts, // absent: "" (Clerk: null)
		Actor:                 (*Actor)(c.Act),
		AuthorizedParty:       c.Azp,
		Issuer:                c.Iss,
		FactorVerificationAge: c.Fva,
		Expiry:                time.Unix(exp, 0),
	}
	if iat != 0 {
		a.IssuedAt = time.Unix(iat, 0)
	}
	// As Clerk: act and fva are copied as they are (an act object without
	// sub is still an actor; an fva of another length than 2 is exposed,
	// and Has's reverification then fails).
	org := c.V2 && c.HasO
	var rol, per, fpm string
	if org {
		rol, per, fpm = c.O.Rol, c.O.Per, c.O.Fpm
	}
	lists, ok := claims.Decode(c.Fea, c.Pla, org, rol, per, fpm)
	if !ok {
		return errFeaUnscoped
	}
	a.Features, a.Plans = lists.Features, lists.Plans
	switch {
	case org:
		// As Clerk, the other members are read without an id too;
		// Has asks for an OrgID before it looks at them.
		a.OrgID = c.O.ID
		a.OrgSlug = c.O.Slg
		a.OrgRole = lists.OrgRole
		a.OrgPermissions = lists.OrgPermissions
	case !c.V2:
		a.OrgID = c.OrgID
		a.OrgSlug = c.OrgSlug
		a.OrgRole = c.OrgRole
		a.OrgPermissions = c.OrgPermissions
	}
	return nil
}
