package admin

import (
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// A user's credentials beyond listing and deleting them: their labels,
// their order (the first of a type is the one a login offers first) and
// removing every credential of a type.
func (h *Handler) userCredentialRoutes(mux Mux) {
	const one = "/admin/realms/{realm}/users/{id}"
	var a userAPI
	const manage = "manage-users@user.manage"
	h.handle(mux, "PUT "+one+"/credentials/{credentialId}/userLabel", manage, a.setCredentialLabel)
	h.handle(mux, "POST "+one+"/credentials/{credentialId}/moveToFirst", manage, a.moveCredential(false))
	h.handle(mux, "POST "+one+"/credentials/{credentialId}/moveAfter/{newPreviousCredentialId}", manage, a.moveCredential(true))
	h.handle(mux, "PUT "+one+"/disable-credential-types", manage, a.disableCredentialTypes)
	h.handle(mux, "PUT "+one+"/remove-totp", manage, a.removeTOTP)
}

var errCredentialNotFound = notFound("Credential not found")

// maxCredentialLabel bounds a label, as Keycloak's column does.
const maxCredentialLabel = 255

// setCredentialLabel answers PUT .../userLabel. The body is the label as
// plain text, as Keycloak reads it.
func (a userAPI) setCredentialLabel(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(http.MaxBytesReader(rq.W, rq.R.Body, 4<<10))
	if err != nil || !utf8.Valid(b) || utf8.RuneCount(b) > maxCredentialLabel {
		return badRequest("Invalid credential label")
	}
	err = rq.h.Store.SetCredentialLabel(rq.R.Context(), u.ID, rq.R.PathValue("credentialId"), string(b))
	if errors.Is(err, store.ErrNotFound) {
		return errCredentialNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// moveCredential answers moveToFirst and moveAfter/{newPreviousCredentialId}.
func (a userAPI) moveCredential(after bool) endpoint {
	return func(rq *Request) error {
		u, err := a.load(rq)
		if err != nil {
			return err
		}
		prev := ""
		if after {
			prev = rq.R.PathValue("newPreviousCredentialId")
		}
		err = rq.h.Store.MoveCredential(rq.R.Context(), u.ID, rq.R.PathValue("credentialId"), prev)
		if errors.Is(err, store.ErrNotFound) {
			return errCredentialNotFound
		}
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
}

// disableCredentialTypes answers PUT .../disable-credential-types: every
// credential of the listed types is removed. A password is not a type that
// can be disabled (Keycloak's password provider ignores it), and the call
// removes credentials, so it is a takeover.
func (a userAPI) disableCredentialTypes(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	var types []string
	if err := rq.decode(&types); err != nil {
		return err
	}
	return a.removeCredentialTypes(rq, u, types)
}

// removeTOTP answers PUT .../remove-totp: disabling the otp type.
func (a userAPI) removeTOTP(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	return a.removeCredentialTypes(rq, u, []string{otp.Type})
}

// removeCredentialTypes removes u's credentials of the types named, the
// password excepted, after requireTakeover.
func (userAPI) removeCredentialTypes(rq *Request, u user.User, types []string) error {
	ctx := rq.R.Context()
	if err := rq.requireTakeover(ctx, u.ID); err != nil {
		return err
	}
	err := rq.h.Store.InTx(ctx, func(tx *store.DB) error {
		for _, t := range types {
			if t == user.CredentialPassword {
				continue
			}
			if err := tx.DeleteCredentialsOfType(ctx, u.ID, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}
