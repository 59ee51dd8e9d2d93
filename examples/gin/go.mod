module github.com/clerkauth/clerkauth/examples/gin

go 1.25.0

require (
	github.com/clerkauth/clerkauth v0.0.0
	github.com/gin-gonic/gin v1.12.0
)

replace github.com/clerkauth/clerkauth => ../..
