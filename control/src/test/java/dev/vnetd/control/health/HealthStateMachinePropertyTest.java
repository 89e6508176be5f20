package dev.vnetd.control.health;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static dev.vnetd.dataplane.nexthop.TunnelHealth.DEGRADED;
import static dev.vnetd.dataplane.nexthop.TunnelHealth.DOWN;
import static dev.vnetd.dataplane.nexthop.TunnelHealth.HEALTHY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The state machine against a reference model that keeps every result ever recorded and re-reads the rules from
 * the whole history at each step, with a 10 s degraded window so that results age out within a run.
 */
class HealthStateMachinePropertyTest {
    private static final long WINDOW = 10_000;

    record Step(long gapMillis, boolean success, boolean reprobe) {
    }

    /** The rules read literally: filter the full history for each window. */
    static final class Reference {
        private final List<long[]> history = new ArrayList<>();
        int state = HEALTHY;
        private int successesInRow;

        int record(long now, boolean success, boolean reprobe) {
            history.add(new long[] {now, success ? 1 : 0});
            if (state == DOWN) {
                successesInRow = success ? successesInRow + 1 : 0;
                if (successesInRow >= 3) {
                    state = DEGRADED;
                    return 0;
                }
                return success && !reprobe ? 2 : 0;
            }
            List<long[]> lastSecond = history.stream().filter(r -> r[0] > now - 1000).toList();
            if (lastSecond.size() >= 3 && lastSecond.stream().allMatch(r -> r[1] == 0)) {
                state = DOWN;
                successesInRow = 0;
                return 0;
            }
            List<long[]> window = history.stream().filter(r -> r[0] > now - WINDOW).toList();
            long failed = window.stream().filter(r -> r[1] == 0).count();
            state = failed >= 2 && failed * 1000 >= window.size() ? DEGRADED : HEALTHY;
            return !success && !reprobe ? 2 : 0;
        }
    }

    @Provide
    Arbitrary<List<Step>> runs() {
        Arbitrary<Long> gaps = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.longs().between(0, 400)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(400, 1500)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1500, 12_000)));
        Arbitrary<Boolean> outcomes = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(3, true), net.jqwik.api.Tuple.of(2, false));
        return Combinators.combine(gaps, outcomes, Arbitraries.of(true, false)).as(Step::new).list().ofMaxSize(200);
    }

    @Property(tries = 300)
    void shouldAgreeWithTheReferenceModel(@ForAll("runs") List<Step> run) {
        HealthStateMachine machine = new HealthStateMachine(WINDOW);
        Reference reference = new Reference();
        long now = 0;
        for (Step step : run) {
            now += step.gapMillis();
            int reprobes = machine.record(now, step.success(), step.reprobe());
            assertEquals(reference.record(now, step.success(), step.reprobe()), reprobes, "re-probes at " + now);
            assertEquals(reference.state, machine.state(), "state at " + now);
        }
    }

    @Property(tries = 300)
    void shouldNeverGoFromDownStraightToHealthy(@ForAll("runs") List<Step> run) {
        HealthStateMachine machine = new HealthStateMachine(WINDOW);
        long now = 0;
        for (Step step : run) {
            now += step.gapMillis();
            int before = machine.state();
            machine.record(now, step.success(), step.reprobe());
            if (before == DOWN) {
                assertNotEquals(HEALTHY, machine.state());
            }
        }
    }
}
