package redisstore_test

import (
	"log"
	"net/http"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every replica of a service that accepts API keys shares one Redis: the
// fleet asks Clerk about a key about once per MachineTokenCacheTTL, not
// once per replica. The client is the one the service already holds;
// UniversalOptions gives a standalone, cluster or sentinel client.
func ExampleNew() {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{"redis:6379"},
		ContextTimeoutEnabled: true, // stop waiting when clerkauth gives up (50ms)
	})
	mw, err := clerkauth.New(clerkauth.Options{
		AcceptsToken:      []string{clerkauth.TokenTypeAPIKey, clerkauth.TokenTypeM2M},
		MachineTokenStore: redisstore.New(rdb),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	http.Handle("/api/", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := clerkauth.GetAuth(r)
		w.Write([]byte("hello " + a.Machine.Subject))
	})))
}
