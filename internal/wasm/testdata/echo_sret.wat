;; The struct-return calling convention: (sret i32, ptr i32, len i32) -> ();
;; out_ptr and out_len are stored as i32 LE at sret.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "guard")
  (func (export "run") (param $sret i32) (param $p i32) (param $n i32)
    (i32.store (local.get $sret) (local.get $p))
    (i32.store offset=4 (local.get $sret) (local.get $n)))
  (func (export "guard") (param $sret i32) (param $p i32) (param $n i32)
    (i32.store (local.get $sret) (i32.const 0))
    (i32.store offset=4 (local.get $sret) (i32.const 5))))
