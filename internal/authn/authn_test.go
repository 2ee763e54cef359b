package authn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func TestPasswordCheckAndRehash(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	r := realm.New(store.NewID(), "r")
	if err := db.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "ann", Email: "ann@example.com", Enabled: true}
	db.CreateUser(ctx, u)
	// An imported hash at an old policy: pbkdf2-sha256, few iterations.
	old, err := user.NewPasswordCredential(store.NewID(), u.ID, "s3cret", 1, user.HashPolicy{Algorithm: user.HashPBKDF2SHA256, Iterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	db.CreateCredential(ctx, old)
	c := authn.Checker{Store: db}

	got, err := c.FindUser(ctx, r, "ANN@example.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("find by email: %+v %v", got, err)
	}
	noEmail := r
	noEmail.LoginWithEmailAllowed = false
	if _, err := c.FindUser(ctx, noEmail, "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("email login where the realm forbids it: %v", err)
	}
	if ok, err := c.CheckPassword(ctx, r, u, "wrong"); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	creds, _ := db.ListCredentials(ctx, u.ID)
	if creds[0].SecretData != old.SecretData {
		t.Fatal("a failed login re-hashed the password")
	}
	if ok, err := c.CheckPassword(ctx, r, u, "s3cret"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	creds, _ = db.ListCredentials(ctx, u.ID)
	if !strings.Contains(creds[0].CredentialData, `"argon2"`) {
		t.Fatalf("not re-hashed to the realm's algorithm: %s", creds[0].CredentialData)
	}
	if ok, _ := c.CheckPassword(ctx, r, u, "s3cret"); !ok {
		t.Fatal("re-hashed password does not verify")
	}
	nobody := user.User{ID: "none", RealmID: r.ID}
	if ok, err := c.CheckPassword(ctx, r, nobody, "x"); ok || err != nil {
		t.Fatalf("user without a password: %v %v", ok, err)
	}
}
