package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func credentialTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"credential labels, order and removal by type", testCredentialOrder},
		{"credential data compare-and-set: of 10 concurrent updates from one value exactly one wins", testCredentialDataRace},
	}
}

func testCredentialOrder(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "creds")
	u := mkUser(t, db, r.ID, "carol")
	var ids []string
	for i, typ := range []string{"password", "otp", "otp"} {
		c := user.Credential{ID: store.NewID(), UserID: u.ID, Type: typ, CreatedDate: int64(1000 + i), SecretData: "{}", CredentialData: "{}", Priority: 10 * (i + 1)}
		if err := db.CreateCredential(ctx(), c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	order := func() string {
		cs, err := db.ListCredentials(ctx(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.ID[:4]+":"+c.UserLabel)
		}
		return strings.Join(out, ",")
	}
	short := func(i int, label string) string { return ids[i][:4] + ":" + label }

	if err := db.SetCredentialLabel(ctx(), u.ID, ids[1], "phone"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCredentialLabel(ctx(), u.ID, "nope", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("label of an unknown credential: %v", err)
	}
	if err := db.MoveCredential(ctx(), u.ID, ids[2], ""); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), strings.Join([]string{short(2, ""), short(0, ""), short(1, "phone")}, ","); got != want {
		t.Errorf("move to first: %s, want %s", got, want)
	}
	if err := db.MoveCredential(ctx(), u.ID, ids[2], ids[1]); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), strings.Join([]string{short(0, ""), short(1, "phone"), short(2, "")}, ","); got != want {
		t.Errorf("move after: %s, want %s", got, want)
	}
	for _, tc := range [][2]string{{"nope", ""}, {ids[0], "nope"}, {ids[0], ids[0]}} {
		if err := db.MoveCredential(ctx(), u.ID, tc[0], tc[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("move %v: %v", tc, err)
		}
	}
	// Another user's credential is not this user's.
	other := mkUser(t, db, r.ID, "dan")
	if err := db.MoveCredential(ctx(), other.ID, ids[0], ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("move another user's credential: %v", err)
	}
	if err := db.DeleteCredentialsOfType(ctx(), u.ID, "otp"); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != short(0, "") {
		t.Errorf("after removing otp: %s", got)
	}
}

func testCredentialDataRace(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "hotp")
	u := mkUser(t, db, r.ID, "dave")
	c := user.Credential{ID: store.NewID(), UserID: u.ID, Type: "otp", CreatedDate: 1, SecretData: `{"value":"s"}`, CredentialData: `{"counter":0}`}
	if err := db.CreateCredential(ctx(), c); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		wins atomic.Int32
	)
	for i := range 10 {
		wg.Go(func() {
			err := db.UpdateCredentialData(ctx(), c.ID, c.CredentialData, fmt.Sprintf(`{"counter":%d}`, i+1))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d updates won, want 1", wins.Load())
	}
	cs, err := db.ListCredentials(ctx(), u.ID)
	if err != nil || len(cs) != 1 || cs[0].CredentialData == c.CredentialData || cs[0].SecretData != c.SecretData {
		t.Errorf("after the race: %+v, %v", cs, err)
	}
}
