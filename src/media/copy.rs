//! `practika media copy-to s3://bucket/prefix`: copies the local media
//! folder into a bucket, file by file, under the same relative paths.
//!
//! It can be stopped and run again: a file whose object is there with the
//! same size and SHA-256 (recorded with the object) is skipped. Every
//! object it uploads is read back from the bucket and hashed, and must
//! match the local file's SHA-256. Temporary files (names starting with
//! `.`: uploads being moved, jobs' work folders, downloaded copies) are
//! never copied.

use std::io;
use std::path::Path;

use super::remote::Remote;
use super::storage::{sha256_file, Extra};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    pub uploaded: usize,
    pub skipped: usize,
    pub bytes: u64,
}

/// Every stored file under `root`, as relative paths with `/`, sorted.
pub fn local_files(root: &Path) -> io::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound && folder == root => return Ok(found),
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_file() {
                let relative = entry
                    .path()
                    .strip_prefix(root)
                    .map_err(io::Error::other)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// What a download is called when the bucket serves it (the app's own
/// download handlers name them by their rows; these are the same names
/// without the date).
fn download_name(relative: &str) -> Option<&'static str> {
    if relative.starts_with("data-exports/") {
        Some("practika-export.zip")
    } else if relative.starts_with("exports/") {
        Some("practika-feedback.mp4")
    } else {
        None
    }
}

/// Copies one file unless it is there already; returns whether it was
/// uploaded. Blocking.
pub fn copy_one(root: &Path, remote: &Remote, relative: &str) -> io::Result<bool> {
    let path = root.join(relative);
    let (sha256, size) = sha256_file(&path)?;
    if let Some((there, Some(recorded))) = remote.checksum(relative)? {
        if there == size && recorded.eq_ignore_ascii_case(&sha256) {
            return Ok(false);
        }
    }
    let extra = Extra {
        sha256: Some(&sha256),
        download: download_name(relative),
    };
    remote.upload(&path, relative, &extra)?;
    let (read_back, read_size) = remote.sha256(relative)?;
    if read_size != size || !read_back.eq_ignore_ascii_case(&sha256) {
        // Not left half-right: the next run uploads it again.
        remote.delete(relative)?;
        return Err(io::Error::other(format!(
            "{relative}: the bucket's copy does not match (SHA-256 {read_back}, {read_size} bytes; \
             the file has {sha256}, {size} bytes)"
        )));
    }
    Ok(true)
}

/// Copies every file; `progress` is told each one. Stops at the first
/// failure (a run again resumes).
pub fn copy_all(
    root: &Path,
    remote: &Remote,
    mut progress: impl FnMut(usize, usize, &str, bool),
) -> io::Result<Copied> {
    let files = local_files(root)?;
    let mut copied = Copied::default();
    for (index, relative) in files.iter().enumerate() {
        let uploaded =
            copy_one(root, remote, relative).map_err(|e| io::Error::new(e.kind(), format!("{relative}: {e}")))?;
        if uploaded {
            copied.uploaded += 1;
            copied.bytes += std::fs::metadata(root.join(relative)).map(|m| m.len()).unwrap_or(0);
        } else {
            copied.skipped += 1;
        }
        progress(index + 1, files.len(), relative, uploaded);
    }
    Ok(copied)
}
