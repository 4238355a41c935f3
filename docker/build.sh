#!/bin/sh
# Build the onvm image FROM scratch without any registry: the binaries are
# built on this host (static, cgo for blst linked in), staged in
# .docker-build/, and copied into an empty image.
#
#   docker/build.sh            # image onvm:local
#   ONVM_IMAGE=onvm:dev docker/build.sh
#
# Needs Go, gcc with a static libc (Debian: libc6-dev) and a Docker engine.
set -eu
cd "$(dirname "$0")/.."
image=${ONVM_IMAGE:-onvm:local}
stage=docker/.build
rm -rf "$stage"
mkdir -p "$stage/rootfs/usr/local/bin" "$stage/rootfs/etc/ssl/certs" "$stage/rootfs/tmp" "$stage/data"

echo ">> building static onvm (cgo, blst) and onvm-entrypoint"
CGO_ENABLED=1 go build -trimpath -tags netgo,osusergo \
	-ldflags "-s -w -linkmode external -extldflags -static" \
	-o "$stage/rootfs/usr/local/bin/onvm" ./cmd/onvm
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
	-o "$stage/rootfs/usr/local/bin/onvm-entrypoint" ./docker/entrypoint

for b in onvm onvm-entrypoint; do
	if command -v file >/dev/null 2>&1; then
		file "$stage/rootfs/usr/local/bin/$b" | grep -q "statically linked" ||
			{ echo "error: $b is not statically linked" >&2; exit 1; }
	fi
	if ldd "$stage/rootfs/usr/local/bin/$b" >/dev/null 2>&1; then
		echo "error: $b has dynamic dependencies:" >&2
		ldd "$stage/rootfs/usr/local/bin/$b" >&2
		exit 1
	fi
done

# A non-root user (uid 10001) owns /data; CA certificates for outbound TLS.
printf 'root:x:0:0:root:/:/sbin/nologin\nonvm:x:10001:10001:onvm:/data:/sbin/nologin\n' > "$stage/rootfs/etc/passwd"
printf 'root:x:0:\nonvm:x:10001:\n' > "$stage/rootfs/etc/group"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	cp /etc/ssl/certs/ca-certificates.crt "$stage/rootfs/etc/ssl/certs/"
fi
chmod 1777 "$stage/rootfs/tmp"
chmod 700 "$stage/data"

echo ">> docker build -t $image"
docker build -f Dockerfile -t "$image" "$stage"
docker image inspect "$image" --format '{{.Id}} {{.Size}} bytes'
