//go:build !darwin || !cgo

package urlevents

import (
	"errors"
	"fmt"
)

// Start installs the Apple Event handler for links; handle receives each
// link (for example "tel:+4930123456"). Outside macOS (or without cgo)
// links arrive as arguments instead and Start returns
// errors.ErrUnsupported.
func Start(handle func(url string)) error {
	if handle == nil {
		return errors.New("urlevents: nil handler")
	}
	return fmt.Errorf("urlevents: %w on this system (links arrive as arguments)", errors.ErrUnsupported)
}
