package dev.vnetd.crypto.esp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenSSL 3's libcrypto ({@code libcrypto.so.3}, Debian package libssl3 / libssl3t64) through the FFM API: the EVP
 * cipher calls and HMAC_CTX that {@link OpenSslAeadCipher} and {@link OpenSslCbcHmacCipher} make per packet.
 *
 * <p>The library is looked up once, when this class initialises; if it or one of the symbols below is missing,
 * {@link #available()} is false, one line is logged and {@link EspProvider#fastest} keeps to the JDK.
 *
 * <p>The per-packet calls are critical downcalls ({@code Linker.Option.critical}: no thread-state transition) that
 * take raw native addresses as {@code long}s, so a call creates no Java object: no {@link MemorySegment} per
 * argument that escape analysis would have to remove (it did not: handing the packet's byte array over as heap
 * segments with {@code critical(true)} measured 144 B per transit packet for AES-GCM, one segment per slice). The
 * callers keep the native memory alive with {@code Reference.reachabilityFence}. Setup calls (context allocation,
 * keys) are plain downcalls. Native contexts are tied to an {@link Arena#ofAuto()} arena of the cipher object that
 * owns them and are freed by {@code EVP_CIPHER_CTX_free} / {@code HMAC_CTX_free} when that object becomes
 * unreachable.
 */
final class LibCrypto {
    /** EVP_CTRL_AEAD_GET_TAG (openssl/evp.h): copy the tag after an encryption's final. */
    static final int CTRL_AEAD_GET_TAG = 0x10;
    /** EVP_CTRL_AEAD_SET_TAG (openssl/evp.h): the expected tag before a decryption's final. */
    static final int CTRL_AEAD_SET_TAG = 0x11;

    /**
     * Setting: {@code vnetd.esp.libcrypto} (system property), default {@code libcrypto.so.3}: the library to load, a
     * name the dynamic linker resolves or a path (an OpenSSL 3 built elsewhere). The default is the soname every
     * OpenSSL 3.x carries (Debian libssl3 / libssl3t64); the EVP and HMAC_CTX calls used here are stable across 3.x.
     */
    static final String LIBRARY_PROPERTY = "vnetd.esp.libcrypto";

    private static final String LIBRARY = System.getProperty(LIBRARY_PROPERTY, "libcrypto.so.3");
    private static final Logger LOG = LoggerFactory.getLogger(LibCrypto.class);
    private static final Linker LINKER = Linker.nativeLinker();
    private static final List<String> SYMBOLS = List.of("EVP_CIPHER_CTX_new", "EVP_CIPHER_CTX_free",
            "EVP_CIPHER_CTX_set_padding", "EVP_CIPHER_CTX_ctrl", "EVP_CipherInit_ex", "EVP_CipherUpdate",
            "EVP_CipherFinal_ex", "EVP_aes_128_gcm", "EVP_aes_256_gcm", "EVP_chacha20_poly1305", "EVP_aes_128_cbc",
            "EVP_aes_192_cbc", "EVP_aes_256_cbc", "EVP_aes_128_ecb", "EVP_aes_192_ecb", "EVP_aes_256_ecb",
            "EVP_sha256", "HMAC_CTX_new", "HMAC_CTX_free", "HMAC_Init_ex", "HMAC_Update", "HMAC_Final");
    private static final SymbolLookup LOOKUP;
    private static final String FAILURE;

    static {
        SymbolLookup lookup = null;
        String failure = null;
        try {
            lookup = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
            for (String symbol : SYMBOLS) {
                if (lookup.find(symbol).isEmpty()) {
                    failure = LIBRARY + " lacks " + symbol;
                    lookup = null;
                    break;
                }
            }
        } catch (IllegalArgumentException | IllegalCallerException e) {
            failure = LIBRARY + " cannot be loaded: " + e.getMessage();
        }
        LOOKUP = lookup;
        FAILURE = failure;
        if (failure != null) {
            LOG.warn("event=esp_openssl_unavailable reason=\"{}\" fallback=jdk", failure);
        }
    }

    private static final MethodHandle CIPHER_CTX_NEW = setup("EVP_CIPHER_CTX_new",
            FunctionDescriptor.of(ValueLayout.ADDRESS));
    private static final MethodHandle CIPHER_CTX_FREE = setup("EVP_CIPHER_CTX_free",
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final MethodHandle CIPHER_CTX_SET_PADDING = setup("EVP_CIPHER_CTX_set_padding",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle HMAC_CTX_NEW = setup("HMAC_CTX_new",
            FunctionDescriptor.of(ValueLayout.ADDRESS));
    private static final MethodHandle HMAC_CTX_FREE = setup("HMAC_CTX_free",
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final MethodHandle CIPHER_INIT = critical("EVP_CipherInit_ex",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle CIPHER_UPDATE = critical("EVP_CipherUpdate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle CIPHER_FINAL = critical("EVP_CipherFinal_ex",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG));
    private static final MethodHandle CIPHER_CTRL = critical("EVP_CIPHER_CTX_ctrl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle HMAC_INIT = critical("HMAC_Init_ex",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle HMAC_UPDATE = critical("HMAC_Update",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG));
    private static final MethodHandle HMAC_FINAL = critical("HMAC_Final",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG));

    private LibCrypto() {
    }

    /** Whether libcrypto.so.3 loaded with every symbol used here. */
    static boolean available() {
        return LOOKUP != null;
    }

    /** Why libcrypto is unavailable, for the error when it is forced; null when it is available. */
    static String failure() {
        return FAILURE;
    }

    /**
     * The EVP_CIPHER for a name such as {@code aes_128_gcm}: the result of {@code EVP_<name>()}, a static object
     * owned by libcrypto.
     */
    static MemorySegment cipher(String name) {
        MethodHandle getter = setup("EVP_" + name, FunctionDescriptor.of(ValueLayout.ADDRESS));
        try {
            return check((MemorySegment) getter.invokeExact(), "EVP_" + name);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * A new EVP_CIPHER_CTX keyed for one direction, freed when {@code arena} goes away.
     *
     * @param cipher  from {@link #cipher}
     * @param key     the cipher key; copied into native memory that is wiped right after use
     * @param encrypt the direction the context is keyed for (AES-CBC's decryption key schedule differs)
     * @param padding false for ESP, which pads itself
     */
    static MemorySegment newCipherContext(Arena arena, MemorySegment cipher, byte[] key, boolean encrypt,
                                          boolean padding) {
        try (Arena keyArena = Arena.ofConfined()) {
            MemorySegment created = check((MemorySegment) CIPHER_CTX_NEW.invokeExact(), "EVP_CIPHER_CTX_new");
            MemorySegment context = created.reinterpret(arena, LibCrypto::freeCipherContext);
            MemorySegment keyCopy = keyArena.allocate(key.length);
            MemorySegment.copy(key, 0, keyCopy, ValueLayout.JAVA_BYTE, 0, key.length);
            try {
                check(init(context.address(), cipher.address(), keyCopy.address(), 0L, encrypt ? 1 : 0),
                        "EVP_CipherInit_ex");
            } finally {
                keyCopy.fill((byte) 0);
            }
            check((int) CIPHER_CTX_SET_PADDING.invokeExact(context, padding ? 1 : 0), "EVP_CIPHER_CTX_set_padding");
            return context;
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** A new HMAC_CTX keyed for HMAC-SHA-256, freed when {@code arena} goes away. */
    static MemorySegment newHmacSha256Context(Arena arena, byte[] key) {
        try (Arena keyArena = Arena.ofConfined()) {
            MemorySegment created = check((MemorySegment) HMAC_CTX_NEW.invokeExact(), "HMAC_CTX_new");
            MemorySegment context = created.reinterpret(arena, LibCrypto::freeHmacContext);
            MemorySegment keyCopy = keyArena.allocate(key.length);
            MemorySegment.copy(key, 0, keyCopy, ValueLayout.JAVA_BYTE, 0, key.length);
            try {
                MemorySegment sha256 = check((MemorySegment) setup("EVP_sha256",
                        FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact(), "EVP_sha256");
                check(hmacInit(context.address(), keyCopy.address(), key.length, sha256.address()), "HMAC_Init_ex");
            } finally {
                keyCopy.fill((byte) 0);
            }
            return context;
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc); 0 (NULL) cipher and key keep the ones set before. */
    static int init(long context, long cipher, long key, long iv, int encrypt) {
        try {
            return (int) CIPHER_INIT.invokeExact(context, cipher, 0L, key, iv, encrypt);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** EVP_CipherUpdate; {@code out} 0 (NULL) feeds additional authenticated data. */
    static int update(long context, long out, long outLength, long in, int inLength) {
        try {
            return (int) CIPHER_UPDATE.invokeExact(context, out, outLength, in, inLength);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** EVP_CipherFinal_ex: 1, or 0 when an AEAD decryption's tag does not verify. */
    static int finish(long context, long out, long outLength) {
        try {
            return (int) CIPHER_FINAL.invokeExact(context, out, outLength);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** EVP_CIPHER_CTX_ctrl, for {@link #CTRL_AEAD_GET_TAG} and {@link #CTRL_AEAD_SET_TAG}. */
    static int control(long context, int type, int argument, long pointer) {
        try {
            return (int) CIPHER_CTRL.invokeExact(context, type, argument, pointer);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** HMAC_Init_ex(ctx, key, length, md, NULL); 0 (NULL) key and md restart with the key set before. */
    static int hmacInit(long context, long key, int keyLength, long digest) {
        try {
            return (int) HMAC_INIT.invokeExact(context, key, keyLength, digest, 0L);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** HMAC_Update. */
    static int hmacUpdate(long context, long data, long length) {
        try {
            return (int) HMAC_UPDATE.invokeExact(context, data, length);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** HMAC_Final: writes the 32-byte digest to {@code out} and its length to {@code outLength}. */
    static int hmacFinal(long context, long out, long outLength) {
        try {
            return (int) HMAC_FINAL.invokeExact(context, out, outLength);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Fails loudly on a 0 return, which for everything but a decryption's final means a broken setup. */
    static int check(int result, String call) {
        if (result != 1) {
            throw new IllegalStateException(call + " failed in " + LIBRARY);
        }
        return result;
    }

    private static MemorySegment check(MemorySegment pointer, String call) {
        if (pointer.equals(MemorySegment.NULL)) {
            throw new IllegalStateException(call + " returned NULL in " + LIBRARY);
        }
        return pointer;
    }

    private static void freeCipherContext(MemorySegment context) {
        try {
            CIPHER_CTX_FREE.invokeExact(context);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static void freeHmacContext(MemorySegment context) {
        try {
            HMAC_CTX_FREE.invokeExact(context);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static MethodHandle setup(String name, FunctionDescriptor descriptor) {
        return downcall(name, descriptor);
    }

    private static MethodHandle critical(String name, FunctionDescriptor descriptor) {
        return downcall(name, descriptor, Linker.Option.critical(false));
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        if (LOOKUP == null) {
            return null;
        }
        return LINKER.downcallHandle(LOOKUP.find(name).orElseThrow(), descriptor, options);
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException runtime) {
            return runtime;
        }
        if (e instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(e);
    }
}
