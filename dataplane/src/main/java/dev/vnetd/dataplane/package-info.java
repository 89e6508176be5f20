/** vnetd dataplane. */
package dev.vnetd.dataplane;
