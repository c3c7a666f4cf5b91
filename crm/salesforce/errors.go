package salesforce

import (
	"errors"

	"github.com/callcentre/softphone/crm"
)

// ErrConfig means the connector's configuration is incomplete.
var ErrConfig = errors.New("salesforce configuration incomplete")

func asError(err error, target **crm.Error) bool { return errors.As(err, target) }
