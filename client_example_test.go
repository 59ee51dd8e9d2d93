package clerkauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/clerkauth/clerkauth"
)

func ExampleClient_GetUser() {
	// A stand-in for https://api.clerk.com.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v1/users/user_123" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}],"clerk_trace_id":"abc"}`)
			return
		}
		io.WriteString(w, `{"id":"user_123","first_name":"Ada","primary_email_address_id":"idn_1",
			"email_addresses":[{"id":"idn_1","email_address":"ada@example.com"}],"public_metadata":{"plan":"pro"}}`)
	}))
	defer api.Close()

	client, err := clerkauth.NewClient(clerkauth.Options{SecretKey: "sk_test_example", APIURL: api.URL})
	if err != nil {
		panic(err)
	}
	u, err := client.GetUser(context.Background(), "user_123")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.FirstName, u.PrimaryEmail(), string(u.PublicMetadata))

	_, err = client.GetUser(context.Background(), "user_404")
	var apiErr *clerkauth.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Errors[0].Code, apiErr.TraceID)
	}
	// Output:
	// Ada ada@example.com {"plan":"pro"}
	// 404 resource_not_found abc
}
