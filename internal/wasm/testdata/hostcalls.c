// hostcalls calls env host functions with raw arguments chosen by the test,
// so that every return code, including bad pointers and negative lengths,
// can be exercised.
//
// Input:  [n u8] n × ([op u8] [7 × i32 LE]) [payload ...]
// Output: n × (i64 LE result) ++ payload (as it is after the calls)
//
// An argument in [0x40000000, 0x50000000) means "payload + (arg - 0x40000000)";
// any other value is passed unchanged (so -1 or 0x7fffffff are raw).
#include <stdint.h>

#define ENV(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

ENV(onvm_state_put) int32_t onvm_state_put(int32_t, int32_t, int32_t, int32_t);
ENV(onvm_state_get) int32_t onvm_state_get(int32_t, int32_t, int32_t, int32_t);
ENV(onvm_state_del) int32_t onvm_state_del(int32_t, int32_t);
ENV(onvm_state_exists) int32_t onvm_state_exists(int32_t, int32_t);
ENV(onvm_state_len) int64_t onvm_state_len(int32_t, int32_t);
ENV(onvm_state_list) int32_t onvm_state_list(int32_t, int32_t, int32_t, int32_t);
ENV(onvm_state_root) int32_t onvm_state_root(int32_t);
ENV(onvm_blob_read) int32_t onvm_blob_read(int32_t, int32_t, int32_t, int32_t);
ENV(onvm_blob_len) int64_t onvm_blob_len(int32_t, int32_t);
ENV(onvm_blob_hash) int32_t onvm_blob_hash(int32_t, int32_t, int32_t);
ENV(onvm_blob_exists) int32_t onvm_blob_exists(int32_t, int32_t);
ENV(onvm_blob_addr) int32_t onvm_blob_addr(int32_t, int32_t, int32_t);
ENV(onvm_log) int32_t onvm_log(int32_t, int32_t, int32_t);
ENV(onvm_now_ms) int64_t onvm_now_ms(void);
ENV(onvm_random_bytes) int32_t onvm_random_bytes(int32_t, int32_t);
ENV(onvm_crypto_hash) int32_t onvm_crypto_hash(int32_t, int32_t, int32_t, int32_t, int32_t);
ENV(onvm_crypto_secp256k1_verify) int32_t onvm_crypto_secp256k1_verify(int32_t, int32_t, int32_t);
ENV(onvm_crypto_secp256k1_recover) int32_t onvm_crypto_secp256k1_recover(int32_t, int32_t, int32_t);
ENV(onvm_call) int32_t onvm_call(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
ENV(onvm_call_result) int32_t onvm_call_result(int32_t, int32_t, int32_t);
ENV(onvm_msg_cycles_available) int64_t onvm_msg_cycles_available(void);

static uint8_t out[1 << 16];

static int32_t arg(const uint8_t *a, int32_t base) {
	uint32_t v = (uint32_t)a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 | (uint32_t)a[3] << 24;
	if (v >= 0x40000000u && v < 0x50000000u) return base + (int32_t)(v - 0x40000000u);
	return (int32_t)v;
}

static int64_t dispatch(uint8_t op, const int32_t *a) {
	switch (op) {
	case 1: return onvm_state_put(a[0], a[1], a[2], a[3]);
	case 2: return onvm_state_get(a[0], a[1], a[2], a[3]);
	case 3: return onvm_state_del(a[0], a[1]);
	case 4: return onvm_state_exists(a[0], a[1]);
	case 5: return onvm_state_len(a[0], a[1]);
	case 6: return onvm_state_list(a[0], a[1], a[2], a[3]);
	case 7: return onvm_state_root(a[0]);
	case 8: return onvm_blob_read(a[0], a[1], a[2], a[3]);
	case 9: return onvm_blob_len(a[0], a[1]);
	case 10: return onvm_blob_hash(a[0], a[1], a[2]);
	case 11: return onvm_blob_exists(a[0], a[1]);
	case 12: return onvm_blob_addr(a[0], a[1], a[2]);
	case 13: return onvm_log(a[0], a[1], a[2]);
	case 14: return onvm_now_ms();
	case 15: return onvm_random_bytes(a[0], a[1]);
	case 16: return onvm_crypto_hash(a[0], a[1], a[2], a[3], a[4]);
	case 17: return onvm_crypto_secp256k1_verify(a[0], a[1], a[2]);
	case 18: return onvm_crypto_secp256k1_recover(a[0], a[1], a[2]);
	case 19: return onvm_call(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
	case 20: return onvm_call_result(a[0], a[1], a[2]);
	case 21: return onvm_msg_cycles_available();
	}
	__builtin_trap();
}

EXPORT(call) uint64_t call(const uint8_t *in, int32_t len) {
	uint32_t n = in[0];
	const uint8_t *ops = in + 1;
	int32_t base = (int32_t)(uintptr_t)(ops + 29 * n);
	int32_t payload = len - 1 - 29 * (int32_t)n;
	if (payload < 0 || 8 * n + (uint32_t)payload > sizeof out) __builtin_trap();
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *op = ops + 29 * i;
		int32_t a[7];
		for (int j = 0; j < 7; j++) a[j] = arg(op + 1 + 4 * j, base);
		int64_t r = dispatch(op[0], a);
		for (int j = 0; j < 8; j++) out[8 * i + j] = (uint8_t)((uint64_t)r >> (8 * j));
	}
	__builtin_memcpy(out + 8 * n, (const void *)(uintptr_t)base, (uint32_t)payload);
	return (uint64_t)(uintptr_t)out << 32 | (8 * n + (uint32_t)payload);
}
