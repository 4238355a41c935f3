;; Guests that hit a limit or misbehave.
(module
  (import "env" "onvm_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "onvm_state_put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "boom: invariant violated")
  (data (i32.const 32) "key")
  ;; forever loops forever.
  (func (export "forever") (param i32 i32) (result i32 i32)
    (loop $l (br $l))
    unreachable)
  ;; spin writes state, then loops forever: a stopped call returns no writes.
  (func (export "spin") (param i32 i32) (result i32 i32)
    (drop (call $put (i32.const 32) (i32.const 3) (i32.const 32) (i32.const 3)))
    (loop $l (br $l))
    unreachable)
  ;; count loops N times (N = the i32 LE at the input) and returns 4 bytes at 64.
  (func (export "count") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $acc i32)
    (local.set $end (i32.load (local.get $p)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $acc (i32.add (local.get $acc) (i32.xor (local.get $i) (i32.const 0x5bd1e995))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.store (i32.const 64) (local.get $acc))
    (i32.const 64) (i32.const 4))
  ;; bomb grows memory a page at a time until refused, then traps.
  (func (export "bomb") (param i32 i32) (result i32 i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable)
  ;; polite grows until refused and returns memory.size in pages (i32 LE).
  (func (export "polite") (param i32 i32) (result i32 i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    (i32.store (i32.const 64) (memory.size))
    (i32.const 64) (i32.const 4))
  ;; recurse never returns.
  (func $r (param i32) (result i32)
    (call $r (i32.add (local.get 0) (i32.const 1))))
  (func (export "recurse") (param i32 i32) (result i32 i32)
    (drop (call $r (i32.const 0)))
    (i32.const 0) (i32.const 0))
  ;; huge returns 2 MiB of zeroes (over the default 1 MiB output limit).
  (func (export "huge") (param i32 i32) (result i32 i32)
    (drop (memory.grow (i32.const 40)))
    (i32.const 0) (i32.const 0x200000))
  ;; oob returns a range that ends outside memory.
  (func (export "oob") (param i32 i32) (result i32 i32)
    (i32.const 0x10000000) (i32.const 100))
  ;; negative returns a negative pointer.
  (func (export "negative") (param i32 i32) (result i32 i32)
    (i32.const -8) (i32.const 4))
  ;; panic logs a warning, then traps: the message reaches the error.
  (func (export "panic") (param i32 i32) (result i32 i32)
    (drop (call $log (i32.const 3) (i32.const 0) (i32.const 24)))
    unreachable)
  ;; exit logs a warning and calls proc_exit(7) in the middle of the call.
  (func (export "exit") (param i32 i32) (result i32 i32)
    (drop (call $log (i32.const 3) (i32.const 0) (i32.const 4)))
    (call $exit (i32.const 7))
    (i32.const 0) (i32.const 0))
  ;; div0 traps without a message.
  (func (export "div0") (param $p i32) (param $n i32) (result i32 i32)
    (drop (i32.div_u (i32.const 1) (local.get $n)))
    (i32.const 0) (i32.const 0)))
