package clerkauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

type printKey struct{}

// printVerbs are every fmt verb, alone and with each flag.
var printVerbs = func() []string {
	var out []string
	for _, verb := range "vTtbcdoOqxXUeEfFgGsp" {
		for _, flag := range []string{"", "+", "#", " ", "-", "0"} {
			out = append(out, "%"+flag+string(verb))
		}
	}
	return out
}()

// TestPrintedValuesHoldNoSecret prints every value the library hands out
// or stores in a request's context, after a real middleware verified a
// real session token and a real ak_ API key (through clerktest's verify
// endpoint), every way: every fmt verb with every flag, and slog's text
// and JSON handlers. None may show the secret key or a token.
func TestPrintedValuesHoldNoSecret(t *testing.T) {
	srv := clerktest.New(t)
	opts := srv.Options()
	opts.AcceptsToken = []string{clerkauth.TokenTypeSession, clerkauth.TokenTypeAPIKey}
	opts.MachineSecretKey = "sk_test_MACHINESECRETMARKER"
	// The Observer's events are handed out too.
	var evMu sync.Mutex
	var events []any
	keep := func(e any) { evMu.Lock(); events = append(events, e); evMu.Unlock() }
	opts.Observer = &clerkauth.Observer{
		Authentication: func(e clerkauth.AuthenticationEvent) { keep(e) },
		BackendRequest: func(e clerkauth.BackendRequestEvent) { keep(e) },
		KeyDownload:    func(e clerkauth.KeyDownloadEvent) { keep(e) },
	}
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()

	session := srv.SessionToken("user_print")
	apiKey := srv.AddAPIKey(clerktest.MachineToken{Subject: "user_print", Name: "printer"})
	secrets := []string{srv.SecretKey(), opts.MachineSecretKey, apiKey, session}
	secrets = append(secrets, strings.Split(session, ".")...)

	type named struct {
		name string
		v    any
	}
	var values []named
	capture := func(name string, tok string) {
		h := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := clerkauth.GetAuth(r)
			_ = a.UserID // a handler reading its Auth
			values = append(values,
				named{name + " context", r.Context()},
				named{name + " child context", context.WithValue(r.Context(), printKey{}, 1)},
				named{name + " *Auth", a},
				named{name + " Auth", *a},
			)
		}))
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"))
		}
	}
	capture("session", session)
	capture("api key", apiKey)
	// Under Handler an opaque machine token's context is lazy: printed
	// before and after its handler reads the Auth.
	lazy := func(read bool) {
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if read {
				_ = clerkauth.GetAuth(r)
			}
			values = append(values, named{fmt.Sprintf("api key lazy context (read %v)", read), r.Context()},
				named{fmt.Sprintf("api key lazy child context (read %v)", read), context.WithValue(r.Context(), printKey{}, 1)})
		}))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+apiKey)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	lazy(false)
	lazy(true)

	// Errors: a rejected token and a Backend API error.
	_, authErr := mw.AuthenticateToken(t.Context(), session[:len(session)-4]+"AAAA")
	if authErr == nil {
		t.Fatal("tampered token accepted")
	}
	_, apiErr := mw.Client().GetUser(t.Context(), "user_missing")
	var ae *clerkauth.APIError
	if !errors.As(apiErr, &ae) {
		t.Fatalf("GetUser of a missing user: %v", apiErr)
	}
	optsCopy := opts
	values = append(values,
		named{"*Middleware", mw},
		named{"*Client", mw.Client()},
		named{"Options", opts},
		named{"*Options", &optsCopy},
		named{"clerktest Options", srv.Options()},
		named{"*clerktest.Server", srv},
		named{"AuthError", authErr},
		named{"APIError", apiErr},
	)

	evMu.Lock()
	withContext := 0
	for _, e := range events {
		if a, ok := e.(clerkauth.AuthenticationEvent); ok && a.Context != nil {
			withContext++
		}
		values = append(values, named{fmt.Sprintf("%T", e), e})
	}
	evMu.Unlock()
	if withContext == 0 {
		t.Fatalf("no AuthenticationEvent with a Context among %d events", len(events))
	}
	for _, v := range values {
		outputs := map[string]string{}
		for _, verb := range printVerbs {
			if verb[len(verb)-1] == 'p' && reflect.ValueOf(v.v).Kind() != reflect.Pointer {
				// %p is for pointers: fmt prints any other value under it
				// as a bad verb, field by field, without calling a method
				// (Format included), so no type can hide a field from it.
				// Of the values here, only Options (a value the caller
				// built, with the key in an exported field) is hit:
				// docs/security.md says so.
				continue
			}
			outputs[verb] = fmt.Sprintf(verb, v.v)
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("msg", "value", v.v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("msg", "value", v.v)
		outputs["slog text"], outputs["slog JSON"] = text.String(), js.String()
		for how, out := range outputs {
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%s printed with %s shows a secret (%.12q...): %.300s", v.name, how, s, out)
				}
			}
		}
	}
	// The descriptions still say something useful.
	if s := fmt.Sprint(values[0].v); !strings.Contains(s, "user_print") {
		t.Errorf("context prints %q: no user", s)
	}
	if s := fmt.Sprintf("%+v", mw.Client()); !strings.Contains(s, "sk_test_[redacted]") {
		t.Errorf("client prints %q", s)
	}
}
