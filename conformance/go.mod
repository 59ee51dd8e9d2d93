module github.com/clerkauth/clerkauth/conformance

go 1.25.0

replace github.com/clerkauth/clerkauth => ../

require github.com/clerkauth/clerkauth v0.0.0-00010101000000-000000000000

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/MicahParks/keyfunc/v3 v3.9.2 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/time v0.15.0 // indirect
)
