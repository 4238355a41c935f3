;; For the host-call benchmark: loop N times (N = the i32 LE input), with
;; and without a host call in the loop body.
(module
  (import "env" "onvm_now_ms" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "calls") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $acc i64)
    (local.set $end (i32.load (local.get $p)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $acc (i64.add (local.get $acc) (call $now)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.store (i32.const 0) (local.get $acc))
    (i32.const 0) (i32.const 8))
  (func (export "empty") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $acc i64)
    (local.set $end (i32.load (local.get $p)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.store (i32.const 0) (local.get $acc))
    (i32.const 0) (i32.const 8)))
