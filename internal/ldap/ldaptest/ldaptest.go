// Package ldaptest runs a real OpenLDAP server (Debian's /usr/sbin/slapd)
// for tests: one private instance per test binary, on a loopback port, with
// its own configuration and mdb database in a temporary directory, loaded
// with a small tree (dc=example,dc=org, ou=People, ou=Groups). It also runs
// the ldap-utils commands (ldapmodify, ldapwhoami) that prove what the
// directory holds, independently of Gatehouse's own client.
//
// Without slapd the tests skip, or fail when GATEHOUSE_TEST_REQUIRE_ALL is set.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireEnv names the variable CI sets so that a missing slapd fails.
const RequireEnv = "GATEHOUSE_TEST_REQUIRE_ALL"

// Binaries used; variables so that a developer machine can point elsewhere.
var (
	Slapd      = "/usr/sbin/slapd"
	SchemaDir  = "/etc/ldap/schema"
	ModulePath = "/usr/lib/ldap"
)

// The tree every server starts with.
const (
	BaseDN    = "dc=example,dc=org"
	PeopleDN  = "ou=People," + BaseDN
	GroupsDN  = "ou=Groups," + BaseDN
	RootDN    = "cn=admin," + BaseDN
	RootPW    = "admin-secret"
	BindDN    = "cn=gatehouse," + BaseDN // the service account providers bind with
	BindPW    = "gatehouse-secret"
	MinLength = 8 // the directory's password policy: pwdMinLength
)

// Users of the starting tree: username → password. Every one is an
// inetOrgPerson under ou=People with uid, cn (given name), sn, mail.
var Users = map[string]string{
	"user1":  "password",
	"jbrown": "jbrown-pass",
	"bwong":  "bwong-pass",
}

// Groups of the starting tree: cn → member uids.
var Groups = map[string][]string{
	"ldap-admins": {"user1"},
	"ldap-users":  {"user1", "jbrown", "bwong"},
}

// Server is a running slapd.
type Server struct {
	Dir      string
	Port     int
	TLSPort  int
	URL      string // ldap://127.0.0.1:port (StartTLS offered)
	LDAPSURL string // ldaps://127.0.0.1:tlsport
	CAFile   string // PEM of the certificate both listeners present
	CA       *x509.CertPool
}

var (
	once     sync.Once
	shared   *Server
	startErr error
)

// Start returns the test binary's slapd, starting it on first use. It is
// stopped when the test binary exits.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Slapd); err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("slapd is not installed (%v) and %s requires the LDAP tests", err, RequireEnv)
		}
		t.Skipf("slapd is not installed (%v); skipping", err)
	}
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		t.Fatalf("start slapd: %v", startErr)
	}
	return shared
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start() (*Server, error) {
	dir, err := os.MkdirTemp("", "gatehouse-slapd-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	if err := s.writeCert(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(s.conf()), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tree.ldif"), []byte(treeLDIF()), 0o600); err != nil {
		return nil, err
	}
	// Load offline: quicker than over the wire and needs no running server.
	if out, err := exec.Command(filepath.Join(filepath.Dir(Slapd), "slapadd"), "-f", filepath.Join(dir, "slapd.conf"), "-l", filepath.Join(dir, "tree.ldif")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd: %v: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			return nil, err
		}
		if s.TLSPort, err = freePort(); err != nil {
			return nil, err
		}
		s.URL = "ldap://127.0.0.1:" + strconv.Itoa(s.Port)
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(s.TLSPort)
		err = s.run()
		if err == nil || attempt == 3 {
			return s, err
		}
	}
}

// run starts slapd in the foreground under a shell that stops it and
// removes its directory when the test binary goes away (the shell gets
// SIGTERM from the kernel when its parent dies).
func (s *Server) run() error {
	script := `"$@" & pid=$!; trap 'kill $pid 2>/dev/null; wait $pid; rm -rf "` + s.Dir + `"; exit 0' TERM INT; wait $pid`
	args := []string{"-c", script, "sh", Slapd, "-d", "0", "-f", filepath.Join(s.Dir, "slapd.conf"),
		"-h", s.URL + "/ " + s.LDAPSURL + "/"}
	errc := make(chan error, 1)
	var logBuf syncBuffer
	// Pdeathsig follows the thread that forked, so that thread must live
	// as long as the process: lock it in a goroutine that never returns.
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command("/bin/sh", args...)
		cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			errc <- err
			return
		}
		errc <- nil
		err := cmd.Wait()
		errc <- fmt.Errorf("slapd exited: %v: %s", err, logBuf.String())
		select {} // keep the thread
	}()
	if err := <-errc; err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			return err
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), 200*time.Millisecond); err == nil {
			c.Close()
			if s.WhoAmI(nil, RootDN, RootPW) == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("slapd did not answer within 15 s: " + logBuf.String())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *Server) writeCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "ldaptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	s.CAFile = filepath.Join(s.Dir, "cert.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	leaf, _ := x509.ParseCertificate(der)
	s.CA = x509.NewCertPool()
	s.CA.AddCert(leaf)
	return nil
}

