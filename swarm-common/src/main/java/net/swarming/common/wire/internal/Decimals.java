package net.swarming.common.wire.internal;

import com.fasterxml.jackson.core.io.NumberOutput;
import java.math.BigDecimal;
import java.math.RoundingMode;

/** Millisecond values on the wire carry microsecond precision: three decimals, rounded half up. */
public final class Decimals {

    /** Decimals kept for milliseconds and percentages. */
    public static final int SCALE = 3;

    private Decimals() {
    }

    /**
     * The shortest decimal that reads back as {@code value} (Jackson's Schubfach writer; the JDK 17
     * {@code Double.toString} sometimes prints more digits than needed, which would round differently).
     */
    public static BigDecimal exact(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("not a finite number: " + value);
        }
        return new BigDecimal(NumberOutput.toString(value, true));
    }

    /** {@code value} rounded to {@link #SCALE} decimals, as a double. */
    public static double round(double value) {
        return exact(value).setScale(SCALE, RoundingMode.HALF_UP).doubleValue();
    }

    /**
     * {@code value} rounded to {@link #SCALE} decimals as a plain JSON number with at least one decimal:
     * {@code 1.5}, {@code 0.001}, {@code 100.0}; never an exponent, which some consumers mishandle.
     */
    public static String plain(double value) {
        BigDecimal rounded = exact(value).setScale(SCALE, RoundingMode.HALF_UP).stripTrailingZeros();
        if (rounded.scale() < 1) {
            rounded = rounded.setScale(1);
        }
        String text = rounded.toPlainString();
        // -0.0 after rounding a tiny negative: the sign carries no information.
        return text.startsWith("-") && rounded.signum() == 0 ? text.substring(1) : text;
    }
}
