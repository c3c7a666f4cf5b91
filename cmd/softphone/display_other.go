//go:build windows || darwin

package main

// displayNamed says what could not be used: the desktop session itself.
func displayNamed() string { return "the desktop session's graphics could not be used" }
