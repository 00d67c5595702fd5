//! Part sizes for real-time uploads: the C2C guide's "Recommended Part Size
//! Formula" (How to: Upload (Real-time) > Scaling Part Size for Optimal
//! Performance), as a pure function.
//!
//! S3 allows at most 10,000 parts of at least 5 MiB (but the last) and 5 TiB
//! in all. Fixed 5 MiB parts would cap a file at about 52 GB; fixed ~550 MB
//! parts would make short clips wait. The guide's parts grow with the square
//! of their number, from about the file's data rate `r` for part 1 to a size
//! that makes 10,000 parts add up to 5 TiB:
//!
//! ```text
//! size(n) = floor(x · n²) + r,   x = -(2 (125 r - 68719476736)) / 8334583375
//! ```
//!
//! where `x` solves `x (2n³ + 3n² + n)/6 + r·n = 5,497,558,138,880` for
//! `n = 10,000` (the sum of the first `n` squares is `n(n+1)(2n+1)/6`), and
//! `r` is the expected data rate in bytes per second, kept between
//! [`MINIMUM_PART_SIZE`] and [`MAXIMUM_DATA_RATE`]. Flooring leaves "some bytes on
//! the table" — at most 10,000 over the 10,000 parts — so the sum
//! never exceeds [`MAXIMUM_FILE_SIZE`].
//!
//! The arithmetic is the guide's Python: `x` is the integer numerator divided
//! as a 64-bit float (both operands are exact in an `f64`, so the quotient is
//! the same correctly rounded value Python's `/` gives), and `x · n²` is a
//! float product floored.

/// The smallest part S3 takes, but the last: 5 MiB.
pub const MINIMUM_PART_SIZE: u64 = 5_242_880;
/// The most parts an S3 upload can have.
pub const MAXIMUM_PART_COUNT: u32 = 10_000;
/// The largest file S3 takes: 5 TiB.
pub const MAXIMUM_FILE_SIZE: u64 = 5_497_558_138_880;
/// "The data rate at which every part is an equal size, and could not be any
/// uniformly larger without violating the maximum total file size if 10_000
/// parts were to be uploaded": ~549.8 MB.
pub const MAXIMUM_DATA_RATE: u64 = MAXIMUM_FILE_SIZE / MAXIMUM_PART_COUNT as u64;

/// A part number outside `1..=10_000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("part number {0} is outside 1..=10000, the part numbers S3 allows")]
pub struct PartNumberError(pub u32);

/// The guide's `create_part_size_calculator`: the part sizes for one data
/// rate, with the scalar computed once.
///
/// ```
/// use frameio_ext::c2c::PartSizer;
///
/// // The guide's "Web format" table (5,242,880 bytes per second or less).
/// let sizer = PartSizer::new(5_242_880);
/// assert_eq!(sizer.size(1)?, 5_242_896);
/// assert_eq!(sizer.size(1_000)?, 21_575_817);
/// assert_eq!(sizer.size(10_000)?, 1_638_536_679);
/// assert!(sizer.size(10_001).is_err());
/// # Ok::<(), frameio_ext::c2c::PartNumberError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartSizer {
    data_rate: u64,
    scalar: f64,
}

impl PartSizer {
    /// The sizes for a file expected to grow by `format_bytes_per_second`
    /// (clamped to [`MINIMUM_PART_SIZE`]..=[`MAXIMUM_DATA_RATE`]).
    pub fn new(format_bytes_per_second: u64) -> Self {
        let data_rate = format_bytes_per_second.clamp(MINIMUM_PART_SIZE, MAXIMUM_DATA_RATE);
        // 125 · r ≤ 68,719,476,625 < 2^53: exact in an i64 and in an f64.
        let numerator = -(2 * (125 * data_rate as i64 - 68_719_476_736));
        Self { data_rate, scalar: numerator as f64 / 8_334_583_375.0 }
    }

    /// The data rate in use, after clamping: the size of part 1 but for the
    /// growth term.
    pub fn data_rate(&self) -> u64 {
        self.data_rate
    }

    /// The guide's scalar `x` for this data rate.
    pub fn scalar(&self) -> f64 {
        self.scalar
    }

    /// The size of part `part_number` (1-based).
    ///
    /// # Errors
    /// A part number outside `1..=10_000`.
    pub fn size(&self, part_number: u32) -> Result<u64, PartNumberError> {
        if !(1..=MAXIMUM_PART_COUNT).contains(&part_number) {
            return Err(PartNumberError(part_number));
        }
        let squared = u64::from(part_number) * u64::from(part_number);
        Ok((self.scalar * squared as f64).floor() as u64 + self.data_rate)
    }
}

/// The size of part `part_number` for a file of `format_bytes_per_second`:
/// the guide's `part_size` function.
///
/// # Errors
/// A part number outside `1..=10_000`.
pub fn part_size(part_number: u32, format_bytes_per_second: u64) -> Result<u64, PartNumberError> {
    PartSizer::new(format_bytes_per_second).size(part_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data rate, and for some part numbers: the part's size and the total
    /// of the parts up to it.
    type Table = (u64, [(u32, u64, u64); 4]);

    /// Part sizes and running totals at parts 1, 1,000, 5,000 and 10,000, as
    /// the guide's three tables give them ("How the formula performs").
    const TABLES: [Table; 3] = [
        // Example 1, web formats: ~5.3 MB/s or less.
        (
            5_242_880,
            [
                (1, 5_242_896, 5_242_896),
                (1_000, 21_575_817, 10_695_361_357),
                (5_000, 413_566_329, 706_957_655_928),
                (10_000, 1_638_536_679, 5_497_558_133_921),
            ],
        ),
        // Example 2, ProRes 422 LT: 102 Mbps.
        (
            12_750_000,
            [
                (1, 12_750_016, 12_750_016),
                (1_000, 28_857_758, 18_127_308_783),
                (5_000, 415_443_954, 735_107_948_432),
                (10_000, 1_623_525_817, 5_497_558_133_958),
            ],
        ),
        // Example 3, camera raw: 280 MB/s.
        (
            280_000_000,
            [
                (1, 280_000_008, 280_000_008),
                (1_000, 288_091_460, 282_701_200_139),
                (5_000, 482_286_516, 1_737_245_341_542),
                (10_000, 1_089_146_065, 5_497_558_133_870),
            ],
        ),
    ];

    #[test]
    fn sizes_and_totals_match_the_guides_tables() {
        for (rate, rows) in TABLES {
            let sizer = PartSizer::new(rate);
            let mut total = 0;
            let mut rows = rows.iter();
            let mut next = rows.next();
            for n in 1..=MAXIMUM_PART_COUNT {
                let size = sizer.size(n).unwrap();
                total += size;
                if let Some(&(part, expected_size, expected_total)) = next
                    && part == n
                {
                    assert_eq!((size, total), (expected_size, expected_total), "rate {rate}, part {n}");
                    next = rows.next();
                }
            }
            assert!(next.is_none());
        }
    }

    #[test]
    fn the_scalar_is_the_guides_float() {
        // "In computerland, this represents a float64 value of `16.33293799427617`."
        assert_eq!(PartSizer::new(MINIMUM_PART_SIZE).scalar(), 16.33293799427617);
        assert_eq!(MAXIMUM_DATA_RATE, 549_755_813);
    }
}
