package config

import "errors"

// ErrInvalid is wrapped by every error about a bad setting.
var ErrInvalid = errors.New("invalid configuration")
