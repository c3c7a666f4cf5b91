package servicenow

import "errors"

// ErrConfig means the connector's configuration is incomplete or wrong.
var ErrConfig = errors.New("servicenow configuration invalid")
