package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// healthTimeout bounds a probe: a container health check must answer before
// its own timeout, which defaults to 30 s in Docker.
const healthTimeout = 5 * time.Second

// runHealth is "gatehouse health": GET http://127.0.0.1:<port>/health/ready
// on the management port, exit 0 when it answers 200 with status UP and 1
// otherwise. The container image has no curl, so its HEALTHCHECK runs this.
// The port is --http-management-port, else GATEHOUSE_HTTP_MANAGEMENT_PORT,
// else 9000: the same sources the server reads, so a container configured
// through its environment probes the port it serves.
func runHealth(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	port := getenv("GATEHOUSE_HTTP_MANAGEMENT_PORT")
	if port == "" {
		port = "9000"
	}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		switch name {
		case "-h", "--help":
			fmt.Fprintln(stdout, "Usage: gatehouse health [--http-management-port <port>]\n\n"+
				"Probe /health/ready on the management port of the server on this host; exit 0 when it is ready, 1 otherwise.")
			return exitOK
		case "--http-management-port":
			if !hasValue {
				if i+1 == len(args) {
					fmt.Fprintln(stderr, "gatehouse: option --http-management-port: needs a value")
					return exitUsage
				}
				i++
				value = args[i]
			}
			port = value
		default:
			fmt.Fprintf(stderr, "gatehouse: option %s: not an option of the health command\n", name)
			return exitUsage
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		fmt.Fprintf(stderr, "gatehouse: invalid value %q for the management port: not a port number\n", port)
		return exitUsage
	}

	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	u := "http://" + net.JoinHostPort("127.0.0.1", port) + "/health/ready"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: health: %v\n", err)
		return exitFail
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: health: %s\n", oneLine(err.Error()))
		return exitFail
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: health: read %s: %v\n", u, err)
		return exitFail
	}
	var report struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(body, &report)
	fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
	if res.StatusCode != http.StatusOK || report.Status != "UP" {
		fmt.Fprintf(stderr, "gatehouse: health: %s answered %s\n", u, res.Status)
		return exitFail
	}
	return exitOK
}
