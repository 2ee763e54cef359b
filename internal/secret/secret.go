// Package secret holds the one placeholder Gatehouse shows in place of a
// stored secret. Whatever hands a secret-bearing setting out (admin reads,
// partial exports, admin events, the console) writes Mask instead of the
// value, and an update or import that sends Mask back means "leave the
// stored secret as it is". It imports nothing, so every package, domain or
// HTTP, can use it.
package secret

// Mask stands for a stored secret that is never handed out. It is the
// string Keycloak's admin API and partial exports use, so clients written
// for Keycloak recognise it.
const Mask = "**********"
