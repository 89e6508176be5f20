/** vnetd flowtable. */
package dev.vnetd.flowtable;