func (s *Server) conf() string {
	var b strings.Builder
	for _, sc := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", SchemaDir, sc)
	}
	fmt.Fprintf(&b, `modulepath %s
moduleload back_mdb
moduleload ppolicy
pidfile %[2]s/slapd.pid
argsfile %[2]s/slapd.args
TLSCertificateFile %[2]s/cert.pem
TLSCertificateKeyFile %[2]s/key.pem
sizelimit unlimited

database mdb
maxsize 1073741824
suffix "%[3]s"
rootdn "%[4]s"
rootpw %[5]s
directory %[2]s/db
index objectClass eq
index uid,mail,cn eq,sub
index entryUUID eq
index member eq
index modifyTimestamp,createTimestamp eq
limits dn.exact="%[6]s" size=unlimited

overlay ppolicy
ppolicy_default "cn=default,ou=Policies,%[3]s"
ppolicy_hash_cleartext

access to attrs=userPassword
  by self write
  by dn.exact="%[6]s" write
  by anonymous auth
  by * none
access to *
  by dn.exact="%[6]s" write
  by * read
`, ModulePath, s.Dir, BaseDN, RootDN, RootPW, BindDN)
	return b.String()
}

func userLDIF(uid, password string) string {
	return fmt.Sprintf(`dn: uid=%[1]s,%[2]s
objectClass: inetOrgPerson
objectClass: organizationalPerson
objectClass: person
uid: %[1]s
cn: %[3]s
sn: %[4]s
mail: %[1]s@example.org
userPassword: %[5]s

`, uid, PeopleDN, strings.ToUpper(uid[:1])+uid[1:], "Tester", password)
}

func treeLDIF() string {
	var b strings.Builder
	fmt.Fprintf(&b, `dn: %[1]s
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: %[2]s
objectClass: simpleSecurityObject
objectClass: organizationalRole
cn: gatehouse
userPassword: %[3]s

dn: ou=People,%[1]s
objectClass: organizationalUnit
ou: People

dn: ou=Groups,%[1]s
objectClass: organizationalUnit
ou: Groups

dn: ou=Policies,%[1]s
objectClass: organizationalUnit
ou: Policies

dn: cn=default,ou=Policies,%[1]s
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMinLength: %[4]d
pwdCheckQuality: 2
pwdAllowUserChange: TRUE

`, BaseDN, BindDN, BindPW, MinLength)
	for _, uid := range []string{"user1", "jbrown", "bwong"} {
		b.WriteString(userLDIF(uid, Users[uid]))
	}
	for _, cn := range []string{"ldap-admins", "ldap-users"} {
		fmt.Fprintf(&b, "dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n", cn, GroupsDN, cn)
		for _, uid := range Groups[cn] {
			fmt.Fprintf(&b, "member: uid=%s,%s\n", uid, PeopleDN)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// UserDN is the DN of a user of the tree.
func UserDN(uid string) string { return "uid=" + uid + "," + PeopleDN }

func (s *Server) tool(name string, stdin string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Modify applies an LDIF change record (changetype: add/modify/delete) as the
// directory's administrator, with ldapmodify.
func (s *Server) Modify(t testing.TB, ldif string) {
	t.Helper()
	if out, err := s.tool("ldapmodify", ldif, "-x", "-H", s.URL, "-D", RootDN, "-w", RootPW); err != nil {
		t.Fatalf("ldapmodify: %v: %s", err, out)
	}
}

// AddUser adds an inetOrgPerson uid=<uid> under ou=People.
func (s *Server) AddUser(t testing.TB, uid, password string) string {
	t.Helper()
	s.Modify(t, strings.Replace(userLDIF(uid, password), "objectClass:", "changetype: add\nobjectClass:", 1))
	return UserDN(uid)
}

// AddUsers adds n users bulkNNNNN (password bulk-pass) under ou=People, in
// one ldapadd run, and returns their uids.
func (s *Server) AddUsers(t testing.TB, n int) []string {
	t.Helper()
	var b strings.Builder
	uids := make([]string, n)
	for i := range n {
		uids[i] = fmt.Sprintf("bulk%05d", i)
		b.WriteString(userLDIF(uids[i], "bulk-pass"))
	}
	if out, err := s.tool("ldapadd", b.String(), "-x", "-c", "-H", s.URL, "-D", RootDN, "-w", RootPW); err != nil {
		t.Fatalf("ldapadd %d users: %v: %.2000s", n, err, out)
	}
	return uids
}

// WhoAmI binds as dn with password using ldapwhoami: nil when the directory
// accepts the password. t may be nil.
func (s *Server) WhoAmI(t testing.TB, dn, password string) error {
	out, err := s.tool("ldapwhoami", "", "-x", "-H", s.URL, "-D", dn, "-w", password)
	if err != nil {
		return fmt.Errorf("ldapwhoami %s: %v: %s", dn, err, strings.TrimSpace(out))
	}
	return nil
}

// ResetPassword sets a user's password as the directory's administrator,
// bypassing the password policy.
func (s *Server) ResetPassword(t testing.TB, uid, password string) {
	t.Helper()
	s.Modify(t, fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: userPassword\nuserPassword: %s\n", UserDN(uid), password))
}

// DeadURL is an ldap:// URL on a loopback port nothing listens on, for
// outage tests.
func DeadURL(t testing.TB) string {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return "ldap://127.0.0.1:" + strconv.Itoa(p)
}
