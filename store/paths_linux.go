package store

func defaultDir() (string, error) { return xdgDataDir() }
