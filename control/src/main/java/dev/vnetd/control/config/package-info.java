/**
 * The YAML configuration: loading with snakeyaml-engine (marks kept for every node), validation that reports every
 * error at once as {@code file:line:column: message}, and the immutable records the rest of the daemon reads. The
 * schema is documented in docs/configuration.md.
 */
package dev.vnetd.control.config;
