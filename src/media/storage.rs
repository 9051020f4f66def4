//! Where media files live: under one media root, at paths the server
//! chooses from uuids (a client's file name never becomes a path). The
//! database stores paths relative to the root, as the Django app did, so the
//! root can move (or become a shared volume) without touching rows.
//!
//! A file is written under a temporary name first ([`PartFile`]) and renamed
//! into place when complete, so readers never see half a file and a crash
//! leaves no file under a final name. Files made from the same bytes may be
//! shared by several rows (duplicate uploads): delete a file only when no row
//! refers to it.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::db::Id;

/// The folder of data exports (ZIP files) under the media root; replies
/// exported as videos are under `exports/`.
pub const DATA_EXPORTS_DIR: &str = "data-exports";

#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    pub fn new(root: impl Into<PathBuf>) -> Storage {
        Storage { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of a stored relative path, or `None` for a path that
    /// would leave the media root (absolute, `..`, empty).
    pub fn resolve(&self, relative: &str) -> Option<PathBuf> {
        let path = Path::new(relative);
        let mut normal = 0;
        for component in path.components() {
            match component {
                Component::Normal(_) => normal += 1,
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        (normal > 0 && !relative.contains('\0')).then(|| self.root.join(path))
    }

    pub fn original_path(id: Id, extension: &str) -> String {
        format!("originals/{}.{extension}", id.0.simple())
    }

    pub fn poster_path(id: Id) -> String {
        format!("posters/{}.jpg", id.0.simple())
    }

    pub fn rendition_dir(id: Id) -> String {
        format!("renditions/{}", id.0.simple())
    }

    pub fn rendition_path(id: Id, label: &str) -> String {
        format!("{}/{label}.mp4", Self::rendition_dir(id))
    }

    pub fn clip_path(id: Id) -> String {
        format!("clips/{}.mp4", id.0.simple())
    }

    /// A reply exported as a video (`comments::export`).
    pub fn export_path(id: Id) -> String {
        format!("exports/{}.mp4", id.0.simple())
    }

    /// A folder of its own for a job's intermediate files, beside `relative`
    /// (on the same file system as its final place), removed with
    /// everything in it when the guard is dropped.
    pub fn work_dir(&self, relative: &str) -> io::Result<WorkDir> {
        let target = self
            .resolve(relative)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path outside the media root"))?;
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path without a folder"))?
            .join(format!(".work-{}", Id::new().0.simple()));
        std::fs::create_dir_all(&dir)?;
        Ok(WorkDir { path: dir })
    }

    /// A user's data export (`crate::exports`).
    pub fn data_export_path(id: Id) -> String {
        format!("{DATA_EXPORTS_DIR}/{}.zip", id.0.simple())
    }

    /// The files `dir/<uuid>.<extension>` not written for `older_than`
    /// (a file is renamed into place just before its row commits): the
    /// candidates of a sweep for files whose row is gone. Blocking.
    pub fn settled_files(&self, dir: &str, extension: &str, older_than: std::time::Duration) -> Vec<(Id, PathBuf)> {
        let Some(dir) = self.resolve(dir) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let suffix = format!(".{extension}");
        entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let id = name.strip_suffix(suffix.as_str())?.parse::<Id>().ok()?;
                let settled = entry
                    .metadata()
                    .ok()
                    .filter(|m| m.is_file())
                    .and_then(|m| m.modified().ok())
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|unwritten| unwritten > older_than);
                settled.then(|| (id, entry.path()))
            })
            .collect()
    }

    /// [`Storage::part_for`] for an upload being moved into place by node
    /// `node`: the node id in its name lets that node, restarting after a
    /// crash, remove it at once ([`sweep_uploads`]).
    pub fn part_for_node(&self, relative: &str, node: &str) -> io::Result<(PartFile, PathBuf)> {
        self.part_named(relative, &format!("{node}~{}", Id::new().0.simple()))
    }

    /// A temporary file beside `relative`'s final place (same folder, so the
    /// final rename is atomic), creating the folder.
    pub fn part_for(&self, relative: &str) -> io::Result<(PartFile, PathBuf)> {
        self.part_named(relative, &Id::new().0.simple().to_string())
    }

    fn part_named(&self, relative: &str, unique: &str) -> io::Result<(PartFile, PathBuf)> {
        let target = self
            .resolve(relative)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path outside the media root"))?;
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path without a folder"))?;
        std::fs::create_dir_all(dir)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let part = dir.join(format!(".{name}.{unique}.part"));
        Ok((PartFile::new(part), target))
    }

    /// Deletes a stored file (one already gone is no error), and its folder
    /// when that is left empty (a video's renditions have one of their own).
    pub fn remove(&self, relative: &str) -> io::Result<()> {
        let path = self
            .resolve(relative)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path outside the media root"))?;
        match std::fs::remove_file(&path) {
            Ok(()) => {
                if let Some(parent) = path.parent().filter(|p| *p != self.root) {
                    // Fails (and is meant to) while other files are in it.
                    let _ = std::fs::remove_dir(parent);
                }
                Ok(())
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Removes the temporary files that a killed process left for the file
    /// at `relative` (only that file's: other jobs may be writing beside it).
    pub fn remove_stale_parts(&self, relative: &str) {
        let Some(target) = self.resolve(relative) else {
            return;
        };
        let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
            return;
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".part") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// How long a temporary upload file may go unwritten before it counts as
/// abandoned. A live upload writes at least every few seconds (the minimum
/// upload rate sees to that); this is far longer.
pub const STALE_UPLOAD_AFTER: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Removes what crashes left of uploads, in the upload folder (`tmp/upload-
/// <node>.<id>.part`) and the originals folder (`.<name>.<node>~<id>.part`):
/// every file of `node` itself, at once (this node has just started, so
/// none is in use), and files of other nodes (gone, or alive and sharing
/// the folder) only once unwritten for `stale_after`. Returns how many went.
pub fn sweep_uploads(tmp_dir: &Path, originals: &Path, node: &str, stale_after: std::time::Duration) -> usize {
    let own_upload = format!("upload-{node}.");
    let own_staged = format!(".{node}~");
    let mut removed = 0;
    for (dir, is_part) in [
        (tmp_dir, (|name: &str| name.starts_with("upload-")) as fn(&str) -> bool),
        (originals, |name: &str| name.starts_with('.')),
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !is_part(&name) || !name.ends_with(".part") {
                continue;
            }
            let own = name.starts_with(&own_upload) || name.contains(&own_staged);
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|unwritten| unwritten > stale_after);
            if (own || stale) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// A file being written. Dropped without [`PartFile::persist`] (an error, a
/// client that went away, a job that was stopped), it is deleted.
#[derive(Debug)]
pub struct PartFile {
    path: PathBuf,
    armed: bool,
}

impl PartFile {
    pub fn new(path: PathBuf) -> PartFile {
        PartFile { path, armed: true }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file stays where it is.
    pub fn keep(mut self) {
        self.armed = false;
    }

    /// Moves the file to `target` (atomically when both are on one file
    /// system; otherwise by copying to a temporary name beside `target` and
    /// renaming that).
    pub fn persist(mut self, target: &Path) -> io::Result<()> {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match std::fs::rename(&self.path, target) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::CrossesDevices => {
                let staging = target.with_extension(format!("{}.part", Id::new().0.simple()));
                let mut staged = PartFile::new(staging);
                std::fs::copy(&self.path, staged.path())?;
                std::fs::File::open(staged.path())?.sync_all()?;
                std::fs::rename(staged.path(), target)?;
                staged.armed = false;
                std::fs::remove_file(&self.path)?;
            }
            Err(error) => return Err(error),
        }
        self.armed = false;
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.armed {
            match std::fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %self.path.display(), %error, "could not remove a temporary file")
                }
            }
        }
    }
}

/// A job's folder of intermediate files ([`Storage::work_dir`]): removed,
/// with its files, when dropped (a finished job, an error, a stopped job).
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.path) {
            if error.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %self.path.display(), %error, "could not remove a work folder");
            }
        }
    }
}

