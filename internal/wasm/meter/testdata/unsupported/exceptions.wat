(module (tag $e) (func $f throw $e))
