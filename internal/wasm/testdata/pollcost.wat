;; For the checkpoint benchmark: the meter's instrumentation of the count
;; loop of limits.wat written by hand, without any poll ("fuel"), with the
;; onvm_interrupt flag poll of onvm-meter/1 ("fuel_poll"), and with the
;; checkpoint of onvm-meter/2 ("fuel_checkpoint": the header's fuel check
;; compares with onvm_checkpoint instead of 0 and leaves the loop for the
;; host call through a retry loop), so that each can be measured on its own.
;; Run unmetered: the checkpoint is 0, so the host is never called.
(module
  (import "onvm_meter" "exhausted" (func $exhausted (param i32)))
  (global $fuel (mut i64) (i64.const 0x7fffffffffffffff))
  (global $interrupt (mut i32) (i32.const 0))
  (global $checkpoint (mut i64) (i64.const 0))
  (memory (export "memory") 1)
  (func (export "fuel") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $acc i32) (local $f i64)
    (local.set $end (i32.load (local.get $p)))
    (block $done
      (loop $l
        (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 4))))
        (if (i64.lt_s (local.get $f) (i64.const 0)) (then unreachable))
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 11))))
        (if (i64.lt_s (local.get $f) (i64.const 0)) (then unreachable))
        (local.set $acc (i32.add (local.get $acc) (i32.xor (local.get $i) (i32.const 0x5bd1e995))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.store (i32.const 64) (local.get $acc))
    (i32.const 64) (i32.const 4))
  (func (export "fuel_poll") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $acc i32) (local $f i64)
    (local.set $end (i32.load (local.get $p)))
    (block $done
      (loop $l
        (if (global.get $interrupt) (then unreachable))
        (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 4))))
        (if (i64.lt_s (local.get $f) (i64.const 0)) (then unreachable))
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 11))))
        (if (i64.lt_s (local.get $f) (i64.const 0)) (then unreachable))
        (local.set $acc (i32.add (local.get $acc) (i32.xor (local.get $i) (i32.const 0x5bd1e995))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.store (i32.const 64) (local.get $acc))
    (i32.const 64) (i32.const 4))
  (func (export "fuel_checkpoint") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $acc i32) (local $f i64)
    (local.set $end (i32.load (local.get $p)))
    (block $done
      (loop $retry
        (block $slow
          (loop $l
            (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 4))))
            (br_if $slow (i64.lt_s (local.get $f) (global.get $checkpoint)))
            (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
            (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 11))))
            (if (i64.lt_s (local.get $f) (i64.const 0)) (then unreachable))
            (local.set $acc (i32.add (local.get $acc) (i32.xor (local.get $i) (i32.const 0x5bd1e995))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
        (call $exhausted (i32.const 4))
        (global.set $fuel (i64.add (global.get $fuel) (i64.const 4)))
        (br $retry)))
    (i32.store (i32.const 64) (local.get $acc))
    (i32.const 64) (i32.const 4)))
