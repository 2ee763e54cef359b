package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/server"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func devConfig(t *testing.T, args ...string) config.Config {
	t.Helper()
	cfg, err := config.Load(config.ModeStartDev, append([]string{"--data-dir", t.TempDir()}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runServer starts server.Run in the background and waits until it is ready.
func runServer(t *testing.T, ctx context.Context, cfg config.Config, h http.Handler) (listening []string, errc chan error) {
	t.Helper()
	ready := make(chan []string, 1)
	errc = make(chan error, 1)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	go func() { errc <- server.Run(ctx, cfg, h, log, func(l []string) { ready <- l }) }()
	select {
	case l := <-ready:
		return l, errc
	case err := <-errc:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run not ready after 10s")
	}
	return nil, nil
}

func TestRunFinishesInFlightRequestsOnShutdown(t *testing.T) {
	port := freePort(t)
	cfg := devConfig(t, "--http-port", strconv.Itoa(port))
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	listening, errc := runServer(t, ctx, cfg, h)
	if want := "http://127.0.0.1:" + strconv.Itoa(port); len(listening) != 1 || listening[0] != want {
		t.Fatalf("listening = %v, want [%s]", listening, want)
	}

	type reply struct {
		body string
		err  error
	}
	replies := make(chan reply, 1)
	go func() {
		res, err := http.Get(listening[0] + "/slow")
		if err != nil {
			replies <- reply{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		replies <- reply{string(b), err}
	}()
	<-entered
	cancel() // as SIGTERM does

	// New connections are refused while the request runs.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-errc:
		t.Fatalf("Run returned while a request was in flight: %v", err)
	default:
	}

	close(release)
	if r := <-replies; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: body %q, err %v; want it to finish", r.body, r.err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the last request finished")
	}
}

func TestRunServesHTTPSWithTLS12OrLater(t *testing.T) {
	certFile, keyFile := selfSigned(t)
	httpPort, httpsPort := freePort(t), freePort(t)
	cfg := devConfig(t, "--http-port", strconv.Itoa(httpPort), "--https-port", strconv.Itoa(httpsPort),
		"--https-certificate-file", certFile, "--https-certificate-key-file", keyFile)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			io.WriteString(w, "tls")
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	listening, errc := runServer(t, ctx, cfg, h)
	defer func() { cancel(); <-errc }()

	want := []string{"http://127.0.0.1:" + strconv.Itoa(httpPort), "https://127.0.0.1:" + strconv.Itoa(httpsPort)}
	if strings.Join(listening, " ") != strings.Join(want, " ") {
		t.Fatalf("listening = %v, want %v", listening, want)
	}

	client := func(minV, maxV uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, MinVersion: minV, MaxVersion: maxV,
		}}}
	}
	res, err := client(tls.VersionTLS12, tls.VersionTLS12).Get(want[1] + "/")
	if err != nil {
		t.Fatalf("HTTPS with TLS 1.2: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "tls" {
		t.Errorf("HTTPS body = %q", b)
	}
	// Dex GHSA-gr79-9v6v-gc9r: a dropped TLS config served TLS 1.0 and 1.1.
	if _, err := client(tls.VersionTLS10, tls.VersionTLS11).Get(want[1] + "/"); err == nil {
		t.Error("HTTPS accepted a TLS 1.1 handshake")
	}
}

func TestRunRefusesToStart(t *testing.T) {
	t.Run("certificate file that does not exist", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "missing.pem")
		cfg := devConfig(t, "--http-port", strconv.Itoa(freePort(t)),
			"--https-certificate-file", missing, "--https-certificate-key-file", missing)
		err := server.Run(t.Context(), cfg, http.NotFoundHandler(), slog.New(slog.DiscardHandler), func([]string) {
			t.Error("ready called")
		})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Run = %v, want a certificate error", err)
		}
	})
	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cfg := devConfig(t, "--http-port", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		err = server.Run(t.Context(), cfg, http.NotFoundHandler(), slog.New(slog.DiscardHandler), func([]string) {
			t.Error("ready called")
		})
		if err == nil || !strings.Contains(err.Error(), "listen") {
			t.Errorf("Run = %v, want a listen error", err)
		}
	})
}

// selfSigned writes a certificate and key for 127.0.0.1 as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(100 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
