package delaynet

import "errors"

// ErrInvalidConfig wraps every problem New finds in a Config.
var ErrInvalidConfig = errors.New("delaynet: invalid config")
