// Package redisstore shares clerkauth's machine-token verdicts between the
// replicas of a service through Redis or Valkey: set
// [clerkauth.Options].MachineTokenStore to [New] of the go-redis client the
// service already holds (standalone, cluster or sentinel), and a fleet asks
// Clerk's Backend API about an API key, M2M or OAuth token about as often
// as one replica would.
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"},
//		ContextTimeoutEnabled: true,
//	})
//	mw, err := clerkauth.New(clerkauth.Options{
//		AcceptsToken:      []string{clerkauth.TokenTypeAPIKey},
//		MachineTokenStore: redisstore.New(rdb),
//	})
//
// Redis holds no token and no secret: clerkauth gives the store keyed
// hashes of tokens and values it authenticates itself, so anyone able to
// write to Redis without the secret key cannot sign a request in. Only
// GET, SET with an expiry and SET NX with an expiry (the claims that let
// replicas seeing a new token at once make one Backend API call between
// them) are used: no scripts, no modules.
package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/redis/go-redis/v9"
)

// defaultPrefix starts every key the store writes, unless [WithPrefix]
// gives another.
const defaultPrefix = "clerkauth:machine:"

// Store is a [clerkauth.MachineTokenStore] on Redis. It is safe for
// concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var (
	_ clerkauth.MachineTokenStore   = (*Store)(nil)
	_ clerkauth.MachineTokenClaimer = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the prefix of the store's keys, for example to keep
// two services (or two Clerk instances) apart in one Redis database.
// Default: "clerkauth:machine:".
func WithPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// New returns a Store on client. The client's own timeouts apply, and
// clerkauth gives up on any call after 50ms; build the client with
// ContextTimeoutEnabled so that it stops waiting then too.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, prefix: defaultPrefix}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Get implements [clerkauth.MachineTokenStore] with GET; a missing key is
// a nil value and a nil error.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, err
}

// Set implements [clerkauth.MachineTokenStore] with SET and PX (EX for a
// whole number of seconds).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.client.Set(ctx, s.prefix+key, value, max(ttl, time.Millisecond)).Err()
}

// Claim implements [clerkauth.MachineTokenClaimer] with SET NX and PX.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.client.SetNX(ctx, s.prefix+key, "1", max(ttl, time.Millisecond)).Result()
}
