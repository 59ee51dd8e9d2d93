package main

import (
	"testing"

	"github.com/clerkauth/clerkauth/examples/internal/demo/demotest"
)

// The shared suite: every route signed in and out, PEM-only mode, a Clerk
// outage, and the program itself run on a loopback port.
var example = demotest.Example{NewHandler: newServer, Main: run}

func TestRoutes(t *testing.T)            { example.Routes(t) }
func TestJWTKeyOnly(t *testing.T)        { example.JWTKeyOnly(t) }
func TestKeysUnavailable(t *testing.T)   { example.KeysUnavailable(t) }
func TestRun(t *testing.T)               { example.Run(t) }
func TestRunBadFlag(t *testing.T)        { example.RunBadFlag(t) }
func TestRunHelp(t *testing.T)           { example.RunHelp(t) }
func TestRunHalfConfigured(t *testing.T) { example.RunHalfConfigured(t) }
