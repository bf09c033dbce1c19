# syntax=docker/dockerfile:1

# --- build: a static-ish release binary with TLS to PostgreSQL ---------------
FROM rust:1.95-slim-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev make perl pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY openapi ./openapi
RUN cargo build --release --locked --features postgres-tls

# --- runtime: small image, non-root user ------------------------------------
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/invitations --create-home invitations
COPY --from=build /src/target/release/invitations /usr/local/bin/invitations
USER 10001:10001
WORKDIR /var/lib/invitations
ENV INVITATIONS_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/invitations/invitations.db \
    INVITATIONS_MAIL_DIR=/var/lib/invitations/mail \
    INVITATIONS_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["invitations"]
CMD ["serve"]
