(module (func $ok) (func $f atomic.fence))
