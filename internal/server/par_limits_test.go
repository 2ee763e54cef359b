package server_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The PAR endpoint authenticates clients as the token endpoint does, so
// secrets guessed there are failures counted the same way: 200 wrong ones
// from one address end in 429s, and a right one before that is served.
func TestPushedRequestSecretGuessesAreLimited(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := startLimitedOn(t, open(t), server.DefaultLimits(), web.URLs{})
		e.addMasterClient(t, "pusher", func(c *client.Client) {
			c.Secret, c.RedirectURIs = "pusher-secret", []string{"https://pusher.example/cb"}
		})
		push := func(secret string) response {
			return e.post(t, "/realms/master/protocol/openid-connect/ext/par/request",
				form("client_id", "pusher", "client_secret", secret, "response_type", "code"), nil)
		}
		if r := push("pusher-secret"); r.status != http.StatusCreated {
			t.Fatalf("right secret: %d %s", r.status, r.body)
		}
		limited := 0
		for i := range 200 {
			switch r := push("wrong"); r.status {
			case http.StatusTooManyRequests:
				limited++
			case http.StatusUnauthorized:
				if limited > 0 {
					t.Fatalf("guess %d answered 401 after a 429", i+1)
				}
			default:
				t.Fatalf("guess %d: %d %s", i+1, r.status, r.body)
			}
		}
		if limited == 0 {
			t.Fatal("200 wrong secrets at the PAR endpoint, none refused")
		}
	})
}
