// Package onboard is the operator's first hour: dr init finds the compose
// stack on this host and writes a dr.yaml for it, dr keygen makes the age
// identity backups are encrypted to, and dr doctor checks that everything
// a backup needs answers, with the fix for each thing that does not.
package onboard
