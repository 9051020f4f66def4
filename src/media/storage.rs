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

use super::remote::Remote;
use crate::db::Id;

/// Where downloaded copies of stored files are kept while a job reads them.
const FETCH_DIR: &str = ".fetched";

/// The folder of data exports (ZIP files) under the media root; replies
/// exported as videos are under `exports/`.
pub const DATA_EXPORTS_DIR: &str = "data-exports";

#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
    remote: Option<Remote>,
}

/// The type a stored file is served with, from its (server-chosen) name.
pub fn content_type(relative: &str) -> &'static str {
    let extension = relative.rsplit_once('.').map(|(_, ext)| ext);
    if relative.starts_with("voiceovers/") {
        // Sound only, whatever the container.
        match extension {
            Some("webm") => return "audio/webm",
            Some("ogg") => return "audio/ogg",
            Some("m4a" | "mp4") => return "audio/mp4",
            _ => {}
        }
    }
    match extension {
        Some("mp4" | "m4v") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mov") => "video/quicktime",
        Some("mkv") => "video/x-matroska",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("m4a") => "audio/mp4",
        Some("ogg" | "oga") => "audio/ogg",
        Some("weba") => "audio/webm",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

impl Storage {
    /// Media in the local folder `root`.
    pub fn new(root: impl Into<PathBuf>) -> Storage {
        Storage {
            root: root.into(),
            remote: None,
        }
    }

    /// Media in object storage, with `scratch` for files being made.
    pub fn with_remote(scratch: impl Into<PathBuf>, remote: Remote) -> Storage {
        Storage {
            root: scratch.into(),
            remote: Some(remote),
        }
    }

    /// The storage the settings name (`PRACTIKA_MEDIA_URL`).
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<Storage> {
        Ok(match &settings.media_s3 {
            None => Storage::new(settings.media_dir()),
            Some(s3) => Storage::with_remote(settings.media_dir(), Remote::new(s3)?),
        })
    }

    pub fn remote(&self) -> Option<&Remote> {
        self.remote.as_ref()
    }

    /// Where media live, for logs and the staff pages.
    pub fn describe(&self) -> String {
        match &self.remote {
            Some(remote) => remote.describe(),
            None => self.root.display().to_string(),
        }
    }

    /// Sends a finished file (written at `part`) to its place `relative`
    /// (blocking): a rename in the media folder, an upload to the bucket.
    /// Until [`Placed::keep`], the placed file is removed when dropped.
    pub fn place(&self, part: PartFile, relative: &str) -> io::Result<Placed> {
        self.place_with(part, relative, Extra::default())
    }

    /// [`Storage::place`] with what the bucket keeps with the object.
    pub fn place_with(&self, part: PartFile, relative: &str, extra: Extra<'_>) -> io::Result<Placed> {
        match &self.remote {
            None => {
                let target = self
                    .resolve(relative)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path outside the media root"))?;
                part.persist(&target)?;
                Ok(Placed::Local(PartFile::new(target)))
            }
            Some(remote) => {
                remote.upload(part.path(), relative, &extra)?;
                drop(part);
                Ok(Placed::Remote {
                    remote: remote.clone(),
                    relative: relative.to_owned(),
                    armed: true,
                })
            }
        }
    }

    /// Moves a received upload next to its final place `relative`
    /// (blocking), before the database transaction that writes its row:
    /// into the media folder under a temporary name of node `node` (when
    /// that is another file system this is a copy, which must not hold the
    /// database's lock), or into the bucket under its final (new, unique)
    /// name (an upload that must not hold it either). [`Staging::commit`]
    /// in the transaction puts it in place; dropped, it goes again.
    pub fn stage(&self, file: PartFile, relative: &str, node: &str, sha256: Option<&str>) -> io::Result<Staging> {
        if self.remote.is_some() {
            let extra = Extra {
                sha256,
                ..Extra::default()
            };
            return Ok(Staging::Remote(self.place_with(file, relative, extra)?));
        }
        let (part, target) = self.part_for_node(relative, node)?;
        file.persist(part.path())?;
        Ok(Staging::Local { part, target })
    }

    /// A stored file as a local file for reading (blocking): the file itself
    /// in the media folder, or a copy downloaded from the bucket into the
    /// scratch folder, removed when the [`Fetched`] is dropped. A missing
    /// file is `NotFound`.
    pub fn fetch(&self, relative: &str) -> io::Result<Fetched> {
        let path = self
            .resolve(relative)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path outside the media root"))?;
        match &self.remote {
            None => {
                if !path.is_file() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{relative} is missing"),
                    ));
                }
                Ok(Fetched { path, copy: None })
            }
            Some(remote) => {
                let extension = Path::new(relative)
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "bin".to_owned());
                let dir = self.root.join(FETCH_DIR);
                std::fs::create_dir_all(&dir)?;
                let copy = PartFile::new(dir.join(format!("{}.{extension}", Id::new().0.simple())));
                remote.download(relative, copy.path())?;
                Ok(Fetched {
                    path: copy.path().to_owned(),
                    copy: Some(copy),
                })
            }
        }
    }

    /// [`Storage::fetch`] from async code (on a blocking thread).
    pub async fn fetch_async(&self, relative: &str) -> io::Result<Fetched> {
        let (storage, relative) = (self.clone(), relative.to_owned());
        tokio::task::spawn_blocking(move || storage.fetch(&relative))
            .await
            .map_err(|e| io::Error::other(format!("reading a stored file: {e}")))?
    }

    /// [`Storage::place`] and keep, from async code; returns the size.
    /// `download`: the file is always a download, under that name (the
    /// bucket says so itself when it answers a presigned URL).
    pub async fn place_async(&self, part: PartFile, relative: &str, download: Option<String>) -> io::Result<u64> {
        let (storage, relative) = (self.clone(), relative.to_owned());
        tokio::task::spawn_blocking(move || {
            let size = std::fs::metadata(part.path())?.len();
            let extra = Extra {
                sha256: None,
                download: download.as_deref(),
            };
            storage.place_with(part, &relative, extra)?.keep();
            Ok(size)
        })
        .await
        .map_err(|e| io::Error::other(format!("storing a file: {e}")))?
    }

    /// Whether a stored file is there (blocking). A storage that cannot
    /// answer counts as "no", and is logged.
    pub fn exists(&self, relative: &str) -> bool {
        match &self.remote {
            None => self.resolve(relative).is_some_and(|p| p.is_file()),
            Some(remote) => match remote.size(relative) {
                Ok(size) => size.is_some(),
                Err(error) => {
                    tracing::warn!(%error, path = relative, "could not look at a stored file");
                    false
                }
            },
        }
    }

    /// The size of a stored file, `None` when missing (blocking).
    pub fn size(&self, relative: &str) -> io::Result<Option<u64>> {
        match &self.remote {
            None => {
                let Some(path) = self.resolve(relative) else {
                    return Ok(None);
                };
                match std::fs::metadata(path) {
                    Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
                    Ok(_) => Ok(None),
                    Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(error) => Err(error),
                }
            }
            Some(remote) => remote.size(relative),
        }
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
    /// (a file is renamed into place just before its row commits), as
    /// relative paths: the candidates of a sweep for files whose row is
    /// gone. `extension` `"*"` takes any. Blocking.
    pub fn settled_files(&self, dir: &str, extension: &str, older_than: std::time::Duration) -> Vec<(Id, String)> {
        let suffix = format!(".{extension}");
        let id_of = |name: &str| -> Option<Id> {
            let stem = if extension == "*" {
                name.split_once('.')?.0
            } else {
                name.strip_suffix(suffix.as_str())?
            };
            stem.parse::<Id>().ok()
        };
        if let Some(remote) = &self.remote {
            let listed = match remote.list(dir) {
                Ok(listed) => listed,
                Err(error) => {
                    tracing::warn!(%error, dir, "could not list stored files");
                    return Vec::new();
                }
            };
            let now = chrono::Utc::now();
            return listed
                .into_iter()
                .filter_map(|object| {
                    let name = object.relative.strip_prefix(dir)?.strip_prefix('/')?;
                    let id = id_of(name)?;
                    let age = (now - object.last_modified).to_std().ok()?;
                    (age > older_than).then(|| (id, object.relative.clone()))
                })
                .collect();
        }
        let Some(path) = self.resolve(dir) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(&path) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let id = id_of(&name)?;
                let settled = entry
                    .metadata()
                    .ok()
                    .filter(|m| m.is_file())
                    .and_then(|m| m.modified().ok())
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|unwritten| unwritten > older_than);
                settled.then(|| (id, format!("{dir}/{name}")))
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
        if let Some(remote) = &self.remote {
            if self.resolve(relative).is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "path outside the media root",
                ));
            }
            return remote.delete(relative);
        }
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

