package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

func TestPushedRequests(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, other := mkEventRealm(t, db, "par"), mkEventRealm(t, db, "other")
		p := store.PushedRequest{ID: "id1", RealmID: r.ID, ClientID: "app",
			Params: map[string]string{"redirect_uri": "https://app/cb", "scope": "openid"}, ExpiresAt: 1000}
		if err := db.CreatePushedRequest(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TakePushedRequest(ctx, other.ID, "id1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another realm cannot take the request: %v", err)
		}
		got, err := db.TakePushedRequest(ctx, r.ID, "id1")
		if err != nil || got.ClientID != "app" || got.Params["redirect_uri"] != "https://app/cb" || got.ExpiresAt != 1000 {
			t.Fatalf("take returns what was pushed: %+v, %v", got, err)
		}
		if _, err := db.TakePushedRequest(ctx, r.ID, "id1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a request is taken once only: %v", err)
		}
		p.ID = "id2"
		if err := db.CreatePushedRequest(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteExpiredLogins(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TakePushedRequest(ctx, r.ID, "id2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired requests are cleaned up: %v", err)
		}
	})
}
