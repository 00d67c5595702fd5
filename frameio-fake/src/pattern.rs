//! Deterministic noise: [`mix`] spreads a counter into bits that look random
//! (ids, codes, cursor keys), and [`patterned_bytes`] is the content of files
//! seeded by size, built from it. Nothing here depends on the rest of the fake,
//! so the state, storage and the reply bodies can all use it.

/// splitmix64: spreads a counter into bits that look random, deterministically.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `len` bytes that differ from one offset to the next (and from one seed to
/// another), the content of files seeded by size; byte `i` does not depend on
/// where a read starts, so any range of a huge seeded file can be served.
///
/// ```
/// let whole = frameio_fake::patterned_bytes(7, 0..100);
/// assert_eq!(&whole[40..60], &frameio_fake::patterned_bytes(7, 40..60)[..]);
/// assert_ne!(whole, frameio_fake::patterned_bytes(8, 0..100));
/// ```
pub fn patterned_bytes(seed: u64, range: std::ops::Range<u64>) -> Vec<u8> {
    range.map(|i| (mix(seed ^ mix(i / 8)) >> ((i % 8) * 8)) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterned_bytes_are_position_independent() {
        let whole = patterned_bytes(1, 0..64);
        assert_eq!(&whole[13..29], &patterned_bytes(1, 13..29)[..]);
    }
}
