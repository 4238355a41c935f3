;; put stores its input under the input itself, as key and value, and
;; returns it: the smallest guest whose calls change state, for tests that
;; replicate many programs and transitions.
(module
  (import "env" "onvm_state_put" (func $put (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "put") (param $p i32) (param $n i32) (result i32 i32)
    (drop (call $put (local.get $p) (local.get $n) (local.get $p) (local.get $n)))
    (local.get $p) (local.get $n)))
