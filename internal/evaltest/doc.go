// Package evaltest grades the correlation engine against the simulator's
// ground truth. It holds only tests: it is the one place that sees both
// correlate's answers and the scenarios' truth, which the product never does.
package evaltest
