package redisstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisAddr is the redis-server the tests share: $REDIS_ADDR (scripts/
// redis.sh starts one), else one TestMain starts when redis-server is
// installed.
var redisAddr string

// TestMain finds or starts a redis-server. Without one the tests are
// skipped, unless $CI is set: in CI a missing redis-server is a failure.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // not a line per failed dial once a server is killed
	redisAddr = os.Getenv("REDIS_ADDR")
	var srv *redisServer
	if redisAddr == "" {
		if _, err := exec.LookPath("redis-server"); err != nil {
			if os.Getenv("CI") != "" {
				fmt.Fprintln(os.Stderr, "redisstore: CI is set but there is no redis-server on PATH and no $REDIS_ADDR (apt-get install redis-server)")
				os.Exit(1)
			}
			fmt.Fprintln(os.Stderr, "redisstore: SKIPPING the tests: no $REDIS_ADDR and no redis-server on PATH")
			os.Exit(0)
		}
		var err error
		if srv, err = startRedis(); err != nil {
			fmt.Fprintln(os.Stderr, "redisstore:", err)
			os.Exit(1)
		}
		redisAddr = srv.addr
	}
	code := m.Run()
	if srv != nil {
		srv.stop()
	}
	os.Exit(code)
}

// redisServer is a redis-server this test process started.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

// startRedis starts redis-server on a free loopback port, without
// persistence, and waits until it answers PING.
func startRedis() (*redisServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "redisstore-test-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on %s does not answer: %w", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server and waits for it.
func (s *redisServer) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// ownRedis starts a redis-server for one test (one it may kill); it
// needs the binary, and fails without it under $CI.
func ownRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but there is no redis-server on PATH")
		}
		t.Skip("no redis-server on PATH")
	}
	s, err := startRedis()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// newClient returns a client of addr, closed when the test ends.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// quiet is a go-redis logger that prints nothing.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
