;; A reactor whose _initialize never returns: it runs out of its fuel
;; budget (InitFuel), and every call fails out_of_fuel reporting it.
(module
  (memory (export "memory") 1)
  (func (export "_initialize")
    (loop $l (br $l)))
  (func (export "run") (param $p i32) (param $n i32) (result i32 i32)
    (local.get $p) (local.get $n))
)
