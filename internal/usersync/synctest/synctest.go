// Package synctest fills the test directory (ldaptest) with trees of
// users for sync tests: each test gets an organizational unit of its own,
// so tests sharing the test binary's slapd do not see each other's users.
package synctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
)

// AddOU adds ou=<name> under the test tree's base with n inetOrgPerson
// users <prefix>00000… (password "<uid>-pass", mail <uid>@example.org) in
// one ldapmodify run, and returns the unit's DN.
func AddOU(t testing.TB, d *ldaptest.Server, name, prefix string, n int) string {
	t.Helper()
	dn := "ou=" + name + "," + ldaptest.BaseDN
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: organizationalUnit\nou: %s\n\n", dn, name)
	for i := range n {
		uid := fmt.Sprintf("%s%05d", prefix, i)
		fmt.Fprintf(&b, "dn: uid=%[1]s,%[2]s\nchangetype: add\nobjectClass: inetOrgPerson\nuid: %[1]s\ncn: Given%[3]d\nsn: Family%[3]d\nmail: %[1]s@example.org\nuserPassword: %[1]s-pass\n\n",
			uid, dn, i)
	}
	d.Modify(t, b.String())
	return dn
}

// UID is the uid of the i-th user AddOU made with prefix.
func UID(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }
