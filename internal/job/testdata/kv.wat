;; Tiny guests for the job tests (build: wat2wasm kv.wat).
(module
  (import "env" "onvm_state_put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "env" "onvm_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; put stores the input as a key with itself as the value and returns it.
  (func (export "put") (param $p i32) (param $n i32) (result i32 i32)
    (drop (call $put (local.get $p) (local.get $n) (local.get $p) (local.get $n)))
    (local.get $p) (local.get $n))
  ;; echo returns the input.
  (func (export "echo") (param $p i32) (param $n i32) (result i32 i32)
    (local.get $p) (local.get $n))
  ;; chatty logs its input 200 times at level info, then returns it.
  (func (export "chatty") (param $p i32) (param $n i32) (result i32 i32)
    (local $i i32)
    (loop $l
      (drop (call $log (i32.const 2) (local.get $p) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))
    (local.get $p) (local.get $n)))
