// Package docker holds the container packaging of ONVM: the image build
// (build.sh, ../Dockerfile), the entrypoint program (entrypoint/) and the
// end-to-end test of the three-node compose network (compose_test.go, run
// with ONVM_DOCKER_TESTS=1). It has no code of its own and must not be
// imported.
package docker
