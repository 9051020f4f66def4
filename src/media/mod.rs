//! Media files: where they live (`storage`, on disk or in a bucket: `remote`), what they are (`sniff`,
//! `probe`), and the ffmpeg/ffprobe child processes that turn them into
//! posters, renditions and clips (`tools`, `transcode`).

pub mod copy;
pub mod demo;
pub mod disk;
pub mod intake;
pub mod io_pool;
pub mod probe;
pub mod remote;
pub mod send;
pub mod sniff;
pub mod storage;
pub mod tools;
pub mod transcode;

pub use sniff::Container;
pub use storage::{Fetched, PartFile, Placed, Storage, WorkDir};
pub use tools::{ToolError, Tools};
