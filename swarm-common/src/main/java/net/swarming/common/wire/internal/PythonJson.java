package net.swarming.common.wire.internal;

import java.math.BigDecimal;

/**
 * Writes JSON the way Python's {@code json.dumps} does with its defaults, so that our "original" payloads are the
 * same bytes an original Python agent published: {@code ", "} and {@code ": "} separators (the caller's job),
 * {@code ensure_ascii} string escapes, and floats printed like Python's {@code repr(float)}.
 */
public final class PythonJson {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private PythonJson() {
    }

    /**
     * Appends a JSON string like {@code json.dumps(ensure_ascii=True)}: printable ASCII as is except {@code "} and
     * {@code \}, the five short escapes, everything else as lowercase {@code \}{@code uXXXX} per UTF-16 unit
     * (so a supplementary character becomes a surrogate pair, as in Python).
     */
    public static StringBuilder appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c >= 0x20 && c <= 0x7e) {
                        sb.append(c);
                    } else {
                        sb.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    }
                }
            }
        }
        return sb.append('"');
    }

    /**
     * Appends a float like Python's {@code repr}: the shortest digits that read back as the value, positional
     * notation with at least one decimal ({@code 0.0}, {@code 100.0}, {@code 0.0001}) when the decimal exponent is
     * in [-4, 16), else {@code 1e-05} / {@code 1.5e+16} style.
     *
     * @throws IllegalArgumentException for NaN and infinities, which are not JSON
     */
    public static StringBuilder appendFloat(StringBuilder sb, double value) {
        if (value == 0.0) {
            return sb.append(Double.doubleToRawLongBits(value) < 0 ? "-0.0" : "0.0");
        }
        BigDecimal shortest = Decimals.exact(value).stripTrailingZeros();
        if (shortest.signum() < 0) {
            sb.append('-');
            shortest = shortest.negate();
        }
        String digits = shortest.unscaledValue().toString();
        int exponent = digits.length() - 1 - shortest.scale();
        if (exponent >= -4 && exponent < 16) {
            String plain = shortest.toPlainString();
            sb.append(plain);
            if (plain.indexOf('.') < 0) {
                sb.append(".0");
            }
        } else {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) {
                sb.append('.').append(digits, 1, digits.length());
            }
            sb.append('e').append(exponent < 0 ? '-' : '+');
            int abs = Math.abs(exponent);
            if (abs < 10) {
                sb.append('0');
            }
            sb.append(abs);
        }
        return sb;
    }
}
