;; A reactor whose _initialize leaves state in a global, in a data segment,
;; in a page it grows, in the log (a finished and an unfinished line) and in
;; the logical clock, and reads random bytes. run mutates all of it and
;; returns memory [64, 105): every call must see the state _initialize left,
;; never the previous call's.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 100))
  (global $heap (mut i64) (i64.const 0))
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 64) "data")
  (data (i32.const 200) "ab\0acd")
  (data (i32.const 210) "ef\0a")
  (func (export "_initialize")
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.set $heap (i64.const 0x1122334455667788))
    (i32.store8 (i32.const 64) (i32.const 68)) ;; 'D'
    (drop (memory.grow (i32.const 1)))
    (i32.store8 (i32.const 65536) (i32.const 7))
    (drop (call $random (i32.const 72) (i32.const 8)))
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 80)))
    ;; stdout: "ab\ncd" (the second line unfinished)
    (i32.store (i32.const 300) (i32.const 200))
    (i32.store (i32.const 304) (i32.const 5))
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 320))))
  ;; A bump allocator: the input lands at 1024 in every call.
  (func (export "onvm_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
  ;; run's input length picks what else it does: 0 traps (after changing
  ;; state), 2 grows memory, 3 closes stdout; the instance must then not
  ;; serve another call.
  (func (export "run") (param $p i32) (param $n i32) (result i32 i32)
    (if (i32.eq (local.get $n) (i32.const 2)) (then (drop (memory.grow (i32.const 1)))))
    (if (i32.eq (local.get $n) (i32.const 3)) (then (drop (call $fd_close (i32.const 1)))))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.set $heap (i64.add (global.get $heap) (i64.const 1)))
    (i32.store8 (i32.const 65) (i32.add (i32.load8_u (i32.const 65)) (i32.const 1)))
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 88)))
    (i32.store (i32.const 96) (global.get $counter))
    (i32.store8 (i32.const 65536) (i32.add (i32.load8_u (i32.const 65536)) (i32.const 1)))
    (i32.store8 (i32.const 100) (i32.load8_u (i32.const 65536)))
    (i32.store8 (i32.const 101) (i32.wrap_i64 (global.get $heap)))
    (i32.store8 (i32.const 102) (memory.size))
    (i32.store8 (i32.const 103) (i32.shr_u (local.get $p) (i32.const 8)))
    ;; 8192 is in a block the snapshot holds as zero: report it, then dirty it.
    (i32.store8 (i32.const 104) (i32.load8_u (i32.const 8192)))
    (i32.store8 (i32.const 8192) (i32.const 0xff))
    (if (i32.eqz (local.get $n)) (then unreachable))
    ;; stdout: "ef\n" finishes the line _initialize began
    (i32.store (i32.const 308) (i32.const 210))
    (i32.store (i32.const 312) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 308) (i32.const 1) (i32.const 320)))
    (i32.const 64) (i32.const 41))
)
