package ldap_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
)

func providerConfig(t *testing.T, s *ldaptest.Server, kv ...string) ldap.Config {
	t.Helper()
	m := map[string][]string{
		"editMode":       {"WRITABLE"},
		"connectionUrl":  {s.URL},
		"bindDn":         {ldaptest.BindDN},
		"bindCredential": {ldaptest.BindPW},
		"usersDn":        {ldaptest.PeopleDN},
		"vendor":         {"other"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []string{kv[i+1]}
	}
	c, err := ldap.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	c.RootCAs = s.CA
	return c
}

func TestClientFindAndAuthenticate(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	for name, cfg := range map[string]ldap.Config{
		"plain":    providerConfig(t, s),
		"ldaps":    providerConfig(t, s, "connectionUrl", s.LDAPSURL),
		"starttls": providerConfig(t, s, "startTls", "true", "connectionPooling", "false"),
		"failover": providerConfig(t, s, "connectionUrl", ldaptest.DeadURL(t)+" "+s.URL),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ldap.Dial(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			e, err := c.FindByUsername(ctx, "user1")
			if err != nil {
				t.Fatal(err)
			}
			if e.DN != ldaptest.UserDN("user1") || e.UUID == "" || e.First("mail") != "user1@example.org" {
				t.Errorf("entry %+v", e)
			}
			byMail, err := c.FindByEmail(ctx, ldap.DefaultMappers(cfg), "user1@example.org")
			if err != nil || byMail.UUID != e.UUID {
				t.Errorf("by email: %v %+v", err, byMail)
			}
			byUUID, err := c.FindByUUID(ctx, e.UUID)
			if err != nil || byUUID.DN != e.DN {
				t.Errorf("by uuid: %v %+v", err, byUUID)
			}
			// Filter metacharacters are escaped: patterns that would match
			// user1 (or everyone) as filters match nobody.
			for _, inj := range []string{"user*", "*", "user1)(uid=*", "user1)(|(uid=*", "*)(objectClass=*"} {
				if e, err := c.FindByUsername(ctx, inj); !errors.Is(err, ldap.ErrNotFound) {
					t.Errorf("username %q must be escaped, got %v %s", inj, err, e.DN)
				}
				if e, err := c.FindByEmail(ctx, ldap.DefaultMappers(cfg), inj); !errors.Is(err, ldap.ErrNotFound) {
					t.Errorf("email %q must be escaped, got %v %s", inj, err, e.DN)
				}
			}
			if err := ldap.Authenticate(ctx, cfg, e.DN, "password"); err != nil {
				t.Errorf("right password: %v", err)
			}
			if err := ldap.Authenticate(ctx, cfg, e.DN, "nope"); !errors.Is(err, ldap.ErrInvalidCredentials) {
				t.Errorf("wrong password: %v", err)
			}
			if err := ldap.Authenticate(ctx, cfg, e.DN, ""); !errors.Is(err, ldap.ErrInvalidCredentials) {
				t.Errorf("empty password must never bind anonymously: %v", err)
			}
		})
	}
}

