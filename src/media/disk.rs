//! Free space on the file system that holds a folder (`statvfs`).

use std::io;
use std::path::Path;

/// Bytes available to this process on the file system of `path` (or of
/// its nearest existing parent, for a folder not made yet).
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let mut at = path;
    loop {
        if at.exists() {
            let stats = rustix::fs::statvfs(at).map_err(io::Error::from)?;
            return Ok(stats.f_bavail.saturating_mul(stats.f_frsize));
        }
        at = match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
    }
}

/// "12.3 GiB": what the dashboard shows, in the binary units the settings
/// use (`PRACTIKA_DISK_RESERVE_MB=512` reads "512.0 MiB").
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_the_nearest_existing_folder() -> io::Result<()> {
        let here = free_bytes(&std::env::temp_dir())?;
        let deeper = free_bytes(&std::env::temp_dir().join("practika-not-made-yet/deeper"))?;
        assert!(here > 0 && deeper > 0);
        assert_eq!(human(1_234_567_890), "1.1 GiB");
        assert_eq!(human(512 * 1024 * 1024), "512.0 MiB");
        assert_eq!(human(999), "999 bytes");
        Ok(())
    }
}
