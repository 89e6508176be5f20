/** The admin HTTP endpoint: {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz}. */
package dev.vnetd.control.admin;
