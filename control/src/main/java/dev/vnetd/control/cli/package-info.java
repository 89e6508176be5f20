/**
 * The subcommands of {@code vnetd}: run, validate, lookup and demo; tunnels, routes, flows and stat talk to a
 * running daemon's admin API.
 */
package dev.vnetd.control.cli;
