# syntax=docker/dockerfile:1
#
# Gatehouse as a container: a static binary on distroless, run as a non-root
# user, health-checked through "gatehouse health" (the image has no shell and
# no curl). Build from the repository root:
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t gatehouse .
#
# The build line below is the one CI checks without Docker (see deploy/README.md).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
# No default: an image always says which release it is, never "dev".
ARG VERSION
RUN test -n "${VERSION}" || { echo "build with --build-arg VERSION=<version>" >&2; exit 1; }
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/data/import

# static-debian12 holds CA certificates (for postgres sslmode=verify-full),
# time zones and a "nonroot" user (65532), and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
# The SQLite database and the import directory live here unless --db-url and
# --import-dir say otherwise; mount a volume to keep them.
COPY --from=build --chown=65532:65532 /out/data /var/lib/gatehouse
USER 65532:65532
WORKDIR /var/lib/gatehouse
ENV GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_HTTP_HOST=0.0.0.0 \
    GATEHOUSE_HTTP_MANAGEMENT_PORT=9000
# 8080 HTTP, 8443 HTTPS, 9000 management (health, metrics): keep 9000 off
# the public network.
EXPOSE 8080 8443 9000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/gatehouse", "health"]
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["start"]
