// Package conformance runs clerkauth and Clerk's own JavaScript code
// (pinned npm packages, run by node) on the same inputs and compares their
// answers. It is a nested module so that nothing here reaches the library's
// go.mod.
package conformance
