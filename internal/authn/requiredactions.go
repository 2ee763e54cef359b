package authn

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// RequiredAction is what Gatehouse knows of one required action provider
// (Keycloak's RequiredActionFactory) besides its defaults, which are
// flow.DefaultRequiredActions: whether an application may ask for it with
// kc_action, how recent a login that needs, and its trigger. How the action is performed (its page and its
// form) is the login pages' business (package login); which actions a user
// still owes, and in which order, is decided here so that the browser login
// and the password grant agree.
type RequiredAction struct {
	// ID is the provider id, the name a user's required actions list holds.
	ID string
	// Initiated says whether an application may request the action with
	// kc_action (Keycloak's InitiatedActionSupport.SUPPORTED).
	Initiated bool
	// Trigger, when set, is Keycloak's evaluateTriggers: it runs before a
	// login's actions (for enabled actions only) and may edit the user,
	// usually to add the action; it reports whether it changed anything.
	Trigger func(t Trigger, u *user.User) bool
	// MaxAuthAge, when set, replaces the default of MaxAuthAge.
	MaxAuthAge func(rl realm.Realm, cfg flow.RequiredAction) int
}

// Trigger is what a trigger sees besides the user.
type Trigger struct {
	Realm realm.Realm
	Now   time.Time
	// Locale is the locale the user picked on the login pages (kc_locale),
	// "" when none.
	Locale string
}

// The actions' provider ids.
const (
	ActionConfigureTOTP        = "CONFIGURE_TOTP"
	ActionTermsAndConditions   = "TERMS_AND_CONDITIONS"
	ActionUpdatePassword       = actionUpdatePassword
	ActionUpdateProfile        = "UPDATE_PROFILE"
	ActionVerifyEmail          = "VERIFY_EMAIL"
	ActionDeleteAccount        = "delete_account"
	ActionUpdateEmail          = "UPDATE_EMAIL"
	ActionWebAuthnRegister     = "webauthn-register"
	ActionWebAuthnPasswordless = "webauthn-register-passwordless"
	ActionVerifyProfile        = "VERIFY_PROFILE"
	ActionDeleteCredential     = "delete_credential"
	ActionIdPLink              = "idp_link"
	ActionRecoveryCodes        = "CONFIGURE_RECOVERY_AUTHN_CODES"
	ActionUpdateUserLocale     = "update_user_locale"
)

// DefaultMaxAuthAge is how recent (seconds) a login must be for an
// application-initiated action unless the action's config says otherwise
// (Keycloak's Constants.KC_ACTION_MAX_AGE).
const DefaultMaxAuthAge = 300

// requiredActions are Keycloak 26's required actions, as
// flow.DefaultRequiredActions lists them. Subsystems that own an action's
// condition set its trigger where they live (RegisterTrigger).
var requiredActions = []*RequiredAction{
	{ID: ActionConfigureTOTP, Initiated: true},
	{ID: ActionTermsAndConditions, Initiated: true},
	{ID: ActionUpdatePassword, Initiated: true,
		MaxAuthAge: func(rl realm.Realm, cfg flow.RequiredAction) int {
			if n := configMaxAuthAge(cfg); n >= 0 {
				return n
			}
			if n := user.PolicyMaxAuthAge(rl.PasswordPolicy); n >= 0 {
				return n
			}
			return DefaultMaxAuthAge
		}},
	{ID: ActionUpdateProfile, Initiated: true},
	{ID: ActionVerifyEmail, Initiated: true,
		Trigger: func(t Trigger, u *user.User) bool {
			// Keycloak asks for a verification whenever the realm wants
			// verified emails and this one is not.
			if !t.Realm.VerifyEmail || u.EmailVerified || slices.Contains(u.RequiredActions, ActionVerifyEmail) {
				return false
			}
			u.RequiredActions = append(u.RequiredActions, ActionVerifyEmail)
			return true
		}},
	{ID: ActionDeleteAccount, Initiated: true,
		// Deleting an account always asks for a fresh login.
		MaxAuthAge: func(realm.Realm, flow.RequiredAction) int { return 0 }},
	{ID: ActionUpdateEmail, Initiated: true},
	{ID: ActionWebAuthnRegister, Initiated: true},
	{ID: ActionWebAuthnPasswordless, Initiated: true},
	// VERIFY_PROFILE has no trigger yet: Keycloak's asks every user whose
	// profile misses a required attribute (ProfileComplete), which would
	// stop the password grant of every such user at once.
	{ID: ActionVerifyProfile, Initiated: true},
	{ID: ActionDeleteCredential, Initiated: true},
	{ID: ActionIdPLink, Initiated: true},
	{ID: ActionRecoveryCodes, Initiated: true},
	{ID: ActionUpdateUserLocale,
		// Not an action the user performs: the locale picked on the login
		// pages becomes the user's own.
		Trigger: func(t Trigger, u *user.User) bool {
			if t.Locale == "" || slices.Equal(u.Attributes["locale"], []string{t.Locale}) {
				return false
			}
			attrs := make(map[string][]string, len(u.Attributes)+1)
			for k, v := range u.Attributes {
				attrs[k] = v
			}
			attrs["locale"] = []string{t.Locale}
			u.Attributes = attrs
			return true
		}},
}

