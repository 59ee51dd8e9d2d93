// Package migration checks, against Clerk's Go SDK (clerk-sdk-go v2) itself,
// every claim of docs/migrating-from-clerk-sdk-go.md: the same small API is
// written with each library, and its tests send both the same requests,
// with real tokens signed by a clerktest instance. It is a nested module so
// that the library's go.mod never depends on clerk-sdk-go.
package migration
