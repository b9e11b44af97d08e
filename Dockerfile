# Build stage runs the same Makefile as a developer; the runtime stage holds
# only the binary, the migrations and the shared libraries they need.
FROM debian:12-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends build-essential pkg-config libmicrohttpd-dev \
      libpq-dev libjansson-dev uuid-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY server ./server
COPY api ./api
RUN make -j"$(nproc)" agentkpi

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends libmicrohttpd12 libpq5 libjansson4 libuuid1 \
      libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app agentkpi
WORKDIR /app
COPY --from=build /src/agentkpi /usr/local/bin/agentkpi
COPY migrations ./migrations
USER agentkpi
ENV LISTEN=0.0.0.0:8080 MIGRATIONS_DIR=/app/migrations
EXPOSE 8080
ENTRYPOINT ["agentkpi"]
CMD ["serve", "--migrate"]
