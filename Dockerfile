# The ONVM node image, FROM scratch: no shell, no package manager, nothing
# pulled from a registry. docker/build.sh builds the static binaries on the
# host into docker/.build/ and then runs `docker build` with this file and
# that directory as the (small) build context; do
# not run `docker build` directly. Users with registry access can build
# everything inside Docker with Dockerfile.multistage instead.
FROM scratch

# onvm, onvm-entrypoint, /etc/passwd (uid 10001), CA certificates, /tmp.
COPY rootfs/ /
# The data volume's mount point, owned by the node's user (mode 0700).
COPY --chown=10001:10001 data/ /data/
# Mount point of the compose network's shared bootstrap volume, where node 1
# publishes its address (docker-compose.yml); unused otherwise.
COPY --chown=10001:10001 data/ /bootstrap/

ENV PATH=/usr/local/bin \
    ONVM_DATA_DIR=/data \
    ONVM_RPC_BIND=0.0.0.0:8080 \
    ONVM_LISTEN=/ip4/0.0.0.0/tcp/37000
USER 10001:10001
VOLUME /data
EXPOSE 8080 37000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/onvm-entrypoint", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/onvm-entrypoint"]
CMD ["run-node"]
