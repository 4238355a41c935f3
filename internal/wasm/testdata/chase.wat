;; For the checkpoint benchmark: the slowest work per unit of fuel we know
;; of. chase does N (the i32 LE at the input) loads from pseudo-random
;; addresses in 64 MB of memory, each address depending on the previous
;; load, so that every load waits for a cache (and TLB) miss: ~10 fuel per
;; miss. It first fills the memory once so that no page is touched for the
;; first time during the loop.
(module
  (memory (export "memory") 1000)
  (func (export "chase") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32) (local $end i32) (local $x i32) (local $acc i32)
    (local.set $end (i32.load (local.get $p)))
    (memory.fill (i32.const 0) (i32.const 1) (i32.const 64000000))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
        (local.set $acc (i32.load (i32.and
          (i32.rem_u (i32.xor (local.get $x) (local.get $acc)) (i32.const 64000000))
          (i32.const -4))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.store (i32.const 64) (local.get $acc))
    (i32.const 64) (i32.const 4)))
