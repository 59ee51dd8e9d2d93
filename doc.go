// Package clerkauth authenticates requests to a net/http server made by
// users (and machines) signed in with Clerk (https://clerk.com): the Go
// counterpart of getAuth(req) in Clerk's JavaScript SDKs.
//
// A [Middleware] finds the token of a request (the Authorization: Bearer
// header, else Clerk's __session cookie under its __client_uat rules),
// verifies it against the instance's keys (a JWKS downloaded once and
// cached, or a PEM key with no network at all) and puts an [Auth] in the
// request context, where handlers read it with [GetAuth]:
//
//	mw, err := clerkauth.New(clerkauth.Options{}) // CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, ...
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer mw.Close()
//	mux := http.NewServeMux()
//	mux.Handle("GET /api/me", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		fmt.Fprintf(w, "hello %s\n", clerkauth.GetAuth(r).UserID)
//	})))
//	log.Fatal(http.ListenAndServe(":8080", mux))
//
// [Options] is one plain struct; its zero value reads the standard CLERK_*
// environment variables. [Middleware.Handler] authenticates and never
// rejects (the handler decides); [Middleware.RequireAuth] rejects signed-out
// requests. Both have the func(http.Handler) http.Handler shape of chi's
// r.Use and similar chains. [Middleware.Authenticate] is the check without
// HTTP plumbing.
//
// # Page loads
//
// With a publishable key and a secret key, browser page loads get what
// Clerk's authenticateRequest gives them (Next.js clerkMiddleware): an
// expired session is refreshed with the __refresh cookie, or the page load
// is sent through Clerk's handshake (a 307 to the Frontend API, which
// comes back with the browser's new cookies), and satellite domains,
// proxies and development instances sync as in Clerk. Handler and
// RequireAuth write those responses themselves; integrations use
// [Middleware.AuthenticateResponse]; [ErrHandshake] tells a page that
// needs the handshake from a signed-out one. API requests (fetch, non-GET)
// are never redirected. Options.DisableHandshake turns it off.
//
// # Authorization: Has
//
// [Auth.Has] answers what Clerk's has() answers, from the token alone: an
// organization role or permission, a billing plan or feature, a recent
// reverification, a machine token's scope ([Check]).
//
// # Tokens for other services, and the Backend API
//
// [Auth.GetToken] returns the request's own token, or mints one of a JWT
// template (for example "supabase") through the Backend API, cached per
// session. [Middleware.Client] (or [NewClient]) calls the Backend API, for
// example [Client.GetUser], with retries and Clerk's error shapes
// ([APIError]).
//
// # Machine tokens
//
// With Options.AcceptsToken the middleware also accepts API keys, M2M
// tokens and OAuth access tokens, verified by the Backend API and cached
// briefly; [Auth.Machine] describes them. [Middleware.AcceptsToken] narrows a
// route to some token types.
//
// # 401 versus 503
//
// A request that is not signed in gets 401 {"error":"Not authenticated"};
// when the keys cannot be obtained at all (Clerk unreachable, a refused
// secret key) it gets 503 with Retry-After, because that is the server's
// fault, not the client's ([ErrKeysUnavailable], [ErrBackendUnavailable]).
// Branch on why with errors.Is on [Auth.Err] and the Err* kinds; every
// rejection also carries Clerk's reason string ([Auth.Reason],
// X-Clerk-Auth-Reason) for logs. Options.ErrorHandler replaces the
// response; it can wrap [DefaultErrorHandler].
//
// # Testing: clerktest
//
// Package [github.com/clerkauth/clerkauth/clerktest] runs a local stand-in
// for a Clerk instance: a real HTTP server with its own RSA key, which
// mints real session tokens and answers the Backend API calls. Nothing is
// mocked, and the options its Server.Options returns read no CLERK_*
// variable, so a developer's exported keys never reach a test.
//
// # The command line: clerkauth
//
// cmd/clerkauth tells why a token is (not) accepted: "clerkauth decode
// TOKEN" shows what it says, "clerkauth verify TOKEN" runs it through this
// middleware with the same configuration (or -jwks-url, -pem) and explains
// the reason in plain words. Install it with
// go install github.com/clerkauth/clerkauth/cmd/clerkauth@latest.
package clerkauth
