package ldaptest

import "testing"

func TestServerRunsWithTree(t *testing.T) {
	s := Start(t)
	if err := s.WhoAmI(t, UserDN("user1"), "password"); err != nil {
		t.Fatal(err)
	}
	if err := s.WhoAmI(t, UserDN("user1"), "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := s.WhoAmI(t, BindDN, BindPW); err != nil {
		t.Fatal(err)
	}
	s.AddUser(t, "added1", "added-pass")
	if err := s.WhoAmI(t, UserDN("added1"), "added-pass"); err != nil {
		t.Fatal(err)
	}
	if again := Start(t); again != s {
		t.Fatal("one server per test binary")
	}
}
