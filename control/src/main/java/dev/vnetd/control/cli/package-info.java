/** The subcommands of {@code vnetd}: run, validate, lookup and demo. */
package dev.vnetd.control.cli;
