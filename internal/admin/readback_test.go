package admin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/events"
)

// Infrastructure-as-code tools compare what they wrote with what they read
// back after every apply; these fields must not drift.
func TestRepresentationsReadBack(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "rb")

		// Group description: kept on create, changed by PUT, kept when a PUT
		// leaves it out.
		gid := e.create("/groups", map[string]any{"name": "ops", "description": "on call"})
		if g := e.obj("/groups/" + gid); g["description"] != "on call" {
			t.Fatalf("created group: %v", g)
		}
		e.want("PUT", "/groups/"+gid, e.tok, map[string]any{"name": "ops", "description": "pager duty"}, 204, "")
		e.want("PUT", "/groups/"+gid, e.tok, map[string]any{"name": "ops2"}, 204, "")
		if g := e.obj("/groups/" + gid); g["description"] != "pager duty" || g["name"] != "ops2" {
			t.Fatalf("updated group: %v", g)
		}
		h, _ := e.want("POST", "/groups/"+gid+"/children", e.tok, map[string]any{"name": "night", "description": "nights"}, 201, "")
		kid := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		if g := e.obj("/groups/" + kid); g["description"] != "nights" {
			t.Fatalf("child group: %v", g)
		}

		// Realm OTP and WebAuthn policies: Keycloak's defaults until set,
		// then exactly what was written.
		r := e.obj("")
		if r["otpPolicyType"] != "totp" || r["otpPolicyDigits"] != float64(6) || r["otpPolicyPeriod"] != float64(30) ||
			r["webAuthnPolicyRpEntityName"] != "keycloak" || r["webAuthnPolicyPasswordlessRequireResidentKey"] != "Yes" {
			t.Fatalf("defaults: %v", r)
		}
		body := map[string]any{
			"otpPolicyType": "hotp", "otpPolicyAlgorithm": "HmacSHA256", "otpPolicyDigits": 8, "otpPolicyInitialCounter": 5,
			"otpPolicyLookAheadWindow": 2, "otpPolicyCodeReusable": true,
			"webAuthnPolicyRpEntityName": "Acme", "webAuthnPolicySignatureAlgorithms": []string{"ES256"},
			"webAuthnPolicyUserVerificationRequirement": "preferred", "webAuthnPolicyCreateTimeout": 60,
			"webAuthnPolicyExtraOrigins":                               []string{"android:apk-key-hash:abc"},
			"webAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister": true,
		}
		e.want("PUT", "", e.tok, body, 204, "")
		r = e.obj("")
		for k, v := range body {
			want, _ := json.Marshal(v)
			got, _ := json.Marshal(r[k])
			if string(want) != string(got) {
				t.Errorf("%s: got %s, want %s", k, got, want)
			}
		}
		if r["otpPolicyPeriod"] != float64(30) || r["webAuthnPolicyRpId"] != "" || r["webAuthnPolicyPasswordlessRpEntityName"] != "keycloak" {
			t.Errorf("unwritten fields changed: %v %v %v", r["otpPolicyPeriod"], r["webAuthnPolicyRpId"], r["webAuthnPolicyPasswordlessRpEntityName"])
		}
		if apps, _ := r["otpSupportedApplications"].([]any); len(apps) != 1 {
			t.Errorf("hotp applications: %v", r["otpSupportedApplications"])
		}
		// A PUT that names none of them keeps them.
		e.want("PUT", "", e.tok, map[string]any{"displayName": "RB"}, 204, "")
		if r = e.obj(""); r["otpPolicyAlgorithm"] != "HmacSHA256" || r["webAuthnPolicyRpEntityName"] != "Acme" {
			t.Errorf("after an unrelated PUT: %v %v", r["otpPolicyAlgorithm"], r["webAuthnPolicyRpEntityName"])
		}

		// Every event type is offered by serverinfo and accepted by the
		// realm's event settings.
		var info struct {
			Enums map[string][]string `json:"enums"`
		}
		s.get("/admin/serverinfo", s.adminToken(), &info)
		if !slices.Equal(info.Enums["eventType"], events.Types()) || !slices.Contains(info.Enums["eventType"], "UPDATE_TOTP_ERROR") {
			t.Fatalf("serverinfo event types: %d", len(info.Enums["eventType"]))
		}
		e.want("PUT", "/events/config", e.tok, map[string]any{"eventsEnabled": true, "enabledEventTypes": events.Types()}, 204, "")
		var cfg struct {
			EnabledEventTypes []string `json:"enabledEventTypes"`
		}
		s.get(e.path("/events/config"), e.tok, &cfg)
		if len(cfg.EnabledEventTypes) != len(events.Types()) {
			t.Fatalf("stored %d event types of %d", len(cfg.EnabledEventTypes), len(events.Types()))
		}
	})
}

// A mapper missing the configuration its type cannot work without is
// refused, naming the field; the hardcoded role mapper then works in tokens.
func TestMapperRequiredConfig(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "mreq")
		cid := e.create("/clients", map[string]any{"clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true})
		pm := "/clients/" + cid + "/protocol-mappers/models"
		e.want("POST", pm, e.tok, map[string]any{"name": "r", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-role-mapper",
			"config": map[string]string{}}, 400, `{"errorMessage":"Role is required for a Hardcoded Role mapper","field":"role"}`)
		e.want("POST", pm, e.tok, map[string]any{"name": "a", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
			"config": map[string]string{"claim.name": "x"}}, 400, `{"errorMessage":"User Attribute is required for a User Attribute mapper","field":"user.attribute"}`)
		mid := e.create(pm, map[string]any{"name": "r", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-role-mapper",
			"config": map[string]string{"role": "auditor"}})
		// Editing it may not drop the role either.
		e.want("PUT", pm+"/"+mid, e.tok, map[string]any{"id": mid, "name": "r", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-role-mapper",
			"config": map[string]string{"role": ""}}, 400, "")
		e.create("/users", map[string]any{"username": "hugo", "enabled": true, "credentials": []map[string]any{{"type": "password", "value": "hu-pw"}}})
		claims := jwtClaims(t, s.token("mreq", "app", "hugo", "hu-pw"))
		ra, _ := claims["realm_access"].(map[string]any)
		roles, _ := ra["roles"].([]any)
		if !slices.Contains(roles, any("auditor")) {
			t.Fatalf("hardcoded role not in the token: %v", claims["realm_access"])
		}
	})
}
