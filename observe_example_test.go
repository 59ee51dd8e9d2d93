package clerkauth_test

import (
	"fmt"
	"log"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// An Observer that counts requests by token type, verdict and reason, and
// Backend API requests by endpoint: the raw material of metrics (the
// nested module otelclerk turns the same events into OpenTelemetry
// metrics and spans).
func ExampleObserver() {
	// A production instance: a request without a token is signed out as
	// session-token-and-uat-missing (a development instance without its
	// dev-browser cookie says dev-browser-missing first).
	clerk := clerktest.NewServer(clerktest.WithProductionInstance())
	defer clerk.Close()

	var mu sync.Mutex
	counts := map[string]int{}
	count := func(key string) {
		mu.Lock()
		counts[key]++
		mu.Unlock()
	}
	opts := clerk.Options()
	opts.Observer = &clerkauth.Observer{
		Authentication: func(e clerkauth.AuthenticationEvent) {
			typ := e.TokenType
			if typ == "" {
				typ = "none"
			}
			count(fmt.Sprintf("%s %s %s hit=%v", typ, e.Verdict, e.Reason, e.CacheHit))
		},
		BackendRequest: func(e clerkauth.BackendRequestEvent) {
			count(fmt.Sprintf("backend %s %s %d", e.Method, e.Endpoint, e.StatusCode))
		},
	}
	mw, err := clerkauth.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	h := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	tok := clerk.SessionToken("user_123")
	get(h, "/", tok) // verified, after the key download
	get(h, "/", tok) // from the cache
	forged := tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 342)
	get(h, "/", forged)
	get(h, "/", "") // no token

	mu.Lock()
	defer mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Printf("%d  %s\n", counts[k], k)
	}
	// Output:
	// 1  backend GET jwks 200
	// 1  none signed-out session-token-and-uat-missing hit=false
	// 1  session_token signed-in  hit=false
	// 1  session_token signed-in  hit=true
	// 1  session_token signed-out token-invalid-signature hit=false
}
