# Build: docker build -t srdi-capital .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src src
COPY migrations migrations
COPY benches benches
COPY rules rules
RUN cargo build --release --locked --bin srdi-capital

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/srdi-capital --create-home srdi
COPY --from=build /src/target/release/srdi-capital /usr/local/bin/srdi-capital
USER srdi
WORKDIR /var/lib/srdi-capital
ENV SRDI_LISTEN=0.0.0.0:8080 SRDI_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["srdi-capital"]
CMD ["serve"]
