//! Bounds on what the parser accepts, so that hostile input cannot make it allocate without end.

/// Bounds on the size of a description the parser accepts.
///
/// Allocation is at most proportional to the input, and these bounds keep the input and the
/// number of items built from it finite. The defaults are generous: any description a SIP peer
/// sends fits, including one filling a 64 KiB UDP datagram.
///
/// ```
/// let limits = sip_sdp::Limits::default().with_max_media(2);
/// let three = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n\
///              m=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\nm=audio 3 RTP/AVP 0\r\n";
/// assert!(sip_sdp::SessionDescription::parse_with_limits(three.as_bytes(), &limits).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Longest input accepted, in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Most lines accepted, counting empty ones (default 65 536).
    pub max_lines: usize,
    /// Most media descriptions (`m=` lines) accepted (default 1 024).
    pub max_media: usize,
}

impl Limits {
    /// The default bounds.
    pub const DEFAULT: Self = Self {
        max_bytes: 1 << 20,
        max_lines: 1 << 16,
        max_media: 1 << 10,
    };

    /// The same limits with another [`Limits::max_bytes`].
    #[must_use]
    pub const fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The same limits with another [`Limits::max_lines`].
    #[must_use]
    pub const fn with_max_lines(mut self, max_lines: usize) -> Self {
        self.max_lines = max_lines;
        self
    }

    /// The same limits with another [`Limits::max_media`].
    #[must_use]
    pub const fn with_max_media(mut self, max_media: usize) -> Self {
        self.max_media = max_media;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fit_a_full_datagram_of_short_lines() {
        let limits = Limits::default();
        // 64 KiB of the shortest possible lines ("a=\n", 3 bytes each).
        assert!(limits.max_lines >= 64 * 1024 / 3);
        assert!(limits.max_bytes >= 64 * 1024);
    }
}
