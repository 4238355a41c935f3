(module (func $ok) (func $f i32.const 0 i8x16.splat drop))
