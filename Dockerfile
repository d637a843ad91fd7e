# faultline's container image: a slim Debian with the server, the CLI and
# the docs, running as a non-root user.
#
#   docker build -t faultline .
#   docker run -p 8474:8474 -p 26000-26010:26000-26010 faultline
#
# Drop-in for ghcr.io/shopify/toxiproxy: /toxiproxy is the server and
# /toxiproxy-cli the CLI, so Testcontainers' Toxiproxy module (with
# asCompatibleSubstituteFor("ghcr.io/shopify/toxiproxy")) and scripts written
# for the reference image work unchanged.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake ninja-build pkg-config \
      libboost1.81-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libssl-dev libre2-dev clang libbpf-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json README.md ./
COPY cmake cmake
COPY src src
COPY ui ui
COPY docs docs
COPY examples examples
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAULTLINE_TESTS=OFF -DFAULTLINE_BENCH=OFF \
 && cmake --build /build \
 && DESTDIR=/out cmake --install /build --prefix /usr --strip

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libyaml-cpp0.7 libspdlog1.10 libfmt9 libre2-9 libssl3 libbpf1 libelf1 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin faultline
COPY --from=build /out/ /
COPY deploy/container/entrypoint.sh /usr/local/bin/faultline-entrypoint
RUN ln -s /usr/bin/faultline-server /toxiproxy && ln -s /usr/bin/faultline /toxiproxy-cli
USER 10001:10001
EXPOSE 8474
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD curl -fsS http://127.0.0.1:8474/faultline/ready || exit 1
ENTRYPOINT ["/usr/local/bin/faultline-entrypoint"]
