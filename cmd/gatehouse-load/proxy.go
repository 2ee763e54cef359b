package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// runProxy is -proxy: a round-robin reverse proxy over -backends, each
// request to the next backend in turn, until SIGINT or SIGTERM. The Host
// header is passed on unchanged, so every node derives the same issuer from
// it and a token one node issues is valid at the others.
func runProxy(args []string) error {
	fs := flag.NewFlagSet("gatehouse-load -proxy", flag.ContinueOnError)
	listen := fs.String("proxy", "127.0.0.1:18090", "loopback address to listen on")
	backends := fs.String("backends", "", "comma-separated base URLs of the nodes (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var targets []*url.URL
	for b := range strings.SplitSeq(*backends, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		u, err := loopbackURL(b)
		if err != nil {
			return fmt.Errorf("-backends: %w", err)
		}
		targets = append(targets, u)
	}
	if len(targets) == 0 {
		return errors.New("-backends: none given")
	}
	return serveLoopback("-proxy", *listen, newProxy(targets), fmt.Sprintf("proxy on %s to %d backends", *listen, len(targets)))
}

// serveLoopback serves h on listen, a loopback address and port (flag
// names it in errors), until SIGINT or SIGTERM, after saying banner.
func serveLoopback(flag, listen string, h http.Handler, banner string) error {
	if err := checkLoopbackListen(flag, listen); err != nil {
		return err
	}
	srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	fmt.Fprintf(os.Stderr, "gatehouse-load: %s\n", banner)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newProxy sends each request to the next of targets in turn, with the
// request's own Host header.
func newProxy(targets []*url.URL) *httputil.ReverseProxy {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         loopbackDialer().DialContext,
		MaxIdleConns:        maxClients * len(targets),
		MaxIdleConnsPerHost: maxClients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	var next atomic.Uint64
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(r *httputil.ProxyRequest) {
			t := targets[(next.Add(1)-1)%uint64(len(targets))]
			r.SetURL(t)
			r.Out.Host = r.In.Host
		},
	}
}

// checkLoopbackListen refuses a listen address (of flag) that is not a
// loopback address and port.
func checkLoopbackListen(flag, listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %s: want a loopback address and port", flag, listen)
	}
	return nil
}
