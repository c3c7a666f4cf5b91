package zendesk

import "errors"

// ErrConfig means the connector's configuration is incomplete or invalid.
var ErrConfig = errors.New("zendesk configuration invalid")
