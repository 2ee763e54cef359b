package account

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// userRep is Keycloak's account UserRepresentation as the user profile
// renders it in Keycloak 24+. Custom attributes are not shown: with no user
// profile configured, Keycloak's default (unmanaged attributes disabled)
// shows the four root attributes only, and an attribute an administrator
// keeps for themselves must never reach the user (CVE-2026-0871).
type userRep struct {
	ID                  string           `json:"id"`
	Username            string           `json:"username"`
	FirstName           string           `json:"firstName,omitempty"`
	LastName            string           `json:"lastName,omitempty"`
	Email               string           `json:"email,omitempty"`
	EmailVerified       bool             `json:"emailVerified"`
	UserProfileMetadata *profileMetadata `json:"userProfileMetadata,omitempty"`
}

// profileMetadata is Keycloak's UserProfileMetadata, reduced to what the
// default profile says about the root attributes.
type profileMetadata struct {
	Attributes []attributeMetadata `json:"attributes"`
	Groups     []any               `json:"groups"`
}

type attributeMetadata struct {
	Name        string                    `json:"name"`
	DisplayName string                    `json:"displayName"`
	Required    bool                      `json:"required"`
	ReadOnly    bool                      `json:"readOnly"`
	Annotations map[string]any            `json:"annotations"`
	Validators  map[string]map[string]any `json:"validators"`
	Multivalued bool                      `json:"multivalued"`
}

// Keycloak's display names and limits of the root attributes.
const maxNameLength = 255

func metadata(rl realm.Realm) *profileMetadata {
	length := map[string]any{"max": maxNameLength, "ignore.empty.value": true}
	name := map[string]map[string]any{"length": length, "person-name-prohibited-characters": {"ignore.empty.value": true}}
	return &profileMetadata{Groups: []any{}, Attributes: []attributeMetadata{
		{Name: "username", DisplayName: "${username}", Required: true, ReadOnly: !rl.EditUsernameAllowed,
			Annotations: map[string]any{}, Validators: map[string]map[string]any{"length": {"min": 3, "max": maxNameLength, "ignore.empty.value": true},
				"username-prohibited-characters": {"ignore.empty.value": true}, "up-username-not-idn-homograph": {"ignore.empty.value": true}}},
		{Name: "email", DisplayName: "${email}", Required: true, Annotations: map[string]any{},
			Validators: map[string]map[string]any{"email": {"ignore.empty.value": true}, "length": length}},
		{Name: "firstName", DisplayName: "${firstName}", Required: true, Annotations: map[string]any{}, Validators: name},
		{Name: "lastName", DisplayName: "${lastName}", Required: true, Annotations: map[string]any{}, Validators: name},
	}}
}

func toUserRep(rl realm.Realm, u user.User, withMetadata bool) userRep {
	out := userRep{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, EmailVerified: u.EmailVerified}
	if withMetadata {
		out.UserProfileMetadata = metadata(rl)
	}
	return out
}

// getAccount serves GET /account/.
func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	return web.WriteJSON(w, http.StatusOK, toUserRep(c.realm, c.user, r.URL.Query().Get("userProfileMetadata") != "false"))
}

// profileUpdate is what a user may send to change their profile. A field
// left out (nil) stays as it is. emailVerified, id and attributes are not
// read at all: a user never verifies their own email (CVE-2026-27946) and
// no request names the user it acts on.
type profileUpdate struct {
	Username  *string `json:"username"`
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
	Email     *string `json:"email"`
}

// fieldError is Keycloak's ErrorRepresentation of one user profile
// validation failure; Message is a message key.
type fieldError struct {
	Field   string   `json:"field"`
	Message string   `json:"errorMessage"`
	Params  []string `json:"params"`
}

// profileErrors is a failed update: what failed, and the status (400, or
// 409 when a username or email belongs to someone else).
type profileErrors struct {
	status int
	errs   []fieldError
}

func (e *profileErrors) Error() string { return "profile update refused: " + e.errs[0].Message }

// body is Keycloak's answer to a failed update
// (ErrorResponse.errors(errors, status, false)): the list, and the first
// error's fields at the top when there is only one.
func (e *profileErrors) body() map[string]any {
	b := map[string]any{"errors": e.errs}
	if len(e.errs) == 1 {
		b["field"], b["errorMessage"], b["params"] = e.errs[0].Field, e.errs[0].Message, e.errs[0].Params
	}
	return b
}

// updateAccount serves POST /account/.
func (h *Handler) updateAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in profileUpdate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := h.updateProfile(r.Context(), c.realm, c.user.ID, in); err != nil {
		var pe *profileErrors
		if errors.As(err, &pe) {
			return &web.Error{Status: pe.status, Body: pe.body()}
		}
		return err
	}
	return noContent(w)
}

