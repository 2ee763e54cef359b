package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/reconcile"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Issue 12, hole 4: hash parameters beyond what Keycloak's providers make
// (here argon2 at 1 GiB, or a policy of 10 million PBKDF2 iterations) are
// refused by reconcile and by import, and nothing is written.
func TestReconcileRefusesHeavyHashes(t *testing.T) {
	heavy := `{"username": "bob", "enabled": true, "credentials": [{"type": "password",
	  "secretData": "{\"value\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"additionalParameters\":{}}",
	  "credentialData": "{\"hashIterations\":4,\"algorithm\":\"argon2\",\"additionalParameters\":{\"hashLength\":[\"32\"],\"memory\":[\"1048576\"],\"type\":[\"id\"],\"version\":[\"1.3\"],\"parallelism\":[\"1\"]}}"}]}`
	files := map[string]string{
		"argon2 credential at 1 GiB":  strings.Replace(base, `{"username": "bob", "enabled": true}`, heavy, 1),
		"policy at 10 million passes": strings.Replace(base, `"enabled": true,`, `"enabled": true, "passwordPolicy": "hashAlgorithm(pbkdf2-sha512) and hashIterations(10000000)",`, 1),
	}
	for name, file := range files {
		if file == base {
			t.Fatalf("%s: the fixture did not change", name)
		}
		t.Run(name, func(t *testing.T) {
			db := storetest.Open(t)
			_, err := reconcile.File(context.Background(), db, []byte(file), reconcile.Options{Now: now})
			var ie *rep.ImportError
			if !errors.As(err, &ie) {
				t.Errorf("reconcile of a new realm: error %v, want an ImportError", err)
			}
			if _, err := db.GetRealmByName(context.Background(), "acme"); err == nil {
				t.Error("reconcile of a new realm: the realm was stored")
			}

			apply(t, db, base, reconcile.Options{})
			before := export(t, db)
			if _, err := reconcile.File(context.Background(), db, []byte(file), reconcile.Options{Now: now}); !errors.As(err, &ie) {
				t.Errorf("reconcile of an existing realm: error %v, want an ImportError", err)
			}
			if after := export(t, db); !bytes.Equal(before, after) {
				t.Error("a refused reconcile left changes behind")
			}

			if _, _, err := rep.ImportFile(context.Background(), storetest.Open(t), []byte(file), rep.ImportOptions{Now: now}); !errors.As(err, &ie) {
				t.Errorf("import: error %v, want an ImportError", err)
			}
		})
	}
}