func TestClientErrorsAreClassified(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	dead := providerConfig(t, s, "connectionUrl", ldaptest.DeadURL(t), "connectionTimeout", "500")
	if _, err := ldap.Dial(ctx, dead); !errors.Is(err, ldap.ErrUnreachable) {
		t.Errorf("dead port: %v", err)
	}
	if err := ldap.Authenticate(ctx, dead, ldaptest.UserDN("user1"), "password"); !errors.Is(err, ldap.ErrUnreachable) {
		t.Errorf("authenticate on dead port must be an outage, not a wrong password: %v", err)
	}
	bad := providerConfig(t, s, "bindCredential", "wrong")
	_, err := ldap.Dial(ctx, bad)
	if !errors.Is(err, ldap.ErrInvalidCredentials) {
		t.Errorf("bad bind: %v", err)
	}
	if err != nil && contains(err.Error(), "wrong") {
		t.Errorf("error text holds the credential: %v", err)
	}
	// ldaps against a server whose certificate nobody trusts.
	untrusted := providerConfig(t, s, "connectionUrl", s.LDAPSURL)
	untrusted.RootCAs = nil
	if _, err := ldap.Dial(ctx, untrusted); !errors.Is(err, ldap.ErrUnreachable) {
		t.Errorf("untrusted certificate must fail: %v", err)
	}
	if err := ldap.TestConnection(ctx, providerConfig(t, s)); err != nil {
		t.Error(err)
	}
	if err := ldap.TestAuthentication(ctx, bad); !errors.Is(err, ldap.ErrInvalidCredentials) {
		t.Error(err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestClientSetPassword(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	s.AddUser(t, "pwchange", "pwchange-old")
	for name, cfg := range map[string]ldap.Config{
		"replace":  providerConfig(t, s),
		"extended": providerConfig(t, s, "usePasswordModifyExtendedOp", "true"),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ldap.Dial(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			dn := ldaptest.UserDN("pwchange")
			newPW := "new-" + name + "-pass"
			if err := c.SetPassword(ctx, dn, newPW); err != nil {
				t.Fatal(err)
			}
			if err := s.WhoAmI(t, dn, newPW); err != nil {
				t.Fatalf("ldapwhoami with the new password: %v", err)
			}
			var pe *ldap.PolicyError
			if err := c.SetPassword(ctx, dn, "short"); !errors.As(err, &pe) {
				t.Fatalf("too short for the directory's policy: %v", err)
			}
			if pe.Msg == "" || pe.DN != dn {
				t.Errorf("policy error %+v", pe)
			}
			if err := s.WhoAmI(t, dn, newPW); err != nil {
				t.Fatalf("refused change must keep the old password: %v", err)
			}
		})
	}
}

func TestClientEachUserAndWrites(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	cfg := providerConfig(t, s, "batchSizeForSync", "2")
	c, err := ldap.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pages, total int
	if err := c.EachUser(ctx, time.Time{}, func(p []ldap.Entry) error { pages++; total += len(p); return nil }); err != nil {
		t.Fatal(err)
	}
	if total < 3 || pages < 2 {
		t.Errorf("paged iteration: %d users in %d pages", total, pages)
	}
	// Timestamps have whole seconds: start the window on a second
	// boundary after everything above was written.
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(before))
	s.Modify(t, "dn: "+ldaptest.UserDN("bwong")+"\nchangetype: modify\nreplace: sn\nsn: Changed\n")
	var changed []string
	if err := c.EachUser(ctx, before, func(p []ldap.Entry) error {
		for _, e := range p {
			changed = append(changed, e.First("uid"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(changed, "bwong") || slices.Contains(changed, "user1") {
		t.Errorf("changed since: %v", changed)
	}

	mappers := ldap.DefaultMappers(cfg)
	dn, attrs := ldap.NewEntry(cfg, mappers, ldap.Projection{Username: "newbie", Email: "newbie@example.org", FirstName: "New", LastName: "Bie"})
	if err := c.Add(ctx, dn, attrs); err != nil {
		t.Fatalf("add %s %v: %v", dn, attrs, err)
	}
	e, err := c.FindByUsername(ctx, "newbie")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ldap.Project(ctx, c, cfg, mappers, e)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "newbie" || p.Email != "newbie@example.org" || p.FirstName != "New" || p.LastName != "Bie" || len(p.Attributes["createTimestamp"]) != 1 {
		t.Errorf("projection %+v", p)
	}
	if err := c.Delete(ctx, dn); err != nil {
		t.Fatal(err)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil || !slices.Contains(caps, ldap.Capability{OID: "1.3.6.1.4.1.4203.1.11.1", Type: "EXTENSION"}) {
		t.Errorf("capabilities %v %v", err, caps)
	}
}

func TestGroupAndRoleMappers(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	cfg := providerConfig(t, s)
	c, err := ldap.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e, err := c.FindByUsername(ctx, "user1")
	if err != nil {
		t.Fatal(err)
	}
	mappers := append(ldap.DefaultMappers(cfg),
		ldap.MapperSpec{Name: "groups", ProviderID: ldap.MapperGroup, Config: map[string][]string{"groups.dn": {ldaptest.GroupsDN}, "mode": {"READ_ONLY"}}},
		ldap.MapperSpec{Name: "roles", ProviderID: ldap.MapperRole, Config: map[string][]string{"roles.dn": {ldaptest.GroupsDN}, "use.realm.roles.mapping": {"true"}, "mode": {"READ_ONLY"}}},
		ldap.MapperSpec{Name: "offline", ProviderID: ldap.MapperHardcodedRole, Config: map[string][]string{"role": {"offline_access"}}},
	)
	for _, m := range mappers {
		if err := ldap.ValidateMapper(cfg, m); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	p, err := ldap.Project(ctx, c, cfg, mappers, e)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Groups, []string{"/ldap-admins", "/ldap-users"}) {
		t.Errorf("groups %v", p.Groups)
	}
	want := []ldap.RoleRef{{Name: "ldap-admins"}, {Name: "ldap-users"}, {Qualified: "offline_access"}}
	if !slices.Equal(p.Roles, want) {
		t.Errorf("roles %v", p.Roles)
	}
	bad := ldap.MapperSpec{Name: "g", ProviderID: ldap.MapperGroup, Config: map[string][]string{"groups.dn": {"x"}, "membership.attribute.type": {"UID"}}}
	var ce *ldap.ConfigError
	if err := ldap.ValidateMapper(cfg, bad); !errors.As(err, &ce) {
		t.Errorf("uid membership with inheritance: %v", err)
	}
}

// addDuplicate adds a second entry with uid under a new ou below
// ou=People, as a subtree search finds it next to uid=<uid>,ou=People.
func addDuplicate(t *testing.T, s *ldaptest.Server, uid string) string {
	t.Helper()
	ou := "sub" + uid
	dn := "uid=" + uid + ",ou=" + ou + "," + ldaptest.PeopleDN
	s.Modify(t, "dn: ou="+ou+","+ldaptest.PeopleDN+"\nchangetype: add\nobjectClass: organizationalUnit\nou: "+ou+"\n\n"+
		"dn: "+dn+"\nchangetype: add\nobjectClass: inetOrgPerson\nuid: "+uid+"\ncn: Twin\nsn: Twin\nuserPassword: twin-password\n")
	return dn
}

// A username two entries hold (subtree scope) names nobody: the lookup
// refuses instead of taking whichever comes first.
func TestClientAmbiguousUsername(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	uid := "twin" + strings.ToLower(time.Now().Format("150405.000000"))[7:]
	s.AddUser(t, uid, "first-password")
	addDuplicate(t, s, uid)
	c, err := ldap.Dial(ctx, providerConfig(t, s, "searchScope", "2"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if e, err := c.FindByUsername(ctx, uid); !errors.Is(err, ldap.ErrAmbiguous) {
		t.Errorf("ambiguous username: %v %+v", err, e)
	}
	// One level finds only the entry directly under ou=People.
	c1, err := ldap.Dial(ctx, providerConfig(t, s, "searchScope", "1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if e, err := c1.FindByUsername(ctx, uid); err != nil || e.DN != ldaptest.UserDN(uid) {
		t.Errorf("one level: %v %+v", err, e)
	}
}

// A new entry's RDN value with DN specials (comma, plus, quotes, a leading
// '#' or space) is escaped: the entry is created under usersDn and found
// again by its username.
func TestNewEntryEscapesRDN(t *testing.T) {
	s := ldaptest.Start(t)
	ctx := t.Context()
	cfg := providerConfig(t, s)
	c, err := ldap.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	suffix := strings.ToLower(time.Now().Format("150405.000000"))[7:]
	for _, name := range []string{"#o'brien, jr+x" + suffix, " lead\"quote<" + suffix + ">;="} {
		dn, attrs := ldap.NewEntry(cfg, ldap.DefaultMappers(cfg), ldap.Projection{Username: name, LastName: "Escaped"})
		if err := c.Add(ctx, dn, attrs); err != nil {
			t.Fatalf("add %q as %s: %v", name, dn, err)
		}
		e, err := c.FindByUsername(ctx, name)
		if err != nil || !strings.HasSuffix(e.DN, ","+ldaptest.PeopleDN) {
			t.Errorf("find %q: %v %+v", name, err, e)
		}
	}
}
