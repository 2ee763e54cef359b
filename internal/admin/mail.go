package admin

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/mail"
)

func (h *Handler) mailRoutes(mux Mux) {
	h.handle(mux, "POST /admin/realms/{realm}/testSMTPConnection", "manage-realm", h.testSMTPConnection)
}

// testSMTPConnection answers POST /admin/realms/{realm}/testSMTPConnection:
// the body is a smtpServer settings map the administrator is trying out
// (the stored password stands in for the mask the console shows, while
// the settings name the stored server), and the
// test message goes to the calling administrator's own address. Keycloak
// answers 500 both when that address is missing and when the send fails.
func (h *Handler) testSMTPConnection(rq *Request) error {
	var raw map[string]any
	if err := rq.decode(&raw); err != nil {
		return err
	}
	settings := make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			settings[k] = x
		case nil:
		default:
			b, _ := json.Marshal(x) // booleans and numbers as the console may send them
			settings[k] = string(b)
		}
	}
	admin := rq.Caller.Token.User
	if admin.Email == "" {
		return errorMessage(http.StatusInternalServerError, "Logged in user does not have an e-mail.")
	}
	if err := keepSMTPSecrets(settings, rq.Realm.SMTPServer); err != nil {
		return err
	}
	err := h.mailer().SendTest(rq.R.Context(), rq.Realm, settings, admin.Email, mail.Locale(rq.Realm, admin))
	if err != nil {
		h.Log.WarnContext(rq.R.Context(), "test email not sent", "realm", rq.Realm.Name, "err", fmt.Sprint(err))
		return errorMessage(http.StatusInternalServerError, "Failed to send email")
	}
	return rq.NoContent()
}
