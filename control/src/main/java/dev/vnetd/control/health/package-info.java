/**
 * Tunnel health checks with Cloudflare WAN semantics: ICMP probes inside each tunnel
 * ({@link dev.vnetd.control.health.TunnelProber}), the healthy / degraded / down state machine
 * ({@link dev.vnetd.control.health.HealthStateMachine}) and the thread that runs them and publishes the states the
 * workers' next-hop selection penalises ({@link dev.vnetd.control.health.HealthChecker}). See
 * https://developers.cloudflare.com/cloudflare-wan/reference/tunnel-health-checks/
 */
package dev.vnetd.control.health;
