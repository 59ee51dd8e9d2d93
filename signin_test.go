package clerkauth

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

// TestSignInTargetMatchesClerk: the sign-in URLs are the ones
// createRedirect(...).redirectToSignIn({returnBackUrl}) of @clerk/backend
// 3.25.0 builds for the same inputs (printed by node; baseUrl and
// returnBackUrl are the request's URL).
func TestSignInTargetMatchesClerk(t *testing.T) {
	pkTest := "pk_test_" + base64.StdEncoding.EncodeToString([]byte("happy-cat-12.clerk.accounts.dev$"))
	pkLive := "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com$"))
	pemKey := pemOf(t, &testKey(t, 0).PublicKey)
	cases := []struct {
		name    string
		o       Options
		url     string
		db      string
		pending bool
		want    string
	}{
		{"path", Options{PublishableKey: pkTest, SignInURL: "/sign-in"}, "http://app.test/org/settings?tab=a%20b", "dvb_1", false,
			"http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Forg%2Fsettings%3Ftab%3Da%2520b"},
		{"another origin, development", Options{PublishableKey: pkTest, SignInURL: "https://accounts.example.com/sign-in?lang=en"},
			"http://app.test/dashboard", "dvb_1", false,
			"https://accounts.example.com/sign-in?lang=en&redirect_url=http%3A%2F%2Fapp.test%2Fdashboard&__clerk_db_jwt=dvb_1"},
		{"satellite", Options{PublishableKey: pkLive, SignInURL: "https://accounts.example.com/sign-in?lang=en", IsSatellite: true, Domain: "sat.example.net"},
			"https://sat.example.net/a?b=c", "", false,
			"https://accounts.example.com/sign-in?lang=en&redirect_url=https%3A%2F%2Fsat.example.net%2Fa%3Fb%3Dc%26__clerk_synced%3Dfalse"},
		{"pending", Options{PublishableKey: pkLive, SignInURL: "/sign-in"}, "http://app.test/x", "", true,
			"http://app.test/sign-in/tasks?redirect_url=http%3A%2F%2Fapp.test%2Fx"},
		{"port and fragment", Options{PublishableKey: pkLive, SignInURL: "https://accounts.example.com:8443/s#frag"},
			"http://app.test/x?y=1&y=2", "", false,
			"https://accounts.example.com:8443/s?redirect_url=http%3A%2F%2Fapp.test%2Fx%3Fy%3D1%26y%3D2#frag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.JWTKey, tc.o.Getenv = pemKey, func(string) string { return "" }
			cfg, err := tc.o.resolve()
			if err != nil {
				t.Fatal(err)
			}
			self := requestURL(httptest.NewRequest("GET", tc.url, nil))
			if got := signInTarget(cfg, &self, self.href(), tc.db, tc.pending); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
