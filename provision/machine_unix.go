//go:build !windows && !darwin

package provision

// LinuxPath is the machine-wide provisioning file on Linux and BSD (a
// conffile of the .deb and .rpm).
const LinuxPath = "/etc/softphone/provisioning.json"

func machine() ([]Layer, error) { return loadFiles(LinuxPath) }
