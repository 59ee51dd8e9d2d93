// Command load is a bounded loopback load test: it serves one route
// unprotected and the same route behind clerkauth's RequireAuth, drives
// each with the same number of keep-alive connections for the same time,
// each connection repeating its own session token as a browser does, and
// prints requests per second for both and their ratio. It listens on
// 127.0.0.1 only and stops by itself.
//
//	go run ./load                        # 2 rounds x 2 routes x 1.5 s
//	go run ./load -conns 32 -duration 5s
//
// With -target it drives a server already running on a loopback address
// instead, such as examples/basic (see load-basic.sh): its -public route
// unprotected against its -private route with the -token given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/bench/internal/fixture"
)

func main() {
	conns := flag.Int("conns", 16, "concurrent keep-alive connections")
	duration := flag.Duration("duration", 3*time.Second, "time spent on each route, split over the rounds")
	rounds := flag.Int("rounds", 2, "alternations of the two routes, to even out drift")
	users := flag.Int("users", 16, "distinct session tokens, shared round-robin by the connections")
	target := flag.String("target", "", "base URL of a running server on a loopback address (default: serve one here)")
	public := flag.String("public", "/api/public", "with -target: the unprotected route")
	private := flag.String("private", "/api/protected", "with -target: the protected route")
	token := flag.String("token", "", "with -target: the session token to send")
	flag.Parse()
	if *conns < 1 || *rounds < 1 || *users < 1 || *duration <= 0 || *duration > time.Minute {
		log.Fatal("load: -conns, -rounds and -users must be positive, -duration within (0, 1m]")
	}
	var err error
	if *target != "" {
		err = runTarget(*target, *public, *private, *token, *conns, *rounds, *duration)
	} else {
		err = run(*conns, *rounds, *users, *duration)
	}
	if err != nil {
		log.Fatal("load: ", err)
	}
}

// runTarget drives a server someone else started, on loopback only.
func runTarget(target, public, private, token string, conns, rounds int, duration time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("-target %q: want http://127.0.0.1:PORT", target)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-target %q: loopback addresses only", target)
	}
	if token == "" {
		return errors.New("-target needs -token")
	}
	// The public route gets no token: examples/basic runs mw.Handler on
	// every route, and without a token it costs next to nothing, which is
	// as close to "the same route unprotected" as that program has.
	return compare(strings.TrimRight(target, "/"), public, private, []string{token}, conns, rounds, duration, false)
}

func run(conns, rounds, users int, duration time.Duration) error {
	in, err := fixture.New()
	if err != nil {
		return err
	}
	defer in.Close()
	mw, err := clerkauth.New(clerkauth.Options{
		SecretKey:         fixture.SecretKey,
		APIURL:            in.APIURL(),
		PublishableKey:    fixture.PublishableKey,
		AuthorizedParties: []string{fixture.AuthorizedParty},
		HTTPClient:        in.Server.Client(),
	})
	if err != nil {
		return err
	}
	defer mw.Close()

	hello := []byte(`{"ok":true}`)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(hello)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /public", page)
	mux.Handle("GET /private", mw.RequireAuth(page))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	tokens := make([]string, users)
	for i := range tokens {
		if tokens[i], err = in.Token(fmt.Sprintf("sess_load%04d", i)); err != nil {
			return err
		}
	}
	return compare(base, "/public", "/private", tokens, conns, rounds, duration, true)
}

// compare drives the public and the private route alternately and prints
// the requests per second of each and their ratio. publicTokens says
// whether the public requests carry the tokens too.
func compare(base, public, private string, tokens []string, conns, rounds int, duration time.Duration, publicTokens bool) error {
	pubTokens := tokens
	if !publicTokens {
		pubTokens = []string{""}
	}
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			DisableCompression:  true,
		},
	}
	defer client.CloseIdleConnections()

	// Warm up: open the connections, load the keys, verify each token once.
	if _, err := drive(client, base+private, tokens, conns, 300*time.Millisecond); err != nil {
		return err
	}
	if _, err := drive(client, base+public, pubTokens, conns, 300*time.Millisecond); err != nil {
		return err
	}

	slice := duration / time.Duration(rounds)
	var pub, priv int64
	for range rounds {
		n, err := drive(client, base+public, pubTokens, conns, slice)
		if err != nil {
			return err
		}
		pub += n
		if n, err = drive(client, base+private, tokens, conns, slice); err != nil {
			return err
		}
		priv += n
	}
	secs := (slice * time.Duration(rounds)).Seconds()
	fmt.Printf("loopback load on %s: %d keep-alive connections, %d session tokens, %v per route in %d rounds, GOMAXPROCS %d\n",
		base, conns, len(tokens), duration, rounds, runtime.GOMAXPROCS(0))
	fmt.Printf("  unprotected  %-15s %9.0f req/s\n", public, float64(pub)/secs)
	fmt.Printf("  RequireAuth  %-15s %9.0f req/s\n", private, float64(priv)/secs)
	fmt.Printf("  protected / unprotected  %.1f%%  (target >= 90%%)\n", 100*float64(priv)/float64(pub))
	return nil
}

// drive sends GET url on conns goroutines for d, every request carrying a
// bearer token (ignored by the public route), and returns how many
// succeeded. Any non-200 answer is an error: a rejected request must not
// count as a fast one.
func drive(client *http.Client, url string, tokens []string, conns int, d time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		if tok := tokens[i%len(tokens)]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("%s: HTTP %d (%s)", url, resp.StatusCode, resp.Header.Get("X-Clerk-Auth-Reason"))
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return done.Load(), errors.Join(all...)
}
