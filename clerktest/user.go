package clerktest

import (
	"strings"
	"time"
)

// User is a user of the instance, served by GET /v1/users/{id} in the
// shape of Clerk's Backend API user object. Only ID is required.
type User struct {
	ID        string
	FirstName string
	LastName  string
	Username  string
	ImageURL  string
	// Email is the primary email address, verified; "" for none.
	Email string
	// Phone is the primary phone number, verified; "" for none.
	Phone string

	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	UnsafeMetadata  map[string]any

	Banned bool
	Locked bool

	// CreatedAt, UpdatedAt and LastSignInAt are served in Unix
	// milliseconds, as Clerk does. Zero times: a fixed date for CreatedAt
	// and UpdatedAt, null for LastSignInAt.
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastSignInAt time.Time

	// SessionOptions shape the session tokens of the user's sessions
	// started on the sign-in page (see [Server.SignInURL]) or with
	// [Server.SignIn]: an active organization and its permissions
	// ([WithOrg]), plans, features, factor ages. The server's lifetime,
	// session id and azp come after them. Default: none.
	SessionOptions []TokenOption
}

// defaultCreated is the created_at of users that do not say.
var defaultCreated = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// clerkJSON returns the user in Clerk's JSON shape.
func (u User) clerkJSON() map[string]any {
	suffix := strings.TrimPrefix(u.ID, "user_")
	created := u.CreatedAt
	if created.IsZero() {
		created = defaultCreated
	}
	updated := u.UpdatedAt
	if updated.IsZero() {
		updated = created
	}
	ms := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMilli()
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	meta := func(m map[string]any) map[string]any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	verification := func(strategy string) map[string]any {
		return map[string]any{"status": "verified", "strategy": strategy, "attempts": nil, "expire_at": nil}
	}
	emails := []map[string]any{}
	var primaryEmail any
	if u.Email != "" {
		id := "idn_email_" + suffix
		primaryEmail = id
		emails = append(emails, map[string]any{
			"id": id, "object": "email_address", "email_address": u.Email,
			"reserved": false, "verification": verification("email_code"), "linked_to": []any{},
			"created_at": created.UnixMilli(), "updated_at": updated.UnixMilli(),
		})
	}
	phones := []map[string]any{}
	var primaryPhone any
	if u.Phone != "" {
		id := "idn_phone_" + suffix
		primaryPhone = id
		phones = append(phones, map[string]any{
			"id": id, "object": "phone_number", "phone_number": u.Phone,
			"reserved_for_second_factor": false, "default_second_factor": false, "reserved": false,
			"verification": verification("phone_code"), "linked_to": []any{}, "backup_codes": nil,
			"created_at": created.UnixMilli(), "updated_at": updated.UnixMilli(),
		})
	}
	image := u.ImageURL
	if image == "" {
		image = "https://img.clerk.com/default-avatar"
	}
	return map[string]any{
		"id":                          u.ID,
		"object":                      "user",
		"username":                    orNil(u.Username),
		"first_name":                  orNil(u.FirstName),
		"last_name":                   orNil(u.LastName),
		"image_url":                   image,
		"has_image":                   u.ImageURL != "",
		"primary_email_address_id":    primaryEmail,
		"primary_phone_number_id":     primaryPhone,
		"primary_web3_wallet_id":      nil,
		"password_enabled":            false,
		"two_factor_enabled":          false,
		"totp_enabled":                false,
		"backup_code_enabled":         false,
		"email_addresses":             emails,
		"phone_numbers":               phones,
		"web3_wallets":                []any{},
		"passkeys":                    []any{},
		"external_accounts":           []any{},
		"saml_accounts":               []any{},
		"public_metadata":             meta(u.PublicMetadata),
		"private_metadata":            meta(u.PrivateMetadata),
		"unsafe_metadata":             meta(u.UnsafeMetadata),
		"external_id":                 nil,
		"banned":                      u.Banned,
		"locked":                      u.Locked,
		"created_at":                  created.UnixMilli(),
		"updated_at":                  updated.UnixMilli(),
		"last_sign_in_at":             ms(u.LastSignInAt),
		"last_active_at":              ms(u.LastSignInAt),
		"delete_self_enabled":         true,
		"create_organization_enabled": true,
	}
}
