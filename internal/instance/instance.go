// Package instance reads what identifies a Clerk instance: its publishable
// key (the Frontend API host and the cookie suffix derived from it), its
// PEM public key, and the Backend API's address. It knows no clerkauth
// types; the library, clerktest and the CLI share it.
package instance

// DefaultAPIURL is the Backend API base URL of every production instance.
const DefaultAPIURL = "https://api.clerk.com"
