/** vnetd control. */
package dev.vnetd.control;
