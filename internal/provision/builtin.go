package provision

import (
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// IsBuiltinScope reports whether name is one of the client scopes every
// realm is born with.
func IsBuiltinScope(name string) bool {
	for _, b := range builtinScopes("") {
		if b.scope.Name == name {
			return true
		}
	}
	return false
}

// IsBuiltinClient reports whether clientID is one of the clients every realm
// named realmName is born with or, in the master realm, the "<realm>-realm"
// client that holds the admin roles of an existing realm (realms lists the
// names of every realm).
func IsBuiltinClient(realmName, clientID string, realms []string) bool {
	switch clientID {
	case Account, AccountConsole, AdminCLI, Broker, SecurityAdminConsole:
		return true
	case RealmManagement:
		return realmName != realm.MasterName
	}
	if realmName != realm.MasterName {
		return false
	}
	other, ok := strings.CutSuffix(clientID, "-realm")
	if !ok {
		return false
	}
	for _, r := range realms {
		if r == other {
			return true
		}
	}
	return false
}

// IsBuiltinRealmRole reports whether name is one of the realm roles every
// realm named realmName is born with.
func IsBuiltinRealmRole(realmName, name string) bool {
	switch name {
	case OfflineAccessRole, UMAAuthorizationRole, realm.DefaultRoleName(realmName):
		return true
	case MasterAdminRole, CreateRealmRole:
		return realmName == realm.MasterName
	}
	return false
}