/// The SHA-256 (hex) and size of a file, reading it in blocks (blocking).
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_never_leave_the_media_root() {
        let storage = Storage::new("/srv/media");
        assert_eq!(
            storage.resolve("originals/abc.mp4"),
            Some(PathBuf::from("/srv/media/originals/abc.mp4"))
        );
        assert_eq!(
            storage.resolve("videos/demo.mp4"),
            Some(PathBuf::from("/srv/media/videos/demo.mp4"))
        );
        for bad in ["", "/etc/passwd", "../secret_key", "a/../../x", "./", "a\0b"] {
            assert_eq!(storage.resolve(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_part_file_is_removed_unless_persisted() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("practika-storage-{}", Id::new().0));
        let storage = Storage::new(&dir);
        let (part, target) = storage.part_for("clips/x.mp4")?;
        std::fs::write(part.path(), b"abc")?;
        let leftover = part.path().to_owned();
        drop(part);
        assert!(!leftover.exists());
        let (part, _) = storage.part_for("clips/x.mp4")?;
        std::fs::write(part.path(), b"abc")?;
        part.persist(&target)?;
        assert_eq!(std::fs::read(&target)?, b"abc");
        std::fs::remove_dir_all(dir)
    }

    #[test]
    fn a_node_sweeps_its_own_parts_at_once_and_others_once_stale() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("practika-tmp-{}", Id::new().0));
        let (tmp, originals) = (dir.join("tmp"), dir.join("originals"));
        std::fs::create_dir_all(&tmp)?;
        std::fs::create_dir_all(&originals)?;
        let hour = std::time::Duration::from_secs(3600);
        let age = |path: &Path| -> io::Result<()> {
            std::fs::File::options()
                .write(true)
                .open(path)?
                .set_modified(std::time::SystemTime::now() - 2 * hour)
        };
        let files = [
            (tmp.join("upload-me.1.part"), false, false),        // mine, fresh: goes
            (originals.join(".a.mp4.me~2.part"), false, false),  // mine, staged: goes
            (tmp.join("upload-other.3.part"), false, true),      // another node's, fresh: stays
            (tmp.join("upload-gone.4.part"), true, false),       // another node's, stale: goes
            (originals.join(".b.mp4.gone~5.part"), true, false), // stale staged: goes
            (tmp.join("keep.txt"), true, true),                  // not a part: stays
            (originals.join("c.mp4"), true, true),               // a stored video: stays
        ];
        for (path, old, _) in &files {
            std::fs::write(path, b"x")?;
            if *old {
                age(path)?;
            }
        }
        assert_eq!(sweep_uploads(&tmp, &originals, "me", hour), 4);
        for (path, _, stays) in &files {
            assert_eq!(path.exists(), *stays, "{}", path.display());
        }
        std::fs::remove_dir_all(dir)
    }

    #[test]
    fn stale_parts_are_removed_only_for_their_file() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("practika-storage-{}", Id::new().0));
        let storage = Storage::new(&dir);
        let (mine, _) = storage.part_for("posters/a.jpg")?;
        let (theirs, _) = storage.part_for("posters/b.jpg")?;
        std::fs::write(mine.path(), b"1")?;
        std::fs::write(theirs.path(), b"2")?;
        storage.remove_stale_parts("posters/a.jpg");
        assert!(!mine.path().exists());
        assert!(theirs.path().exists(), "another job's file is left alone");
        drop((mine, theirs));
        std::fs::remove_dir_all(dir)
    }
}