/// What object storage keeps with an object besides its type.
#[derive(Debug, Default, Clone, Copy)]
pub struct Extra<'a> {
    /// The SHA-256 (hex) of an upload, as `x-amz-meta-sha256`.
    pub sha256: Option<&'a str>,
    /// Served as `Content-Disposition: attachment; filename="..."`.
    pub download: Option<&'a str>,
}

/// `Content-Disposition` for a download named `name` (quotes and
/// backslashes dropped: names are Practika's own anyway).
pub fn attachment(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
        .collect();
    format!("attachment; filename=\"{clean}\"")
}

/// A file sent to its place ([`Storage::place`]): removed again when
/// dropped, unless kept (its row committed, or nothing refers to rows).
#[derive(Debug)]
pub enum Placed {
    Local(PartFile),
    Remote {
        remote: Remote,
        relative: String,
        armed: bool,
    },
}

impl Placed {
    pub fn keep(mut self) {
        match &mut self {
            Placed::Local(file) => file.armed = false,
            Placed::Remote { armed, .. } => *armed = false,
        }
    }
}

impl Drop for Placed {
    fn drop(&mut self) {
        if let Placed::Remote {
            remote,
            relative,
            armed: true,
        } = self
        {
            remote.delete_later(relative);
        }
    }
}

/// An upload on its way to its place ([`Storage::stage`]).
#[derive(Debug)]
pub enum Staging {
    /// Beside its final place in the media folder, under a temporary name.
    Local { part: PartFile, target: PathBuf },
    /// In the bucket under its final name already.
    Remote(Placed),
}

impl Staging {
    /// Puts the file in place (an atomic rename in the media folder). Until
    /// the row that names it commits and [`Placed::keep`] is called, the
    /// placed file is removed if dropped.
    pub fn commit(self) -> io::Result<Placed> {
        match self {
            Staging::Local { part, target } => {
                part.persist(&target)?;
                Ok(Placed::Local(PartFile::new(target)))
            }
            Staging::Remote(placed) => Ok(placed),
        }
    }
}

/// A stored file readable at a local path ([`Storage::fetch`]).
#[derive(Debug)]
pub struct Fetched {
    path: PathBuf,
    /// The downloaded copy, removed with this.
    copy: Option<PartFile>,
}

impl Fetched {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is a downloaded copy (removed when dropped).
    pub fn is_copy(&self) -> bool {
        self.copy.is_some()
    }
}

impl std::ops::Deref for Fetched {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
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
