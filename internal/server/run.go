package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/login"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// Limits of the listeners. ReadHeaderTimeout closes connections that trickle
// their headers in (slowloris); ReadTimeout bounds a whole request, whose body
// is at most MaxRequestBody; MaxHeaderBytes caps the header block.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	idleTimeout       = 120 * time.Second
	// maxHeaderBytes holds the longest bearer token Gatehouse issues and
	// 64 KiB for every other header, as much as Keycloak accepts.
	maxHeaderBytes = token.MaxTokenSize + 64<<10
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after a stop signal; it stays under the 30 s that Kubernetes and
	// systemd give a process before they kill it.
	ShutdownTimeout = 25 * time.Second
)

// Run serves h on the listeners cfg asks for (HTTP on --http-host:--http-port
// when --http-enabled; HTTPS on --https-port when a certificate is set) until
// ctx is cancelled, then stops accepting connections and waits up to
// ShutdownTimeout for in-flight requests (and the action mails they started)
// before returning. ready is called
// once, with the URLs of the bound listeners, when every listener is bound;
// a listener that cannot be bound is an error before ready.
func Run(ctx context.Context, cfg config.Config, h http.Handler, log *slog.Logger, ready func(listening []string)) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	type listener struct {
		net.Listener
		tls bool
	}
	var lns []listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	if cfg.HTTPSCertificateFile != "" {
		// Load the certificate before binding anything, so a bad file is
		// reported as such rather than as a half-started server.
		cert, err := tls.LoadX509KeyPair(cfg.HTTPSCertificateFile, cfg.HTTPSCertificateKeyFile)
		if err != nil {
			return fmt.Errorf("load HTTPS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{
			// TLS 1.0 and 1.1 are broken (Dex GHSA-gr79-9v6v-gc9r served
			// them by accident); Go's default cipher suites for 1.2 are
			// all forward-secret AEADs.
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
		}
	}
	if cfg.HTTPEnabled {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.HTTPHost, strconv.Itoa(cfg.HTTPPort)))
		if err != nil {
			return fmt.Errorf("listen for HTTP: %w", err)
		}
		lns = append(lns, listener{Listener: ln})
	}
	if srv.TLSConfig != nil {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.HTTPHost, strconv.Itoa(cfg.HTTPSPort)))
		if err != nil {
			closeAll()
			return fmt.Errorf("listen for HTTPS: %w", err)
		}
		lns = append(lns, listener{Listener: ln, tls: true})
	}
	if len(lns) == 0 {
		return errors.New("no listener: enable HTTP or configure an HTTPS certificate")
	}

	errs := make(chan error, len(lns))
	var listening []string
	for _, ln := range lns {
		if ln.tls {
			listening = append(listening, "https://"+ln.Addr().String())
			go func() { errs <- srv.ServeTLS(ln, "", "") }()
		} else {
			listening = append(listening, "http://"+ln.Addr().String())
			go func() { errs <- srv.Serve(ln) }()
		}
	}
	if ready != nil {
		ready(listening)
	}

	select {
	case err := <-errs:
		// A listener failed on its own; stop the others too.
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "timeout", ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s: %w", ShutdownTimeout, err)
	}
	// Action mails the last requests started finish within the same bound.
	if err := login.WaitLinkSends(sctx); err != nil {
		return fmt.Errorf("shutdown: action mails still sending after %s: %w", ShutdownTimeout, err)
	}
	return nil
}
