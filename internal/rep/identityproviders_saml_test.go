package rep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A realm file's SAML provider without signature validation, or without a
// certificate to validate with, imports as written; the import warns that
// every login through it will be refused. One that validates is quiet.
func TestImportSAMLProviderThatRefusesLogins(t *testing.T) {
	saml := func(alias string, cfg map[string]string) map[string]any {
		cfg["singleSignOnServiceUrl"] = "https://idp.example/sso"
		return map[string]any{"alias": alias, "providerId": "saml", "enabled": true, "config": cfg}
	}
	file, _ := json.Marshal(map[string]any{"realm": "fed", "enabled": true, "identityProviders": []any{
		saml("unchecked", map[string]string{"validateSignature": "false"}),
		saml("nocert", map[string]string{"validateSignature": "true"}),
		saml("checked", map[string]string{"validateSignature": "true", "signingCertificate": "MIIBfake"}),
	}})
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		var logs bytes.Buffer
		a := server(t, open)
		if _, _, err := rep.ImportFile(ctx, a, file, rep.ImportOptions{Now: now, Log: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{`path=$.identityProviders[0]`, `signature validation is off`,
			`path=$.identityProviders[1]`, `no signing certificate`} {
			if !strings.Contains(logs.String(), w) {
				t.Errorf("log lacks %s: %s", w, logs.String())
			}
		}
		if strings.Contains(logs.String(), "$.identityProviders[2]") {
			t.Errorf("a validating provider reported: %s", logs.String())
		}
	})
}
