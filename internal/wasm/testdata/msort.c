// msort sorts an array of u32 (LE) with a top-down merge sort. It exports
// onvm_alloc (a bump allocator) and returns its result through a struct,
// which clang lowers to the sret calling convention.
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))

extern unsigned char __heap_base;
static uintptr_t heap;

EXPORT(onvm_alloc) void *onvm_alloc(uint32_t n) {
	if (heap == 0) heap = (uintptr_t)&__heap_base;
	uintptr_t p = (heap + 15) & ~(uintptr_t)15;
	uintptr_t end = p + n;
	uintptr_t have = __builtin_wasm_memory_size(0) << 16;
	if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) >> 16) == (uintptr_t)-1) return 0;
	heap = end;
	return (void *)p;
}

static void merge_sort(uint32_t *a, uint32_t *tmp, uint32_t n) {
	if (n < 2) return;
	uint32_t h = n / 2;
	merge_sort(a, tmp, h);
	merge_sort(a + h, tmp, n - h);
	uint32_t i = 0, j = h, k = 0;
	while (i < h && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
	while (i < h) tmp[k++] = a[i++];
	while (j < n) tmp[k++] = a[j++];
	for (k = 0; k < n; k++) a[k] = tmp[k];
}

struct out { const void *ptr; uint32_t len; };

EXPORT(sort) struct out sort(uint32_t *in, uint32_t len) {
	uint32_t n = len / 4;
	uint32_t *tmp = onvm_alloc(n * 4);
	if (tmp == 0) __builtin_trap();
	merge_sort(in, tmp, n);
	return (struct out){in, n * 4};
}
