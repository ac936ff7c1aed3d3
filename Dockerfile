# syntax=docker/dockerfile:1
# One image for the whole suite: the `trueup` binary, run as
#   trueup serve <inventory|orders|fulfillment|ledger>, trueup migrate <service>, trueup gateway.
# Build from the repository root:  docker build -t trueup .
# Needs BuildKit (the default builder since Docker 23) for the cache and bind mounts.

# The builder runs on the build machine's own platform and cross-compiles for the
# target, so `docker buildx build --platform linux/amd64,linux/arm64` needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
# The whole context is bind-mounted (read-only) rather than copied: the Go workspace
# spans several modules, and the module and build caches below already make a
# rebuild after a source change cheap without a separate `go mod download` layer.
# CGO is off: SQLite is modernc.org/sqlite (pure Go), so the binary is static.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/trueup ./cmd/trueup

# distroless/static: CA certificates, tzdata and /etc/passwd, no shell, no package
# manager. The nonroot variant runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trueup /trueup
# Numeric, so Kubernetes' runAsNonRoot can verify it without resolving a name.
USER 65532:65532
# 9090: a service's gRPC API and grpc.health.v1; 8080: the gateway's HTTP.
EXPOSE 9090 8080
ENTRYPOINT ["/trueup"]
