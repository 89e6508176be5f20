/**
 * The control side of MASQUE: starts a server per {@code masque} listener and a client per {@code masque-client}
 * tunnel on the dataplane's workers, installs what clients learn (assigned address, advertised routes) by publishing
 * a new forwarding state, and exports the MASQUE counters.
 */
package dev.vnetd.control.masque;
