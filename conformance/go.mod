module github.com/clerkauth/clerkauth/conformance

go 1.25.0

replace github.com/clerkauth/clerkauth => ../
