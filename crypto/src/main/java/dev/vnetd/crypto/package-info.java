/** vnetd crypto. */
package dev.vnetd.crypto;
