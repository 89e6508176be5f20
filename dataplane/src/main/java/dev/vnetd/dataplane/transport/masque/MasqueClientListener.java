package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.IpRange;

import java.util.List;

/**
 * What a {@link MasqueClient} learns from its server, for the control plane to install. Called on the client's
 * event loop: implementations hand the work to a control thread.
 */
public interface MasqueClientListener {
    /** The session is up and the server assigned {@code addresses} (one ADDRESS_ASSIGN capsule). */
    void addressesAssigned(String tunnel, List<AssignedAddress> addresses);

    /** The server advertised {@code ranges} (one ROUTE_ADVERTISEMENT capsule: the full set, replacing earlier). */
    void routesAdvertised(String tunnel, List<IpRange> ranges);

    /** The session ended; what it taught is no longer valid. */
    void sessionLost(String tunnel);
}