// LookupRequiredAction returns the required action with provider id id.
func LookupRequiredAction(id string) (*RequiredAction, bool) {
	for _, a := range requiredActions {
		if a.ID == id {
			return a, true
		}
	}
	return nil, false
}

// RegisterTrigger sets the trigger of a built-in action, for subsystems
// that own the condition (a realm policy that requires OTP, say). It is
// meant for package initialisation.
func RegisterTrigger(id string, trigger func(Trigger, *user.User) bool) {
	if a, ok := LookupRequiredAction(id); ok {
		a.Trigger = trigger
	}
}

// ActionSetting is the realm's registration of the action id, its entry in
// the realm's model. ok is false for an action the realm does not register
// (never registered, or deleted through the admin API): such an action is
// not run, as in Keycloak.
func ActionSetting(cfg flow.Config, id string) (flow.RequiredAction, bool) {
	for _, a := range cfg.RequiredActions {
		if a.Alias == id || (a.Alias == "" && a.ProviderID == id) {
			if a.ProviderID == "" {
				a.ProviderID = a.Alias
			}
			return a, true
		}
	}
	return flow.RequiredAction{}, false
}

// RealmRequiredActions is every action the realm registers, in priority
// order (ties by name, as Keycloak sorts them).
func RealmRequiredActions(cfg flow.Config) []flow.RequiredAction {
	return rep.SortedRequiredActions(cfg.RequiredActions)
}

// MaxAuthAge is how recent (seconds) the user's login must be for an
// application to run action a with kc_action: the action's config
// max_auth_age, else its own rule, else DefaultMaxAuthAge.
func MaxAuthAge(rl realm.Realm, a *RequiredAction, cfg flow.RequiredAction) int {
	if a.MaxAuthAge != nil {
		return a.MaxAuthAge(rl, cfg)
	}
	if n := configMaxAuthAge(cfg); n >= 0 {
		return n
	}
	return DefaultMaxAuthAge
}

func configMaxAuthAge(cfg flow.RequiredAction) int {
	if v, ok := cfg.Config["max_auth_age"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
	}
	return -1
}

// PendingActions runs the triggers of the realm's enabled actions on u,
// storing what they changed, and returns the user as stored and the
// required actions u still owes that the realm enables, in the realm's
// priority order. Actions the realm disables, or that nobody knows, are
// not run (Keycloak skips them) and stay on the user.
func PendingActions(ctx context.Context, db *store.DB, rl realm.Realm, cfg flow.Config, u user.User, t Trigger) (user.User, []string, error) {
	t.Realm = rl
	probe := u
	probe.RequiredActions = slices.Clone(u.RequiredActions)
	changed := false
	for _, a := range requiredActions {
		if s, _ := ActionSetting(cfg, a.ID); a.Trigger != nil && s.Enabled {
			changed = a.Trigger(t, &probe) || changed
		}
	}
	if changed {
		err := db.UpdateUser(ctx, rl.ID, u.ID, func(x *user.User) error {
			for _, a := range requiredActions {
				if s, _ := ActionSetting(cfg, a.ID); a.Trigger != nil && s.Enabled {
					a.Trigger(t, x)
				}
			}
			probe = *x
			return nil
		})
		if err != nil {
			return u, nil, err
		}
	}
	var pending []string
	for _, s := range RealmRequiredActions(cfg) {
		if s.Enabled && slices.Contains(probe.RequiredActions, s.Alias) {
			pending = append(pending, s.Alias)
		}
	}
	return probe, pending, nil
}

// FullySetUp reports whether u may get tokens without a login page: after
// the triggers ran, the user owes no required action at all. The password
// grant refuses a user who is not, with Keycloak's "Account is not fully
// set up"; as in Keycloak, any action on the user counts there, enabled or
// not, since nothing but a browser can perform it.
func FullySetUp(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, now time.Time) (bool, error) {
	cfg, err := db.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return false, err
	}
	u, _, err = PendingActions(ctx, db, rl, cfg, u, Trigger{Now: now})
	if err != nil {
		return false, err
	}
	return len(u.RequiredActions) == 0, nil
}

// ProfileComplete reports whether u has every attribute the realm's user
// profile requires of users (Keycloak's VERIFY_PROFILE condition).
func ProfileComplete(rl realm.Realm, u user.User) bool {
	cfg := profile.Load(rl.UserProfile)
	attrs := profile.Values(u.Attributes, u.Username, u.Email, u.FirstName, u.LastName)
	ctx := profile.Account(rl.EditUsernameAllowed)
	for _, a := range cfg.Attributes {
		if !cfg.IsRequired(ctx, a.Name) || !cfg.CanView(ctx, a.Name) {
			continue
		}
		if !slices.ContainsFunc(attrs[a.Name], func(v string) bool { return v != "" }) {
			return false
		}
	}
	return true
}
