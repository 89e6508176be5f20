/**
 * Prometheus metrics through Micrometer: every name starts with {@code vnetd_}, counters end in {@code _total},
 * values are in base units. Dataplane counters are read from the workers' own counters at scrape time, so the
 * fast path never touches Micrometer.
 */
package dev.vnetd.control.metrics;
