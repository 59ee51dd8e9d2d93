module github.com/clerkauth/clerkauth/bench

go 1.25.0

replace github.com/clerkauth/clerkauth => ../

require (
	github.com/clerk/clerk-sdk-go/v2 v2.4.2
	github.com/clerkauth/clerkauth v0.0.0
	github.com/golang-jwt/jwt/v5 v5.3.1
)

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/go-jose/go-jose/v3 v3.0.4 // indirect
	golang.org/x/crypto v0.19.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)