// updateProfile validates in against the realm's rules and stores it on
// the user userID, in one transaction: nothing is stored unless all of it
// is valid. A new email is unverified. It returns the stored user.
func (h *Handler) updateProfile(ctx context.Context, rl realm.Realm, userID string, in profileUpdate) (user.User, error) {
	trim := func(p *string) *string {
		if p == nil {
			return nil
		}
		s := strings.TrimSpace(*p)
		return &s
	}
	in.Username, in.Email, in.FirstName, in.LastName = trim(in.Username), trim(in.Email), trim(in.FirstName), trim(in.LastName)
	var out user.User
	err := h.Store.UpdateUser(ctx, rl.ID, userID, func(u *user.User) error {
		errs := &profileErrors{status: http.StatusBadRequest}
		add := func(field, key string, params ...string) {
			errs.errs = append(errs.errs, fieldError{Field: field, Message: key, Params: append([]string{"${" + field + "}"}, params...)})
		}
		if in.Username != nil && !strings.EqualFold(*in.Username, u.Username) {
			switch {
			case !rl.EditUsernameAllowed:
				add("username", "updateReadOnlyAttributesRejectedMessage")
			case *in.Username == "":
				add("username", "missingUsernameMessage")
			case utf8.RuneCountInString(*in.Username) < 3 || len(*in.Username) > maxNameLength:
				add("username", "error-invalid-length", "3", "255")
			case !validUsername(*in.Username):
				add("username", "error-username-invalid-character")
			default:
				other, err := h.Store.GetUserByUsername(ctx, rl.ID, *in.Username)
				if err == nil && other.ID != u.ID {
					add("username", "usernameExistsMessage")
					errs.status = http.StatusConflict
				} else if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		if in.Email != nil && !strings.EqualFold(*in.Email, u.Email) {
			switch {
			case *in.Email == "":
				add("email", "missingEmailMessage")
			case len(*in.Email) > maxNameLength:
				add("email", "error-invalid-length-too-long", "", "255")
			case !validEmail(*in.Email):
				add("email", "invalidEmailMessage")
			case !rl.DuplicateEmailsAllowed:
				other, err := h.Store.GetUserByEmail(ctx, rl.ID, *in.Email)
				if errors.Is(err, store.ErrConflict) || (err == nil && other.ID != u.ID) {
					add("email", "emailExistsMessage")
					errs.status = http.StatusConflict
				} else if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		for _, f := range []struct {
			field, missing string
			v              *string
		}{{"firstName", "missingFirstNameMessage", in.FirstName}, {"lastName", "missingLastNameMessage", in.LastName}} {
			switch {
			case f.v == nil:
			case *f.v == "":
				add(f.field, f.missing)
			case len(*f.v) > maxNameLength:
				add(f.field, "error-invalid-length-too-long", "", "255")
			case !validPersonName(*f.v):
				add(f.field, "error-person-name-invalid-character")
			}
		}
		if len(errs.errs) > 0 {
			return errs
		}
		if in.Username != nil {
			u.Username = *in.Username
		}
		if in.Email != nil && !strings.EqualFold(*in.Email, u.Email) {
			u.Email, u.EmailVerified = *in.Email, false
		}
		if in.FirstName != nil {
			u.FirstName = *in.FirstName
		}
		if in.LastName != nil {
			u.LastName = *in.LastName
		}
		out = *u
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		// The unique index caught a username taken at the same moment.
		return out, &profileErrors{status: http.StatusConflict, errs: []fieldError{{Field: "username", Message: "usernameExistsMessage", Params: []string{"${username}"}}}}
	}
	out.Normalize()
	return out, err
}

// emailLocal and emailDomainLabel follow the address syntax Keycloak's
// EmailValidator accepts: a dot-atom local part of at most 64 bytes
// (non-ASCII characters allowed, as Keycloak allows them), and a domain of
// labels (internationalised ones included) or an IP literal.
var (
	emailLocal       = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\x{80}-\\x{FFFF}-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\x{80}-\\x{FFFF}-]+)*$")
	emailDomainLabel = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$`)
	emailIPLiteral   = regexp.MustCompile(`^\[[0-9A-Fa-f:.]+\]$`)
)

// validEmail reports whether s is an address Keycloak would store.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || !emailLocal.MatchString(local) {
		return false
	}
	if emailIPLiteral.MatchString(domain) {
		return true
	}
	for _, label := range strings.Split(domain, ".") {
		if !emailDomainLabel.MatchString(label) {
			return false
		}
	}
	return true
}

// personNameProhibited are the characters Keycloak's
// person-name-prohibited-characters validator refuses in first and last
// names; with control characters they cover markup and script injection.
const personNameProhibited = `<>&"$%!#?§;*~/\|^=[]{}()`

func validPersonName(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, personNameProhibited) &&
		!strings.ContainsFunc(s, unicode.IsControl)
}

// usernameProhibited are the characters Keycloak's
// username-prohibited-characters validator refuses.
const usernameProhibited = `<>&"'$%!#?§,;:*~/\|^=[]{}()`

func validUsername(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, usernameProhibited) &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// requiredActionUpdatePassword is the action that sets a password, which
// the console offers for the password credential.
const requiredActionUpdatePassword = "UPDATE_PASSWORD"
