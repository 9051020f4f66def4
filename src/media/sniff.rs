//! The type of an upload, decided from its first bytes (never from its name
//! or the Content-Type the client sent).

/// The containers Practika accepts. `Ogg` only for voice-overs
/// ([`Kind::Audio`]): the video path never sniffs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Mp4,
    QuickTime,
    WebM,
    Matroska,
    Ogg,
}

/// What an upload is for, and so which containers its first bytes may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A video: MP4, QuickTime, WebM, Matroska.
    #[default]
    Video,
    /// A voice-over recording: WebM (Opus), Ogg (Opus, Vorbis) or MP4/M4A
    /// (AAC), as browsers' MediaRecorder writes them.
    Audio,
}

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 4096;

const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

impl Container {
    pub fn mime_type(self) -> &'static str {
        match self {
            Container::Mp4 => "video/mp4",
            Container::QuickTime => "video/quicktime",
            Container::WebM => "video/webm",
            Container::Matroska => "video/x-matroska",
            Container::Ogg => "audio/ogg",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::QuickTime => "mov",
            Container::WebM => "webm",
            Container::Matroska => "mkv",
            Container::Ogg => "ogg",
        }
    }

    /// Whether ffprobe's `format_name` (a comma-separated list of the
    /// demuxer's names) is the demuxer for this container.
    pub fn matches_format(self, format_name: &str) -> bool {
        let names: Vec<&str> = format_name.split(',').map(str::trim).collect();
        match self {
            Container::Mp4 | Container::QuickTime => names.contains(&"mov") || names.contains(&"mp4"),
            Container::WebM | Container::Matroska => names.contains(&"matroska") || names.contains(&"webm"),
            Container::Ogg => names.contains(&"ogg"),
        }
    }

    /// The container for a stored MIME type (rows made by Practika).
    pub fn from_mime_type(mime: &str) -> Option<Container> {
        [
            Container::Mp4,
            Container::QuickTime,
            Container::WebM,
            Container::Matroska,
        ]
        .into_iter()
        .find(|c| c.mime_type().eq_ignore_ascii_case(mime.trim()))
    }
}

/// The container of a file from its first bytes (up to [`SNIFF_LEN`]), or
/// `None` when they are not the start of a video Practika accepts.
///
/// - ISO base media (MP4) and QuickTime start with a box: a 4-byte size,
///   then its type. Modern files open with `ftyp`, whose major brand `qt  `
///   marks QuickTime; older QuickTime files open with `moov`, `mdat` or
///   `wide` directly.
/// - WebM and Matroska start with the EBML magic; the `DocType` element in
///   the EBML header says which of the two.
pub fn sniff(head: &[u8]) -> Option<Container> {
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        // A real ftyp box holds at least its header and the major brand.
        if size != 0 && size < 16 && size != 1 {
            return None;
        }
        return Some(if &head[8..12] == b"qt  " {
            Container::QuickTime
        } else {
            Container::Mp4
        });
    }
    if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide") {
        return Some(Container::QuickTime);
    }
    if head.len() >= 4 && head[..4] == EBML_MAGIC {
        let window = &head[..head.len().min(SNIFF_LEN)];
        if contains(window, b"webm") {
            return Some(Container::WebM);
        }
        if contains(window, b"matroska") {
            return Some(Container::Matroska);
        }
    }
    None
}

/// The container of an upload of this kind from its first bytes: a video's
/// ([`sniff`]), or a voice-over's — WebM, Ogg or MP4 (M4A) only, never
/// QuickTime or Matroska.
pub fn sniff_as(head: &[u8], kind: Kind) -> Option<Container> {
    match kind {
        Kind::Video => sniff(head),
        Kind::Audio => {
            if head.len() >= 5 && &head[..4] == b"OggS" && head[4] == 0 {
                return Some(Container::Ogg);
            }
            sniff(head).filter(|c| matches!(c, Container::Mp4 | Container::WebM))
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_containers_from_their_bytes() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
        assert_eq!(sniff(&mp4), Some(Container::Mp4));
        let mut mov = vec![0, 0, 0, 0x14];
        mov.extend_from_slice(b"ftypqt  \0\0\0\0qt  ");
        assert_eq!(sniff(&mov), Some(Container::QuickTime));
        let mut webm = EBML_MAGIC.to_vec();
        webm.extend_from_slice(b"\x9f\x42\x86\x81\x01\x42\x82\x84webm");
        assert_eq!(sniff(&webm), Some(Container::WebM));
        let mut mkv = EBML_MAGIC.to_vec();
        mkv.extend_from_slice(b"\xa3\x42\x82\x88matroska");
        assert_eq!(sniff(&mkv), Some(Container::Matroska));
    }

    #[test]
    fn refuses_everything_else() {
        assert_eq!(sniff(b"<!doctype html><html><body>hi</body></html>"), None);
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&EBML_MAGIC), None, "EBML without a video doctype");
        assert_eq!(sniff(b"\0\0\0\x08ftypisom"), None, "an ftyp box too small");
    }

    #[test]
    fn voice_overs_are_webm_ogg_or_m4a() {
        let mut ogg = b"OggS\0\x02".to_vec();
        ogg.resize(64, 0);
        assert_eq!(sniff_as(&ogg, Kind::Audio), Some(Container::Ogg));
        assert_eq!(sniff_as(&ogg, Kind::Video), None, "no Ogg video");
        let mut m4a = vec![0, 0, 0, 0x1c];
        m4a.extend_from_slice(b"ftypM4A \0\0\x02\0M4A isom");
        assert_eq!(sniff_as(&m4a, Kind::Audio), Some(Container::Mp4));
        let mut webm = EBML_MAGIC.to_vec();
        webm.extend_from_slice(b"\x9f\x42\x86\x81\x01\x42\x82\x84webm");
        assert_eq!(sniff_as(&webm, Kind::Audio), Some(Container::WebM));
        let mut mov = vec![0, 0, 0, 0x14];
        mov.extend_from_slice(b"ftypqt  \0\0\0\0qt  ");
        assert_eq!(sniff_as(&mov, Kind::Audio), None);
        assert_eq!(sniff_as(b"hello, this is text", Kind::Audio), None);
        assert!(Container::Ogg.matches_format("ogg"));
    }

    #[test]
    fn format_names_match_the_sniffed_container() {
        assert!(Container::Mp4.matches_format("mov,mp4,m4a,3gp,3g2,mj2"));
        assert!(Container::WebM.matches_format("matroska,webm"));
        assert!(!Container::Mp4.matches_format("matroska,webm"));
        assert!(!Container::WebM.matches_format("gif"));
    }
}
