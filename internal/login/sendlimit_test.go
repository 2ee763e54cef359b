package login_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/login"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// silentSMTP accepts connections and never answers, as a stuck mail server
// does; closing it ends every connection.
type silentSMTP struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startSilentSMTP(t *testing.T) *silentSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentSMTP{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *silentSMTP) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

// TestActionMailSendsAreBounded: with the mail server stuck, reset
// requests past the process's limit of sends at once are answered as usual
// but their mail is dropped, logged without the address; the sends under
// way can be waited for once the server lets go.
func TestActionMailSendsAreBounded(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		smtp := startSilentSMTP(t)
		e := newEnvOn(t, open, web.URLs{}, func(rl *realm.Realm) {
			rl.ResetPasswordAllowed = true
			rl.SMTPServer = map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(smtp.ln.Addr().(*net.TCPAddr).Port), "from": "noreply@gatehouse.test"}
		})
		for range 20 {
			b := e.browser()
			reset := b.get(link(t, e, b.get(e.codeRequest(nil)), "kc-forgot-password"))
			if r := postForm(e, b, reset, map[string]string{"username": "alice"}); !strings.Contains(r.body, "You should receive an email shortly") {
				t.Fatalf("after the reset form: %d %s", r.status, r.body)
			}
		}
		logs := e.logs.String()
		if n := strings.Count(logs, "action email dropped"); n != 4 {
			t.Errorf("%d mails dropped, want 4 of 20 past the limit of 16", n)
		}
		if strings.Contains(logs, "alice@example.com") {
			t.Error("an address reached the log")
		}
		smtp.close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := login.WaitLinkSends(ctx); err != nil {
			t.Errorf("sends still running: %v", err)
		}
	})
}
