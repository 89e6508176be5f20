/** vnetd bench. */
package dev.vnetd.bench;
