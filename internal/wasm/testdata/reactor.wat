;; A reactor whose _initialize leaves state in a global, in a data segment,
;; in a page it grows, in the log (a finished and an unfinished line) and in
;; the logical clock, and reads random bytes. run mutates all of it and
;; returns memory [64, 104): every call must see the state _initialize left,
;; never the previous call's.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 100))
  (global $heap (mut i64) (i64.const 0))
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
  (func (export "run") (param $p i32) (param $n i32) (result i32 i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.set $heap (i64.add (global.get $heap) (i64.const 1)))
    (i32.store8 (i32.const 65) (i32.add (i32.load8_u (i32.const 65)) (i32.const 1)))
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 88)))
    (i32.store (i32.const 96) (global.get $counter))
    (i32.store8 (i32.const 65536) (i32.add (i32.load8_u (i32.const 65536)) (i32.const 1)))
    (i32.store8 (i32.const 100) (i32.load8_u (i32.const 65536)))
    (i32.store8 (i32.const 101) (i32.wrap_i64 (global.get $heap)))
    ;; stdout: "ef\n" finishes the line _initialize began
    (i32.store (i32.const 308) (i32.const 210))
    (i32.store (i32.const 312) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 308) (i32.const 1) (i32.const 320)))
    (i32.const 64) (i32.const 40))
)
