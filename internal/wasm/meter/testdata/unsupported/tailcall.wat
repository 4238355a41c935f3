(module (func $ok) (func $f return_call $f))
