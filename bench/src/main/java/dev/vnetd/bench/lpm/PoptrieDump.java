package dev.vnetd.bench.lpm;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes the exact lookup arrays of the IPv4 Poptrie built from a route file, for
 * {@code bench/native/poptrie_c_bench.c} to look up the same table in C (issue 3: is the gap to rte_lpm the Java code
 * or the layout?).
 *
 * <pre>
 *   PoptrieDump ROUTES KEYS OUT_DIR
 *     OUT_DIR/poptrie-v4.bin   little-endian: int 0x50545231 ("PTR1"), int directBits, int slots.length,
 *                              int nodes.length, then slots (int32 each), then nodes (int64 each)
 *     OUT_DIR/keys-v4.bin      little-endian: int count, then the keys (int32 each, address in host order)
 *     OUT_DIR/answers-v4.bin   little-endian: int count, then Ipv4Lpm.lookup of each key (int32, -1 = no route)
 *   and prints "lpm-answers hits=N value_sum=S" as LpmAnswers does, plus the table's shape.
 * </pre>
 *
 * The arrays are read reflectively from {@code Ipv4Lpm.view()} (a {@code Poptrie.Table}: {@code directBits},
 * {@code slots}, {@code nodes}), so the dataplane is unchanged. Route i of the file has value i, as in
 * {@link LpmAnswers} and the benchmarks.
 */
public final class PoptrieDump {
    private static final int MAGIC = 0x50545231;

    private PoptrieDump() {
    }

    public static void main(String[] args) throws ReflectiveOperationException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: PoptrieDump ROUTES KEYS OUT_DIR");
        }
        RouteFiles.V4Routes r = RouteFiles.v4Routes(args[0]);
        Ipv4Lpm lpm = Ipv4Lpm.build(r.prefixes(), r.lengths(), r.values(), r.count());
        Ipv4Lpm.View view = lpm.view();
        Class<?> table = Ipv4Lpm.View.class.getSuperclass();
        int directBits = (int) field(table, "directBits").get(view);
        int[] slots = (int[]) field(table, "slots").get(view);
        long[] nodes = (long[]) field(table, "nodes").get(view);

        Path out = Path.of(args[2]);
        ByteBuffer b = buffer(16 + 4L * slots.length + 8L * nodes.length);
        b.putInt(MAGIC).putInt(directBits).putInt(slots.length).putInt(nodes.length);
        b.asIntBuffer().put(slots);
        b.position(b.position() + 4 * slots.length);
        b.asLongBuffer().put(nodes);
        b.position(b.position() + 8 * nodes.length);
        write(out.resolve("poptrie-v4.bin"), b);

        int[] keys = RouteFiles.v4Keys(args[1]);
        int[] answers = new int[keys.length];
        long hits = 0;
        long sum = 0;
        for (int i = 0; i < keys.length; i++) {
            int value = lpm.lookup(keys[i]);
            answers[i] = value;
            if (value != Ipv4Lpm.NO_ROUTE) {
                hits++;
                sum += value;
            }
        }
        write(out.resolve("keys-v4.bin"), ints(keys));
        write(out.resolve("answers-v4.bin"), ints(answers));
        System.out.printf(
                "poptrie-dump routes=%d directBits=%d slots=%d nodes=%d lookup_bytes=%d bytes_per_route=%.2f%n",
                lpm.size(), directBits, slots.length, nodes.length, 4L * slots.length + 8L * nodes.length,
                (4.0 * slots.length + 8.0 * nodes.length) / lpm.size());
        System.out.printf("lpm-answers hits=%d value_sum=%d%n", hits, sum);
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    private static ByteBuffer buffer(long size) {
        return ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer ints(int[] values) {
        ByteBuffer b = buffer(4 + 4L * values.length);
        b.putInt(values.length);
        b.asIntBuffer().put(values);
        b.position(b.position() + 4 * values.length);
        return b;
    }

    private static void write(Path file, ByteBuffer b) {
        b.flip();
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                c.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
