package net.swarming.common.wire.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding that says where the first bad byte is, unlike {@code new String(bytes, UTF_8)}. */
public final class Utf8 {

    private Utf8() {
    }

    /** The payload is not UTF-8; {@link #offset()} is the index of the first byte of the bad sequence. */
    public static final class InvalidUtf8Exception extends Exception {
        private final int offset;

        InvalidUtf8Exception(int offset) {
            super("not valid UTF-8 at byte offset " + offset);
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    /**
     * Decodes the whole array, rejecting malformed and overlong sequences and encoded surrogates (the JDK decoder is
     * strict about all three).
     */
    public static String decode(byte[] bytes) throws InvalidUtf8Exception {
        if (isAscii(bytes)) {
            // Nearly every payload: a plain copy into a compact Latin-1 string, no decoder.
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        // UTF-8 never yields more UTF-16 units than it has bytes, so one buffer is always enough.
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new InvalidUtf8Exception(in.position());
        }
        result = decoder.flush(out);
        if (result.isError()) {
            throw new InvalidUtf8Exception(in.position());
        }
        out.flip();
        return out.toString();
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }
}
